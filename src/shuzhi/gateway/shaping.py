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


# Categories with few distinct values in any population (a century holds about 36,500
# dates): their partial masks are remembered, up to MEMO_SIZE values per category, so a busy
# gateway masks each value once instead of at every call. A partial mask is a pure function
# of the value and the category (no key), so a remembered answer is the answer.
MEMO_CATEGORIES = frozenset({"birth_date"})
MEMO_SIZE = 50_000
_memos: dict[str, dict[str, Any]] = {}


def masker(rule: ColumnMask | None, key: bytes) -> Masker | None:
    """None when the column leaves as it is; otherwise a function over one value."""
    if rule is None or rule.level is MaskLevel.NONE:
        return None
    level, category = rule.level, rule.category
    if level is MaskLevel.PARTIAL and category not in MASKERS:
        level = MaskLevel.REDACT  # no partial rule known for this category: hide it all
    rule_of: Callable[[str], str]
    if level is MaskLevel.PARTIAL:
        rule_of = MASKERS[category]  # called directly: this runs for every value served
    elif level is MaskLevel.REDACT:
        rule_of = redact
    else:

        def rule_of(text: str) -> str:
            return mask(text, category, level, key)

    def apply(value: Any) -> Any:
        if value is None:
            return None
        return rule_of(value if isinstance(value, str) else str(_plain(value)))

    if level is not MaskLevel.PARTIAL or category not in MEMO_CATEGORIES:
        return apply
    memo = _memos.setdefault(category, {})

    def remembered(value: Any) -> Any:
        if not isinstance(value, str):
            return apply(value)
        found = memo.get(value)
        if found is None:
            found = apply(value)
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[value] = found
        return found

    return remembered


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
