"""The disclosure rule object on its own: which columns are protected, every operator
refused on them, lookups only on the grant's key column, small groups suppressed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.errors import Forbidden
from shuzhi.lake.query import Filter, Op
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.disclosure import (
    MIN_GROUP_SIZE,
    Disclosure,
    DisclosureRefused,
    Use,
    is_personal,
)
from shuzhi.security.masking import MaskLevel

COLUMNS = ["a", "b", "c", "d"]


@given(
    levels=st.fixed_dictionaries({c: st.sampled_from(list(MaskLevel)) for c in COLUMNS}),
    column=st.sampled_from(COLUMNS),
    op=st.sampled_from(list(Op)),
    value=st.text(min_size=3, max_size=20).filter(lambda v: v.strip() and "'" not in v),
)
def test_every_operator_on_a_masked_column_is_refused_without_its_value(
    levels: dict[str, MaskLevel], column: str, op: Op, value: str
) -> None:
    rules = Disclosure.from_masking(levels, key_column="a", operation="call_gateway")
    assert rules.protected == {c for c, level in levels.items() if level is not MaskLevel.NONE}
    condition = Filter(column, op, None if op in (Op.IS_NULL, Op.NOT_NULL) else value)
    if levels[column] is MaskLevel.NONE:
        rules.check_filter([condition])
        return
    with pytest.raises(DisclosureRefused) as err:
        rules.check_filter([Filter("zz", Op.EQ, "x"), condition])
    refused = err.value
    assert isinstance(refused, Forbidden) and refused.status == 403
    assert refused.column == column and refused.use is Use.FILTER
    assert refused.operation == "call_gateway" and value not in refused.target
    assert value not in refused.message.zh and value not in refused.message.en
    assert refused.message.zh and refused.message.en


def test_lookup_order_and_group() -> None:
    rules = Disclosure.from_masking(
        {"id": MaskLevel.PARTIAL, "phone": MaskLevel.PSEUDONYM, "age": MaskLevel.NONE},
        key_column="id",
    )
    rules.check_lookup("id")  # the grant's exact-match lookup
    rules.check_lookup("age")  # shown as it is
    with pytest.raises(DisclosureRefused):
        rules.check_lookup("phone")
    with pytest.raises(DisclosureRefused) as err:
        rules.check_filter([Filter("id", Op.EQ, "330106196709180174")])
    assert "lookup" in err.value.message.en  # points to the keyed lookup instead
    for check in (rules.check_order, rules.check_group):
        check(["age"])
        with pytest.raises(DisclosureRefused):
            check(["age", "phone"])
    assert rules.violations(filters=["age", "id"], group=["phone"]) == [
        ("id", Use.FILTER),
        ("phone", Use.GROUP),
    ]


def test_figure_readers_are_kept_from_every_personal_column() -> None:
    categories = {c.value: c.value for c in Category}
    rules = Disclosure.from_categories({**categories, "x": "not-a-category"})
    expected = {c.value for c, info in CATEGORY_INFO.items() if info.personal or info.sensitive}
    assert rules.protected == expected | {"x"}  # an unknown category is the worst case
    assert "resident_id" in rules.protected and "gender" in rules.protected
    assert "uscc" not in rules.protected and "none" not in rules.protected
    assert not rules.lookup
    assert is_personal("mobile_phone") and not is_personal(None)


@given(st.integers(0, 100))
def test_small_groups_are_suppressed(rows: int) -> None:
    rules = Disclosure(frozenset())
    assert rules.suppress(rows) == (0 < rows < MIN_GROUP_SIZE)
    kept = rules.keep_groups([("g", 1.0, rows)])
    assert (kept == []) == (0 < rows < MIN_GROUP_SIZE)
