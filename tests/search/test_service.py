"""Search behaviour on every backend: Chinese words, synonyms, codes, facets, scope, paging."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.search import backends
from shuzhi.search.service import (
    MAX_OFFSET,
    SearchDoc,
    SearchResult,
    index_documents,
    remove_documents,
    replace_synonyms,
    search,
    set_synonyms,
    synonym_groups,
)
from tests.conftest import acting

KIND = "catalog_entry"

CATALOGUE = [
    SearchDoc(
        KIND,
        "RSJ-001",
        "社保参保缴费记录",
        "参保人员的缴费明细，区人力社保局",
        {"unit": "RSJ", "share_type": "conditional", "classification": ["1", "101"]},
    ),
    SearchDoc(
        KIND,
        "GAJ-001",
        "常住人口基本信息",
        "姓名、公民身份号码、户籍地址，区公安分局",
        {"unit": "GAJ", "share_type": "conditional", "classification": ["1", "102"]},
    ),
    SearchDoc(
        KIND,
        "ZRJ-001",
        "不动产登记信息",
        "不动产权证号、权利人，区自然资源局",
        {"unit": "ZRJ", "share_type": "unconditional", "classification": ["2"]},
    ),
    SearchDoc(
        KIND,
        "SCJ-001",
        "企业法人登记注册信息",
        "统一社会信用代码 91330182MA2B3C4D5E，区市场监管局",
        {"unit": "SCJ", "share_type": "unconditional", "classification": ["3"]},
    ),
    SearchDoc(
        KIND,
        "MZJ-001",
        "社会组织法人名录",
        "行政区划代码 330182，区民政局",
        {"unit": "MZJ", "share_type": "not_shared", "classification": ["3"]},
    ),
]


def index(database: Database, docs: Sequence[SearchDoc]) -> None:
    with acting(database, SYSTEM) as ctx:
        index_documents(ctx, docs)


def find(database: Database, query: str, **options: object) -> SearchResult:
    options.setdefault("viewer_sees_all", True)
    with acting(database, SYSTEM) as ctx:
        return search(ctx, KIND, query, **options)  # type: ignore[arg-type]


@pytest.fixture
def catalogue(database: Database) -> Database:
    index(database, CATALOGUE)
    return database


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("人口", {"GAJ-001"}),
        ("社保", {"RSJ-001"}),
        ("登记", {"ZRJ-001", "SCJ-001"}),
        ("法人", {"SCJ-001", "MZJ-001"}),
        ("常住人口", {"GAJ-001"}),
        ("不动产 登记", {"ZRJ-001"}),
        ("企业法人登记", {"SCJ-001"}),
        ("缴费", {"RSJ-001"}),
        ("户籍", {"GAJ-001"}),
        ("人口 社保", set()),
    ],
)
def test_chinese_words_are_found_inside_longer_words(
    catalogue: Database, query: str, expected: set[str]
) -> None:
    result = find(catalogue, query)
    assert set(result.keys) == expected
    assert result.total == len(expected)


def test_synonyms_find_other_wordings(catalogue: Database) -> None:
    assert find(catalogue, "身份证").keys == []
    with acting(catalogue, SYSTEM) as ctx:
        set_synonyms(ctx, [["公民身份号码", "身份证", "身份证号", "身份证号码"]])
    for query in ("身份证", "身份证号码", "户籍身份证号"):
        assert find(catalogue, query).keys == ["GAJ-001"], query


def test_a_new_group_sharing_a_term_replaces_the_old_group(catalogue: Database) -> None:
    with acting(catalogue, SYSTEM) as ctx:
        set_synonyms(ctx, [["公民身份号码", "身份证"], ["USCC", "统一社会信用代码"]])
        set_synonyms(ctx, [["身份证", "居民身份证"]])
        groups = synonym_groups(ctx)
    assert sorted(map(sorted, groups)) == [["uscc", "统一社会信用代码"], ["居民身份证", "身份证"]]
    assert find(catalogue, "身份证").keys == []
    assert find(catalogue, "uscc").keys == ["SCJ-001"]


def test_replacing_the_list_merges_groups_sharing_a_term(catalogue: Database) -> None:
    with acting(catalogue, SYSTEM) as ctx:
        set_synonyms(ctx, [["USCC", "统一社会信用代码"]])
        merged = replace_synonyms(
            ctx, [["公民身份号码", "身份证"], ["身份证", "居民身份证"], ["社保", "社会保险"]]
        )
        groups = synonym_groups(ctx)
    assert merged == 2
    assert sorted(map(sorted, groups)) == [
        ["公民身份号码", "居民身份证", "身份证"],
        ["社会保险", "社保"],
    ]
    assert find(catalogue, "居民身份证").keys == ["GAJ-001"]
    assert find(catalogue, "uscc").keys == []  # not in the new list


def test_a_synonym_term_still_finds_what_its_words_find(database: Database) -> None:
    docs = [
        SearchDoc(kind=KIND, key="apart", title="企业变更登记信息", body=""),
        SearchDoc(kind=KIND, key="phrase", title="企业登记信息", body=""),
        SearchDoc(kind=KIND, key="other", title="营业执照信息", body=""),
    ]
    with acting(database, SYSTEM) as ctx:
        index_documents(ctx, docs)
        before = search(ctx, KIND, "企业登记").keys
        set_synonyms(ctx, [["营业执照", "企业登记"]])
        after = search(ctx, KIND, "企业登记", sort="key").keys
        other = search(ctx, KIND, "营业执照", sort="key").keys
    assert sorted(before) == ["apart", "phrase"]
    assert after == ["apart", "other", "phrase"]
    assert other == ["other", "phrase"]  # the other wording is matched as written


def test_synonym_groups_need_two_terms(database: Database) -> None:
    with pytest.raises(Invalid), acting(database, SYSTEM) as ctx:
        set_synonyms(ctx, [["身份证", " 身份证 "]])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("330182", ["MZJ-001"]),
        ("91330182MA2B3C4D5E", ["SCJ-001"]),
        ("91330182ma2b3c4d5e", ["SCJ-001"]),
        ("ＲＳＪ", []),
    ],
)
def test_codes_are_matched_case_insensitively(
    catalogue: Database, query: str, expected: list[str]
) -> None:
    assert find(catalogue, query).keys == expected


def test_facet_counts_cover_every_match_after_filters(catalogue: Database) -> None:
    result = find(catalogue, "", facet_fields=["share_type", "classification"], limit=1)
    assert result.total == 5 and len(result.keys) == 1
    assert result.facets["share_type"] == {"conditional": 2, "unconditional": 2, "not_shared": 1}
    assert result.facets["classification"] == {"1": 2, "3": 2, "101": 1, "102": 1, "2": 1}
    filtered = find(
        catalogue,
        "信息",
        filters={"share_type": ["unconditional"]},
        facet_fields=["unit", "missing"],
    )
    assert filtered.facets == {"unit": {"SCJ": 1, "ZRJ": 1}, "missing": {}}


def test_filters_and_across_fields_or_within_a_field(catalogue: Database) -> None:
    both = find(catalogue, "", filters={"unit": ["GAJ", "RSJ", "ZRJ"], "classification": ["1"]})
    assert both.keys == ["GAJ-001", "RSJ-001"]
    assert find(catalogue, "法人", filters={"share_type": ["not_shared"]}).keys == ["MZJ-001"]
    assert find(catalogue, "", filters={"unit": "SCJ"}).keys == ["SCJ-001"]
    assert find(catalogue, "", filters={"unit": []}).total == 5  # no values: no constraint
    assert find(catalogue, "", filters={"unit": ["nobody"]}).total == 0


def test_scoped_documents_are_seen_only_by_their_unit_and_region_viewers(
    database: Database,
) -> None:
    index(
        database,
        [
            SearchDoc(KIND, "open", "人口统计", "", {}),
            SearchDoc(KIND, "own", "人口明细", "", {}, scope_unit_id=7),
        ],
    )
    assert find(database, "人口", viewer_sees_all=False).keys == ["open"]
    assert find(database, "人口", viewer_sees_all=False, viewer_unit_id=8).keys == ["open"]
    assert sorted(find(database, "人口", viewer_sees_all=False, viewer_unit_id=7).keys) == [
        "open",
        "own",
    ]
    assert find(database, "", viewer_sees_all=True).total == 2


def test_kinds_are_separate(catalogue: Database) -> None:
    index(catalogue, [SearchDoc("open_dataset", "GAJ-001", "人口开放数据", "", {})])
    assert find(catalogue, "人口").keys == ["GAJ-001"]
    assert find(catalogue, "开放").keys == []


def test_pagination_total_and_sort_by_key(database: Database) -> None:
    index(database, [SearchDoc(KIND, f"K{i:03d}", f"第{i}号人口登记表", "", {}) for i in range(45)])
    pages = [find(database, "人口", limit=20, offset=o, sort="key") for o in (0, 20, 40, 60)]
    assert [p.total for p in pages] == [45, 45, 45, 45]
    assert [len(p.keys) for p in pages] == [20, 20, 5, 0]
    assert [k for p in pages for k in p.keys] == [f"K{i:03d}" for i in range(45)]
    assert len(find(database, "人口", limit=10_000).keys) == 45  # clamped to 200
    assert len(find(database, "人口", limit=0).keys) == 1
    assert find(database, "人口", offset=-5).keys == find(database, "人口").keys


def test_offsets_beyond_the_bound_are_invalid(database: Database) -> None:
    with pytest.raises(Invalid) as err:
        find(database, "人口", offset=MAX_OFFSET + 1)
    assert err.value.errors[0].field == "offset"
    assert "10000" in err.value.errors[0].message.zh


def test_unknown_sort_and_overlong_queries_are_invalid(database: Database) -> None:
    with pytest.raises(Invalid):
        find(database, "人口", sort="newest")
    with pytest.raises(Invalid):
        find(database, "人" * 201)


def test_upsert_replaces_old_text_facets_and_scope(catalogue: Database) -> None:
    index(
        catalogue,
        [
            SearchDoc(
                KIND,
                "GAJ-001",
                "流动人口居住登记",
                "居住证",
                {"unit": "GAJ", "share_type": "unconditional"},
            )
        ],
    )
    assert find(catalogue, "常住").keys == []
    assert find(catalogue, "居住证").keys == ["GAJ-001"]
    result = find(catalogue, "", facet_fields=["share_type"], filters={"unit": ["GAJ"]})
    assert result.facets == {"share_type": {"unconditional": 1}}
    assert find(catalogue, "").total == 5


def test_repeated_keys_in_one_call_keep_the_last(database: Database) -> None:
    index(database, [SearchDoc(KIND, "x", "人口", "", {}), SearchDoc(KIND, "x", "社保", "", {})])
    assert find(database, "人口").keys == []
    assert find(database, "社保").keys == ["x"]


def test_remove_forgets_documents(catalogue: Database) -> None:
    with acting(catalogue, SYSTEM) as ctx:
        remove_documents(ctx, KIND, ["GAJ-001", "never-indexed"])
    assert find(catalogue, "人口").keys == []
    assert find(catalogue, "", facet_fields=["unit"]).facets["unit"].get("GAJ") is None
    index(catalogue, [CATALOGUE[1]])
    assert find(catalogue, "人口").keys == ["GAJ-001"]


def test_title_matches_rank_before_body_matches(database: Database) -> None:
    index(
        database,
        [
            SearchDoc(KIND, "a-body", "法人名录", "含常住人口和户籍人口统计口径的说明文字", {}),
            SearchDoc(KIND, "b-title", "常住人口基本信息", "姓名、性别、住址", {}),
            SearchDoc(KIND, "c-other", "企业名录", "无关内容", {}),
        ],
    )
    assert find(database, "人口").keys == ["b-title", "a-body"]
    assert find(database, "人口", sort="key").keys == ["a-body", "b-title"]


def test_bad_documents_are_rejected_whole(database: Database) -> None:
    with pytest.raises(Invalid) as err, acting(database, SYSTEM) as ctx:
        index_documents(
            ctx,
            [
                SearchDoc(KIND, "ok", "人口", "", {}),
                SearchDoc(KIND, "", "人口", "", {}),
                SearchDoc("Bad Kind", "k\x00", "人口", "", {"u": ["x" * 300]}),
            ],
        )
    assert {e.field for e in err.value.errors} == {
        "docs[1].key",
        "docs[2].kind",
        "docs[2].key",
        "docs[2].facets.u",
    }
    assert find(database, "").total == 0


def test_broad_matches_put_title_matches_first_without_exact_scores(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = database.capabilities.name
    cheap = dataclasses.replace(backends.BACKENDS[name], exact_rank_limit=1)
    monkeypatch.setitem(backends.BACKENDS, name, cheap)
    index(
        database,
        [
            SearchDoc(KIND, "a-body", "法人名录", "常住人口说明", {}),
            SearchDoc(KIND, "b-title", "常住人口基本信息", "", {}),
            SearchDoc(KIND, "c-title", "户籍人口", "", {}),
        ],
    )
    assert find(database, "人口").keys == ["b-title", "c-title", "a-body"]
    assert find(database, "人口", sort="key").keys == ["a-body", "b-title", "c-title"]
