"""Cockpit indicators: shared definitions."""

from __future__ import annotations

import decimal
import logging
import math
from datetime import timedelta
from typing import Any

from shuzhi.cockpit.models import (
    Alert,
    AlertStatus,
    Indicator,
    Level,
    Reading,
)
from shuzhi.cockpit.schemas import (
    AlertOut,
    FilterIn,
    Measure,
    ReadingOut,
)
from shuzhi.context import Ctx
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import Filter, Op
from shuzhi.org import service as org
from shuzhi.security.disclosure import Disclosure

log = logging.getLogger("shuzhi.cockpit.webhook")


HISTORY = 30


WEBHOOK_HOOKED = "cockpit.webhook_hooked"


WEBHOOK_TIMEOUT = 5.0


WEBHOOK_ATTEMPTS = 8  # one per evaluation (the schedule runs it), then the alert is abandoned


WEBHOOK_RETRY_WINDOW = timedelta(days=3)


WEBHOOK_BATCH = 20  # alerts posted per evaluation, so a dead receiver cannot stall it long


NUMERIC = ("int", "float", "double", "decimal", "uint")


SEVERITY = {Level.OK: 0, Level.WARN: 1, Level.ALARM: 2, Level.ERROR: 3}


def _column_types(version: Version) -> dict[str, str]:
    return {c.name: c.type for c in version.columns}


def _typed(value: Any, column_type: str) -> Any:
    """Form values are text; a numeric column compares with numbers."""
    if isinstance(value, str) and column_type.startswith(NUMERIC):
        try:
            return int(value) if column_type.startswith(("int", "uint")) else float(value)
        except ValueError:
            return value
    return value


def _filters(specs: list[FilterIn], types: dict[str, str]) -> list[Filter]:
    out = []
    for f in specs:
        op = Op(f.op)
        value = f.value
        if op in (Op.IN, Op.NOT_IN) and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            value = [_typed(v, types.get(f.column, "")) for v in value]
        else:
            value = _typed(value, types.get(f.column, ""))
        out.append(Filter(f.column, op, value))
    return out


def _disclosure(out_version: Any, operation: str) -> Disclosure:
    """The rules for cockpit readers over a dataset: every personal column is protected."""
    categories = {c.name: c.category for c in out_version.classification}
    return Disclosure.from_categories(categories, operation=operation)


def _aggregate(
    ctx: Ctx,
    func: str,
    column: str | None,
    specs: list[FilterIn],
    group: str | None,
    version: Version,
) -> list[tuple[str | None, float | None, int]]:
    """(group, figure, rows behind it) per group, or one triple without a group."""
    types = _column_types(version)
    table = lake.query_engine(ctx).aggregate(
        version,
        [(func, column if func != Measure.COUNT or column else None), (Measure.COUNT, None)],
        group_by=[group] if group else [],
        filters=_filters(specs, types),
    )
    rows = table.to_pylist()
    measure, size = table.column_names[-2], table.column_names[-1]
    out: list[tuple[str | None, float | None, int]] = []
    for row in rows:
        out.append((str(row[group]) if group else None, _number(row[measure]), int(row[size])))
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _specs(ind: Indicator) -> list[FilterIn]:
    return [FilterIn.model_validate(f) for f in ind.filters_json]


GROUP_HIDDEN = "（分组已隐藏 / group hidden）"


_PROTECTED_MEMO = "cockpit.protected_columns"


def _protected(ctx: Ctx, resource_code: str) -> frozenset[str] | None:
    """The personal columns of a dataset's current version (None: no version to check).
    Memoised per transaction."""
    memo: dict[str, frozenset[str] | None] = ctx.db.info.setdefault(_PROTECTED_MEMO, {})
    if resource_code not in memo:
        found = lake.current_version(ctx, resource_code)
        memo[resource_code] = (
            None if found is None else _disclosure(found[0], "view_indicators").protected
        )
    return memo[resource_code]


def _group_hidden(ctx: Ctx, ind: Indicator) -> bool:
    """Whether readings and alerts of ``ind`` must not show their group: it groups by a
    column now classified as personal (stored before the rule, or classified later), or its
    dataset can no longer be checked."""
    if not ind.group_by:
        return False
    protected = _protected(ctx, ind.resource_code)
    return protected is None or ind.group_by in protected


def _reading_out(r: Reading, hide_group: bool = False) -> ReadingOut:
    return ReadingOut(
        at=r.at,
        value=r.value,
        level=Level(r.level),
        group_key=None if hide_group else r.group_key,
        message=r.message,
    )


def _alert_out(ctx: Ctx, a: Alert, ind: Indicator) -> AlertOut:
    unit = org.unit_brief(ctx, a.unit_id)
    message = a.message
    if _group_hidden(ctx, ind) and a.level != Level.ERROR:
        message = f"{ind.name}{GROUP_HIDDEN}"
    return AlertOut(
        id=a.id,
        indicator_code=ind.code,
        indicator_name=ind.name,
        unit_code=unit.code if unit else "",
        level=Level(a.level),
        value=a.value,
        message=message,
        raised_at=a.raised_at,
        status=AlertStatus(a.status),
        acknowledged_by=a.acknowledged_by,
        acknowledged_at=a.acknowledged_at,
        note=a.note,
    )
