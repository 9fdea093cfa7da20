"""Declarative base and column helpers shared by every capability's models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import DateTime, MetaData, String, Text
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator, TypeEngine

if TYPE_CHECKING:
    from pydantic import BaseModel

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use shuzhi.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A closed vocabulary stored as its text value: reads give enum members, writes accept
    members or their values and refuse anything else (the column stays plain VARCHAR)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum
        # Reads look members up by value: calling the enum class is an order of magnitude
        # slower, and pages that score or list thousands of rows read tens of thousands.
        self._members: dict[str, E] = {member.value: member for member in enum}

    def process_bind_param(self, value: E | str | None, dialect: object) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: object) -> E | None:
        if value is None:
            return None
        member = self._members.get(value)
        return member if member is not None else self.enum(value)  # unknown text: refused


class JSONText(TypeDecorator[Any]):
    """A JSON value stored as canonical text: writes take Python values (lists, dicts, strings,
    numbers), reads give them back. The column stays plain TEXT on every backend, so rows
    written as hand-serialised JSON read unchanged.

    ``sort_keys`` and ``compact`` keep each column's stored text as it has always been written
    (sorted object keys; ``,``/``:`` separators instead of ``, ``/``: ``).
    """

    impl = Text
    cache_ok = True

    def __init__(self, *, sort_keys: bool = False, compact: bool = False) -> None:
        super().__init__()
        self.sort_keys = sort_keys
        self.compact = compact

    def dumps(self, value: Any) -> str:
        separators = (",", ":") if self.compact else (", ", ": ")
        return json.dumps(
            value, ensure_ascii=False, sort_keys=self.sort_keys, separators=separators
        )

    def process_bind_param(self, value: Any, dialect: object) -> str | None:
        return None if value is None else self.dumps(value)

    def process_result_value(self, value: str | None, dialect: object) -> Any:
        return None if value is None else json.loads(value)


def json_list(*, compact: bool = False) -> TypeEngine[Any]:
    """A JSON array column whose in-place changes (append, item assignment) are saved too."""
    return MutableList.as_mutable(JSONText(compact=compact))


def json_dict(*, sort_keys: bool = False, compact: bool = False) -> TypeEngine[Any]:
    """A JSON object column whose in-place changes (``d[k] = v``, ``del``) are saved too.

    Only the top level is tracked: a change inside a nested value needs a new value assigned.
    """
    return MutableDict.as_mutable(JSONText(sort_keys=sort_keys, compact=compact))


def row_fields(row: Base, model: type[BaseModel]) -> dict[str, Any]:
    """The row's column values that ``model`` has fields of the same name for: the part of an
    output built straight from its row (the caller adds or replaces what differs)."""
    wanted = model.model_fields
    return {c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs if c.key in wanted}
