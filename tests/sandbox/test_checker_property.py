"""Property-based tests of the checker: whatever the analyst writes, an accepted query
outputs no identifier, join key or hidden column, and the built statement counts distinct
people of every dataset it reads."""

from __future__ import annotations

import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from shuzhi.sandbox.checker import AGGREGATES, TableRules, check
from shuzhi.sandbox.rules import ColumnRole as R
from shuzhi.sandbox.rules import QueryRefused, SandboxForbidden

HEALTH = TableRules(
    resource_code="330106/HEALTH",
    stable_name="ds_330106_health",
    roles={
        "身份证号": R.JOIN_KEY,
        "社区": R.DIMENSION,
        "年龄": R.DIMENSION,
        "医疗费用": R.AGGREGATE,
        "诊断": R.HIDDEN,
        "name": R.DIMENSION,
    },
    extremes=frozenset(),
    entity="身份证号",
    k=10,
)
POP = TableRules(
    resource_code="330106/POP",
    stable_name="ds_330106_pop",
    roles={"身份证号": R.JOIN_KEY, "独居": R.DIMENSION, "住址": R.HIDDEN},
    extremes=frozenset(),
    entity="身份证号",
    k=15,
)
TABLES = [HEALTH, POP]
DIMENSIONS = {"社区", "年龄", "name", "独居"}
FORBIDDEN_OUT = {"身份证号", "诊断", "住址", "医疗费用"}


def _outputs_safe(sql: str) -> None:
    try:
        checked = check(sql, TABLES)
    except (QueryRefused, SandboxForbidden):
        return
    assert any(checked.aggregates)
    for out in checked.outputs:
        inside = {id(c) for a in out.find_all(*AGGREGATES) for c in a.find_all(exp.Column)}
        for col in out.find_all(exp.Column):
            if id(col) not in inside:
                assert col.name in DIMENSIONS, (sql, col.name)
    built = checked.statement(["read_parquet(?)"] * len(checked.tables))
    for i in range(len(checked.tables)):
        assert f'COUNT(DISTINCT "t{i}"."身份证号") AS "__k{i}"' in built
    # Every column of the built statement outside aggregates is a dimension; hidden never.
    tree = sqlglot.parse_one(built, read="duckdb")
    for col in tree.find_all(exp.Column):
        assert col.name not in {"诊断", "住址"}, built
    assert checked.k == max(t.k for t in checked.tables)


identifier = st.text(min_size=1, max_size=8).filter(lambda s: '"' not in s and "\x00" not in s)


@settings(max_examples=300, deadline=None)
@given(name=identifier, alias=identifier)
def test_random_identifiers_and_aliases_never_reach_the_output(name: str, alias: str) -> None:
    q = f'"{name}"'
    a = f'"{alias}"'
    for sql in (
        f"SELECT {q} AS {a}, COUNT(*) FROM ds_330106_health GROUP BY {q}",
        f"SELECT {q}, COUNT(*) FROM ds_330106_health GROUP BY 1",
        f"SELECT COUNT(*) AS {a} FROM ds_330106_health WHERE {q} = 'x'",
        f"SELECT 身份证号 AS {a}, COUNT(*) FROM ds_330106_health GROUP BY 身份证号",
        f"SELECT SUM({q}) AS {a} FROM ds_330106_health",
        f"SELECT MAX({q}) FROM ds_330106_health",
    ):
        _outputs_safe(sql)
    # A name that is not exactly a dimension column is never output.
    if name not in DIMENSIONS and not (name.isascii() and name.lower() == "name"):
        try:
            check(f"SELECT {q}, COUNT(*) FROM ds_330106_health GROUP BY {q}", TABLES)
        except (QueryRefused, SandboxForbidden):
            pass
        else:
            raise AssertionError(name)


TOKENS = [
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "HAVING",
    "ORDER BY",
    "LIMIT",
    "1",
    "10",
    "'东苑'",
    "COUNT(*)",
    "COUNT(",
    "SUM(",
    "AVG(",
    "MIN(",
    "MAX(",
    ")",
    "(",
    ",",
    "=",
    "<>",
    "AND",
    "OR",
    "NOT",
    "AS",
    "x",
    "社区",
    "年龄",
    "身份证号",
    "诊断",
    "医疗费用",
    "独居",
    "住址",
    "ds_330106_health",
    "ds_330106_pop",
    "h",
    "p",
    "h.身份证号",
    "p.身份证号",
    "JOIN",
    "ON",
    "DISTINCT",
    "*",
    "UNION",
    "--",
    "/*",
    "*/",
    "SUBSTRING(",
    "LENGTH(",
    "OVER",
    "()",
    ";",
    "IN",
    "CAST(",
    "INT",
    "ds_330106_health h",
    "ds_330106_pop p",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=3, max_size=24))
def test_token_soup_is_refused_or_safe(tokens: list[str]) -> None:
    _outputs_safe(" ".join(tokens))


@settings(max_examples=200, deadline=None)
@given(
    col=st.sampled_from(sorted(DIMENSIONS - {"独居"})),
    agg=st.sampled_from(["COUNT(*)", "SUM(医疗费用)", "AVG(医疗费用)", "COUNT(DISTINCT 身份证号)"]),
    # Any text but the comment delimiters' characters (nested comments are a parse error).
    comment=st.text(
        alphabet=st.characters(exclude_characters="/*", exclude_categories=["Cs"]), max_size=30
    ).filter(lambda s: "\x00" not in s),
)
def test_comments_never_change_the_built_statement(col: str, agg: str, comment: str) -> None:
    plain = check(f"SELECT {col}, {agg} FROM ds_330106_health GROUP BY {col}", TABLES)
    commented = check(
        f"SELECT /*{comment}*/ {col}, {agg} /*{comment}*/ FROM ds_330106_health "
        f"GROUP BY {col} /*{comment}*/",
        TABLES,
    )
    relations = ["read_parquet(?)"]
    assert plain.statement(relations) == commented.statement(relations)
