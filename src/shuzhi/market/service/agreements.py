"""授权运营协议: the bureau drafts, the CDO approves, the bureau activates, suspends and ends.

``covers(ctx, agreement_id, resource_code)`` is the one answer to "is this resource
authorised to this operator now": the agreement is active, today is within its term and the
resource is among its resources. Everything that hands a resource to an operator asks it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import deny, require, scope_unit
from shuzhi.catalog import service as catalog
from shuzhi.context import Ctx
from shuzhi.errors import Conflict, ErrorCollector, Invalid, ShuzhiError
from shuzhi.market.events import AgreementChanged, AgreementGrantAttached
from shuzhi.market.models import (
    Agreement,
    AgreementGrant,
    AgreementResource,
    AgreementStatus,
    Party,
    PartyKind,
    PartyStatus,
    Product,
)
from shuzhi.market.schemas import AgreementIn, AgreementOut, AuthorisableResource
from shuzhi.market.service.common import agreement_row, conflict, party_row, refused, today
from shuzhi.market.service.lifecycle import change_state, grants_of
from shuzhi.org import service as org
from shuzhi.sharing import service as sharing
from shuzhi.validation import required_reason

S = AgreementStatus
MAX_TERM_DAYS = 5 * 366  # 实施规范: an agreement generally runs at most five years


def resources_of(ctx: Ctx, agreement_id: int) -> list[str]:
    return list(
        ctx.db.scalars(
            select(AgreementResource.resource_code)
            .where(AgreementResource.agreement_id == agreement_id)
            .order_by(AgreementResource.id)
        )
    )


def agreement_out(ctx: Ctx, row: Agreement) -> AgreementOut:
    party = party_row(ctx, row.operator_id)
    return AgreementOut(
        id=row.id,
        title=row.title,
        operator_id=row.operator_id,
        operator_name=party.name,
        operator_unit_code=party.unit_code or "",
        resources=resources_of(ctx, row.id),
        rights=list(row.rights),
        scenarios=list(row.scenarios),
        fee_cap_cents=row.fee_cap_cents,
        revenue_share_percent=row.revenue_share_percent,
        security_obligations=row.security_obligations,
        exit_terms=row.exit_terms,
        breach_terms=row.breach_terms,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        status=row.status,
        status_reason=row.status_reason,
        created_by=row.created_by,
        approved_by=row.approved_by,
        grant_ids=list(grants_of(ctx, row.id)),
    )


def _authorisable(ctx: Ctx) -> dict[str, AuthorisableResource]:
    """Published catalogue entries (as last published, none withdrawn) that are public data
    resources: a data product's own output belongs to its operator and is never authorised."""
    outputs = set(
        ctx.db.scalars(
            select(Product.output_resource_code).where(Product.output_resource_code.is_not(None))
        )
    )
    units = {u.id: (n, u) for n, u in enumerate(org.all_unit_briefs(ctx))}
    found = [
        (code, name, unit_id)
        for code, name, unit_id, _cycle in catalog.published_cycles(ctx)
        if code not in outputs and unit_id in units
    ]
    found.sort(key=lambda f: (units[f[2]][0], f[0]))
    return {
        code: AuthorisableResource(
            code=code,
            name=name,
            unit_code=units[unit_id][1].code,
            unit_name=units[unit_id][1].name,
        )
        for code, name, unit_id in found
    }


def authorisable_resources(ctx: Ctx) -> list[AuthorisableResource]:
    """What the drafting bureau may put in an agreement, by unit (in the organisation's
    order) and code: the choice the console's form offers; ``draft_agreement`` checks the
    same list."""
    require(ctx, "draft_agreement", target="agreement-resources")
    return list(_authorisable(ctx).values())


def _resource_problem(ctx: Ctx, code: str) -> tuple[str, str]:
    """Why ``code`` (not among the authorisable resources) cannot be authorised."""
    product = ctx.db.scalar(select(Product).where(Product.output_resource_code == code))
    if product is not None:
        return (
            f"目录 {code} 是数据产品「{product.name}」的产品结果，不是可授权运营的公共数据资源。",
            f"Catalogue entry {code} is the output of the data product '{product.name}', not a"
            " public data resource to authorise.",
        )
    if catalog.published_entry_id(ctx.db, code) is not None:
        return (
            f"目录 {code} 已撤销，不能授权。",
            f"Catalogue entry {code} was withdrawn; it cannot be authorised.",
        )
    return (
        f"目录 {code} 不存在或未发布，不能授权。",
        f"Catalogue entry {code} does not exist or is not published.",
    )


def draft_agreement(ctx: Ctx, data: AgreementIn) -> AgreementOut:
    """The bureau drafts an agreement with an approved operator over published entries."""
    require(ctx, "draft_agreement", target=f"party:{data.operator_id}")
    errors = ErrorCollector()
    party = ctx.db.get(Party, data.operator_id)
    if party is None or party.kind != PartyKind.OPERATOR or party.status != PartyStatus.APPROVED:
        errors.add(
            "operator_id",
            "授权对象须是已批准的运营机构。",
            "The agreement must be with an approved operator.",
        )
    if data.ends_on <= data.starts_on:
        errors.add(
            "ends_on", "协议期限的截止日须晚于起始日。", "The term must end after it starts."
        )
    elif (data.ends_on - data.starts_on).days > MAX_TERM_DAYS:
        errors.add(
            "ends_on", "授权期限一般不超过 5 年。", "An authorisation runs at most five years."
        )
    codes = list(dict.fromkeys(c.strip() for c in data.resources))
    eligible = _authorisable(ctx)
    for code in codes:
        if code not in eligible:
            errors.add("resources", *_resource_problem(ctx, code))
    if len(set(data.scenarios)) != len(data.scenarios):
        errors.add("scenarios", "应用场景重复。", "A scenario is listed twice.")
    if errors.errors:
        raise refused("draft_agreement", f"party:{data.operator_id}", Invalid(errors=errors.errors))
    assert party is not None and party.unit_id is not None
    row = Agreement(
        title=data.title,
        operator_id=party.id,
        operator_unit_id=party.unit_id,
        rights=sorted({r.value for r in data.rights}),
        scenarios=list(data.scenarios),
        fee_cap_cents=data.fee_cap_cents,
        revenue_share_percent=data.revenue_share_percent,
        security_obligations=data.security_obligations,
        exit_terms=data.exit_terms,
        breach_terms=data.breach_terms,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        status=S.DRAFT,
        created_by=ctx.actor.label,
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.db.add_all(AgreementResource(agreement_id=row.id, resource_code=c) for c in codes)
    ctx.db.flush()
    record(
        ctx,
        AgreementChanged(
            agreement_id=row.id, unit=row.operator_unit_id, before=None, after="draft"
        ),
    )
    return agreement_out(ctx, row)


def approve_agreement(ctx: Ctx, agreement_id: int) -> AgreementOut:
    """The CDO approves a draft; nobody approves the draft they wrote."""
    row = agreement_row(ctx, agreement_id)
    target = f"agreement:{agreement_id}"
    require(ctx, "approve_agreement", target=target)
    if ctx.actor.kind == "user" and row.created_by == ctx.actor.label:
        raise deny(
            "approve_agreement",
            target,
            "不能批准自己起草的授权运营协议。",
            "You cannot approve an agreement you drafted.",
        )
    change_state(ctx, row, S.APPROVED, operation="approve_agreement")
    return agreement_out(ctx, row)


def activate_agreement(ctx: Ctx, agreement_id: int, on: date | None = None) -> AgreementOut:
    """Put an approved (or resume a suspended) agreement into force within its term."""
    row = agreement_row(ctx, agreement_id)
    target = f"agreement:{agreement_id}"
    require(ctx, "activate_agreement", target=target)
    on = on or today()
    if not row.starts_on <= on <= row.ends_on:
        raise conflict(
            "activate_agreement",
            target,
            f"今天不在协议期限（{row.starts_on} 至 {row.ends_on}）内，不能生效。",
            f"Today is outside the agreement's term ({row.starts_on} to {row.ends_on}).",
        )
    party = party_row(ctx, row.operator_id)
    if party.status != PartyStatus.APPROVED:
        raise conflict(
            "activate_agreement",
            target,
            f"运营机构当前状态为「{party.status}」，协议不能生效。",
            f"The operator is '{party.status}'; the agreement cannot take effect.",
        )
    change_state(ctx, row, S.ACTIVE, operation="activate_agreement")
    return agreement_out(ctx, row)


def suspend_agreement(ctx: Ctx, agreement_id: int, reason: str) -> AgreementOut:
    row = agreement_row(ctx, agreement_id)
    require(ctx, "suspend_agreement", target=f"agreement:{agreement_id}")
    reason = required_reason(reason, "暂停协议", "Suspending an agreement")
    change_state(ctx, row, S.SUSPENDED, reason, operation="suspend_agreement")
    return agreement_out(ctx, row)


def terminate_agreement(ctx: Ctx, agreement_id: int, reason: str) -> AgreementOut:
    """End an agreement early (exit or breach); the grants issued under it are revoked."""
    row = agreement_row(ctx, agreement_id)
    require(ctx, "terminate_agreement", target=f"agreement:{agreement_id}")
    reason = required_reason(reason, "终止协议", "Terminating an agreement")
    change_state(ctx, row, S.TERMINATED, reason, operation="terminate_agreement")
    return agreement_out(ctx, row)


def expire_agreements(ctx: Ctx, on: date | None = None) -> list[int]:
    """Mark the agreements whose term is over as expired (their grants are revoked)."""
    require(ctx, "expire_agreements")
    on = on or today()
    rows = list(
        ctx.db.scalars(
            select(Agreement)
            .where(Agreement.status.in_((S.ACTIVE, S.SUSPENDED)), Agreement.ends_on < on)
            .order_by(Agreement.id)
        )
    )
    for row in rows:
        change_state(ctx, row, S.EXPIRED, f"协议期限已于 {row.ends_on} 届满", "expire_agreements")
    return [row.id for row in rows]


def covers(ctx: Ctx, agreement_id: int, resource_code: str, on: date | None = None) -> bool:
    """Whether the agreement authorises ``resource_code`` to its operator on ``on`` (today)."""
    return why_not_covered(ctx, agreement_id, resource_code, on) is None


def why_not_covered(
    ctx: Ctx, agreement_id: int, resource_code: str, on: date | None = None
) -> tuple[str, str] | None:
    """None when covered; otherwise the reason (zh, en)."""
    row = ctx.db.get(Agreement, agreement_id)
    on = on or today()
    if row is None:
        return (
            f"授权运营协议 {agreement_id} 不存在。",
            f"Agreement {agreement_id} does not exist.",
        )
    if row.status != S.ACTIVE:
        return (
            f"授权运营协议 {agreement_id} 当前状态为「{row.status}」，未在有效期内。",
            f"Agreement {agreement_id} is '{row.status}', not in force.",
        )
    if not row.starts_on <= on <= row.ends_on:
        return (
            f"授权运营协议 {agreement_id} 的期限为 {row.starts_on} 至 {row.ends_on}，"
            "今天不在其内。",
            f"Agreement {agreement_id} runs from {row.starts_on} to {row.ends_on}; today is"
            " outside it.",
        )
    if resource_code.strip() not in resources_of(ctx, agreement_id):
        return (
            f"数据资源 {resource_code} 不在授权运营协议 {agreement_id} 的授权范围内。",
            f"Resource {resource_code} is outside agreement {agreement_id}.",
        )
    return None


def operator_may_use(
    ctx: Ctx, operator_unit_id: int, resource_code: str, on: date | None = None
) -> bool:
    """Whether any agreement in force authorises the resource to the operator's organisation."""
    ids = ctx.db.scalars(
        select(Agreement.id)
        .join(AgreementResource, AgreementResource.agreement_id == Agreement.id)
        .where(
            Agreement.operator_unit_id == operator_unit_id,
            Agreement.status == S.ACTIVE,
            AgreementResource.resource_code == resource_code.strip(),
        )
    )
    return any(covers(ctx, i, resource_code, on) for i in ids)


def attach_agreement_grant(ctx: Ctx, agreement_id: int, grant_id: int) -> AgreementOut:
    """Record that a sharing grant to the operator was issued under this agreement: it is
    revoked when the agreement ends. The grant's entry must be covered now."""
    row = agreement_row(ctx, agreement_id)
    target = f"agreement:{agreement_id}"
    require(ctx, "attach_agreement_grant", target=target)
    grant = sharing.get_grant(ctx, grant_id)
    problem: tuple[str, str] | None = why_not_covered(ctx, agreement_id, grant.resource_code)
    party = party_row(ctx, row.operator_id)
    if problem is None and grant.consumer_unit_code != party.unit_code:
        problem = (
            f"授权 #{grant_id} 的使用单位不是该运营机构。",
            f"Grant #{grant_id} is not held by this operator.",
        )
    if problem is None and grant.status != "active":
        problem = (f"授权 #{grant_id} 已不再有效。", f"Grant #{grant_id} is no longer active.")
    if problem is None and ctx.db.scalar(
        select(AgreementGrant.id).where(AgreementGrant.grant_id == grant_id)
    ):
        problem = (f"授权 #{grant_id} 已关联协议。", f"Grant #{grant_id} is already linked.")
    if problem is not None:
        raise conflict("attach_agreement_grant", target, *problem)
    ctx.db.add(
        AgreementGrant(agreement_id=row.id, grant_id=grant_id, resource_code=grant.resource_code)
    )
    ctx.db.flush()
    record(
        ctx,
        AgreementGrantAttached(
            agreement_id=row.id,
            unit=row.operator_unit_id,
            grant_id=grant_id,
            resource_code=grant.resource_code,
        ),
    )
    return agreement_out(ctx, row)


def list_agreements(ctx: Ctx, status: AgreementStatus | None = None) -> list[AgreementOut]:
    unit = scope_unit(ctx, "view_agreements")
    query = select(Agreement).order_by(Agreement.id)
    if status is not None:
        query = query.where(Agreement.status == status)
    if unit is not None:
        query = query.where(Agreement.operator_unit_id == unit)
    return [agreement_out(ctx, r) for r in ctx.db.scalars(query)]


def get_agreement(ctx: Ctx, agreement_id: int) -> AgreementOut:
    row = agreement_row(ctx, agreement_id)
    require(ctx, "view_agreements", row.operator_unit_id, target=f"agreement:{agreement_id}")
    return agreement_out(ctx, row)


def not_covered(operation: str, target: str, reason: tuple[str, str]) -> ShuzhiError:
    return conflict(operation, target, *reason)


def on_agreement_held(ctx: Ctx, event: hooks.AgreementHeld) -> None:
    """Security operations contains an agreement in force (it is suspended: no new grant
    is attached or covered under it) or lifts that containment (back in force unless it
    ended meanwhile). Authorisation is security operations'; the change is audited here."""
    row = ctx.db.get(Agreement, event.agreement_id)
    if row is None:
        return
    if event.held:
        if row.status != S.ACTIVE:
            raise Conflict(
                f"授权运营协议当前状态为「{row.status}」，不在生效中，无需也无法处置暂停。",
                f"The agreement is '{row.status}', not in force; there is nothing to contain.",
            )
        change_state(ctx, row, S.SUSPENDED, f"安全处置 / security containment: {event.reason}")
    elif row.status == S.SUSPENDED:
        change_state(ctx, row, S.ACTIVE, f"解除安全处置 / containment lifted: {event.reason}")
    event.found.append((row.operator_unit_id, grants_of(ctx, row.id)))
