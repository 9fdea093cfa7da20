"""The registration ledger (登记): one record per data product and per public data resource.

A first registration (首次登记) carries the national form's four sections (basic data
information, agent, storage, documents with the commitment letter) and the three-rights
certificate fields. It opens a public notice (公示) of ``NOTICE_DAYS`` days during which
anyone may object; an open objection blocks registration until the bureau resolves it.
Later 许可/转移/变更/注销 are events on the record.

Registration numbers read ``SZDJ-<year>-<P|R>-<six digits>`` (P: product, R: resource); the
database keeps them unique. Each certificate has a verification code of its own."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.catalog import service as catalog
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import ErrorCollector, Invalid, NotFound
from shuzhi.market.events import (
    RegistrationConfirmed,
    RegistrationEventRecorded,
    RegistrationFiled,
    UpstreamCodeRecorded,
)
from shuzhi.market.models import (
    Objection,
    ObjectionStatus,
    Product,
    ProductStatus,
    Registration,
    RegistrationEvent,
    RegistrationEventKind,
    RegistrationStatus,
    SubjectKind,
)
from shuzhi.market.schemas import (
    ObjectionOut,
    RegistrationEventIn,
    RegistrationEventOut,
    RegistrationIn,
    RegistrationOut,
    ResourceRegistrationIn,
)
from shuzhi.market.service.agreements import why_not_covered
from shuzhi.market.service.common import (
    agreement_row,
    conflict,
    invalid,
    party_row,
    product_row,
    refused,
    registration_row,
)
from shuzhi.market.service.parties import broker_in_good_standing
from shuzhi.market.service.products import data_problems
from shuzhi.org import service as org
from shuzhi.standards.identifiers import is_valid_uscc

NOTICE_DAYS = 10  # 公示期
VALID_YEARS = 3  # a certificate's validity (provinces differ: two or three years)
NUMBER_PREFIX = "SZDJ"
NUMBER_FORMAT = re.compile(r"^SZDJ-[0-9]{4}-[PR]-[0-9]{6}$")
RS = RegistrationStatus
LATER_EVENTS = frozenset(
    {
        RegistrationEventKind.LICENCE,
        RegistrationEventKind.TRANSFER,
        RegistrationEventKind.CHANGE,
        RegistrationEventKind.CANCEL,
    }
)


def _events(ctx: Ctx, reg: Registration) -> list[RegistrationEventOut]:
    rows = ctx.db.scalars(
        select(RegistrationEvent)
        .where(RegistrationEvent.registration_id == reg.id)
        .order_by(RegistrationEvent.id)
    )
    return [
        RegistrationEventOut(
            kind=e.kind, note=e.note, details=dict(e.details), actor=e.actor, at=e.at
        )
        for e in rows
    ]


def objections_of(ctx: Ctx, reg: Registration) -> list[ObjectionOut]:
    rows = ctx.db.scalars(
        select(Objection).where(Objection.registration_id == reg.id).order_by(Objection.id)
    )
    return [
        ObjectionOut(
            id=o.id,
            name=o.name,
            reason=o.reason,
            status=o.status,
            resolution=o.resolution,
            filed_at=o.filed_at,
        )
        for o in rows
    ]


def registration_out(ctx: Ctx, reg: Registration) -> RegistrationOut:
    return RegistrationOut(
        id=reg.id,
        number=reg.number,
        subject_kind=reg.subject_kind,
        product_id=reg.product_id,
        resource_code=reg.resource_code,
        holder_name=reg.holder_name,
        holder_uscc=reg.holder_uscc,
        name=reg.name,
        sections=dict(reg.sections),
        rights=list(reg.rights),
        certificate=dict(reg.certificate),
        sample_hash=reg.sample_hash,
        status=reg.status,
        notice_ends_at=reg.notice_ends_at,
        verification_code=reg.verification_code,
        upstream_code=reg.upstream_code,
        registered_at=reg.registered_at,
        valid_until=reg.valid_until,
        events=_events(ctx, reg),
        objections=objections_of(ctx, reg),
    )


def _next_number(ctx: Ctx, kind: SubjectKind, now: datetime) -> str:
    stem = f"{NUMBER_PREFIX}-{now.year}-{'P' if kind == SubjectKind.PRODUCT else 'R'}-"
    last = ctx.db.scalar(
        select(func.max(Registration.number)).where(Registration.number.startswith(stem))
    )
    return f"{stem}{(int(last[-6:]) + 1) if last else 1:06d}"


def _sections(data: RegistrationIn) -> dict[str, Any]:
    return {
        "basic": data.basic.model_dump(mode="json"),
        "agent": data.agent.model_dump(mode="json"),
        "storage": data.storage.model_dump(mode="json"),
        "documents": data.documents.model_dump(mode="json"),
    }


def _check_form(ctx: Ctx, data: RegistrationIn, operation: str, target: str) -> None:
    errors = ErrorCollector()
    if not data.documents.commitment:
        errors.add(
            "documents.commitment",
            "须提交登记承诺书（承诺数据来源合法、内容真实）。",
            "The commitment letter (登记承诺书) must be given.",
        )
    if data.number is not None and not NUMBER_FORMAT.match(data.number):
        errors.add(
            "number",
            "登记编号格式应为 SZDJ-年份-P或R-六位数字。",
            "A registration number reads SZDJ-<year>-<P|R>-<six digits>.",
        )
    basic = data.basic
    if basic.period_from and basic.period_to and basic.period_to < basic.period_from:
        errors.add(
            "basic.period_to", "数据起止时间颠倒。", "The data period ends before it starts."
        )
    if errors.errors:
        raise refused(operation, target, Invalid(errors=errors.errors))
    if (
        data.agent.broker_id is not None
        and broker_in_good_standing(ctx, data.agent.broker_id) is None
    ):
        raise invalid(
            operation,
            target,
            "agent.broker_id",
            "委托的数据经纪人不存在、未获批准或执业资格已过期。",
            "The broker named as agent does not exist, is not approved or its licence has expired.",
        )


def _certificate(
    data: RegistrationIn, name: str, rights: list[str], scenario: str, frequency: str
) -> dict[str, Any]:
    """The three-rights certificate's 基础信息 fields."""
    b = data.basic
    return {
        "name": name,
        "introduction": b.introduction,
        "rights": rights,
        "region": b.region,
        "data_type": b.data_type,
        "industry": b.industry,
        "scenario": scenario,
        "source": b.source,
        "involves_personal_information": b.involves_personal_information,
        "coverage": b.coverage,
        "scale": b.scale,
        "update_frequency": frequency,
        "period_from": b.period_from.isoformat() if b.period_from else None,
        "period_to": b.period_to.isoformat() if b.period_to else None,
    }


def _file(ctx: Ctx, reg: Registration, operation: str, target: str, number_given: bool) -> None:
    """Insert the record; a number already taken is refused (the database decides)."""
    try:
        with ctx.db.begin_nested():
            ctx.db.add(reg)
            ctx.db.flush()
    except IntegrityError:
        what = "登记编号" if number_given else "登记对象"
        raise conflict(
            operation,
            target,
            f"{what}已存在：登记编号 {reg.number} 或该对象已登记，不能重复登记。",
            f"Registration {reg.number} already exists, or the subject is already registered.",
        ) from None
    ctx.db.add(
        RegistrationEvent(
            registration_id=reg.id,
            kind=RegistrationEventKind.FIRST,
            note="首次登记，进入公示期",
            actor=ctx.actor.label,
        )
    )
    record(
        ctx,
        RegistrationFiled(
            number=reg.number, unit=reg.holder_unit_id, subject_kind=reg.subject_kind
        ),
    )


def register_product(ctx: Ctx, product_id: int, data: RegistrationIn) -> RegistrationOut:
    """The operator files a compliant product's first registration (无合规不登记)."""
    product = product_row(ctx, product_id)
    target = f"product:{product_id}"
    require(ctx, "register_product", product.operator_unit_id, target=target)
    if product.status != ProductStatus.COMPLIANT:
        raise conflict(
            "register_product",
            target,
            f"数据产品未通过合规审查（当前状态「{product.status}」），不能登记。",
            f"The product has not passed its compliance review (it is '{product.status}');"
            " it cannot be registered.",
        )
    agreement = agreement_row(ctx, product.agreement_id)
    for code in product.inputs:
        problem = why_not_covered(ctx, agreement.id, code) or data_problems(ctx, code)
        if problem is not None:
            raise conflict("register_product", target, *problem)
    _check_form(ctx, data, "register_product", target)
    party = party_row(ctx, agreement.operator_id)
    now = utcnow()
    reg = Registration(
        number=data.number or _next_number(ctx, SubjectKind.PRODUCT, now),
        subject_kind=SubjectKind.PRODUCT,
        product_id=product.id,
        holder_unit_id=product.operator_unit_id,
        holder_name=party.name,
        holder_uscc=party.uscc,
        name=product.name,
        sections=_sections(data),
        rights=list(agreement.rights),
        certificate=_certificate(
            data, product.name, list(agreement.rights), product.scenario, product.update_frequency
        ),
        sample_hash=product.sample_hash,
        status=RS.NOTICE,
        notice_ends_at=now + timedelta(days=NOTICE_DAYS),
        verification_code=secrets.token_hex(6).upper(),
        created_by=ctx.actor.label,
    )
    _file(ctx, reg, "register_product", target, data.number is not None)
    return registration_out(ctx, reg)


def register_resource(ctx: Ctx, data: ResourceRegistrationIn) -> RegistrationOut:
    """The holding unit (or the bureau) registers a public data resource (持有权)."""
    entry = catalog.get_entry(ctx, data.resource_code)
    holder = org.unit_id_for_code(ctx, entry.unit_code)
    target = f"resource:{data.resource_code}"
    if holder is None:  # pragma: no cover - entries always belong to a unit
        raise NotFound("单位不存在。", "Unit not found.")
    require(ctx, "register_resource", holder, target=target)
    brief = org.unit_brief(ctx, holder)
    if brief is None or not brief.uscc or not is_valid_uscc(brief.uscc):
        raise invalid(
            "register_resource",
            target,
            "resource_code",
            "持有单位没有有效的统一社会信用代码，不能登记。",
            "The holding unit has no valid unified social credit code.",
        )
    problem = data_problems(ctx, data.resource_code)
    if problem is not None:
        raise conflict("register_resource", target, *problem)
    _check_form(ctx, data, "register_resource", target)
    now = utcnow()
    rights = ["holding"]
    reg = Registration(
        number=data.number or _next_number(ctx, SubjectKind.RESOURCE, now),
        subject_kind=SubjectKind.RESOURCE,
        resource_code=entry.resource_code,
        holder_unit_id=holder,
        holder_name=brief.name,
        holder_uscc=brief.uscc,
        name=data.name,
        sections=_sections(data),
        rights=rights,
        certificate=_certificate(data, data.name, rights, "", entry.update_cycle),
        sample_hash="",
        status=RS.NOTICE,
        notice_ends_at=now + timedelta(days=NOTICE_DAYS),
        verification_code=secrets.token_hex(6).upper(),
        created_by=ctx.actor.label,
    )
    existing = ctx.db.scalar(
        select(Registration.id).where(
            Registration.resource_code == entry.resource_code, Registration.status != RS.CANCELLED
        )
    )
    if existing is not None:
        raise conflict(
            "register_resource",
            target,
            f"数据资源 {entry.resource_code} 已登记，不能重复登记。",
            f"Resource {entry.resource_code} is already registered.",
        )
    _file(ctx, reg, "register_resource", target, data.number is not None)
    return registration_out(ctx, reg)


def confirm_registration(ctx: Ctx, number: str, now: datetime | None = None) -> RegistrationOut:
    """After the notice period, with no open objection, the record is registered."""
    reg = registration_row(ctx, number)
    target = f"registration:{reg.number}"
    require(ctx, "confirm_registration", target=target)
    now = now or utcnow()
    if reg.status != RS.NOTICE:
        raise conflict(
            "confirm_registration",
            target,
            f"登记当前状态为「{reg.status}」，不能确认。",
            f"The record is '{reg.status}'; it cannot be confirmed.",
        )
    if now < reg.notice_ends_at:
        raise conflict(
            "confirm_registration",
            target,
            f"公示期至 {reg.notice_ends_at:%Y-%m-%d %H:%M} 才结束。",
            f"The public notice runs until {reg.notice_ends_at:%Y-%m-%d %H:%M} UTC.",
        )
    open_count = ctx.db.scalar(
        select(func.count(Objection.id)).where(
            Objection.registration_id == reg.id, Objection.status == ObjectionStatus.OPEN
        )
    )
    if open_count:
        raise conflict(
            "confirm_registration",
            target,
            f"公示期内有 {open_count} 项异议尚未处理，不能登记。",
            f"{open_count} objection(s) filed during the notice are unresolved.",
        )
    if reg.product_id is not None:
        product = ctx.db.get(Product, reg.product_id)
        if product is None or product.status != ProductStatus.COMPLIANT:
            raise conflict(
                "confirm_registration",
                target,
                "数据产品已不再处于合规状态，不能登记。",
                "The product is no longer compliant.",
            )
    day = now.date()
    valid_until = day.replace(
        year=day.year + VALID_YEARS, day=min(day.day, 28 if day.month == 2 else 31)
    )
    if not compare_and_set(
        ctx.db,
        reg,
        Registration.status == RS.NOTICE,
        status=RS.REGISTERED,
        registered_at=now,
        valid_until=valid_until,
        updated_at=now,
    ):
        raise conflict("confirm_registration", target, "登记状态已变化。", "The record changed.")
    record(ctx, RegistrationConfirmed(number=reg.number, unit=reg.holder_unit_id))
    return registration_out(ctx, reg)


def record_registration_event(ctx: Ctx, number: str, data: RegistrationEventIn) -> RegistrationOut:
    """许可/转移/变更/注销 on a registered record (首次 and 异议 have their own ways in)."""
    reg = registration_row(ctx, number)
    target = f"registration:{reg.number}"
    require(ctx, "record_registration_event", target=target)
    if data.kind not in LATER_EVENTS:
        raise invalid(
            "record_registration_event",
            target,
            "kind",
            "首次登记与异议不能在此记录。",
            "First registrations and objections are not recorded here.",
        )
    if reg.status != RS.REGISTERED:
        raise conflict(
            "record_registration_event",
            target,
            f"登记当前状态为「{reg.status}」，不能办理{data.kind}登记。",
            f"The record is '{reg.status}'; no {data.kind} can be recorded.",
        )
    values: dict[str, object] = {"updated_at": utcnow()}
    if data.kind == RegistrationEventKind.CANCEL:
        values["status"] = RS.CANCELLED
    if data.kind == RegistrationEventKind.TRANSFER:
        new_holder = data.details.get("party_id", "")
        if not new_holder.isdigit():
            raise invalid(
                "record_registration_event",
                target,
                "details.party_id",
                "转移登记须写明受让的市场主体。",
                "A transfer names the party it goes to (details.party_id).",
            )
        party = party_row(ctx, int(new_holder))
        if party.unit_id is None or party.status != "approved":
            raise invalid(
                "record_registration_event",
                target,
                "details.party_id",
                "受让方须是已批准的市场主体。",
                "The transferee must be an approved market party.",
            )
        values.update(holder_unit_id=party.unit_id, holder_name=party.name, holder_uscc=party.uscc)
    compare_and_set(ctx.db, reg, Registration.status == RS.REGISTERED, **values)
    ctx.db.add(
        RegistrationEvent(
            registration_id=reg.id,
            kind=data.kind,
            note=data.note,
            details=dict(data.details),
            actor=ctx.actor.label,
        )
    )
    record(
        ctx, RegistrationEventRecorded(number=reg.number, unit=reg.holder_unit_id, kind=data.kind)
    )
    return registration_out(ctx, reg)


def record_upstream_code(ctx: Ctx, number: str, code: str) -> RegistrationOut:
    """Keep the code the national or provincial registration platform returned."""
    reg = registration_row(ctx, number)
    require(ctx, "record_upstream_code", target=f"registration:{reg.number}")
    compare_and_set(ctx.db, reg, Registration.id == reg.id, upstream_code=code.strip())
    record(
        ctx, UpstreamCodeRecorded(number=reg.number, unit=reg.holder_unit_id, upstream_code=code)
    )
    return registration_out(ctx, reg)


def list_registrations(ctx: Ctx, status: RegistrationStatus | None = None) -> list[RegistrationOut]:
    unit = scope_unit(ctx, "view_registrations")
    query = select(Registration).order_by(Registration.id)
    if status is not None:
        query = query.where(Registration.status == status)
    if unit is not None:
        query = query.where(Registration.holder_unit_id == unit)
    return [registration_out(ctx, r) for r in ctx.db.scalars(query)]


def get_registration(ctx: Ctx, number: str) -> RegistrationOut:
    reg = registration_row(ctx, number)
    require(ctx, "view_registrations", reg.holder_unit_id, target=f"registration:{reg.number}")
    return registration_out(ctx, reg)
