"""Cockpit indicators: reading indicators, readings and alerts."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.cockpit.events import (
    AlertAcknowledged,
)
from shuzhi.cockpit.indicators.common import (
    HISTORY,
    SEVERITY,
    _alert_out,
    _group_hidden,
    _protected,
    _reading_out,
    _specs,
)
from shuzhi.cockpit.models import (
    Alert,
    AlertStatus,
    Direction,
    Indicator,
    Level,
    Reading,
)
from shuzhi.cockpit.schemas import (
    AlertAck,
    AlertOut,
    FilterIn,
    IndicatorOut,
)
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, NotFound
from shuzhi.org import service as org
from shuzhi.security.masking import REDACTED


def _shown_filters(ctx: Ctx, ind: Indicator) -> list[FilterIn]:
    """A stored definition's filters, with the value of any filter on a personal column
    hidden (a definition stored before the rule may hold a phone number)."""
    specs = _specs(ind)
    protected = _protected(ctx, ind.resource_code)
    return [
        f.model_copy(update={"value": REDACTED})
        if f.value is not None and (protected is None or f.column in protected)
        else f
        for f in specs
    ]


def _out(ctx: Ctx, ind: Indicator, history: list[Reading]) -> IndicatorOut:
    unit = org.unit_brief(ctx, ind.unit_id)
    return IndicatorOut(
        id=ind.id,
        code=ind.code,
        name=ind.name,
        unit_code=unit.code if unit else "",
        unit_name=unit.name if unit else "",
        resource_code=ind.resource_code,
        func=ind.func,
        column=ind.column_name,
        filters=_shown_filters(ctx, ind),
        group_by=ind.group_by,
        direction=Direction(ind.direction),
        warn_at=ind.warn_at,
        alarm_at=ind.alarm_at,
        level=Level(ind.level),
        last_value=ind.last_value,
        last_evaluated_at=ind.last_evaluated_at,
        history=[_reading_out(r, _group_hidden(ctx, ind)) for r in history],
    )


def list_indicators(ctx: Ctx, unit_id: int | None = None, history: int = 0) -> list[IndicatorOut]:
    """Indicators the actor may see (unit staff: their unit's), most severe first."""
    scope = scope_unit(ctx, "view_indicators")
    query = select(Indicator)
    if unit_id is not None:
        require(ctx, "view_indicators", unit_id)
        query = query.where(Indicator.unit_id == unit_id)
    elif scope is not None:
        query = query.where(Indicator.unit_id == scope)
    rows = list(ctx.db.scalars(query))
    rows.sort(key=lambda i: (-SEVERITY[Level(i.level)], i.code))
    out = []
    for ind in rows:
        past = (
            list(
                ctx.db.scalars(
                    select(Reading)
                    .where(Reading.indicator_id == ind.id)
                    .order_by(Reading.at.desc(), Reading.id.desc())
                    .limit(history)
                )
            )[::-1]
            if history
            else []
        )
        out.append(_out(ctx, ind, past))
    return out


def get_indicator(ctx: Ctx, code: str) -> IndicatorOut:
    ind = ctx.db.scalar(select(Indicator).where(Indicator.code == code))
    if ind is None:
        raise NotFound(f"指标 {code} 不存在。", f"Indicator {code} does not exist.")
    require(ctx, "view_indicators", ind.unit_id, target=f"indicator:{code}")
    past = list(
        ctx.db.scalars(
            select(Reading)
            .where(Reading.indicator_id == ind.id)
            .order_by(Reading.at.desc(), Reading.id.desc())
            .limit(HISTORY)
        )
    )[::-1]
    return _out(ctx, ind, past)


def list_alerts(
    ctx: Ctx, unit_id: int | None = None, open_only: bool = True, limit: int = 100
) -> list[AlertOut]:
    scope = scope_unit(ctx, "view_indicators")
    query = select(Alert, Indicator).join(Indicator, Indicator.id == Alert.indicator_id)
    if unit_id is not None:
        require(ctx, "view_indicators", unit_id)
        query = query.where(Alert.unit_id == unit_id)
    elif scope is not None:
        query = query.where(Alert.unit_id == scope)
    if open_only:
        query = query.where(Alert.status == AlertStatus.OPEN)
    rows = ctx.db.execute(query.order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(limit))
    return [_alert_out(ctx, a, i) for a, i in rows.all()]


def acknowledge_alert(ctx: Ctx, alert_id: int, data: AlertAck) -> AlertOut:
    """Someone responsible has seen the alert and says what is being done (audited)."""
    row = ctx.db.execute(
        select(Alert, Indicator)
        .join(Indicator, Indicator.id == Alert.indicator_id)
        .where(Alert.id == alert_id)
    ).first()
    if row is None:
        raise NotFound(f"告警 {alert_id} 不存在。", f"Alert {alert_id} does not exist.")
    alert, ind = row[0], row[1]
    require(ctx, "acknowledge_alert", alert.unit_id, target=f"alert:{alert_id}")
    # A conditional update: of two people acknowledging at once, one wins, one is told.
    if not compare_and_set(
        ctx.db,
        alert,
        Alert.status == AlertStatus.OPEN,
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_by=ctx.actor.label,
        acknowledged_at=utcnow(),
        note=data.note,
    ):
        raise Conflict(
            f"该告警已由 {alert.acknowledged_by} 确认。",
            f"The alert was already acknowledged by {alert.acknowledged_by}.",
        )
    record(ctx, AlertAcknowledged(alert_id=alert.id, unit=alert.unit_id, note=data.note))
    return _alert_out(ctx, alert, ind)
