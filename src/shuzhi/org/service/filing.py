"""Org: CDO appointments and their two-level filing."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import deny, require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, ErrorCollector, NotFound
from shuzhi.org.events import (
    AppointmentCreated,
    AppointmentEnded,
    FilingApproved,
    FilingReturned,
    FilingSubmitted,
)
from shuzhi.org.models import (
    Appointment,
    FilingEvent,
    FilingStatus,
    Person,
    Position,
    Unit,
    UnitKind,
)
from shuzhi.org.schemas import (
    AppointmentCreate,
    AppointmentOut,
    FilingEventOut,
)
from shuzhi.org.service.common import LIVE, REGION_POSITIONS, SINGLE_HOLDER, _unit
from shuzhi.validation import required_reason


def _appointment(ctx: Ctx, appointment_id: int) -> Appointment:
    appt = ctx.db.get(Appointment, appointment_id)
    if appt is None:
        raise NotFound("任职记录不存在。", "No such appointment.")
    return appt


def _appointment_out(ctx: Ctx, appt: Appointment, with_history: bool = False) -> AppointmentOut:
    person = ctx.db.get(Person, appt.person_id)
    unit = ctx.db.get(Unit, appt.unit_id)
    assert person is not None and unit is not None
    history = []
    if with_history:
        events = ctx.db.scalars(
            select(FilingEvent)
            .where(FilingEvent.appointment_id == appt.id)
            .order_by(FilingEvent.id)
        )
        history = [
            FilingEventOut(action=e.action, actor=e.actor, note=e.note, at=e.at) for e in events
        ]
    return AppointmentOut(
        id=appt.id,
        person_id=person.id,
        person_name=person.name,
        person_title=person.title,
        unit_code=unit.code,
        unit_name=unit.name,
        position=Position(appt.position),
        appointed_on=appt.appointed_on,
        document_no=appt.document_no,
        status=FilingStatus(appt.status),
        submitted_by=appt.submitted_by,
        submitted_at=appt.submitted_at,
        decided_by=appt.decided_by,
        decided_at=appt.decided_at,
        return_reason=appt.return_reason,
        history=history,
    )


def _log(ctx: Ctx, appt: Appointment, action: str, note: str = "") -> None:
    ctx.db.add(FilingEvent(appointment_id=appt.id, action=action, actor=ctx.actor.label, note=note))


def create_appointment(ctx: Ctx, data: AppointmentCreate) -> AppointmentOut:
    """Record an appointment as a draft of the person's unit; it is filed only after approval."""
    person = ctx.db.get(Person, data.person_id)
    if person is None:
        raise NotFound("人员不存在。", "No such person.")
    require(ctx, "create_appointment", person.unit_id, target=f"person:{person.id}")
    unit = ctx.db.get(Unit, person.unit_id)
    assert unit is not None
    errors = ErrorCollector()
    is_region = unit.kind == UnitKind.REGION
    if data.position in REGION_POSITIONS and not is_region:
        errors.add(
            "position",
            "首席数据官和首席数据执行官只能在区域一级任命。",
            "CDO and CDO executive are appointed at region level only.",
        )
    if data.position == Position.UNIT_CDO and is_region:
        errors.add(
            "position",
            "区域一级请任命首席数据官或首席数据执行官。",
            "At region level appoint a CDO or a CDO executive.",
        )
    if data.position in SINGLE_HOLDER:
        holder = ctx.db.scalar(
            select(Appointment.id).where(
                Appointment.unit_id == unit.id,
                Appointment.position == data.position,
                Appointment.status.in_(LIVE),
            )
        )
        if holder is not None:
            errors.add(
                "position",
                "该单位已有此职务的在任或在办任职，请先终止原任职。",
                "This unit already has a live appointment to this position; end it first.",
            )
    errors.raise_if_any()
    appt = Appointment(
        person_id=person.id,
        unit_id=unit.id,
        position=data.position,
        appointed_on=data.appointed_on,
        document_no=data.document_no,
        status=FilingStatus.DRAFT,
    )
    ctx.db.add(appt)
    ctx.db.flush()
    _log(ctx, appt, "created")
    record(
        ctx,
        AppointmentCreated(
            appointment_id=appt.id, unit=unit.id, position=appt.position, person_id=person.id
        ),
    )
    return _appointment_out(ctx, appt)


def _transition(
    ctx: Ctx,
    appt: Appointment,
    allowed_from: tuple[FilingStatus, ...],
    to: FilingStatus,
    **values: object,
) -> None:
    """Move status only if it is still what we read: a racing decision makes this a Conflict."""
    if not compare_and_set(ctx.db, appt, Appointment.status.in_(allowed_from), status=to, **values):
        raise Conflict(
            f"该任职当前状态为「{FilingStatus(appt.status)}」，不能执行此操作。",
            f"The appointment is '{appt.status}'; this step is not possible now.",
        )


def submit_filing(ctx: Ctx, appointment_id: int) -> AppointmentOut:
    appt = _appointment(ctx, appointment_id)
    require(ctx, "submit_filing", appt.unit_id, target=f"appointment:{appointment_id}")
    _transition(
        ctx,
        appt,
        (FilingStatus.DRAFT, FilingStatus.RETURNED),
        FilingStatus.SUBMITTED,
        submitted_by=ctx.actor.label,
        submitted_at=utcnow(),
        return_reason=None,
    )
    _log(ctx, appt, "submitted")
    record(ctx, FilingSubmitted(appointment_id=appt.id, unit=appt.unit_id))
    return _appointment_out(ctx, appt, with_history=True)


def approve_filing(ctx: Ctx, appointment_id: int, note: str = "") -> AppointmentOut:
    """File a submitted appointment (region level); nobody approves their own submission."""
    appt = _appointment(ctx, appointment_id)
    target = f"appointment:{appointment_id}"
    require(ctx, "approve_filing", appt.unit_id, target=target)
    if appt.submitted_by == ctx.actor.label and ctx.actor.kind != "system":
        raise deny(
            "approve_filing",
            target,
            "不能审批自己提交的备案。",
            "You cannot approve a filing you submitted.",
        )
    _transition(
        ctx,
        appt,
        (FilingStatus.SUBMITTED,),
        FilingStatus.FILED,
        decided_by=ctx.actor.label,
        decided_at=utcnow(),
    )
    _log(ctx, appt, "approved", note)
    record(ctx, FilingApproved(appointment_id=appt.id, unit=appt.unit_id, note=note))
    return _appointment_out(ctx, appt, with_history=True)


def return_filing(ctx: Ctx, appointment_id: int, reason: str) -> AppointmentOut:
    appt = _appointment(ctx, appointment_id)
    require(ctx, "return_filing", appt.unit_id, target=f"appointment:{appointment_id}")
    reason = required_reason(reason, "退回备案", "Returning a filing")
    _transition(
        ctx,
        appt,
        (FilingStatus.SUBMITTED,),
        FilingStatus.RETURNED,
        decided_by=ctx.actor.label,
        decided_at=utcnow(),
        return_reason=reason,
    )
    _log(ctx, appt, "returned", reason)
    record(ctx, FilingReturned(appointment_id=appt.id, unit=appt.unit_id, reason=reason))
    return _appointment_out(ctx, appt, with_history=True)


def end_appointment(ctx: Ctx, appointment_id: int, reason: str) -> AppointmentOut:
    appt = _appointment(ctx, appointment_id)
    require(ctx, "end_appointment", appt.unit_id, target=f"appointment:{appointment_id}")
    _transition(ctx, appt, LIVE, FilingStatus.ENDED)
    _log(ctx, appt, "ended", reason.strip())
    record(ctx, AppointmentEnded(appointment_id=appt.id, unit=appt.unit_id, reason=reason.strip()))
    return _appointment_out(ctx, appt, with_history=True)


def list_appointments(
    ctx: Ctx, *, status: FilingStatus | None = None, unit_code: str | None = None
) -> list[AppointmentOut]:
    scope = scope_unit(ctx, "view_appointments")
    query = select(Appointment)
    if unit_code:
        unit = _unit(ctx, unit_code)
        require(ctx, "view_appointments", unit.id, target=unit_code)
        query = query.where(Appointment.unit_id == unit.id)
    elif scope is not None:
        query = query.where(Appointment.unit_id == scope)
    if status:
        query = query.where(Appointment.status == status)
    rows = ctx.db.scalars(
        query.order_by(Appointment.submitted_at.desc().nulls_last(), Appointment.id.desc())
    )
    return [_appointment_out(ctx, a) for a in rows]


def get_appointment(ctx: Ctx, appointment_id: int) -> AppointmentOut:
    appt = _appointment(ctx, appointment_id)
    require(ctx, "view_appointments", appt.unit_id, target=f"appointment:{appointment_id}")
    return _appointment_out(ctx, appt, with_history=True)
