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
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from shuzhi.errors import ErrorCollector, FieldError, Invalid, Message
from shuzhi.lake.query import Filter, Op

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


# ---------------------------------------------------------------- evaluation in Python


def _compare(op: Op, left: Any, right: Any) -> bool:
    if op is Op.EQ:
        return bool(left == right)
    if op is Op.NE:
        return bool(left != right)
    if op is Op.LT:
        return bool(left < right)
    if op is Op.LE:
        return bool(left <= right)
    if op is Op.GT:
        return bool(left > right)
    return bool(left >= right)


def matches(row: Mapping[str, Any], filters: Sequence[Filter]) -> bool:
    """SQL semantics in Python (null matches only ``is_null``), for rows read by key."""
    for f in filters:
        value = row.get(f.column)
        op = Op(f.op)
        if op is Op.IS_NULL:
            ok = value is None
        elif op is Op.NOT_NULL:
            ok = value is not None
        elif value is None:
            ok = False
        elif op is Op.IN:
            ok = value in tuple(f.value)
        elif op is Op.NOT_IN:
            ok = value not in tuple(f.value)
        elif op is Op.LIKE_PREFIX:
            ok = isinstance(value, str) and value.startswith(f.value)
        else:
            try:
                ok = _compare(op, value, f.value)
            except TypeError:
                ok = False
        if not ok:
            return False
    return True


def value_digest(value: Any, key: bytes) -> str:
    """A value as the call log (and the access log) shows it: a short keyed digest of its
    JSON text (a string's text is what ``json.dumps`` gives, without building an encoder)."""
    if type(value) is str:
        text = encode_basestring(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return hmac.digest(key, text.encode(), "sha256").hex()[:16]


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
