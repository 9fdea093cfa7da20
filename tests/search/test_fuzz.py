"""No query text, filter or document content makes search fail with anything but Invalid."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.search.service import SearchDoc, index_documents, search, set_synonyms
from tests.conftest import acting

KIND = "catalog_entry"
SYNTAX = [
    '"',
    "'",
    "*",
    ":",
    "&",
    "|",
    "!",
    "(",
    ")",
    "^",
    "-",
    "+",
    "NEAR",
    "AND",
    "OR",
    "NOT",
    "\\",
    "\x00",
    "{",
    "}",
    "<->",
    ":*",
    "人口",
    "身份证",
    "330182",
    " ",
    "\t",
]
QUERIES = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(SYNTAX), max_size=30).map("".join),
    st.sampled_from(
        [
            "",
            " ",
            "\n\t ",
            "，。！？",
            "!!!",
            "***",
            "\x00",
            "a" * 10_000,
            "人口" * 5_000,
            '"人口',
            "人口:*",
            "人口 & !社保",
            "(人口 | 社保)",
        ]
    ),
)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _seed(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        index_documents(
            ctx,
            [
                SearchDoc(
                    KIND, "GAJ-001", "常住人口基本信息", "公民身份号码 330182", {"unit": "GAJ"}
                ),
                SearchDoc(KIND, "RSJ-001", "社保参保缴费记录", "缴费明细", {"unit": "RSJ"}),
            ],
        )
        set_synonyms(ctx, [["公民身份号码", "身份证"]])


@FUZZ
@given(query=QUERIES, value=st.text(max_size=30), sort=st.sampled_from(["relevance", "key"]))
def test_any_query_returns_results_or_invalid(
    database: Database, query: str, value: str, sort: str
) -> None:
    if not getattr(database, "_seeded", False):
        _seed(database)
        database._seeded = True  # type: ignore[attr-defined]
    try:
        with acting(database, SYSTEM) as ctx:
            result = search(
                ctx,
                KIND,
                query,
                filters={"unit": [value]},
                facet_fields=["unit"],
                sort=sort,
                viewer_sees_all=True,
            )
    except Invalid:
        return
    assert result.total >= len(result.keys)


@FUZZ
@given(title=st.text(max_size=200), body=st.text(max_size=500))
def test_any_document_text_can_be_indexed_and_found_again(
    database: Database, title: str, body: str
) -> None:
    with acting(database, SYSTEM) as ctx:
        index_documents(ctx, [SearchDoc(KIND, "doc", title, body, {})])
    with acting(database, SYSTEM) as ctx:
        result = search(ctx, KIND, title, viewer_sees_all=True)
    assert result.keys == ["doc"]  # every word of the title finds it again
