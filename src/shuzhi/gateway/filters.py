"""The gateway's query language: structured conditions in the query string, never SQL.

``f=column:op:value`` (repeatable; conditions are ANDed). ``op`` is one of ``eq ne lt le gt
ge in not_in like_prefix is_null not_null``; ``in``/``not_in`` take comma-separated values
(or a JSON array of strings when a value contains a comma); ``is_null``/``not_null`` take
no value. Values are typed by the column (text columns take the text as given).

A column that is not granted is reported exactly like a column that does not exist, so an
error never tells a caller which other columns a dataset has.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hmac
import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from shuzhi.errors import ErrorCollector, FieldError, Invalid, Message
from shuzhi.lake.query import Filter, Op
from shuzhi.security import digests
from shuzhi.sharing.filters import INT64, Family, family_of

MAX_FILTERS = 20
MAX_IN_VALUES = 100
MAX_VALUE_CHARS = 1000
PARAM = "f"


def unavailable(column: str) -> Message:
    """The one message for a column outside the grant (existing or not)."""
    shown = column[:100]
    return Message(
        f"列 {shown!r} 不存在或不在授权范围内。",
        f"Column {shown!r} does not exist or is not granted to this application.",
    )


def _coercer(type_name: str) -> Callable[[str], Any]:
    """Text → the column's value type; the lake stores text, other engines may not."""
    t = type_name.lower()
    if t.startswith(("int", "uint")):
        return int
    if t.startswith(("double", "float", "decimal")):
        return float
    if t.startswith("bool"):
        return _boolean
    if t.startswith("date"):
        return dt.date.fromisoformat
    if t.startswith("timestamp"):
        return dt.datetime.fromisoformat
    return _text


def _text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL")
    return value


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(value)


def _values(raw: str) -> list[str]:
    if raw.startswith("["):
        parsed = json.loads(raw)
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise ValueError("a JSON array of strings")
        return parsed
    return raw.split(",")


def parse_filters(raw: Sequence[str], columns: Mapping[str, str]) -> list[Filter]:
    """Parse ``f`` parameters against the columns a caller may use (name → type)."""
    errors = ErrorCollector()
    if len(raw) > MAX_FILTERS:
        errors.add(PARAM, f"最多 {MAX_FILTERS} 个条件。", f"At most {MAX_FILTERS} conditions.")
        errors.raise_if_any()
    parsed: list[Filter] = []
    for i, text in enumerate(raw):
        where = f"{PARAM}[{i}]"
        column, sep, rest = text.partition(":")
        op_text, sep2, value = rest.partition(":")
        if not sep or not column:
            errors.add(where, "条件格式应为 列:运算:值。", "A condition reads column:op:value.")
            continue
        if column not in columns:
            message = unavailable(column)
            errors.errors.append(FieldError(where, message))
            continue
        try:
            op = Op(op_text)
        except ValueError:
            errors.add(
                where,
                f"不支持的运算 {op_text[:20]!r}。",
                f"Unsupported operator {op_text[:20]!r}; use one of "
                + ", ".join(o.value for o in Op)
                + ".",
            )
            continue
        if op in (Op.IS_NULL, Op.NOT_NULL):
            if sep2:
                errors.add(where, "空值判断不需要条件值。", f"{op.value} takes no value.")
                continue
            parsed.append(Filter(column, op))
            continue
        if not sep2:
            errors.add(where, "缺少条件值。", "The condition needs a value.")
            continue
        if len(value) > MAX_VALUE_CHARS:
            errors.add(
                where, "条件值过长。", f"Values are limited to {MAX_VALUE_CHARS} characters."
            )
            continue
        coerce = _coercer(columns[column])
        try:
            if op in (Op.IN, Op.NOT_IN):
                items = _values(value)
                if not items or len(items) > MAX_IN_VALUES:
                    raise ValueError("count")
                parsed.append(Filter(column, op, tuple(coerce(v) for v in items)))
            else:
                if op is Op.LIKE_PREFIX and coerce is not _text:
                    raise ValueError("prefix on a non-text column")
                parsed.append(Filter(column, op, coerce(value)))
        except (ValueError, TypeError, OverflowError):
            errors.add(
                where,
                f"条件值不符合列 {column[:100]} 的类型或格式。",
                f"The value does not suit column {column[:100]!r} (type, format or count).",
            )
    errors.raise_if_any()
    return parsed


def parse_fields(raw: str | None, granted: Sequence[str]) -> list[str]:
    """``fields=a,b``: a subset of the granted columns, in the order asked; default all."""
    if raw is None or not raw.strip():
        return list(granted)
    allowed = set(granted)
    chosen: list[str] = []
    errors = ErrorCollector()
    for name in raw.split(","):
        name = name.strip()
        if not name or name in chosen:
            continue
        if name not in allowed:
            errors.errors.append(FieldError("fields", unavailable(name)))
            continue
        chosen.append(name)
    errors.raise_if_any()
    if not chosen:
        raise Invalid.field("fields", "至少选择一列。", "Select at least one column.")
    return chosen


def coerce_key(value: str, type_name: str) -> Any:
    """A path key as the key column's value type (``ValueError`` when it cannot be)."""
    return _coercer(type_name)(value)


# ---------------------------------------------------------------- a grant's row filter


class Unfit(ValueError):
    """A row filter that cannot be applied to a version: a column is missing, a condition is
    malformed, or a value does not suit its column's type (the engine would refuse it)."""


_DECIMAL = re.compile(r"decimal(?:32|64|128|256)\((\d+),\s*(-?\d+)\)")
_DOUBLE_TYPES = frozenset({"halffloat", "float", "double", "float16", "float32", "float64"})


def conform(row_filter: Sequence[Filter], types: Mapping[str, str]) -> list[Filter]:
    """A grant's row filter in the terms of a version's columns (name → Arrow type name), so
    that the engine (``/records``, ``/export``) and ``matches`` (keyed lookups) compare alike,
    whatever the engine and its session time zone:

    - timestamps compare as instants: on a column with a time zone a naive value is read as
      UTC; on a column without one an aware value becomes its UTC wall time;
    - on a floating-point column every number is a double (DuckDB would compare a 32-bit
      float column with an integer in 32 bits);
    - on a decimal column an integer beyond the column's precision is a double (DuckDB may
      fail to cast it to the column's decimal type).

    Raises ``Unfit`` when a column is missing or a condition does not suit its column.
    """
    out = []
    for f in row_filter:
        if f.column not in types:
            raise Unfit(f.column)
        out.append(_conform_one(f, types[f.column]))
    return out


def _conform_one(f: Filter, type_name: str) -> Filter:
    try:
        op = Op(f.op)
    except ValueError:
        raise Unfit(f.op) from None
    family = family_of(type_name)
    if op in (Op.IS_NULL, Op.NOT_NULL):
        if f.value is not None:
            raise Unfit(op)
        return Filter(f.column, op)
    if op is Op.LIKE_PREFIX and family is not Family.TEXT:
        raise Unfit(op)
    if op in (Op.IN, Op.NOT_IN):
        if not isinstance(f.value, tuple | list) or not f.value:
            raise Unfit(op)
        return Filter(f.column, op, tuple(_conform_value(v, type_name) for v in f.value))
    return Filter(f.column, op, _conform_value(f.value, type_name))


def _conform_value(value: Any, type_name: str) -> Any:
    """One value as the column's type compares it (``Unfit`` when it does not suit it)."""
    family = family_of(type_name)
    if not _suits(family, value):
        raise Unfit(type_name)
    t = type_name.strip().lower()
    if family is Family.TIMESTAMP:
        try:
            return _in_utc(value, aware="tz=" in t)
        except OverflowError:
            raise Unfit(type_name) from None
    if family is Family.NUMBER and t in _DOUBLE_TYPES:
        return float(value)
    if family is Family.NUMBER and not isinstance(value, float):
        precision = _DECIMAL.fullmatch(t)
        if precision is not None:
            digits, scale = int(precision[1]), int(precision[2])
            if abs(value) >= 10 ** (digits - scale):
                return float(value)
    return value


def _in_utc(value: dt.datetime, aware: bool) -> dt.datetime:
    """A timestamp as an aware UTC instant, or as UTC wall time; naive values read as UTC."""
    if value.utcoffset() is None:
        return value.replace(tzinfo=dt.UTC) if aware else value
    in_utc = value.astimezone(dt.UTC)
    return in_utc if aware else in_utc.replace(tzinfo=None)


def _suits(family: Family, value: Any) -> bool:
    """Whether the engine takes ``value`` for a column of ``family`` (as ``lake.sql`` does)."""
    if isinstance(value, bool):
        return family is Family.BOOLEAN
    if family is Family.TEXT:
        return isinstance(value, str) and "\x00" not in value and _utf8(value)
    if family is Family.INTEGER:
        return isinstance(value, int) and -INT64 <= value < INT64
    if family is Family.NUMBER:
        if isinstance(value, int):
            return -INT64 <= value < INT64
        if isinstance(value, float):
            return math.isfinite(value)
        return isinstance(value, decimal.Decimal) and value.is_finite()
    if family is Family.DATE:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if family is Family.TIMESTAMP:
        return isinstance(value, dt.datetime)
    return False


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------- evaluation in Python

_ORDER: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}


def _kind(value: Any) -> str | None:
    """The family a value compares within (None: one the engine does not compare)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | decimal.Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.datetime):
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    return None


def _numbers(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Two numbers as the engine compares them: as doubles when either is a double (an
    integer or a decimal rounded to the nearest double, as the engine casts it), exactly
    otherwise (integers and decimals). None for NaN: the engine's answer for a NaN depends on
    the statistics of the Parquet row group it sits in (DuckDB takes a row group whose other
    values are all ``c`` as all ``c``, NaN included), which a row read alone cannot know."""
    if isinstance(left, float) or isinstance(right, float):
        try:
            pair = float(left), float(right)
        except (OverflowError, ValueError):
            return None
        return None if math.isnan(pair[0]) or math.isnan(pair[1]) else pair
    for value in (left, right):
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            return None
    return left, right


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Two values made comparable as the engine compares them, or None when it would not
    compare them (different families, or a value of a family it has no order for)."""
    kind = _kind(left)
    if kind is None or kind != _kind(right):
        return None
    if kind == "number":
        return _numbers(left, right)
    if kind == "timestamp":
        return _in_utc(left, aware=True), _in_utc(right, aware=True)
    return left, right  # text by code point (UTF-8 byte order), booleans, dates


def _compare(op: Op, left: Any, right: Any) -> bool | None:
    """``left op right`` as the engine answers it; None when it cannot be answered exactly."""
    pair = _comparable(left, right)
    if pair is None:
        return None
    try:
        return bool(_ORDER[op](*pair))
    except (TypeError, OverflowError, decimal.InvalidOperation):
        return None


def _passes(value: Any, f: Filter) -> bool:
    try:
        op = Op(f.op)
    except ValueError:
        return False
    if op is Op.IS_NULL:
        return value is None
    if op is Op.NOT_NULL:
        return value is not None
    if value is None:
        return False
    if op in (Op.IN, Op.NOT_IN):
        if not isinstance(f.value, tuple | list) or not f.value:
            return False
        found = [_compare(Op.EQ, value, v) for v in f.value]
        if None in found:
            return False
        return any(found) if op is Op.IN else not any(found)
    if op is Op.LIKE_PREFIX:
        return isinstance(value, str) and isinstance(f.value, str) and value.startswith(f.value)
    return _compare(op, value, f.value) is True


def matches(row: Mapping[str, Any], filters: Sequence[Filter]) -> bool:
    """Whether a row read by key passes a row filter, answered as the engine answers it
    (SQL semantics: a null passes only ``is_null``; numbers, timestamps and text compared as
    the engine compares them — see ``_numbers`` and ``_in_utc``; give it a filter made by
    ``conform``). Fails closed: a condition that cannot be answered exactly (values of
    different families, a malformed condition) fails the row whatever its operator, ``ne``
    and ``not_in`` included."""
    return all(_passes(row.get(f.column), f) for f in filters)


def value_digest(value: Any, key: bytes) -> str:
    """A value as the call log (and the access log) shows it (``security.digests``)."""
    return digests.digest(value, key)


# Neighbourhood digests: short, so that many different blocks share one (a digest cannot be
# traced back to one block even by whoever holds the key), yet long enough that an honest
# caller's few hundred unrelated keys an hour rarely meet in one (24 bits).
NEAR_CHARS = 6
NEAR_MARK = "~"


def neighbourhood(value: Any) -> str | None:
    """The block of consecutive keys a numeric-like key belongs to, or None.

    A resident identity number (18 characters, the last a digit or X) falls in the block of
    its region and birth date (the first 14 characters: the sequence number and check digit
    dropped); another all-digit key of at least 4 digits in its block of 1,000 consecutive
    numbers (the last 3 digits dropped). Other keys (names, codes with letters) have none.
    """
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if len(text) == 18 and text[:17].isdigit() and text[17] in "0123456789Xx":
        return "id:" + text[:14]
    if len(text) >= 4 and text.isascii() and text.isdigit():
        return "n:" + text[:-3]
    return None


def near_digest(value: Any, key: bytes) -> str | None:
    """The keyed, deliberately short digest of a key's block (``neighbourhood``): it says
    that two lookups were of nearby keys and nothing about which keys they were."""
    block = neighbourhood(value)
    if block is None:
        return None
    mac = hmac.digest(key, b"near|" + block.encode(), "sha256").hex()
    return NEAR_MARK + mac[:NEAR_CHARS]


Condition = tuple[str, str, Any]  # (column, operator code, value): a filter as the meter keeps it


def conditions(filters: Sequence[Filter]) -> tuple[Condition, ...]:
    """Filters as plain (column, operator code, value) tuples, cheap to hand between processes."""
    return tuple((f.column, f.op.value, f.value) for f in filters)


_EQ = Op.EQ.value


def describe(filters: Sequence[Condition], key: bytes, near: bool = False) -> str:
    """The conditions for the call log: columns and operators, values as keyed digests.

    With ``near`` (keyed lookups), an equality on a numeric-like value also carries the
    digest of its block of consecutive keys (``near_digest``), for the sequential-ID
    monitoring rule; no value, and no block, can be read back from it.

    The text is the compact JSON of ``[[column, operator, digest or null, block digest?], …]``,
    written piece by piece (digests are hexadecimal: only the column and operator need
    escaping).
    """
    described = []
    for column, op, value in filters:
        item = [encode_basestring(column), encode_basestring(op)]
        if value is None:
            item.append("null")
        else:
            item.append(f'"{value_digest(value, key)}"')
            if near and op == _EQ:
                block = near_digest(value, key)
                if block is not None:
                    item.append(f'"{block}"')
        described.append("[" + ",".join(item) + "]")
    return "[" + ",".join(described) + "]"
