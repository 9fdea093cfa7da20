"""What leaves the server: granted columns only, each masked per the grant."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shuzhi.security.masking import MASKERS, MaskLevel, mask, redact
from shuzhi.sharing.grants import CallGrant, ColumnMask

Masker = Callable[[Any], Any]


def _plain(value: Any) -> Any:
    """JSON-ready values: text, numbers, booleans and null pass; others become text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def masker(rule: ColumnMask | None, key: bytes) -> Masker | None:
    """None when the column leaves as it is; otherwise a function over one value."""
    if rule is None or rule.level is MaskLevel.NONE:
        return None
    level, category = rule.level, rule.category
    if level is MaskLevel.PARTIAL and category not in MASKERS:
        level = MaskLevel.REDACT  # no partial rule known for this category: hide it all

    def apply(value: Any) -> Any:
        if value is None:
            return None
        text = value if isinstance(value, str) else str(_plain(value))
        if level is MaskLevel.REDACT:
            return redact(text)
        return mask(text, category, level, key)

    return apply


Plan = tuple[tuple[str, Masker | None], ...]


def plan(grant: CallGrant, fields: Sequence[str], key: bytes) -> Plan:
    """How each selected column is shaped (computed once per grant and field list)."""
    masks: Mapping[str, ColumnMask] = grant.masking
    return tuple((name, masker(masks.get(name), key)) for name in fields if grant.allows(name))


def shape(row: Mapping[str, Any], how: Plan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, fn in how:
        value = row.get(name)
        out[name] = _plain(value) if fn is None else fn(value)
    return out
