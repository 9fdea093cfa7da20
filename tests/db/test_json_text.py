"""JSON columns: Python values in, the same values out, stored as the text the hand-written
``json.dumps`` calls used to store (both backends), and rows written that way read unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Integer, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shuzhi.db.base import JSONText, json_dict, json_list
from shuzhi.db.engine import Database


class _Scratch(DeclarativeBase):
    pass


class _Doc(_Scratch):
    __tablename__ = "scratch_json_doc"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[Any] = mapped_column(JSONText(), nullable=True)
    terms: Mapped[list[str]] = mapped_column(json_list(), default=list)
    attrs: Mapped[dict[str, Any]] = mapped_column(json_dict(sort_keys=True), default=dict)
    compact: Mapped[dict[str, Any]] = mapped_column(json_dict(compact=True), default=dict)


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    _Scratch.metadata.create_all(database.engine)
    try:
        with database.sessions() as s:
            yield s
    finally:
        _Scratch.metadata.drop_all(database.engine)


VALUES: list[Any] = [
    {"名称": "不动产登记", "层级": [1, 2, {"空": {}, "列表": []}], "说明": "含\u00e9与😀"},
    [],
    {},
    "",
    "纯文本",
    0,
    -1.5,
    True,
    [None, [[]], {"a": {"b": {"c": ["深"]}}}],
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_values_round_trip_through_the_database(session: Session, value: Any) -> None:
    session.add(_Doc(id=1, value=value))
    session.commit()
    session.expunge_all()
    stored = session.execute(text("SELECT value FROM scratch_json_doc WHERE id = 1")).scalar()
    assert stored == json.dumps(value, ensure_ascii=False)
    assert session.scalar(select(_Doc.value).where(_Doc.id == 1)) == value


def test_none_is_stored_as_sql_null(session: Session) -> None:
    session.add(_Doc(id=1, value=None))
    session.commit()
    assert session.execute(text("SELECT value IS NULL FROM scratch_json_doc")).scalar() in (1, True)
    assert session.scalar(select(_Doc.value)) is None


def test_rows_written_as_hand_serialised_text_read_back(session: Session) -> None:
    # What the services stored before the columns were typed: json.dumps text.
    old_terms = json.dumps(["不动产单元代码", "房屋编码"], ensure_ascii=False)
    old_attrs = json.dumps({"来源": "市局", "a": 1}, ensure_ascii=False, sort_keys=True)
    session.execute(
        text(
            "INSERT INTO scratch_json_doc (id, value, terms, attrs, compact) "
            "VALUES (1, :value, :terms, :attrs, :compact)"
        ),
        {"value": "[]", "terms": old_terms, "attrs": old_attrs, "compact": '{"x":[1,2]}'},
    )
    session.commit()
    doc = session.get(_Doc, 1)
    assert doc is not None
    assert (doc.value, doc.terms) == ([], ["不动产单元代码", "房屋编码"])
    assert (doc.attrs, doc.compact) == ({"来源": "市局", "a": 1}, {"x": [1, 2]})


def test_columns_keep_their_old_canonical_text(session: Session) -> None:
    session.add(_Doc(id=1, terms=["甲", "乙"], attrs={"b": "二", "a": "一"}, compact={"k": [1]}))
    session.commit()
    row = session.execute(text("SELECT terms, attrs, compact FROM scratch_json_doc")).one()
    assert tuple(row) == ('["甲", "乙"]', '{"a": "一", "b": "二"}', '{"k":[1]}')


def test_in_place_changes_and_new_values_are_saved(session: Session) -> None:
    session.add(_Doc(id=1))
    session.commit()
    doc = session.get(_Doc, 1)
    assert doc is not None and (doc.terms, doc.attrs) == ([], {})
    doc.terms.append("同义词")
    doc.attrs["级别"] = "三级"
    session.commit()
    session.expunge_all()
    doc = session.get(_Doc, 1)
    assert doc is not None and (doc.terms, doc.attrs) == (["同义词"], {"级别": "三级"})
    doc.terms = [*doc.terms, "别名"]
    del doc.attrs["级别"]
    session.commit()
    session.expunge_all()
    doc = session.get(_Doc, 1)
    assert doc is not None and (doc.terms, doc.attrs) == (["同义词", "别名"], {})


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(_json_values)
def test_any_json_value_survives_the_type(value: Any) -> None:
    for kind in (JSONText(), JSONText(sort_keys=True), JSONText(compact=True)):
        stored = kind.process_bind_param(value, None)
        assert stored is not None or value is None
        assert kind.process_result_value(stored, None) == value
