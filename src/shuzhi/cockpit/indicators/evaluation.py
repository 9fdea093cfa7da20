"""Cockpit indicators: evaluating indicators, alerts and the webhook."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.cockpit.events import (
    AlertRaised,
    IndicatorEvaluated,
)
from shuzhi.cockpit.indicators.common import (
    WEBHOOK_ATTEMPTS,
    WEBHOOK_BATCH,
    WEBHOOK_HOOKED,
    WEBHOOK_RETRY_WINDOW,
    WEBHOOK_TIMEOUT,
    _aggregate,
    _alert_out,
    _column_types,
    _disclosure,
    _reading_out,
    _specs,
    log,
)
from shuzhi.cockpit.indicators.definition import _columns_of, _missing_columns, _revealing
from shuzhi.cockpit.models import (
    Alert,
    Direction,
    Indicator,
    Level,
    Reading,
    WebhookState,
)
from shuzhi.cockpit.schemas import (
    AlertOut,
    Evaluation,
    Measure,
    ReadingOut,
)
from shuzhi.context import SYSTEM, Ctx, Role, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.db.outer import after_outer_commit
from shuzhi.errors import Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.security.disclosure import Disclosure
from shuzhi.sharing import service as sharing


def _shown(
    rules: Disclosure,
    func: str,
    group: str | None,
    rows: list[tuple[str | None, float | None, int]],
) -> tuple[list[tuple[str | None, float | None]], int]:
    """The figures that may be shown, and how many were suppressed as too small a group.

    A plain count without a group is an operational figure (a backlog of 3 is a fact about
    the work, not about three people); everything else over fewer than the minimum number
    of rows points at a handful of people and is left out."""
    if func == Measure.COUNT and group is None:
        return [(g, v) for g, v, _ in rows], 0
    kept = [(g, v) for g, v, n in rows if not rules.suppress(n) and n > 0]
    hidden = sum(1 for _, _, n in rows if rules.suppress(n))
    return kept, hidden


def level_of(value: float | None, direction: str, warn: float | None, alarm: float | None) -> Level:
    """Where a value stands against the thresholds (a missing value is not an alarm)."""
    if value is None:
        return Level.OK

    def worse(limit: float) -> bool:
        return value >= limit if direction == Direction.ABOVE else value <= limit

    if alarm is not None and worse(alarm):
        return Level.ALARM
    if warn is not None and worse(warn):
        return Level.WARN
    return Level.OK


def _measure(ctx: Ctx, ind: Indicator) -> tuple[float | None, str | None, Level, str]:
    """(value, group that set it, level, message) — never raises for a broken definition."""
    found = lake.current_version(ctx, ind.resource_code)
    if found is None:
        return (
            None,
            None,
            Level.ERROR,
            (
                f"数据集 {ind.resource_code} 没有当前版本，无法计算。"
                f" / Dataset {ind.resource_code} has no current version."
            ),
        )
    out_version, version = found
    specs = _specs(ind)
    rules = _disclosure(out_version, "evaluate_indicators")
    revealing = _revealing(rules, ind.func, ind.column_name, specs, ind.group_by)
    if revealing:
        names = "、".join(dict.fromkeys(c for c, _, _ in revealing))
        return (
            None,
            None,
            Level.ERROR,
            (
                f"指标使用了个人信息列 {names}（筛选、分组、求和、求平均或取最值），"
                "已停止计算，请修改定义。"
                f" / The indicator filters on, groups by, sums, averages or takes the extreme"
                f" of personal column(s) {', '.join(dict.fromkeys(c for c, _, _ in revealing))};"
                " it is no longer computed; edit it."
            ),
        )
    missing = _missing_columns(
        _columns_of(ind.column_name, specs, ind.group_by), _column_types(version)
    )
    if missing:
        names = "、".join(missing)
        return (
            None,
            None,
            Level.ERROR,
            (
                f"列 {names} 已不存在（数据集结构已变更），请修改指标定义。"
                f" / Column(s) {', '.join(missing)} no longer exist after a schema change;"
                " edit the indicator."
            ),
        )
    try:
        rows = _aggregate(ctx, ind.func, ind.column_name, specs, ind.group_by, version)
    except Invalid as err:
        first = err.errors[0].message if err.errors else err.message
        return None, None, Level.ERROR, f"{first.zh} / {first.en}"
    shown, hidden = _shown(rules, ind.func, ind.group_by, rows)
    known = [(g, v) for g, v in shown if v is not None]
    if not known:
        if hidden:
            n = rules.min_group_size
            return (
                None,
                None,
                Level.OK,
                f"各组记录均少于 {n} 条，结果不予显示 / every group has fewer than {n} rows;"
                " figures are suppressed",
            )
        return None, None, Level.OK, "无数据 / no data"
    pick = max if ind.direction == Direction.ABOVE else min
    group, value = pick(known, key=lambda gv: gv[1] if gv[1] is not None else 0.0)
    return value, group, level_of(value, ind.direction, ind.warn_at, ind.alarm_at), ""


def _deliver_after_commit(ctx: Ctx) -> None:
    """Post pending alerts once the transaction commits (a rolled-back alert is never sent)."""
    url = ctx.settings.cockpit_webhook_url
    session: Session = ctx.db
    if not url or session.info.get(WEBHOOK_HOOKED):
        return
    session.info[WEBHOOK_HOOKED] = True
    database = ctx.database

    def deliver(_s: Session) -> None:
        session.info.pop(WEBHOOK_HOOKED, None)
        deliver_webhooks(database, url)

    after_outer_commit(session, deliver, once=True)


def deliver_webhooks(database: Database, url: str, now: datetime | None = None) -> tuple[int, int]:
    """Post pending alerts, oldest first, at most ``WEBHOOK_BATCH``; returns (sent, failed).

    Reads and writes happen in short transactions of their own: no lock is held while a
    slow receiver answers. An alert still unsent after ``WEBHOOK_ATTEMPTS`` tries, or older
    than ``WEBHOOK_RETRY_WINDOW``, is abandoned (and logged) rather than retried forever.
    """
    moment = now or utcnow()
    with unit_of_work(database, SYSTEM) as ctx:
        ctx.db.execute(
            update(Alert)
            .where(
                Alert.webhook_state == WebhookState.PENDING,
                Alert.raised_at < moment - WEBHOOK_RETRY_WINDOW,
            )
            .values(webhook_state=WebhookState.ABANDONED)
        )
        rows = ctx.db.execute(
            select(Alert, Indicator)
            .join(Indicator, Indicator.id == Alert.indicator_id)
            .where(Alert.webhook_state == WebhookState.PENDING)
            .order_by(Alert.id)
            .limit(WEBHOOK_BATCH)
        ).all()
        todo = [
            (a.id, {"alert_id": a.id, **_alert_out(ctx, a, ind).model_dump(mode="json")})
            for a, ind in rows
        ]
    outcomes = [(alert_id, post_webhook(url, payload)) for alert_id, payload in todo]
    if not outcomes:
        return 0, 0
    with unit_of_work(database, SYSTEM) as ctx:
        for alert_id, ok in outcomes:
            alert = ctx.db.get(Alert, alert_id)
            if alert is None or alert.webhook_state != WebhookState.PENDING:
                continue
            alert.webhook_attempts += 1
            if ok:
                alert.webhook_state = WebhookState.SENT
            elif alert.webhook_attempts >= WEBHOOK_ATTEMPTS:
                alert.webhook_state = WebhookState.ABANDONED
                log.warning(
                    "cockpit webhook: alert %s abandoned after %s attempts",
                    alert_id,
                    alert.webhook_attempts,
                )
    sent = sum(ok for _, ok in outcomes)
    return sent, len(outcomes) - sent


def post_webhook(url: str, payload: dict[str, Any]) -> bool:
    """POST one alert as JSON; an unreachable receiver is logged, never raised."""
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:
            return 200 <= int(response.status) < 300
    except (OSError, ValueError):
        log.warning("cockpit webhook to %s failed for alert %s", url, payload.get("alert_id"))
        return False


def _evaluate(ctx: Ctx, ind: Indicator, now: datetime) -> tuple[ReadingOut, AlertOut | None]:
    value, group, level, message = _measure(ctx, ind)
    reading = Reading(
        indicator_id=ind.id, at=now, value=value, level=level, group_key=group, message=message
    )
    ctx.db.add(reading)
    previous = Level(ind.level)
    ind.level, ind.last_value, ind.last_evaluated_at = level, value, now
    ctx.db.flush()
    record(
        ctx,
        IndicatorEvaluated(
            code=ind.code,
            unit=ind.unit_id,
            resource_code=ind.resource_code,
            level=level,
            value=value,
        ),
    )
    alert_out = None
    if level is not Level.OK and level is not previous:
        text = message or _alert_text(ind, value, group, level)
        alert = Alert(
            indicator_id=ind.id,
            unit_id=ind.unit_id,
            level=level,
            value=value,
            message=text,
            raised_at=now,
            webhook_state=(
                WebhookState.PENDING if ctx.settings.cockpit_webhook_url else WebhookState.NONE
            ),
        )
        ctx.db.add(alert)
        ctx.db.flush()
        record(
            ctx, AlertRaised(alert_id=alert.id, unit=ind.unit_id, indicator=ind.code, level=level)
        )
        _post_alert_notice(ctx, ind, level, text)
        alert_out = _alert_out(ctx, alert, ind)
    return _reading_out(reading), alert_out


_LEVEL_WORDS = {Level.WARN: "预警", Level.ALARM: "告警", Level.ERROR: "无法计算"}


def _post_alert_notice(ctx: Ctx, ind: Indicator, level: Level, text: str) -> None:
    """The unit's staff and the region's CDO see the alert in the console and by mail."""
    zh = f"驾驶舱指标「{ind.name}」（{ind.code}）{_LEVEL_WORDS.get(level, level)}：{text}"
    en = f"Cockpit indicator {ind.code} ({ind.name}) is at {level.value}: {text}"
    sharing.post_notice(ctx, "cockpit_alert", ind.unit_id, sharing.STAFF_ROLES, zh, en, "/cockpit")
    sharing.post_notice(ctx, "cockpit_alert", None, (Role.CDO,), zh, en, "/cockpit")


def _alert_text(ind: Indicator, value: float | None, group: str | None, level: Level) -> str:
    where = f"（{group}）" if group else ""
    limit = ind.alarm_at if level is Level.ALARM else ind.warn_at
    side = "≥" if ind.direction == Direction.ABOVE else "≤"
    return (
        f"{ind.name}{where} = {value:g} {side} {limit:g}"
        if value is not None and limit is not None
        else ind.name
    )


def evaluate_indicators(
    ctx: Ctx, codes: list[str] | None = None, now: datetime | None = None
) -> Evaluation:
    """Evaluate every indicator the actor may evaluate (or the named ones) now."""
    scope = scope_unit(ctx, "evaluate_indicators")
    query = select(Indicator).order_by(Indicator.code)
    if codes:
        query = query.where(Indicator.code.in_(codes))
    elif scope is not None:
        query = query.where(Indicator.unit_id == scope)
    chosen = list(ctx.db.scalars(query))
    if codes and not chosen:
        raise NotFound("没有这些指标。", "No such indicator.")
    for ind in chosen:  # a named indicator of another unit is refused (and audited), not skipped
        require(ctx, "evaluate_indicators", ind.unit_id, target=f"indicator:{ind.code}")
    moment = now or utcnow()
    readings: list[tuple[str, ReadingOut]] = []
    alerts: list[AlertOut] = []
    _deliver_after_commit(ctx)  # new alerts, and earlier ones the receiver did not take
    for ind in chosen:
        reading, alert = _evaluate(ctx, ind, moment)
        readings.append((ind.code, reading))
        if alert is not None:
            alerts.append(alert)
    return Evaluation(evaluated=len(readings), readings=readings, alerts=alerts)
