"""The point-and-click builder writes SQL the checker accepts, whatever the filter values
typed (they stay text literals), and refuses non-dimension columns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from shuzhi.errors import Invalid
from shuzhi.sandbox import builder, checker
from shuzhi.sandbox.rules import ColumnRole
from shuzhi.sandbox.schemas import ColumnOut, SandboxGrantOut

ROLES = {
    "身份证号": ColumnRole.JOIN_KEY,
    "社区": ColumnRole.DIMENSION,
    "慢病": ColumnRole.DIMENSION,
    "医疗费用": ColumnRole.AGGREGATE,
    "诊断": ColumnRole.HIDDEN,
}
GRANT = SandboxGrantOut.model_validate(
    {
        "grant_id": 1,
        "resource_code": "330100-HEALTH",
        "table": "ds_330100_health",
        "entry_name": "",
        "provider_unit_id": 2,
        "application_code": "app",
        "purpose": "p",
        "expires_at": "2030-01-01T00:00:00Z",
        "entity_column": "身份证号",
        "k": 10,
        "dp_required": False,
        "epsilon": None,
        "delta": None,
        "columns": [
            ColumnOut(name=n, type="string", role=r, extremes=False) for n, r in ROLES.items()
        ],
    }
)
RULES = checker.TableRules(
    resource_code="330100-HEALTH",
    stable_name="ds_330100_health",
    roles=ROLES,
    extremes=frozenset(),
    entity="身份证号",
    k=10,
)


@given(
    value=st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=40),
    measure=st.sampled_from(list(builder.Measure)),
    group=st.lists(st.sampled_from(["社区", "慢病"]), max_size=2),
)
def test_built_queries_pass_the_checker_and_keep_values_as_text(
    value: str, measure: builder.Measure, group: list[str]
) -> None:
    choice = builder.BuilderChoice(
        dataset="330100-HEALTH",
        group=group,
        measure=measure,
        column="医疗费用",
        filters=[("慢病", value)],
    )
    checked = checker.check(builder.build_sql([GRANT], choice), [RULES])
    assert checked.where is not None
    literal = checked.where.find(exp.Literal)
    assert literal is not None and literal.is_string and literal.this == value


@pytest.mark.parametrize(
    ("group", "filters", "column"),
    [
        (["诊断"], [], ""),
        (["身份证号"], [], ""),
        ([], [("医疗费用", "1")], ""),
        ([], [], "诊断"),
        ([], [("社区", "东\x00苑")], ""),
    ],
)
def test_builder_refuses_columns_outside_their_role(
    group: list[str], filters: list[tuple[str, str]], column: str
) -> None:
    measure = builder.Measure.SUM if column else builder.Measure.COUNT
    choice = builder.BuilderChoice("330100-HEALTH", group, measure, column, filters)
    with pytest.raises(Invalid):
        builder.build_sql([GRANT], choice)
