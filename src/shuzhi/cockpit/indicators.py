"""Vital-sign indicators (体征指标): one structured aggregation over a dataset's current version,
through the lake's query interface (never SQL text), compared with warn/alarm thresholds.

Evaluation runs on demand (console, API) and on a schedule (``shuzhi cockpit evaluate`` from
cron). Each run keeps a reading (the history); an alert is raised when the level becomes
worse than ok or changes while not ok, and is posted to the configured webhook after the
transaction commits. An indicator that can no longer be computed (its column disappeared
after a schema change, its dataset is gone) gets an ``error`` reading that says why.

Disclosure rules (``security.disclosure``): people who see the cockpit need not be allowed
to read rows, so an indicator may not filter on, group by, or take the minimum or maximum
of a column classified as personal information; a definition that does is refused, and a
stored one (defined before the rule, or whose column was classified later) gets an
``error`` reading and its readings and alerts no longer show their group. A grouped figure
over fewer than ``MIN_GROUP_SIZE`` rows (5), and any figure other than a plain count over
fewer rows than that, is suppressed.
"""

from __future__ import annotations

import decimal
import json
import logging
import math
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from shuzhi.audit.service import record, record_denied
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.cockpit.events import (
    AlertAcknowledged,
    AlertRaised,
    IndicatorDefined,
    IndicatorEvaluated,
    IndicatorUpdated,
)
from shuzhi.cockpit.models import (
    Alert,
    AlertStatus,
    Direction,
    Indicator,
    Level,
    Reading,
    WebhookState,
)
from shuzhi.cockpit.schemas import (
    AlertAck,
    AlertOut,
    Evaluation,
    FilterIn,
    IndicatorCreate,
    IndicatorOut,
    Measure,
    ReadingOut,
)
from shuzhi.context import SYSTEM, Ctx, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, ErrorCollector, FieldError, Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import Filter, Op
from shuzhi.org import service as org
from shuzhi.security.disclosure import Disclosure, Use
from shuzhi.security.masking import REDACTED

log = logging.getLogger("shuzhi.cockpit.webhook")
HISTORY = 30
WEBHOOK_HOOKED = "cockpit.webhook_hooked"
WEBHOOK_TIMEOUT = 5.0
WEBHOOK_ATTEMPTS = 8  # one per evaluation (the schedule runs it), then the alert is abandoned
WEBHOOK_RETRY_WINDOW = timedelta(days=3)
WEBHOOK_BATCH = 20  # alerts posted per evaluation, so a dead receiver cannot stall it long
NUMERIC = ("int", "float", "double", "decimal", "uint")
SEVERITY = {Level.OK: 0, Level.WARN: 1, Level.ALARM: 2, Level.ERROR: 3}


# ---------------------------------------------------------------- definition


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


def _missing_columns(ind_columns: list[str], types: dict[str, str]) -> list[str]:
    return [c for c in ind_columns if c not in types]


def _columns_of(column: str | None, specs: list[FilterIn], group: str | None) -> list[str]:
    names = [f.column for f in specs]
    if column:
        names.append(column)
    if group:
        names.append(group)
    return names


def _disclosure(out_version: Any, operation: str) -> Disclosure:
    """The rules for cockpit readers over a dataset: every personal column is protected."""
    categories = {c.name: c.category for c in out_version.classification}
    return Disclosure.from_categories(categories, operation=operation)


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
    if column and func in (Measure.MIN, Measure.MAX) and rules.is_protected(column):
        found.append((column, Use.ORDER, "column"))  # the extreme is one person's value
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
    ind.filters_json = json.dumps([f.model_dump() for f in data.filters], ensure_ascii=False)
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


# ---------------------------------------------------------------- evaluation


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


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


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


def _specs(ind: Indicator) -> list[FilterIn]:
    return [FilterIn.model_validate(f) for f in json.loads(ind.filters_json)]


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
                f"指标使用了个人信息列 {names}（筛选、分组或取最值），已停止计算，请修改定义。"
                f" / The indicator filters on, groups by or takes the extreme of personal"
                f" column(s) {', '.join(dict.fromkeys(c for c, _, _ in revealing))};"
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

    event.listen(session, "after_commit", deliver, once=True)


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
        alert_out = _alert_out(ctx, alert, ind)
    return _reading_out(reading), alert_out


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


# ---------------------------------------------------------------- reading


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


def _reading_out(r: Reading, hide_group: bool = False) -> ReadingOut:
    return ReadingOut(
        at=r.at,
        value=r.value,
        level=Level(r.level),
        group_key=None if hide_group else r.group_key,
        message=r.message,
    )


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
