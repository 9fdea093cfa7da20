"""Public notice (公示) of the registration ledger: objections anyone may file while a record
is under notice (an open one blocks registration), the bureau's decision on them, the
public certificate check and the list of records under notice."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import NotFound
from shuzhi.market.events import ObjectionFiled, ObjectionResolved
from shuzhi.market.models import (
    Objection,
    ObjectionStatus,
    Registration,
    RegistrationEvent,
    RegistrationEventKind,
    RegistrationStatus,
)
from shuzhi.market.schemas import (
    NoticeOut,
    ObjectionIn,
    ObjectionOut,
    PublicCertificate,
    RegistrationOut,
)
from shuzhi.market.service.common import conflict, registration_row
from shuzhi.market.service.registry import objections_of, registration_out
from shuzhi.validation import required_reason

RS = RegistrationStatus


def file_objection(
    ctx: Ctx, number: str, data: ObjectionIn, now: datetime | None = None
) -> ObjectionOut:
    """Anyone objects to a record during its public notice (the portal's form; throttled)."""
    reg = registration_row(ctx, number)
    now = now or utcnow()
    target = f"registration:{reg.number}"
    if reg.status != RS.NOTICE or now >= reg.notice_ends_at:
        raise conflict(
            "file_objection",
            target,
            "该登记不在公示期内，不能提出异议。",
            "The record is not under public notice; no objection can be filed.",
        )
    objection = Objection(
        registration_id=reg.id,
        name=data.name,
        contact=data.contact,
        reason=data.reason,
        status=ObjectionStatus.OPEN,
        client=(ctx.client or "")[:100] or None,
        filed_at=now,
    )
    ctx.db.add(objection)
    ctx.db.flush()
    ctx.db.add(
        RegistrationEvent(
            registration_id=reg.id,
            kind=RegistrationEventKind.OBJECTION,
            note=data.reason[:500],
            details={"objection_id": objection.id},
            actor=ctx.actor.label,
        )
    )
    record(
        ctx, ObjectionFiled(number=reg.number, unit=reg.holder_unit_id, objection_id=objection.id)
    )
    return objections_of(ctx, reg)[-1]


def resolve_objection(
    ctx: Ctx, number: str, objection_id: int, upheld: bool, resolution: str
) -> RegistrationOut:
    """The bureau decides an objection: upheld cancels the filing, dismissed lets it go on."""
    reg = registration_row(ctx, number)
    target = f"registration:{reg.number}"
    require(ctx, "resolve_objection", target=target)
    resolution = required_reason(resolution, "处理异议", "Resolving an objection", "resolution")
    objection = ctx.db.get(Objection, objection_id)
    if objection is None or objection.registration_id != reg.id:
        raise NotFound("异议不存在。", "No such objection.")
    now = utcnow()
    if not compare_and_set(
        ctx.db,
        objection,
        Objection.status == ObjectionStatus.OPEN,
        status=ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED,
        resolution=resolution,
        resolved_by=ctx.actor.label,
        resolved_at=now,
    ):
        raise conflict(
            "resolve_objection", target, "该异议已处理。", "The objection was already resolved."
        )
    if upheld and reg.status != RS.CANCELLED:
        compare_and_set(ctx.db, reg, Registration.status == reg.status, status=RS.CANCELLED)
        ctx.db.add(
            RegistrationEvent(
                registration_id=reg.id,
                kind=RegistrationEventKind.CANCEL,
                note=f"异议成立：{resolution}"[:500],
                details={"objection_id": objection_id},
                actor=ctx.actor.label,
            )
        )
    record(
        ctx,
        ObjectionResolved(
            number=reg.number, unit=reg.holder_unit_id, objection_id=objection_id, upheld=upheld
        ),
    )
    return registration_out(ctx, reg)


def verify_certificate(ctx: Ctx, number: str, code: str | None = None) -> PublicCertificate:
    """A registered (or cancelled) record's public facts; anything else is not found."""
    reg = ctx.db.scalar(select(Registration).where(Registration.number == number.strip()))
    if reg is None or reg.status == RS.NOTICE:
        raise NotFound(f"没有登记编号为 {number} 的证书。", f"No certificate numbered {number}.")
    return PublicCertificate(
        registration_number=reg.number,
        name=reg.name,
        subject_kind=reg.subject_kind,
        holder=reg.holder_name,
        holder_uscc=reg.holder_uscc,
        rights=list(reg.rights),
        scenario=reg.certificate.get("scenario") or None,
        status=reg.status,
        registered_at=reg.registered_at,
        valid_until=reg.valid_until,
        sample_hash=reg.sample_hash,
        code_matches=None
        if not code
        else secrets.compare_digest(code.strip().upper(), reg.verification_code),
    )


def list_notices(ctx: Ctx, now: datetime | None = None) -> list[NoticeOut]:
    """Records under public notice now (公示), for the portal."""
    now = now or utcnow()
    rows = ctx.db.scalars(
        select(Registration)
        .where(Registration.status == RS.NOTICE, Registration.notice_ends_at > now)
        .order_by(Registration.notice_ends_at)
    )
    return [
        NoticeOut(
            registration_number=r.number,
            name=r.name,
            holder=r.holder_name,
            notice_ends_at=r.notice_ends_at,
        )
        for r in rows
    ]
