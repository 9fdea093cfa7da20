"""Market parties: operators (运营机构), collaborating developers (协作单位), data merchants
(数商) and data brokers (数据经纪人). The bureau records an application, its executive
approves or refuses it with a reason, and may suspend, reinstate or revoke a party.

An approved party's accounts (role ``operator``) belong to its organisation's unit: an
enterprise unit made on approval, or the unit the application named."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import ErrorCollector, Invalid
from shuzhi.market.events import (
    PartyApplied,
    PartyApproved,
    PartyEvent,
    PartyRefused,
    PartyReinstated,
    PartyRevoked,
    PartySuspended,
)
from shuzhi.market.models import (
    Agreement,
    AgreementStatus,
    Party,
    PartyKind,
    PartyStatus,
)
from shuzhi.market.schemas import PartyIn, PartyOut
from shuzhi.market.service.common import conflict, party_row, refused, today
from shuzhi.market.service.lifecycle import change_state
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitCreate, UnitKind
from shuzhi.standards.identifiers import is_valid_uscc
from shuzhi.validation import required_reason


def party_out(party: Party) -> PartyOut:
    return PartyOut(
        id=party.id,
        kind=party.kind,
        name=party.name,
        uscc=party.uscc,
        unit_code=party.unit_code,
        contact=party.contact,
        merchant_classes=list(party.merchant_classes),
        licence_grade=party.licence_grade,
        licence_sector=party.licence_sector,
        licence_valid_from=party.licence_valid_from,
        licence_valid_until=party.licence_valid_until,
        status=party.status,
        reason=party.reason,
        applied_by=party.applied_by,
        decided_by=party.decided_by,
        decided_at=party.decided_at,
    )


def _check(ctx: Ctx, data: PartyIn) -> ErrorCollector:
    errors = ErrorCollector()
    uscc = data.uscc.strip().upper()
    if not is_valid_uscc(uscc):
        errors.add(
            "uscc",
            "统一社会信用代码无效（应为 18 位，且校验位正确）。",
            "The unified social credit code is invalid (18 characters with a correct check"
            " character).",
        )
    if data.kind == PartyKind.MERCHANT and not data.merchant_classes:
        errors.add("merchant_classes", "数商须至少选择一个类别。", "Choose at least one class.")
    if data.kind != PartyKind.MERCHANT and data.merchant_classes:
        errors.add(
            "merchant_classes", "只有数商才有数商类别。", "Only data merchants have classes."
        )
    if data.kind == PartyKind.BROKER:
        if data.licence_grade is None:
            errors.add("licence_grade", "数据经纪人须填写资格等级。", "A broker needs a grade.")
        if not data.licence_sector:
            errors.add("licence_sector", "数据经纪人须填写服务行业。", "A broker needs a sector.")
        if data.licence_valid_from is None or data.licence_valid_until is None:
            errors.add(
                "licence_valid_until",
                "数据经纪人须填写资格有效期。",
                "A broker needs the licence's validity.",
            )
        elif data.licence_valid_until < data.licence_valid_from:
            errors.add(
                "licence_valid_until",
                "资格有效期的截止日早于起始日。",
                "The licence ends before it starts.",
            )
        elif data.licence_valid_until < today():
            errors.add(
                "licence_valid_until",
                f"数据经纪人资格已于 {data.licence_valid_until} 过期。",
                f"The broker's licence expired on {data.licence_valid_until}.",
            )
    elif data.licence_grade or data.licence_valid_until:
        errors.add("licence_grade", "只有数据经纪人才有执业资格。", "Only brokers hold a licence.")
    if data.unit_code is not None and org.unit_id_for_code(ctx, data.unit_code) is None:
        errors.add("unit_code", f"单位 {data.unit_code} 不存在。", "No such unit.")
    return errors


def apply_market_party(ctx: Ctx, data: PartyIn) -> PartyOut:
    """Record a party's application (the bureau enters it from the submitted material)."""
    require(ctx, "apply_market_party", target=f"party:{data.uscc}")
    errors = _check(ctx, data)
    if errors.errors:
        raise refused("apply_market_party", data.uscc, Invalid(errors=errors.errors))
    uscc = data.uscc.strip().upper()
    live_key = f"{data.kind}:{uscc}"
    if ctx.db.scalar(select(Party.id).where(Party.live_key == live_key)) is not None:
        raise conflict(
            "apply_market_party",
            uscc,
            f"该主体（{uscc}）已有同类申请或资格，不能重复申请。",
            f"This entity ({uscc}) already has an application or standing of this kind.",
        )
    unit_id = org.unit_id_for_code(ctx, data.unit_code) if data.unit_code else None
    party = Party(
        kind=data.kind,
        name=data.name,
        uscc=uscc,
        unit_id=unit_id,
        unit_code=data.unit_code,
        contact=data.contact,
        merchant_classes=[c.value for c in data.merchant_classes],
        licence_grade=data.licence_grade.value if data.licence_grade else None,
        licence_sector=data.licence_sector,
        licence_valid_from=data.licence_valid_from,
        licence_valid_until=data.licence_valid_until,
        status=PartyStatus.APPLIED,
        live_key=live_key,
        applied_by=ctx.actor.label,
    )
    ctx.db.add(party)
    ctx.db.flush()
    record(
        ctx,
        PartyApplied(
            party_id=party.id, kind=party.kind, uscc=uscc, unit=unit_id, name=party.name[:100]
        ),
    )
    return party_out(party)


E = TypeVar("E", bound=PartyEvent)


def _event(cls: type[E], party: Party, reason: str | None = None) -> E:
    base = {"party_id": party.id, "kind": str(party.kind), "uscc": party.uscc}
    if reason is None:
        return cls(**base, unit=party.unit_id)  # type: ignore[arg-type]
    return cls(**base, unit=party.unit_id, reason=reason[:200])  # type: ignore[arg-type, call-arg]


def _move(ctx: Ctx, party: Party, frm: PartyStatus, operation: str, **values: object) -> None:
    if party.status != frm or not compare_and_set(
        ctx.db, party, Party.status == frm, updated_at=utcnow(), **values
    ):
        raise conflict(
            operation,
            f"party:{party.id}",
            f"该主体当前状态为「{party.status}」，不能执行此操作。",
            f"The party is '{party.status}'; this cannot be done now.",
        )


def _organisation_unit(ctx: Ctx, party: Party) -> tuple[int, str]:
    """The party's unit: the one named, one already holding its USCC, or a new enterprise."""
    if party.unit_id is not None and party.unit_code is not None:
        return party.unit_id, party.unit_code
    briefs = org.all_unit_briefs(ctx)
    for brief in briefs:
        if brief.uscc == party.uscc:
            return brief.id, brief.code
    region = next((b.code for b in briefs if b.kind == UnitKind.REGION), None)
    unit = org.create_unit(
        ctx,
        UnitCreate(
            code=f"MKT{party.uscc[-10:]}",
            name=party.name[:100],
            kind=UnitKind.ENTERPRISE,
            parent_code=region,
            uscc=party.uscc,
        ),
    )
    unit_id = org.unit_id_for_code(ctx, unit.code)
    assert unit_id is not None
    return unit_id, unit.code


def decide_market_party(ctx: Ctx, party_id: int, approve: bool, reason: str = "") -> PartyOut:
    """The executive approves an application (the party's unit is set up) or refuses it."""
    party = party_row(ctx, party_id)
    require(ctx, "decide_market_party", target=f"party:{party_id}")
    now = utcnow()
    if not approve:
        reason = required_reason(reason, "拒绝申请", "Refusing an application")
        _move(
            ctx,
            party,
            PartyStatus.APPLIED,
            "decide_market_party",
            status=PartyStatus.REFUSED,
            live_key=None,
            reason=reason,
            decided_by=ctx.actor.label,
            decided_at=now,
        )
        record(ctx, _event(PartyRefused, party, reason))
        return party_out(party)
    if (
        party.kind == PartyKind.BROKER
        and party.licence_valid_until is not None
        and party.licence_valid_until < today()
    ):
        raise conflict(
            "decide_market_party",
            f"party:{party_id}",
            f"数据经纪人资格已于 {party.licence_valid_until} 过期，不能批准。",
            f"The broker's licence expired on {party.licence_valid_until}; it cannot be approved.",
        )
    unit_id, unit_code = _organisation_unit(ctx, party)
    _move(
        ctx,
        party,
        PartyStatus.APPLIED,
        "decide_market_party",
        status=PartyStatus.APPROVED,
        unit_id=unit_id,
        unit_code=unit_code,
        reason=reason or None,
        decided_by=ctx.actor.label,
        decided_at=now,
    )
    record(ctx, _event(PartyApproved, party))
    return party_out(party)


def _agreements_of(ctx: Ctx, party: Party, states: tuple[AgreementStatus, ...]) -> list[Agreement]:
    return list(
        ctx.db.scalars(
            select(Agreement)
            .where(Agreement.operator_id == party.id, Agreement.status.in_(states))
            .order_by(Agreement.id)
        )
    )


def suspend_market_party(ctx: Ctx, party_id: int, reason: str) -> PartyOut:
    """Suspend an approved party; an operator's active agreements are suspended with it."""
    party = party_row(ctx, party_id)
    require(ctx, "suspend_market_party", target=f"party:{party_id}")
    reason = required_reason(reason, "暂停资格", "Suspending a party")
    _move(
        ctx, party, PartyStatus.APPROVED, "suspend_market_party",
        status=PartyStatus.SUSPENDED, reason=reason,
    )  # fmt: skip
    for agreement in _agreements_of(ctx, party, (AgreementStatus.ACTIVE,)):
        change_state(ctx, agreement, AgreementStatus.SUSPENDED, f"运营机构资格暂停：{reason}")
    record(ctx, _event(PartySuspended, party, reason))
    return party_out(party)


def reinstate_market_party(ctx: Ctx, party_id: int, reason: str) -> PartyOut:
    """Lift a suspension (agreements stay suspended until resumed one by one)."""
    party = party_row(ctx, party_id)
    require(ctx, "suspend_market_party", target=f"party:{party_id}")
    reason = required_reason(reason, "恢复资格", "Reinstating a party")
    _move(
        ctx, party, PartyStatus.SUSPENDED, "suspend_market_party",
        status=PartyStatus.APPROVED, reason=reason,
    )  # fmt: skip
    record(ctx, _event(PartyReinstated, party, reason))
    return party_out(party)


def revoke_market_party(ctx: Ctx, party_id: int, reason: str) -> PartyOut:
    """Revoke a party's standing; an operator's live agreements are terminated (their grants
    are revoked through the ``AgreementEnded`` hook)."""
    party = party_row(ctx, party_id)
    require(ctx, "revoke_market_party", target=f"party:{party_id}")
    reason = required_reason(reason, "撤销资格", "Revoking a party")
    if party.status not in (PartyStatus.APPROVED, PartyStatus.SUSPENDED):
        raise conflict(
            "revoke_market_party",
            f"party:{party_id}",
            f"该主体当前状态为「{party.status}」，不能撤销。",
            f"The party is '{party.status}'; it cannot be revoked.",
        )
    _move(
        ctx, party, party.status, "revoke_market_party",
        status=PartyStatus.REVOKED, live_key=None, reason=reason,
    )  # fmt: skip
    live = (
        AgreementStatus.DRAFT,
        AgreementStatus.APPROVED,
        AgreementStatus.ACTIVE,
        AgreementStatus.SUSPENDED,
    )
    for agreement in _agreements_of(ctx, party, live):
        change_state(ctx, agreement, AgreementStatus.TERMINATED, f"运营机构资格撤销：{reason}")
    record(ctx, _event(PartyRevoked, party, reason))
    return party_out(party)


def list_market_parties(ctx: Ctx, kind: PartyKind | None = None) -> list[PartyOut]:
    """The bureau sees every party; an operator account its own organisation's."""
    unit = scope_unit(ctx, "view_market_parties")
    query = select(Party).order_by(Party.id)
    if kind is not None:
        query = query.where(Party.kind == kind)
    if unit is not None:
        query = query.where(Party.unit_id == unit)
    return [party_out(p) for p in ctx.db.scalars(query)]


def get_market_party(ctx: Ctx, party_id: int) -> PartyOut:
    party = party_row(ctx, party_id)
    require(ctx, "view_market_parties", party.unit_id or -1, target=f"party:{party_id}")
    return party_out(party)


def broker_in_good_standing(ctx: Ctx, broker_id: int, on: date | None = None) -> Party | None:
    """The approved broker with a licence valid on ``on`` (today), or None."""
    party = ctx.db.get(Party, broker_id)
    on = on or today()
    if (
        party is None
        or party.kind != PartyKind.BROKER
        or party.status != PartyStatus.APPROVED
        or party.licence_valid_until is None
        or party.licence_valid_until < on
        or (party.licence_valid_from is not None and party.licence_valid_from > on)
    ):
        return None
    return party
