"""Row filters of grants: structured conditions, never SQL text.

A condition is ``{"column", "op", "value"}`` with the query engine's operators
(``shuzhi.lake.query.Op``). Conditions are checked against the columns a grant may use and
the types of the dataset's current version (text sources are stored as text, so before the
first load every column counts as text). Console forms send text, which is converted to the
column's type; the JSON API must send the right JSON type (dates as ISO strings).
Stored as JSON; dates and timestamps carry a ``type`` marker so they come back as such.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from shuzhi.errors import ErrorCollector
from shuzhi.lake.query import DUCKDB_CAPABILITIES, Filter, Op

MAX_CONDITIONS = 20
MAX_TEXT = 200
MAX_IN = DUCKDB_CAPABILITIES.max_in_values
INT64 = 2**63
NO_VALUE = frozenset({Op.IS_NULL, Op.NOT_NULL})
LIST_SEPARATORS = re.compile(r"[,，、;；\n]")


class Family(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    OTHER = "other"


def family_of(arrow_type: str) -> Family:
    """The value family of a column from its Arrow type name (as stored in the manifest)."""
    t = arrow_type.strip().lower()
    if t in ("string", "large_string", "utf8", "large_utf8"):
        return Family.TEXT
    if re.fullmatch(r"u?int(8|16|32|64)", t):
        return Family.INTEGER
    if t in ("float", "double", "halffloat", "float16", "float32", "float64") or t.startswith(
        "decimal"
    ):
        return Family.NUMBER
    if t in ("bool", "boolean"):
        return Family.BOOLEAN
    if t.startswith("date"):
        return Family.DATE
    if t.startswith("timestamp"):
        return Family.TIMESTAMP
    return Family.OTHER


_FAMILY_ZH = {
    Family.TEXT: "文本",
    Family.INTEGER: "整数",
    Family.NUMBER: "数值",
    Family.BOOLEAN: "是/否",
    Family.DATE: "日期（YYYY-MM-DD）",
    Family.TIMESTAMP: "时间（YYYY-MM-DDTHH:MM:SS）",
    Family.OTHER: "不支持筛选的类型",
}
_TRUE = {"true", "1", "yes", "y", "是", "真"}
_FALSE = {"false", "0", "no", "n", "否", "假"}


class _Bad(ValueError):
    pass


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad
    if len(value) > MAX_TEXT or "\x00" in value:
        raise _Bad
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad from None
    return value


def _convert(family: Family, value: Any, from_text: bool) -> Any:
    """A value of ``family`` from JSON (strict) or from form text (parsed); _Bad otherwise."""
    if family is Family.TEXT:
        return _text(value)
    if family is Family.OTHER:
        raise _Bad
    if isinstance(value, str):
        raw = value.strip()
        if family is Family.DATE:
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                raise _Bad from None
        if family is Family.TIMESTAMP:
            try:
                stamp = dt.datetime.fromisoformat(raw)
            except ValueError:
                raise _Bad from None
            return stamp
        if not from_text:
            raise _Bad
        if family is Family.BOOLEAN:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise _Bad
        if family is Family.INTEGER:
            if not re.fullmatch(r"[+-]?\d{1,19}", raw):
                raise _Bad
            value = int(raw)
        else:
            try:
                value = float(raw) if re.search(r"[.eE]", raw) else int(raw)
            except ValueError:
                raise _Bad from None
    if family is Family.BOOLEAN:
        if isinstance(value, bool):
            return value
        raise _Bad
    if isinstance(value, bool):
        raise _Bad
    if family is Family.INTEGER:
        if isinstance(value, int) and -INT64 <= value < INT64:
            return value
        raise _Bad
    if family is Family.NUMBER:
        if isinstance(value, int) and -INT64 <= value < INT64:
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
    raise _Bad


def _values(raw: Any, from_text: bool) -> list[Any]:
    if isinstance(raw, str) and from_text:
        return [v.strip() for v in LIST_SEPARATORS.split(raw) if v.strip()]
    if isinstance(raw, list | tuple):
        return list(raw)
    raise _Bad


def parse_conditions(
    raw: Sequence[Mapping[str, Any]],
    types: Mapping[str, Family],
    errors: ErrorCollector,
    *,
    field: str = "row_filter",
    from_text: bool = False,
) -> list[Filter]:
    """Conditions checked against ``types`` (column → family); every problem goes to ``errors``."""
    if len(raw) > MAX_CONDITIONS:
        errors.add(
            field,
            f"筛选条件最多 {MAX_CONDITIONS} 条。",
            f"At most {MAX_CONDITIONS} conditions.",
        )
        return []
    out: list[Filter] = []
    for i, cond in enumerate(raw):
        where = f"{field}.{i}"
        column = cond.get("column")
        if not isinstance(column, str) or column not in types:
            errors.add(
                f"{where}.column",
                f"第 {i + 1} 条条件的列不在可用范围内。",
                f"Condition {i + 1}: the column is not one of the granted columns.",
            )
            continue
        try:
            op = Op(str(cond.get("op")))
        except ValueError:
            errors.add(
                f"{where}.op",
                f"第 {i + 1} 条条件的运算不受支持。",
                f"Condition {i + 1}: unsupported operator.",
            )
            continue
        family = types[column]
        value = cond.get("value")
        if op in NO_VALUE:
            if value not in (None, "") and not (from_text and value == ""):
                errors.add(
                    f"{where}.value",
                    f"第 {i + 1} 条条件（空值判断）不需要条件值。",
                    f"Condition {i + 1}: {op} takes no value.",
                )
                continue
            out.append(Filter(column, op))
            continue
        if op is Op.LIKE_PREFIX and family is not Family.TEXT:
            errors.add(
                f"{where}.op",
                f"第 {i + 1} 条条件：前缀匹配只适用于文本列。",
                f"Condition {i + 1}: like_prefix needs a text column.",
            )
            continue
        try:
            if op is Op.IN:
                values = _values(value, from_text)
                if not values or len(values) > MAX_IN:
                    raise _Bad
                converted: Any = tuple(_convert(family, v, from_text) for v in values)
            else:
                if value is None or (op is Op.LIKE_PREFIX and value == ""):
                    raise _Bad
                converted = _convert(family, value, from_text)
        except _Bad:
            errors.add(
                f"{where}.value",
                f"第 {i + 1} 条条件的值应为{_FAMILY_ZH[family]}"
                + ("（in 运算为非空列表）" if op is Op.IN else "")
                + "。",
                f"Condition {i + 1}: the value must be {family.value}"
                + (" (a non-empty list for 'in')" if op is Op.IN else "")
                + ".",
            )
            continue
        out.append(Filter(column, op, converted))
    return out


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, tuple | list):
        return [_encode_value(v) for v in value]
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "timestamp" in value:
            return dt.datetime.fromisoformat(value["timestamp"])
        return dt.date.fromisoformat(value["date"])
    if isinstance(value, list):
        return tuple(_decode_value(v) for v in value)
    return value


def encode(filters: Iterable[Filter]) -> list[dict[str, Any]]:
    """JSON-safe form of conditions (for storage)."""
    return [
        {"column": f.column, "op": Op(f.op).value, "value": _encode_value(f.value)} for f in filters
    ]


def decode(data: Iterable[Mapping[str, Any]]) -> tuple[Filter, ...]:
    return tuple(Filter(str(c["column"]), Op(c["op"]), _decode_value(c.get("value"))) for c in data)


def describe(f: Filter) -> str:
    """A short human reading of a condition, e.g. ``户籍地址 like_prefix 浙江省``."""
    if f.op in NO_VALUE:
        return f"{f.column} {Op(f.op).value}"
    value = f.value
    if isinstance(value, tuple):
        shown = ", ".join(str(v) for v in value)
        return f"{f.column} in ({shown})"
    return f"{f.column} {Op(f.op).value} {value}"
