"""Cockpit indicators: defining and changing vital-sign indicators."""

from __future__ import annotations

import math

from sqlalchemy import select

from shuzhi.audit.service import record, record_denied
from shuzhi.auth.permissions import require
from shuzhi.cockpit.events import (
    IndicatorDefined,
    IndicatorUpdated,
)
from shuzhi.cockpit.indicators.common import NUMERIC, _aggregate, _column_types, _disclosure
from shuzhi.cockpit.indicators.reading import _out
from shuzhi.cockpit.models import (
    Direction,
    Indicator,
    Level,
)
from shuzhi.cockpit.schemas import (
    FilterIn,
    IndicatorCreate,
    IndicatorOut,
    Measure,
)
from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector, FieldError, Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.lake.query import Op
from shuzhi.org import service as org
from shuzhi.security.disclosure import Disclosure, Use


def _check_thresholds(data: IndicatorCreate, errors: ErrorCollector) -> None:
    warn, alarm = data.warn_at, data.alarm_at
    for name, value in (("warn_at", warn), ("alarm_at", alarm)):
        if value is not None and not math.isfinite(value):
            errors.add(name, "阈值须为有限数值。", "A threshold must be a finite number.")
    if warn is None and alarm is None:
        errors.add("alarm_at", "至少设置一个阈值（预警或报警）。", "Set a warn or alarm threshold.")
    if warn is None or alarm is None:
        return
    if data.direction is Direction.ABOVE and not warn < alarm:
        errors.add(
            "alarm_at",
            "“超过即告警”的指标，报警阈值应大于预警阈值。",
            "For an 'above' indicator the alarm threshold must exceed the warn threshold.",
        )
    if data.direction is Direction.BELOW and not warn > alarm:
        errors.add(
            "alarm_at",
            "“低于即告警”的指标，报警阈值应小于预警阈值。",
            "For a 'below' indicator the alarm threshold must be under the warn threshold.",
        )


def _missing_columns(ind_columns: list[str], types: dict[str, str]) -> list[str]:
    return [c for c in ind_columns if c not in types]


def _columns_of(column: str | None, specs: list[FilterIn], group: str | None) -> list[str]:
    names = [f.column for f in specs]
    if column:
        names.append(column)
    if group:
        names.append(group)
    return names


def _revealing(
    rules: Disclosure, func: str, column: str | None, specs: list[FilterIn], group: str | None
) -> list[tuple[str, Use, str]]:
    """(column, use, form field) of every use of a protected column in a definition."""
    found = [
        (c, use, "filters" if use is Use.FILTER else "group_by")
        for c, use in rules.violations(
            filters=[f.column for f in specs], group=[group] if group else []
        )
    ]
    # An extreme is one person's value; so is the difference of two sums or averages whose
    # filters differ by one person (a mobile number read back whole). Only counting is left.
    if column and func is not Measure.COUNT and rules.is_protected(column):
        found.append((column, Use.MEASURE, "column"))
    return found


def _checked(ctx: Ctx, data: IndicatorCreate, operation: str, own_id: int | None) -> int:
    """Every check of a definition against the dataset's current schema, and one trial run;
    returns the owning unit (the dataset's)."""
    found = lake.current_version(ctx, data.resource_code)
    if found is None:
        raise Invalid.field(
            "resource_code",
            f"目录 {data.resource_code} 没有已归集的数据集。",
            f"Entry {data.resource_code} has no aggregated dataset.",
        )
    out_version, version = found
    unit_id = org.unit_id_for_code(ctx, out_version.unit_code)
    require(ctx, operation, unit_id, target=data.code)
    errors = ErrorCollector()
    other = ctx.db.scalar(select(Indicator.id).where(Indicator.code == data.code))
    if other is not None and other != own_id:
        errors.add("code", f"指标编码 {data.code} 已存在。", f"Indicator {data.code} exists.")
    _check_thresholds(data, errors)
    types = _column_types(version)
    if data.func is not Measure.COUNT and not data.column:
        errors.add("column", "该统计方式需要指定列。", f"'{data.func}' needs a column.")
    if (
        data.func in (Measure.MIN, Measure.MAX)
        and data.column in types
        and not types[data.column].startswith(NUMERIC)
    ):
        errors.add(
            "column",
            f"列 {data.column} 是文本，最小/最大值须用于数值列（文本数字请用平均或求和）。",
            f"Column {data.column!r} is text: min/max need a numeric column"
            " (avg and sum read numbers written as text).",
        )
    for name in _missing_columns(_columns_of(data.column, data.filters, data.group_by), types):
        errors.add("column", f"数据集中没有列 {name}。", f"The dataset has no column {name!r}.")
    for f in data.filters:
        if f.op not in {o.value for o in Op}:
            errors.add("filters", f"不支持的条件运算 {f.op}。", f"Unsupported operator {f.op!r}.")
    rules = _disclosure(out_version, operation)
    revealing = _revealing(rules, data.func, data.column, data.filters, data.group_by)
    for column, use, form_field in revealing:
        errors.errors.append(FieldError(form_field, rules.refusal(column, use).message))
    if revealing:
        # Refused like any other refusal: audited after the rollback (columns, never values).
        refused = Invalid(errors=errors.errors)
        target = f"indicator:{data.code[:60]}:" + ",".join(
            f"{u.value}:{c}" for c, u, _ in revealing
        )
        refused.after_rollback = lambda c: record_denied(c, operation, target[:200])
        raise refused
    errors.raise_if_any()
    try:  # a trial run: value types, numeric columns (reads one aggregate, audited below)
        _aggregate(ctx, data.func, data.column, data.filters, data.group_by, version)
    except Invalid as err:
        raise Invalid(errors=[_as_field(e) for e in err.errors]) from None
    assert unit_id is not None
    return unit_id


def _apply(ind: Indicator, data: IndicatorCreate, unit_id: int) -> None:
    ind.code, ind.name, ind.unit_id = data.code, data.name, unit_id
    ind.resource_code, ind.func, ind.column_name = data.resource_code, data.func.value, data.column
    ind.filters_json = [f.model_dump(mode="json") for f in data.filters]
    ind.group_by, ind.direction = data.group_by, data.direction
    ind.warn_at, ind.alarm_at = data.warn_at, data.alarm_at


def define_indicator(ctx: Ctx, data: IndicatorCreate) -> IndicatorOut:
    """Define an indicator over a dataset; checked against its current schema and tried once."""
    unit_id = _checked(ctx, data, "define_indicator", None)
    ind = Indicator(level=Level.OK, created_by=ctx.actor.label)
    _apply(ind, data, unit_id)
    ctx.db.add(ind)
    ctx.db.flush()
    record(ctx, _change(IndicatorDefined, ind))
    return _out(ctx, ind, [])


def update_indicator(ctx: Ctx, code: str, data: IndicatorCreate) -> IndicatorOut:
    """Change a definition (e.g. after a schema change); history and alerts are kept, and
    the next evaluation compares with the level the indicator had."""
    ind = ctx.db.scalar(select(Indicator).where(Indicator.code == code))
    if ind is None:
        raise NotFound(f"指标 {code} 不存在。", f"Indicator {code} does not exist.")
    require(ctx, "update_indicator", ind.unit_id, target=f"indicator:{code}")
    unit_id = _checked(ctx, data, "update_indicator", ind.id)
    _apply(ind, data, unit_id)
    ctx.db.flush()
    record(ctx, _change(IndicatorUpdated, ind))
    return _out(ctx, ind, [])


def _change(
    kind: type[IndicatorDefined] | type[IndicatorUpdated], ind: Indicator
) -> IndicatorDefined | IndicatorUpdated:
    return kind(
        code=ind.code,
        unit=ind.unit_id,
        resource_code=ind.resource_code,
        func=ind.func,
        column=ind.column_name,
    )


def _as_field(e: FieldError) -> FieldError:
    return FieldError("filters" if e.field == "query" else e.field, e.message)
