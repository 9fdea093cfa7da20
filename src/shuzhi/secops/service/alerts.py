"""Security operations: thresholds, evaluating the monitoring rules, alerts.

Evaluation runs off the request path (``shuzhi secops evaluate`` or the server's own
evaluator thread) and reads only what the metering, the login throttle and the audit log
record. A finding about a subject that already has an open alert makes that alert grow
(``count``, ``last_seen``, fresh evidence) instead of raising another.

Subjects that name a client address carry its network part and a keyed digest, never the
address (``rules.client_subject``); alerts and tunings stored before that named the whole
address and are given the digest form by the next evaluation (``_upgrade_subjects``), and
everything shown goes through ``rules.shown_subject``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from shuzhi.audit.service import quick_check, record
from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.context import Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.cas import affected, compare_and_set
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Invalid, NotFound
from shuzhi.gateway import monitoring
from shuzhi.secops import events
from shuzhi.secops.flow_rules import flow_findings
from shuzhi.secops.models import (
    Alert,
    AlertStatus,
    EvaluatorState,
    Incident,
    Severity,
    Threshold,
    Tuning,
)
from shuzhi.secops.rules import (
    RULES,
    WINDOW,
    Finding,
    current_subject,
    gateway_findings,
    login_findings,
    mask_client,
    shown_subject,
    subject_key,
)
from shuzhi.secops.schemas import (
    AlertItem,
    AlertList,
    AlertOut,
    EvaluationOut,
    FalsePositiveIn,
    ThresholdIn,
    ThresholdOut,
)
from shuzhi.sharing import service as sharing
from shuzhi.validation import required_reason

EVIDENCE = 10
LIVE = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
OWNER_BUREAU = "bureau security officer (cdo_executive)"

# ---------------------------------------------------------------- thresholds


def _values(session: Session) -> dict[tuple[str, str], float]:
    return {(t.rule, t.param): t.value for t in session.scalars(select(Threshold))}


def list_thresholds(ctx: Ctx) -> list[ThresholdOut]:
    require(ctx, "view_secops_thresholds")
    stored = _values(ctx.db)
    return [
        ThresholdOut(
            rule=rule.code,
            param=name,
            value=stored.get((rule.code, name), p.default),
            default=p.default,
            least=p.least,
            name_zh=p.zh,
            name_en=p.en,
        )
        for rule in RULES.values()
        for name, p in rule.params.items()
    ]


def set_threshold(ctx: Ctx, rule: str, param: str, data: ThresholdIn) -> ThresholdOut:
    """Change one threshold; a value that would fire on ordinary use is refused."""
    require(ctx, "set_secops_threshold", target=f"{rule}.{param}")
    found = RULES.get(rule)
    spec = found.params.get(param) if found is not None else None
    if found is None or spec is None:
        raise NotFound(f"没有规则参数 {rule}.{param}。", f"No rule parameter {rule}.{param}.")
    value = data.value
    if not value == value or value in (float("inf"), float("-inf")) or value < spec.least:
        raise Invalid.field(
            "value",
            f"{spec.zh}不能小于 {spec.least:g}：更低的阈值会让规则「{found.zh}」"
            "对正常的每次调用都告警。",
            f"{spec.en} cannot be below {spec.least:g}: a lower threshold would make the rule"
            f" “{found.en}” fire on every ordinary call.",
        )
    row = ctx.db.scalar(select(Threshold).where(Threshold.rule == rule, Threshold.param == param))
    previous = row.value if row is not None else spec.default
    if row is None:
        ctx.db.add(Threshold(rule=rule, param=param, value=value, updated_by=ctx.actor.label))
    else:
        row.value, row.updated_by, row.updated_at = value, ctx.actor.label, utcnow()
    ctx.db.flush()
    record(ctx, events.ThresholdSet(rule=rule, param=param, value=value, previous=previous))
    return ThresholdOut(
        rule=rule,
        param=param,
        value=value,
        default=spec.default,
        least=spec.least,
        name_zh=spec.zh,
        name_en=spec.en,
    )


# ---------------------------------------------------------------- evaluation


@dataclass
class _Limits:
    values: dict[tuple[str, str], float]
    tuning: dict[tuple[str, str], float]

    def __call__(self, rule: str, param: str, subject: str) -> float:
        spec = RULES[rule].params[param]
        base = self.values.get((rule, param), spec.default)
        return base * self.tuning.get((rule, subject), 1.0)


# How long a claimed turn keeps others out if its process dies before ending it.
TURN_LEASE = timedelta(minutes=15)


def claim(database: Database, now: datetime, gap: float) -> bool:
    """Take the evaluator's turn unless another process's turn is running or ended within
    ``gap`` seconds. A turn runs until ``end_turn`` (at most ``TURN_LEASE``): turns never
    overlap, however long one takes (two turns scanning an hour of calls at once would double
    the reads and, on SQLite, keep its write-ahead log from ever being reset)."""
    leased = now + TURN_LEASE
    with database.sessions.begin() as session:
        done = session.execute(
            update(EvaluatorState)
            .where(
                EvaluatorState.id == 1, EvaluatorState.last_run_at <= now - timedelta(seconds=gap)
            )
            .values(last_run_at=leased)
        )
        if affected(done) == 1:
            return True
        if session.get(EvaluatorState, 1) is not None:
            return False
        session.execute(insert(EvaluatorState).values(id=1, last_run_at=leased))
        return True


def end_turn(database: Database, now: datetime) -> None:
    """End the claimed turn: the next may start ``gap`` seconds from ``now``."""
    with database.sessions.begin() as session:
        session.execute(
            update(EvaluatorState).where(EvaluatorState.id == 1).values(last_run_at=now)
        )


def evaluate(ctx: Ctx, now: datetime | None = None) -> EvaluationOut:
    """Run every rule once over the last hour; new alerts are raised and delivered, open
    ones grow. Returns the new alerts."""
    now = now or utcnow()
    return raise_alerts(ctx, find(ctx, now), now)


def find(ctx: Ctx, now: datetime) -> list[Prepared]:
    """What every rule finds over the hour before ``now``, with each alert's evidence; reads
    only, so the server's evaluator runs it in a read unit and holds no write lock while the
    rules scan."""
    require(ctx, "evaluate_secops")
    key = subject_key(ctx.settings.secret_key)
    tuning = {
        (t.rule, current_subject(t.subject, key)): t.factor for t in ctx.db.scalars(select(Tuning))
    }
    limits = _Limits(_values(ctx.db), tuning)
    # Each family of rules reads in its own snapshot (one turn may scan an hour of calls).
    findings = gateway_findings(ctx.db, now, limits, key)
    ctx.release_snapshot()
    findings += flow_findings(ctx.db, now, limits)
    ctx.release_snapshot()
    findings += login_findings(ctx.db, now, limits, key)
    ctx.release_snapshot()
    report = quick_check(ctx)
    if not report.ok:
        findings.append(
            Finding(
                "audit_chain",
                "audit_chain",
                None,
                1,
                1,
                1,
                now,
                f"审计哈希链校验失败：第 {report.first_bad_seq} 条 — {report.reason}",
                f"The audit chain fails verification at entry {report.first_bad_seq}:"
                f" {report.reason}",
                extra={"first_bad_seq": report.first_bad_seq, "reason": report.reason},
            )
        )
    prepared: list[Prepared] = []
    for f in findings:
        ctx.release_snapshot()  # each finding's evidence in a snapshot of its own
        p = _prepare(ctx.db, f, now)
        if p is not None:
            prepared.append(p)
    return prepared


@dataclass(frozen=True)
class Prepared:
    """A finding with everything its alert needs that takes a scan (the evidence, how much
    an open alert grows by), read before the short write unit that stores it."""

    finding: Finding
    evidence: list[dict[str, Any]]
    newer: int  # calls after the open alert's last_seen (0: no open alert)


def _prepare(session: Session, f: Finding, now: datetime) -> Prepared | None:
    seen = session.scalar(select(Alert.last_seen).where(Alert.open_key == _open_key(f)))
    if seen is not None and f.last_at <= seen:
        return None  # nothing new about an open alert
    newer = _newer(session, f, seen, now) if seen is not None else 0
    return Prepared(f, _evidence(session, f, now), newer)


def _open_key(f: Finding) -> str:
    return f"{f.rule}|{f.subject}"


def raise_alerts(ctx: Ctx, found: list[Prepared], now: datetime) -> EvaluationOut:
    """Raise (and deliver) an alert per new finding; make the open ones grow."""
    require(ctx, "evaluate_secops")
    _upgrade_subjects(ctx, subject_key(ctx.settings.secret_key))
    new: list[AlertOut] = []
    grown = 0
    for finding in found:
        alert, created = _upsert(ctx, finding, now)
        if created and alert is not None:
            new.append(_out(alert))
        elif alert is not None:
            grown += 1
    return EvaluationOut(ran=True, new=new, grown=grown)


def _naming_addresses(subject: Any) -> Any:
    """Stored subjects of the form before subjects carried a digest (``client:<address>``,
    ``key:<id>@<address>``, no ``#``)."""
    named = or_(subject.like("client:%"), subject.like("key:%@%"))
    return named & subject.not_like("%#%")


def _upgrade_subjects(ctx: Ctx, key: bytes) -> None:
    """Give alerts and tunings stored before subjects carried a digest (they named a whole
    client address) the subject the rules now find them under: an open alert goes on
    growing, a tuned subject keeps its thresholds, and the address is no longer kept (nor in
    the title of an incident opened from the alert). An open alert met in the turn that
    upgrades it grows by one call: its preparation looked it up before."""
    for alert in list(ctx.db.scalars(select(Alert).where(_naming_addresses(Alert.subject)))):
        subject = current_subject(alert.subject, key)
        for incident in list(ctx.db.scalars(select(Incident).where(Incident.alert_id == alert.id))):
            incident.title = incident.title.replace(alert.subject, subject)[:200]
        alert.subject = subject
        if alert.open_key is not None:
            alert.open_key = f"{alert.rule}|{subject}"
    for tuning in list(ctx.db.scalars(select(Tuning).where(_naming_addresses(Tuning.subject)))):
        subject = current_subject(tuning.subject, key)
        kept = ctx.db.scalar(
            select(Tuning).where(Tuning.rule == tuning.rule, Tuning.subject == subject)
        )
        if kept is None:
            tuning.subject = subject
        else:
            kept.factor = max(kept.factor, tuning.factor)
            ctx.db.delete(tuning)
    ctx.db.flush()


def _evidence(session: Session, f: Finding, now: datetime) -> list[dict[str, Any]]:
    if f.key_id is None and f.client is None:
        return [dict(f.extra)] if f.extra else []
    if f.rule == "login_spray":
        return [{"client": mask_client(f.client), "accounts": f.measure, "failures": f.count}]
    return [
        {
            "call_id": s.call_id,
            "at": s.at.isoformat(),
            "endpoint": s.endpoint,
            "resource_code": s.resource_code,
            "status": s.status,
            "rows": s.rows,
            "filter": s.filter[:200],  # columns and keyed digests of the values, never values
            "client": mask_client(s.client),
        }
        for s in monitoring.samples(
            session, now - WINDOW, now, key_id=f.key_id, client=f.client, limit=EVIDENCE
        )
    ]


def _newer(session: Session, f: Finding, after: datetime, now: datetime) -> int:
    """How many of the subject's calls came after ``after`` (what an open alert grows by)."""
    if f.rule in ("login_spray", "audit_chain") or after >= now:
        return 0
    if f.key_id is None and f.client is None:
        return 0
    return monitoring.count_calls(
        session,
        after,
        now,
        key_id=f.key_id,
        client=f.client,
        refused_only=f.rule == "refusal_burst",
    )


def _upsert(ctx: Ctx, p: Prepared, now: datetime) -> tuple[Alert | None, bool]:
    f = p.finding
    open_key = _open_key(f)
    alert = ctx.db.scalar(select(Alert).where(Alert.open_key == open_key))
    if alert is not None:
        if f.last_at <= alert.last_seen:
            return None, False
        alert.count += max(1, p.newer)
        alert.last_seen = f.last_at
        alert.measure = max(alert.measure, f.measure)
        alert.summary_zh, alert.summary_en = f.zh, f.en
        alert.evidence = p.evidence
        ctx.db.flush()
        record(ctx, events.AlertGrew(alert_id=alert.id, unit=alert.unit_id, count=alert.count))
        return alert, False
    rule = RULES[f.rule]
    alert = Alert(
        rule=f.rule,
        severity=rule.severity,
        subject=f.subject,
        unit_id=f.unit_id,
        status=AlertStatus.OPEN,
        open_key=open_key,
        first_seen=min(f.first_at or f.last_at, now),
        last_seen=f.last_at,
        count=f.count,
        measure=f.measure,
        threshold=f.threshold,
        summary_zh=f.zh,
        summary_en=f.en,
        evidence=p.evidence,
    )
    ctx.db.add(alert)
    ctx.db.flush()
    record(
        ctx,
        events.AlertRaised(
            alert_id=alert.id,
            unit=alert.unit_id,
            rule=f.rule,
            subject=f.subject,
            measure=f.measure,
        ),
    )
    _deliver(ctx, alert)
    return alert, True


def _deliver(ctx: Ctx, alert: Alert) -> None:
    """Console notice, e-mail and webhook through the sharing outbox (kept and retried)."""
    rule = RULES[alert.rule]
    zh = f"安全告警（{alert.severity.value}）「{rule.zh}」：{alert.summary_zh}"
    en = f"Security alert ({alert.severity.value}) “{rule.en}”: {alert.summary_en}"
    link = f"/api/v1/secops/alerts/{alert.id}"
    if alert.unit_id is not None:
        sharing.post_notice(ctx, "secops_alert", alert.unit_id, (Role.UNIT_CDO,), zh, en, link)
    sharing.post_notice(ctx, "secops_alert", None, (Role.CDO_EXECUTIVE,), zh, en, link)


# ---------------------------------------------------------------- alerts


def _owners(alert: Alert) -> list[str]:
    owners = [OWNER_BUREAU]
    if alert.unit_id is not None:
        owners.insert(0, f"unit {alert.unit_id} CDO (unit_cdo)")
    return owners


def _item(a: Alert) -> AlertItem:
    return AlertItem(
        id=a.id,
        rule=a.rule,
        severity=a.severity.value,
        subject=shown_subject(a.subject),
        first_seen=a.first_seen,
        last_seen=a.last_seen,
        count=a.count,
    )


def _out(a: Alert) -> AlertOut:
    return AlertOut(
        **_item(a).model_dump(),
        status=a.status.value,
        unit_id=a.unit_id,
        measure=a.measure,
        threshold=a.threshold,
        summary_zh=a.summary_zh,
        summary_en=a.summary_en,
        evidence=list(a.evidence),
        owners=_owners(a),
        acknowledged_by=a.acknowledged_by,
        acknowledged_at=a.acknowledged_at,
        resolved_by=a.resolved_by,
        resolved_at=a.resolved_at,
        resolve_note=a.resolve_note,
    )


def list_alerts(
    ctx: Ctx, status: str | None = "open", limit: int = 100, offset: int = 0
) -> AlertList:
    """Alerts (newest activity first): the bureau sees every one, a unit's CDO its own."""
    unit = scope_unit(ctx, "view_security_alerts")
    where: list[Any] = []
    if status:
        try:
            where.append(Alert.status == AlertStatus(status))
        except ValueError:
            raise Invalid.field(
                "status",
                "状态须为 open、acknowledged、false_positive 或 resolved。",
                "status must be open, acknowledged, false_positive or resolved.",
            ) from None
    if unit is not None:
        where.append(Alert.unit_id == unit)
    total = ctx.db.scalar(select(func.count()).select_from(Alert).where(*where)) or 0
    rows = ctx.db.scalars(
        select(Alert)
        .where(*where)
        .order_by(Alert.last_seen.desc(), Alert.id.desc())
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    )
    record(ctx, events.AlertsViewed(scope="list", unit=unit, status=status or "all"))
    return AlertList(total=int(total), items=[_item(a) for a in rows])


def alert_row(ctx: Ctx, alert_id: int) -> Alert:
    """The stored alert (``NotFound`` otherwise); callers check permissions."""
    alert = ctx.db.get(Alert, alert_id)
    if alert is None:
        raise NotFound("告警不存在。", "No such alert.")
    return alert


def get_alert(ctx: Ctx, alert_id: int) -> AlertOut:
    alert = alert_row(ctx, alert_id)
    require(ctx, "view_security_alerts", alert.unit_id, target=str(alert_id))
    record(ctx, events.AlertsViewed(scope=str(alert_id), unit=alert.unit_id, status="one"))
    return _out(alert)


def acknowledge_alert(ctx: Ctx, alert_id: int) -> AlertOut:
    alert = alert_row(ctx, alert_id)
    require(ctx, "handle_security_alert", alert.unit_id, target=str(alert_id))
    if not compare_and_set(
        ctx.db,
        alert,
        Alert.status == AlertStatus.OPEN,
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_by=ctx.actor.label,
        acknowledged_at=utcnow(),
    ):
        raise Conflict(
            f"告警已是「{alert.status.value}」状态，不能再确认。",
            f"The alert is {alert.status.value}; it cannot be acknowledged.",
        )
    record(ctx, events.AlertAcknowledged(alert_id=alert.id, unit=alert.unit_id))
    return _out(alert)


def mark_false_positive(ctx: Ctx, alert_id: int, data: FalsePositiveIn) -> AlertOut:
    """Close the alert as a false positive and raise this subject's thresholds for the rule
    above what fired, so the same behaviour does not alert again."""
    alert = alert_row(ctx, alert_id)
    require(ctx, "handle_security_alert", alert.unit_id, target=str(alert_id))
    reason = required_reason(data.reason, "误报判定", "A false-positive marking")
    if not compare_and_set(
        ctx.db,
        alert,
        Alert.status.in_(LIVE),
        status=AlertStatus.FALSE_POSITIVE,
        open_key=None,
        resolved_by=ctx.actor.label,
        resolved_at=utcnow(),
        resolve_note=reason,
    ):
        raise Conflict(
            f"告警已是「{alert.status.value}」状态。", f"The alert is already {alert.status.value}."
        )
    tuning = ctx.db.scalar(
        select(Tuning).where(Tuning.rule == alert.rule, Tuning.subject == alert.subject)
    )
    old = tuning.factor if tuning is not None else 1.0
    base = alert.threshold / old if alert.threshold > 0 else 1.0
    factor = round(max(old * 2, 1.5 * alert.measure / base if base > 0 else old * 2), 3)
    if tuning is None:
        ctx.db.add(Tuning(rule=alert.rule, subject=alert.subject, factor=factor))
    else:
        tuning.factor, tuning.updated_at = factor, utcnow()
    ctx.db.flush()
    record(
        ctx,
        events.AlertFalsePositive(
            alert_id=alert.id, unit=alert.unit_id, reason=reason, factor=factor
        ),
    )
    return _out(alert)


def open_alerts_by_severity(ctx: Ctx, unit_id: int | None) -> dict[str, int] | None:
    """Open and acknowledged alerts per severity (of ``unit_id``, or the region), for the
    cockpit; None when the viewer may not see security alerts. Counts only, no evidence."""
    if not allowed(ctx, "view_security_alerts", unit_id):
        return None
    if unit_id is None and scope_unit_of(ctx) is not None:
        unit_id = ctx.actor.unit_id
    where: list[Any] = [Alert.status.in_(LIVE)]
    if unit_id is not None:
        where.append(Alert.unit_id == unit_id)
    rows = ctx.db.execute(
        select(Alert.severity, func.count()).where(*where).group_by(Alert.severity)
    )
    found = {str(getattr(s, "value", s)): int(n) for s, n in rows}
    return {s.value: found.get(s.value, 0) for s in Severity}


def scope_unit_of(ctx: Ctx) -> int | None:
    """The unit an actor's view of alerts is limited to (None: the region), without auditing
    a refusal."""
    role = ctx.actor.role
    if ctx.actor.kind == "system" or role is None:
        return None
    return None if allowed(ctx, "view_security_alerts", -1) else ctx.actor.unit_id
