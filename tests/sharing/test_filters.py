"""Row-filter conditions: parsed against column types, never SQL, stored and read back intact."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.errors import ErrorCollector
from shuzhi.lake.query import Filter, Op
from shuzhi.sharing import filters
from shuzhi.sharing.filters import Family, family_of, parse_conditions

TYPES = {
    "姓名": Family.TEXT,
    "年龄": Family.INTEGER,
    "收入": Family.NUMBER,
    "在册": Family.BOOLEAN,
    "出生日期": Family.DATE,
    "登记时间": Family.TIMESTAMP,
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
conditions = st.lists(
    st.fixed_dictionaries(
        {
            "column": st.sampled_from([*TYPES, "unknown", "", "x\x00"]) | st.text(max_size=10),
            "op": st.sampled_from([*(o.value for o in Op), "drop", ""]) | st.text(max_size=8),
            "value": json_values,
        }
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(conditions, st.booleans())
def test_any_input_is_either_a_typed_condition_or_a_field_error(
    raw: list[dict[str, Any]], from_text: bool
) -> None:
    errors = ErrorCollector()
    parsed = parse_conditions(raw, TYPES, errors, from_text=from_text)
    if len(raw) > filters.MAX_CONDITIONS:
        assert parsed == [] and errors.errors
        return
    assert len(parsed) + len(errors.errors) == len(raw)
    for f in parsed:
        assert f.column in TYPES and isinstance(f.op, Op)
        values = f.value if isinstance(f.value, tuple) else (f.value,)
        if f.op in filters.NO_VALUE:
            assert f.value is None
            continue
        for v in values:
            family = TYPES[f.column]
            if family is Family.TEXT:
                assert isinstance(v, str) and "\x00" not in v
            elif family is Family.INTEGER:
                assert isinstance(v, int) and not isinstance(v, bool)
            elif family is Family.BOOLEAN:
                assert isinstance(v, bool)
            elif family is Family.DATE:
                assert isinstance(v, dt.date)
    for e in errors.errors:
        assert e.field.startswith("row_filter.") and e.message.zh and e.message.en


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(
                Filter,
                st.just("姓名"),
                st.sampled_from([Op.EQ, Op.LIKE_PREFIX]),
                st.text(min_size=1, max_size=20),
            ),
            st.builds(
                Filter,
                st.just("年龄"),
                st.sampled_from([Op.GE, Op.LT]),
                st.integers(-(2**63), 2**63 - 1),
            ),
            st.builds(Filter, st.just("出生日期"), st.just(Op.GE), st.dates()),
            st.builds(Filter, st.just("登记时间"), st.just(Op.LT), st.datetimes()),
            st.builds(
                Filter,
                st.just("年龄"),
                st.just(Op.IN),
                st.lists(st.integers(0, 200), min_size=1, max_size=5).map(tuple),
            ),
            st.builds(Filter, st.just("姓名"), st.just(Op.IS_NULL)),
        ),
        max_size=10,
    )
)
def test_stored_conditions_read_back_equal(original: list[Filter]) -> None:
    import json

    stored = json.loads(json.dumps(filters.encode(original), ensure_ascii=False))
    assert list(filters.decode(stored)) == original


@given(st.text(max_size=60))
def test_text_values_are_kept_verbatim_never_interpreted(text: str) -> None:
    errors = ErrorCollector()
    raw = [{"column": "姓名", "op": "eq", "value": text}]
    parsed = parse_conditions(raw, TYPES, errors)
    if parsed:
        assert parsed[0].value == text  # bound as a parameter by the query engine, not spliced


def test_form_text_is_converted_to_the_column_type() -> None:
    errors = ErrorCollector()
    raw: list[dict[str, Any]] = [
        {"column": "年龄", "op": "in", "value": "30，31、32"},
        {"column": "收入", "op": "ge", "value": "1.5e3"},
        {"column": "在册", "op": "eq", "value": "是"},
        {"column": "出生日期", "op": "lt", "value": "2000-01-31"},
        {"column": "姓名", "op": "is_null", "value": ""},
    ]
    parsed = parse_conditions(raw, TYPES, errors, from_text=True)
    assert not errors.errors
    assert [f.value for f in parsed] == [(30, 31, 32), 1500.0, True, dt.date(2000, 1, 31), None]


def test_json_values_must_have_the_right_type() -> None:
    errors = ErrorCollector()
    raw: list[dict[str, Any]] = [
        {"column": "年龄", "op": "eq", "value": "30"},
        {"column": "年龄", "op": "eq", "value": True},
        {"column": "收入", "op": "ge", "value": float("nan")},
        {"column": "姓名", "op": "like_prefix", "value": ""},
        {"column": "年龄", "op": "like_prefix", "value": 3},
        {"column": "姓名", "op": "in", "value": []},
        {"column": "姓名", "op": "is_null", "value": "x"},
        {"column": "姓名; DROP TABLE x", "op": "eq", "value": "a"},
    ]
    assert parse_conditions(raw, TYPES, errors) == []
    assert [e.field.split(".")[-1] for e in errors.errors] == [
        "value",
        "value",
        "value",
        "value",
        "op",
        "value",
        "value",
        "column",
    ]


def test_arrow_type_names() -> None:
    assert family_of("string") is Family.TEXT and family_of("large_string") is Family.TEXT
    assert family_of("int64") is Family.INTEGER and family_of("uint8") is Family.INTEGER
    assert family_of("double") is Family.NUMBER and family_of("decimal128(10, 2)") is Family.NUMBER
    assert family_of("bool") is Family.BOOLEAN and family_of("date32[day]") is Family.DATE
    assert family_of("timestamp[us, tz=UTC]") is Family.TIMESTAMP
    assert family_of("list<item: int64>") is Family.OTHER
