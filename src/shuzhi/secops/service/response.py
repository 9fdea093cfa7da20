"""Security operations: containment in one step (suspending a key or a grant) and
incidents (or drills) with their timeline, containments, impact statement and review."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, Invalid, NotFound
from shuzhi.gateway import monitoring
from shuzhi.portal import service as portal
from shuzhi.secops import events, notify
from shuzhi.secops.models import (
    Alert,
    Containment,
    ContainmentKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Notification,
    Severity,
)
from shuzhi.secops.rules import RULES, shown_subject
from shuzhi.secops.schemas import (
    CloseIn,
    ContainmentIn,
    ContainmentOut,
    DrillReportOut,
    ImpactOut,
    IncidentIn,
    IncidentOut,
    LiftIn,
    NoteIn,
    NotificationOut,
    NotifyIn,
    TimelineItem,
)
from shuzhi.secops.service.alerts import alert_row
from shuzhi.sharing import access
from shuzhi.sharing.grants import DeliveryMode
from shuzhi.validation import required_reason

# ---------------------------------------------------------------- containment

# The "unit" of a subject only the bureau may contain: no unit's CDO has it in scope.
BUREAU_ONLY = -1


def _c_out(c: Containment) -> ContainmentOut:
    return ContainmentOut(
        id=c.id,
        kind=c.kind.value,
        subject_id=c.subject_id,
        unit_id=c.unit_id,
        incident_id=c.incident_id,
        reason=c.reason,
        active=c.active_key is not None,
        contained_by=c.contained_by,
        contained_at=c.contained_at,
        lifted_by=c.lifted_by,
        lifted_at=c.lifted_at,
        held_grants=[int(g) for g in c.held],
    )


def _subject_unit(ctx: Ctx, kind: ContainmentKind, subject_id: int) -> int | None:
    """The unit whose CDO may contain the subject (None: only the bureau may)."""
    if kind is ContainmentKind.APPLICATION_KEY:
        return access.app_key(ctx.db, subject_id)[2]
    if kind is ContainmentKind.PUBLICATION:
        return portal.publication_unit(ctx, subject_id)
    if kind is ContainmentKind.AGREEMENT:
        return BUREAU_ONLY  # an operator's agreement with the region: the bureau's to contain
    grant = access.grant_row(ctx.db, subject_id)
    if kind is ContainmentKind.SANDBOX_GRANT and DeliveryMode.SANDBOX.value not in grant.delivery:
        raise Invalid.field(
            "kind",
            f"授权 #{subject_id} 不是数据沙箱授权，请按共享授权处置。",
            f"Grant #{subject_id} is no sandbox grant; contain it as a grant.",
        )
    return grant.provider_unit_id


def _hold_agreement(
    ctx: Ctx, agreement_id: int, held: bool, reason: str
) -> tuple[int, tuple[int, ...]]:
    """Ask the market (through the hook seam) to suspend or restore an agreement; returns
    the grants issued under it. The operator's unit is the containment's unit."""
    event = hooks.AgreementHeld(agreement_id=agreement_id, held=held, reason=reason)
    hooks.publish(ctx, event)
    if not event.found:
        raise NotFound("授权运营协议不存在。", "No such agreement.")
    return event.found[0]


def _suspend_agreement_grants(ctx: Ctx, grant_ids: Sequence[int], now: datetime) -> list[int]:
    """Suspend the working grants issued under a contained agreement (those ended or held
    by a containment of their own are left as they are)."""
    held = []
    for grant_id in grant_ids:
        grant = access.grant_row(ctx.db, grant_id)
        if grant.suspended_at is not None or grant.status != "active":
            continue
        access.suspend_grant(ctx.db, grant_id, now)
        held.append(grant_id)
    return held


def _timeline(ctx: Ctx, incident_id: int, kind: str, text: str) -> None:
    ctx.db.add(IncidentEvent(incident_id=incident_id, actor=ctx.actor.label, kind=kind, text=text))


def contain(ctx: Ctx, data: ContainmentIn) -> ContainmentOut:
    """Suspend an application key or a grant in one step: every serving process refuses it
    within seconds (the grants revision moves). Reversible by ``lift_containment``."""
    kind = ContainmentKind(data.kind)
    unit = _subject_unit(ctx, kind, data.id)
    require(ctx, "contain_subject", unit, target=f"{kind.value}:{data.id}")
    reason = required_reason(data.reason, "处置", "A containment")
    incident = _incident(ctx, data.incident_id) if data.incident_id is not None else None
    if incident is not None and incident.status is not IncidentStatus.OPEN:
        raise Conflict("事件已关闭，不能再附加处置。", "The incident is closed.")
    active_key = f"{kind.value}:{data.id}"
    if ctx.db.scalar(select(Containment.id).where(Containment.active_key == active_key)):
        raise Conflict("该对象已被处置暂停。", "It is already contained.")
    now = utcnow()
    held: list[int] = []
    if kind is ContainmentKind.APPLICATION_KEY:
        access.suspend_app_key(ctx.db, data.id, now)
    elif kind is ContainmentKind.PUBLICATION:
        portal.suspend_publication(ctx, data.id)
    elif kind is ContainmentKind.AGREEMENT:
        unit, grants = _hold_agreement(ctx, data.id, True, reason)
        held = _suspend_agreement_grants(ctx, grants, now)
    else:
        access.suspend_grant(ctx.db, data.id, now)
    c = Containment(
        held=held,
        kind=kind,
        subject_id=data.id,
        unit_id=unit,
        incident_id=data.incident_id,
        reason=reason,
        active_key=active_key,
        contained_by=ctx.actor.label,
        contained_at=now,
    )
    ctx.db.add(c)
    ctx.db.flush()
    if incident is not None:
        _timeline(ctx, incident.id, "contained", f"{active_key}: {reason}")
    record(
        ctx,
        events.SubjectContained(
            containment_id=c.id,
            unit=unit,
            kind=kind.value,
            subject_id=data.id,
            reason=reason,
            incident_id=data.incident_id,
        ),
    )
    return _c_out(c)


def lift_containment(ctx: Ctx, containment_id: int, data: LiftIn) -> ContainmentOut:
    """Restore exactly what the containment suspended (a key revoked meanwhile stays revoked)."""
    c = ctx.db.get(Containment, containment_id)
    if c is None:
        raise NotFound("处置记录不存在。", "No such containment.")
    require(ctx, "lift_containment", c.unit_id, target=str(containment_id))
    if not compare_and_set(
        ctx.db,
        c,
        Containment.active_key.is_not(None),
        active_key=None,
        lifted_by=ctx.actor.label,
        lifted_at=utcnow(),
        lift_reason=data.reason,
    ):
        raise Conflict("该处置已解除。", "The containment was lifted already.")
    if c.kind is ContainmentKind.APPLICATION_KEY:
        access.resume_app_key(ctx.db, c.subject_id)
    elif c.kind is ContainmentKind.PUBLICATION:
        portal.resume_publication(ctx, c.subject_id)  # closed meanwhile: stays closed
    elif c.kind is ContainmentKind.AGREEMENT:
        _hold_agreement(ctx, c.subject_id, False, data.reason)  # ended meanwhile: stays so
        for grant_id in c.held:
            if access.grant_row(ctx.db, int(grant_id)).suspended_at is not None:
                access.resume_grant(ctx.db, int(grant_id))  # revoked meanwhile: stays revoked
    else:
        access.resume_grant(ctx.db, c.subject_id)
    if c.incident_id is not None:
        _timeline(ctx, c.incident_id, "lifted", f"{c.kind.value}:{c.subject_id} {data.reason}")
    record(
        ctx,
        events.ContainmentLifted(
            containment_id=c.id,
            unit=c.unit_id,
            kind=c.kind.value,
            subject_id=c.subject_id,
            reason=data.reason,
        ),
    )
    return _c_out(c)


def list_containments(ctx: Ctx, active_only: bool = True) -> list[ContainmentOut]:
    unit = scope_unit(ctx, "view_incidents")
    query = select(Containment).order_by(Containment.id.desc()).limit(500)
    if active_only:
        query = query.where(Containment.active_key.is_not(None))
    if unit is not None:
        query = query.where(Containment.unit_id == unit)
    return [_c_out(c) for c in ctx.db.scalars(query)]


# ---------------------------------------------------------------- incidents


def _incident(ctx: Ctx, incident_id: int) -> Incident:
    incident = ctx.db.get(Incident, incident_id)
    if incident is None:
        raise NotFound("安全事件不存在。", "No such incident.")
    require(ctx, "manage_incidents", incident.unit_id, target=str(incident_id))
    return incident


def open_incident(ctx: Ctx, data: IncidentIn) -> IncidentOut:
    """Open an incident (or, with ``drill``, an exercise) from an alert or by hand."""
    now = utcnow()
    alert = alert_row(ctx, data.alert_id) if data.alert_id is not None else None
    unit = alert.unit_id if alert is not None else data.unit_id
    require(ctx, "manage_incidents", unit, target=str(data.alert_id or ""))
    title = data.title or (
        f"{RULES[alert.rule].zh}：{shown_subject(alert.subject)}" if alert else ""
    )
    if len(title) < 2:
        raise Invalid.field("title", "请填写事件标题。", "Give the incident a title.")
    start = alert.first_seen if alert is not None else now - timedelta(hours=data.window_hours)
    severity = alert.severity if alert is not None else Severity(data.severity)
    incident = Incident(
        title=title[:200],
        unit_id=unit,
        alert_id=data.alert_id,
        drill=data.drill,
        severity=severity,
        window_start=start,
        opened_by=ctx.actor.label,
        opened_at=now,
    )
    ctx.db.add(incident)
    ctx.db.flush()
    for party, hours in notify.parties_for(severity, unit is not None):
        ctx.db.add(
            Notification(
                incident_id=incident.id, party=party.code, due_at=now + timedelta(hours=hours)
            )
        )
    opened = "drill opened" if data.drill else "opened"
    _timeline(ctx, incident.id, "opened", f"{opened}: {title}")
    record(
        ctx,
        events.IncidentOpened(
            incident_id=incident.id,
            unit=unit,
            title=title,
            alert_id=data.alert_id,
            drill=data.drill,
        ),
    )
    return _incident_out(ctx, incident, full=False)


def note_incident(ctx: Ctx, incident_id: int, data: NoteIn) -> IncidentOut:
    incident = _incident(ctx, incident_id)
    _timeline(ctx, incident.id, "note", data.text)
    record(ctx, events.IncidentNoted(incident_id=incident.id, unit=incident.unit_id))
    return _incident_out(ctx, incident)


def close_incident(ctx: Ctx, incident_id: int, data: CloseIn) -> IncidentOut:
    incident = _incident(ctx, incident_id)
    review = required_reason(data.review, "事件复盘", "An incident review", field="review")
    if not compare_and_set(
        ctx.db,
        incident,
        Incident.status == IncidentStatus.OPEN,
        status=IncidentStatus.CLOSED,
        review=review,
        closed_by=ctx.actor.label,
        closed_at=utcnow(),
    ):
        raise Conflict("事件已关闭。", "The incident is closed already.")
    _timeline(ctx, incident.id, "closed", review)
    record(
        ctx,
        events.IncidentClosed(incident_id=incident.id, unit=incident.unit_id, drill=incident.drill),
    )
    return _incident_out(ctx, incident)


def tick_notification(
    ctx: Ctx, incident_id: int, notification_id: int, data: NotifyIn
) -> IncidentOut:
    """Record that a party on the checklist was told (by whom and when; how, in the note)."""
    incident = _incident(ctx, incident_id)
    item = ctx.db.get(Notification, notification_id)
    if item is None or item.incident_id != incident.id:
        raise NotFound("通报事项不存在。", "No such notification item.")
    now = utcnow()
    if not compare_and_set(
        ctx.db,
        item,
        Notification.done_at.is_(None),
        done_by=ctx.actor.label,
        done_at=now,
        note=data.note.strip(),
    ):
        raise Conflict("该事项已勾选完成。", "It was ticked off already.")
    party = notify.BY_CODE.get(item.party)
    name = party.en if party is not None else item.party
    late = " (late)" if now > item.due_at else ""
    _timeline(ctx, incident.id, "notified", f"{name}{late}: {data.note.strip()}"[:2000])
    record(
        ctx,
        events.IncidentNotified(
            incident_id=incident.id, unit=incident.unit_id, party=item.party, late=bool(late)
        ),
    )
    return _incident_out(ctx, incident)


def _notifications(ctx: Ctx, incident: Incident) -> list[NotificationOut]:
    now = utcnow()
    out = []
    for n in ctx.db.scalars(
        select(Notification)
        .where(Notification.incident_id == incident.id)
        .order_by(Notification.due_at, Notification.id)
    ):
        party = notify.BY_CODE.get(n.party)
        out.append(
            NotificationOut(
                id=n.id,
                party=n.party,
                name_zh=party.zh if party is not None else n.party,
                name_en=party.en if party is not None else n.party,
                due_at=n.due_at,
                done_by=n.done_by,
                done_at=n.done_at,
                note=n.note,
                overdue=n.done_at is None and now > n.due_at,
                late=n.done_at is not None and n.done_at > n.due_at,
            )
        )
    return out


def drill_report(ctx: Ctx, incident_id: int) -> DrillReportOut:
    """The printable report of a drill: what was done how fast, and who was told in time."""
    incident = get_incident(ctx, incident_id)
    if not incident.drill:
        raise Conflict(
            "这是真实事件，不是演练：演练报告只针对演练。",
            "This is a real incident, not a drill: the report is for drills.",
        )
    first = min((c.contained_at for c in incident.containments), default=None)
    ends = incident.closed_at or utcnow()
    return DrillReportOut(
        incident=incident,
        minutes_to_contain=(
            round((first - incident.opened_at).total_seconds() / 60, 1) if first else None
        ),
        minutes_open=round((ends - incident.opened_at).total_seconds() / 60, 1),
        notified_in_time=sum(1 for n in incident.notifications if n.done_at and not n.late),
        notified_late=sum(1 for n in incident.notifications if n.late),
        not_notified=sum(1 for n in incident.notifications if n.done_at is None),
    )


def get_incident(ctx: Ctx, incident_id: int) -> IncidentOut:
    incident = ctx.db.get(Incident, incident_id)
    if incident is None:
        raise NotFound("安全事件不存在。", "No such incident.")
    require(ctx, "view_incidents", incident.unit_id, target=str(incident_id))
    record(ctx, events.IncidentViewed(incident_id=incident.id, unit=incident.unit_id))
    return _incident_out(ctx, incident)


def list_incidents(ctx: Ctx, status: str | None = None) -> list[IncidentOut]:
    unit = scope_unit(ctx, "view_incidents")
    query = select(Incident).order_by(Incident.id.desc()).limit(500)
    if status:
        query = query.where(Incident.status == status)
    if unit is not None:
        query = query.where(Incident.unit_id == unit)
    return [_incident_out(ctx, i, full=False) for i in ctx.db.scalars(query)]


def _incident_out(ctx: Ctx, incident: Incident, full: bool = True) -> IncidentOut:
    out = IncidentOut(
        id=incident.id,
        title=incident.title,
        unit_id=incident.unit_id,
        alert_id=incident.alert_id,
        drill=incident.drill,
        severity=incident.severity.value,
        status=incident.status.value,
        opened_by=incident.opened_by,
        opened_at=incident.opened_at,
        closed_by=incident.closed_by,
        closed_at=incident.closed_at,
        review=incident.review,
    )
    if not full:
        return out
    out.timeline = [
        TimelineItem(at=e.at, actor=e.actor, kind=e.kind, text=e.text)
        for e in ctx.db.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
    ]
    held = list(
        ctx.db.scalars(
            select(Containment)
            .where(Containment.incident_id == incident.id)
            .order_by(Containment.id)
        )
    )
    out.containments = [_c_out(c) for c in held]
    out.impact = _impact(ctx, incident, held)
    out.notifications = _notifications(ctx, incident)
    return out


def _impact(ctx: Ctx, incident: Incident, held: Sequence[Containment]) -> ImpactOut:
    """Which consumers, how many calls and records went through the contained keys and
    grants (and the alert's key) during the incident's window, from the metering."""
    keys = [c.subject_id for c in held if c.kind is ContainmentKind.APPLICATION_KEY]
    grants = [c.subject_id for c in held if c.kind is ContainmentKind.GRANT]
    if incident.alert_id is not None:
        alert = ctx.db.get(Alert, incident.alert_id)
        if alert is not None and alert.subject.startswith("key:"):
            keys.append(int(alert.subject[4:].split("@")[0]))
    until = incident.closed_at or utcnow()
    found = monitoring.impact(ctx.db, incident.window_start, until, key_ids=keys, grant_ids=grants)
    return ImpactOut(
        since=incident.window_start,
        until=until,
        consumer_units=list(found.consumer_units),
        applications=list(found.applications),
        calls=found.calls,
        served_calls=found.served,
        records=found.rows,
    )
