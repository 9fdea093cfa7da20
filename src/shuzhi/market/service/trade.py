"""Listing and trading (挂牌交易): "无登记不交易、无合规不上架".

A product is listed while it is compliant, its registration is in effect (the public notice
passed with no open objection, the record confirmed and not cancelled or past its validity)
and every input is still covered by its agreement. Only a listed product can be applied
for and signed. A buyer is an approved market party; the operator signs a contract with a
price and a term (starting on the day it is signed). An API product is delivered through the
sharing gateway: signing issues a grant to the buyer's application for the product's
delivery resource that expires with the contract, and the buyer takes an application key
bound to it; ending the contract revokes the grant, so the key is refused at once. A file
product's delivery is recorded with the file's SHA-256. The operator files the transaction
(交易备案) and the buyer evaluates it. Revenue is counted per product, operator and resource,
with the share owed back under each agreement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM, Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import ErrorCollector, Invalid, NotFound, ShuzhiError
from shuzhi.market.events import (
    ContractApplied,
    ContractDeclined,
    ContractEnded,
    ContractEvaluated,
    ContractSigned,
    DeliveryKeyIssued,
    FileDelivered,
    TransactionFiled,
)
from shuzhi.market.models import (
    Agreement,
    Contract,
    ContractStatus,
    DeliveryMode,
    Objection,
    ObjectionStatus,
    Party,
    PartyStatus,
    Product,
    ProductStatus,
    Registration,
    RegistrationStatus,
)
from shuzhi.market.service.agreements import why_not_covered
from shuzhi.market.service.common import (
    agreement_row,
    conflict,
    invalid,
    product_row,
    refused,
    today,
)
from shuzhi.market.trade_schemas import (
    ContractOut,
    DeliveryKey,
    EvaluationIn,
    FileDeliveryIn,
    ListedProduct,
    Listing,
    PurchaseIn,
    Revenue,
    RevenueLine,
    SignIn,
)
from shuzhi.org import service as org
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service as sharing
from shuzhi.sharing.schemas import AppKeyIn, ApplicationIn, DecisionIn, RequestCreate

FILING_PREFIX = "SZJY"
MAX_API_TERM_DAYS = 730  # an application key lives at most two years
CS = ContractStatus


def yuan(cents: int) -> str:
    return f"¥{cents // 100:,}.{cents % 100:02d}"


# ---------------------------------------------------------------- listing


def _registration_of(ctx: Ctx, product_id: int) -> Registration | None:
    return ctx.db.scalar(select(Registration).where(Registration.product_id == product_id))


def why_not_listed(
    ctx: Ctx, product: Product, reg: Registration | None, on: date | None = None
) -> tuple[str, str] | None:
    """Why a product may not be listed or traded now (bilingual), or None."""
    day = on or today()
    if product.status != ProductStatus.COMPLIANT:
        return (
            "数据产品未通过合规审查，不得上架（无合规不上架）。",
            "The product has not passed its compliance review; it cannot be listed.",
        )
    if reg is None or reg.status != RegistrationStatus.REGISTERED:
        return (
            "数据产品尚未完成登记（公示期满、无异议并确认），不得交易（无登记不交易）。",
            "The product is not registered (public notice passed, no objection, confirmed);"
            " it cannot be traded.",
        )
    if reg.valid_until is not None and reg.valid_until < day:
        return ("登记证书已过有效期。", "The registration certificate has expired.")
    open_objection = ctx.db.scalar(
        select(Objection.id).where(
            Objection.registration_id == reg.id, Objection.status == ObjectionStatus.OPEN
        )
    )
    if open_objection is not None:
        return ("该登记有未处理的异议。", "The registration has an open objection.")
    for code in product.inputs:
        reason = why_not_covered(ctx, product.agreement_id, code, day)
        if reason is not None:
            return reason
    return None


def _operator_name(ctx: Ctx, unit_id: int) -> str:
    party = ctx.db.scalar(
        select(Party).where(Party.unit_id == unit_id, Party.kind == "operator").order_by(Party.id)
    )
    if party is not None:
        return party.name
    unit = org.unit_brief(ctx, unit_id)
    return unit.name if unit else ""


def _listed(ctx: Ctx, product: Product, reg: Registration) -> ListedProduct:
    return ListedProduct(
        registration_number=reg.number,
        name=product.name,
        kind=product.kind.value,
        operator=_operator_name(ctx, product.operator_unit_id),
        scenario=product.scenario,
        delivery_mode=product.delivery_mode.value,
        update_frequency=product.update_frequency,
        price_cents=product.price_cents,
        price=yuan(product.price_cents),
        fee_standard=product.fee_standard,
        sample_hash=product.sample_hash,
        registered_at=reg.registered_at,
        valid_until=reg.valid_until,
    )


def _candidates(ctx: Ctx) -> list[tuple[Product, Registration]]:
    rows = ctx.db.execute(
        select(Product, Registration)
        .join(Registration, Registration.product_id == Product.id)
        .where(
            Product.status == ProductStatus.COMPLIANT,
            Registration.status == RegistrationStatus.REGISTERED,
        )
        .order_by(Registration.registered_at.desc(), Registration.id.desc())
    ).all()
    return [(product, reg) for product, reg in rows]


def listed_product_ids(ctx: Ctx) -> set[int]:
    """The products listed now (no permission check: for the books' trade feed)."""
    return {p.id for p, reg in _candidates(ctx) if why_not_listed(ctx, p, reg) is None}


def list_listed_products(ctx: Ctx, q: str = "") -> Listing:
    """The public listing: every product that may be traded now (anyone may read it)."""
    needle = q.strip().lower()
    items = [
        _listed(ctx, product, reg)
        for product, reg in _candidates(ctx)
        if why_not_listed(ctx, product, reg) is None
        and (not needle or needle in product.name.lower() or needle in product.scenario.lower())
    ]
    return Listing(total=len(items), items=items)


def listed_product(ctx: Ctx, number: str) -> ListedProduct:
    reg = ctx.db.scalar(select(Registration).where(Registration.number == number.strip()))
    product = ctx.db.get(Product, reg.product_id) if reg and reg.product_id else None
    if reg is None or product is None or why_not_listed(ctx, product, reg) is not None:
        raise NotFound(
            f"挂牌产品 {number} 不存在。", f"No listed product with registration {number}."
        )
    return _listed(ctx, product, reg)


# ---------------------------------------------------------------- contracts


def _contract_row(ctx: Ctx, contract_id: int) -> Contract:
    row = ctx.db.get(Contract, contract_id)
    if row is None:
        raise NotFound(
            f"交易合同 {contract_id} 不存在。", f"Trade contract {contract_id} does not exist."
        )
    return row


def _code(ctx: Ctx, unit_id: int) -> str:
    unit = org.unit_brief(ctx, unit_id)
    return unit.code if unit else ""


def contract_out(ctx: Ctx, row: Contract) -> ContractOut:
    product = ctx.db.get(Product, row.product_id)
    buyer = ctx.db.get(Party, row.buyer_party_id)
    return ContractOut(
        id=row.id,
        product_id=row.product_id,
        product_name=product.name if product else "",
        registration_number=row.registration_number,
        operator_unit_code=_code(ctx, row.operator_unit_id),
        buyer_party_id=row.buyer_party_id,
        buyer_name=buyer.name if buyer else "",
        buyer_unit_code=_code(ctx, row.buyer_unit_id),
        purpose=row.purpose,
        status=row.status,
        price_cents=row.price_cents,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        delivery_mode=row.delivery_mode,
        resource_code=row.resource_code,
        application_code=row.application_code,
        grant_id=row.grant_id,
        file_name=row.file_name,
        file_sha256=row.file_sha256,
        delivered_at=row.delivered_at,
        filing_number=row.filing_number,
        filed_at=row.filed_at,
        rating=row.rating,
        evaluation=row.evaluation,
        end_reason=row.end_reason,
        applied_by=row.applied_by,
        signed_by=row.signed_by,
    )


def _event_fields(row: Contract, unit: int) -> dict[str, object]:
    return {"contract_id": row.id, "unit": unit, "number": row.registration_number}


def apply_purchase(ctx: Ctx, data: PurchaseIn) -> ContractOut:
    """A buyer (an approved party) applies for a listed product."""
    number = data.registration_number.strip()
    buyer = ctx.db.get(Party, data.buyer_party_id)
    target = f"registration:{number}"
    require(ctx, "apply_purchase", buyer.unit_id if buyer else None, target=target)
    reg = ctx.db.scalar(select(Registration).where(Registration.number == number))
    product = ctx.db.get(Product, reg.product_id) if reg and reg.product_id else None
    if reg is None or product is None:
        raise invalid(
            "apply_purchase",
            target,
            "registration_number",
            f"没有登记编号为 {number} 的数据产品。",
            f"No data product is registered as {number}.",
        )
    errors = ErrorCollector()
    problem = why_not_listed(ctx, product, reg)
    if problem is not None:
        errors.add("registration_number", *problem)
    if buyer is None or buyer.status != PartyStatus.APPROVED or buyer.unit_id is None:
        errors.add(
            "buyer_party_id",
            "买方须是已批准且未被暂停的市场主体。",
            "The buyer must be an approved market party in good standing.",
        )
    elif buyer.unit_id == product.operator_unit_id:
        errors.add(
            "buyer_party_id",
            "运营机构不能购买自己的产品。",
            "An operator cannot buy its own product.",
        )
    mode = data.delivery_mode or product.delivery_mode
    if mode == DeliveryMode.SANDBOX:
        errors.add(
            "delivery_mode",
            "交易交付方式须为接口或文件；沙箱内使用按沙箱申请办理。",
            "A purchase is delivered through the API or as a file; sandbox use is requested"
            " in the sandbox.",
        )
    if errors.errors:
        raise refused("apply_purchase", target, Invalid(errors=errors.errors))
    assert buyer is not None and buyer.unit_id is not None
    row = Contract(
        product_id=product.id,
        registration_number=reg.number,
        operator_unit_id=product.operator_unit_id,
        buyer_party_id=buyer.id,
        buyer_unit_id=buyer.unit_id,
        purpose=data.purpose,
        status=CS.APPLIED,
        delivery_mode=mode,
        applied_by=ctx.actor.label,
    )
    ctx.db.add(row)
    ctx.db.flush()
    record(ctx, ContractApplied(**_event_fields(row, buyer.unit_id), buyer_party_id=buyer.id))  # type: ignore[arg-type]
    return contract_out(ctx, row)


def _move(ctx: Ctx, row: Contract, frm: tuple[CS, ...], op: str, **values: object) -> None:
    before = row.status
    if before not in frm or not compare_and_set(
        ctx.db, row, Contract.status == before, updated_at=utcnow(), **values
    ):
        raise conflict(
            op,
            f"contract:{row.id}",
            f"交易合同当前状态为「{row.status}」，不能执行此操作。",
            f"The contract is '{row.status}'; this cannot be done now.",
        )


@contextmanager
def _as_platform(ctx: Ctx) -> Iterator[None]:
    """The gateway's grant and key are issued by the platform on the contract's behalf."""
    actor = ctx.actor
    ctx.actor = SYSTEM
    try:
        yield
    finally:
        ctx.actor = actor


def _delivery_resource(product: Product) -> str:
    """The resource the gateway serves for an API product: its first input."""
    return product.inputs[0]


def _issue_grant(ctx: Ctx, row: Contract, product: Product, days: int) -> tuple[str, int]:
    """The buyer's application for the contract and a grant for the delivery resource that
    expires with it, through sharing's own services (request, approval)."""
    code = f"MKT-C{row.id}"
    resource = _delivery_resource(product)
    buyer_code = _code(ctx, row.buyer_unit_id)
    with _as_platform(ctx):
        entry = catalog.get_entry(ctx, resource)
        columns = [i.name for i in entry.items if i.share_type != "not_shared"]
        apps.register_application(
            ctx,
            ApplicationIn(
                code=code,
                name=f"交易合同 {row.id} 交付"[:100],
                description=f"{product.name}（{row.registration_number}）",
                unit_code=buyer_code,
            ),
        )
        asked = sharing.submit_share_request(
            ctx,
            RequestCreate(
                resource_code=resource,
                application_code=code,
                purpose=f"数据产品交易交付：{product.name}（{row.registration_number}）",
                legal_basis=f"数据产品交易合同 {row.id}，登记编号 {row.registration_number}",
                columns=columns,
                duration_days=days,
                unit_code=buyer_code,
            ),
        )
        # An unconditionally shared entry is granted on request; otherwise the platform
        # approves on the contract's behalf (the agreement already authorised the resource).
        decided = (
            asked
            if asked.grant_id is not None or asked.status != "pending"
            else sharing.decide_share_request(ctx, asked.id, DecisionIn(outcome="approve"))
        )
    if decided.grant_id is None:
        raise conflict(
            "sign_contract",
            f"contract:{row.id}",
            "未能为该合同签发接口授权。",
            "No gateway grant could be issued for the contract.",
        )
    return code, decided.grant_id


def sign_contract(ctx: Ctx, contract_id: int, data: SignIn) -> ContractOut:
    """The operator signs with a price and a term; an API product's grant is issued now."""
    row = _contract_row(ctx, contract_id)
    target = f"contract:{contract_id}"
    require(ctx, "sign_contract", row.operator_unit_id, target=target)
    product = product_row(ctx, row.product_id)
    agreement = agreement_row(ctx, product.agreement_id)
    start = today()
    errors = ErrorCollector()
    problem = why_not_listed(ctx, product, _registration_of(ctx, product.id), start)
    if problem is not None:
        errors.add("registration_number", *problem)
    if data.price_cents > agreement.fee_cap_cents:
        errors.add(
            "price_cents",
            "价格超过协议约定的运营服务费上限。",
            "The price exceeds the agreement's fee cap (运营服务费上限).",
        )
    if data.ends_on <= start:
        errors.add("ends_on", "合同期限须晚于今天结束。", "The term must end after today.")
    elif data.ends_on > agreement.ends_on:
        errors.add(
            "ends_on",
            "合同期限不得超过授权运营协议的期限。",
            "The term may not run past the authorisation agreement's.",
        )
    elif row.delivery_mode == DeliveryMode.API and (data.ends_on - start).days > MAX_API_TERM_DAYS:
        errors.add(
            "ends_on",
            f"接口交付的合同期限最长 {MAX_API_TERM_DAYS} 天。",
            f"An API delivery contract runs at most {MAX_API_TERM_DAYS} days.",
        )
    if errors.errors:
        raise refused("sign_contract", target, Invalid(errors=errors.errors))
    _move(
        ctx,
        row,
        (CS.APPLIED,),
        "sign_contract",
        status=CS.ACTIVE,
        price_cents=data.price_cents,
        starts_on=start,
        ends_on=data.ends_on,
        signed_by=ctx.actor.label,
    )
    if row.delivery_mode == DeliveryMode.API:
        try:
            code, grant_id = _issue_grant(ctx, row, product, (data.ends_on - start).days)
        except ShuzhiError as err:
            if isinstance(err, Invalid) or err.after_rollback is None:
                raise refused("sign_contract", target, err) from None
            raise
        row.application_code, row.grant_id = code, grant_id
        row.resource_code = _delivery_resource(product)
        ctx.db.flush()
    record(
        ctx,
        ContractSigned(
            **_event_fields(row, row.operator_unit_id),  # type: ignore[arg-type]
            price_cents=data.price_cents,
            ends_on=data.ends_on.isoformat(),
            grant_id=row.grant_id,
        ),
    )
    return contract_out(ctx, row)


def decline_contract(ctx: Ctx, contract_id: int, reason: str) -> ContractOut:
    row = _contract_row(ctx, contract_id)
    require(ctx, "sign_contract", row.operator_unit_id, target=f"contract:{contract_id}")
    _move(ctx, row, (CS.APPLIED,), "decline_contract", status=CS.DECLINED, end_reason=reason)
    record(
        ctx,
        ContractDeclined(**_event_fields(row, row.operator_unit_id), reason=reason[:500]),  # type: ignore[arg-type]
    )
    return contract_out(ctx, row)


def _revoke_grant(ctx: Ctx, row: Contract, reason: str) -> None:
    if row.grant_id is None:
        return
    with _as_platform(ctx):
        grant = sharing.get_grant(ctx, row.grant_id)
        if grant.status == "active":
            sharing.revoke_grant(ctx, row.grant_id, f"交易合同 {row.id} 已终止：{reason}")


def end_contract(ctx: Ctx, contract_id: int, reason: str) -> ContractOut:
    """End an active contract early: its gateway grant is revoked in the same transaction,
    so the buyer's key is refused from the next call."""
    row = _contract_row(ctx, contract_id)
    require(ctx, "end_contract", row.operator_unit_id, target=f"contract:{contract_id}")
    _move(ctx, row, (CS.ACTIVE,), "end_contract", status=CS.ENDED, end_reason=reason)
    _revoke_grant(ctx, row, reason)
    record(
        ctx,
        ContractEnded(**_event_fields(row, row.operator_unit_id), reason=reason[:500]),  # type: ignore[arg-type]
    )
    return contract_out(ctx, row)


def expire_contracts(ctx: Ctx, on: date | None = None) -> list[int]:
    """Contracts whose term is over end (their grants have expired with them)."""
    require(ctx, "expire_contracts")
    day = on or today()
    ended = []
    rows = ctx.db.scalars(
        select(Contract).where(Contract.status == CS.ACTIVE, Contract.ends_on < day)
    ).all()
    for row in rows:
        _move(ctx, row, (CS.ACTIVE,), "expire_contracts", status=CS.ENDED, end_reason="expired")
        _revoke_grant(ctx, row, "expired")
        record(ctx, ContractEnded(**_event_fields(row, row.operator_unit_id), reason="expired"))  # type: ignore[arg-type]
        ended.append(row.id)
    return ended


def _in_term(ctx: Ctx, row: Contract, op: str) -> None:
    if row.status != CS.ACTIVE or row.ends_on is None or row.ends_on < today():
        raise conflict(
            op,
            f"contract:{row.id}",
            "合同不在有效期内，不能交付。",
            "The contract is not in force; nothing can be delivered under it.",
        )


def create_delivery_key(ctx: Ctx, contract_id: int) -> DeliveryKey:
    """The buyer's application key bound to the contract (expiring with it): shown once."""
    row = _contract_row(ctx, contract_id)
    target = f"contract:{contract_id}"
    require(ctx, "create_delivery_key", row.buyer_unit_id, target=target)
    _in_term(ctx, row, "create_delivery_key")
    if row.application_code is None or row.resource_code is None or row.ends_on is None:
        raise conflict(
            "create_delivery_key",
            target,
            "该合同以文件方式交付，没有接口密钥。",
            "The contract is delivered as a file; it has no API key.",
        )
    days = max(1, (row.ends_on - today()).days)
    with _as_platform(ctx):
        created = apps.create_app_key(
            ctx,
            row.application_code,
            AppKeyIn(label=f"交易合同 {row.id}", expires_in_days=min(days, 730)),
        )
    row.delivered_at = row.delivered_at or utcnow()
    ctx.db.flush()
    record(
        ctx,
        DeliveryKeyIssued(**_event_fields(row, row.buyer_unit_id), prefix=created.prefix),  # type: ignore[arg-type]
    )
    return DeliveryKey(
        contract_id=row.id,
        application_code=row.application_code,
        resource_code=row.resource_code,
        prefix=created.prefix,
        token=created.token,
        expires_at=created.expires_at,
        endpoint=f"/api/v1/share/{row.resource_code}/records",
    )


def record_file_delivery(ctx: Ctx, contract_id: int, data: FileDeliveryIn) -> ContractOut:
    """The operator records the file handed over (its name and SHA-256)."""
    row = _contract_row(ctx, contract_id)
    target = f"contract:{contract_id}"
    require(ctx, "record_file_delivery", row.operator_unit_id, target=target)
    _in_term(ctx, row, "record_file_delivery")
    if row.delivery_mode != DeliveryMode.FILE:
        raise conflict(
            "record_file_delivery",
            target,
            "该合同以接口方式交付。",
            "The contract is delivered through the API.",
        )
    row.file_name, row.file_sha256, row.delivered_at = data.file_name, data.sha256, utcnow()
    ctx.db.flush()
    record(
        ctx,
        FileDelivered(
            **_event_fields(row, row.operator_unit_id),  # type: ignore[arg-type]
            file_name=data.file_name,
            sha256=data.sha256,
        ),
    )
    return contract_out(ctx, row)


def _next_filing(ctx: Ctx, now: datetime) -> str:
    stem = f"{FILING_PREFIX}-{now.year}-"
    count = ctx.db.scalar(
        select(func.count(Contract.id)).where(Contract.filing_number.like(f"{stem}%"))
    )
    return f"{stem}{(count or 0) + 1:06d}"


def file_transaction(ctx: Ctx, contract_id: int) -> ContractOut:
    """交易备案: a signed contract is filed with the bureau once, with a filing number."""
    row = _contract_row(ctx, contract_id)
    target = f"contract:{contract_id}"
    require(ctx, "file_transaction", row.operator_unit_id, target=target)
    if row.status not in (CS.ACTIVE, CS.ENDED) or row.filing_number is not None:
        raise conflict(
            "file_transaction",
            target,
            "只有已签订且未备案的合同可以备案。",
            "Only a signed contract that has not been filed can be filed.",
        )
    now = utcnow()
    number = _next_filing(ctx, now)
    if not compare_and_set(
        ctx.db,
        row,
        Contract.filing_number.is_(None),
        filing_number=number,
        filed_at=now,
        filed_by=ctx.actor.label,
    ):
        raise conflict(
            "file_transaction", target, "合同已备案。", "The contract has already been filed."
        )
    try:
        ctx.db.flush()
    except IntegrityError:
        raise conflict(
            "file_transaction",
            target,
            "备案编号冲突，请重试。",
            "Another filing took the number at the same time; retry.",
        ) from None
    record(
        ctx,
        TransactionFiled(**_event_fields(row, row.operator_unit_id), filing_number=number),  # type: ignore[arg-type]
    )
    return contract_out(ctx, row)


def evaluate_contract(ctx: Ctx, contract_id: int, data: EvaluationIn) -> ContractOut:
    """The buyer evaluates a delivered contract, once."""
    row = _contract_row(ctx, contract_id)
    target = f"contract:{contract_id}"
    require(ctx, "evaluate_contract", row.buyer_unit_id, target=target)
    if row.delivered_at is None or row.rating is not None:
        raise conflict(
            "evaluate_contract",
            target,
            "只能对已交付且尚未评价的合同评价一次。",
            "A contract is evaluated once, after delivery.",
        )
    if not compare_and_set(
        ctx.db,
        row,
        Contract.rating.is_(None),
        rating=data.rating,
        evaluation=data.comment,
        evaluated_at=utcnow(),
    ):
        raise conflict(
            "evaluate_contract", target, "合同已评价。", "The contract is already evaluated."
        )
    record(
        ctx,
        ContractEvaluated(**_event_fields(row, row.buyer_unit_id), rating=data.rating),  # type: ignore[arg-type]
    )
    return contract_out(ctx, row)


def list_contracts(ctx: Ctx, status: ContractStatus | None = None) -> list[ContractOut]:
    """Contracts the actor may see: the region's, or those its unit sells or buys."""
    unit = scope_unit(ctx, "view_contracts")
    query = select(Contract).order_by(Contract.id)
    if status is not None:
        query = query.where(Contract.status == status)
    if unit is not None:
        query = query.where(or_(Contract.operator_unit_id == unit, Contract.buyer_unit_id == unit))
    return [contract_out(ctx, r) for r in ctx.db.scalars(query)]


def get_contract(ctx: Ctx, contract_id: int) -> ContractOut:
    row = _contract_row(ctx, contract_id)
    unit = scope_unit(ctx, "view_contracts")
    if unit is not None and unit not in (row.operator_unit_id, row.buyer_unit_id):
        require(ctx, "view_contracts", row.operator_unit_id, target=f"contract:{contract_id}")
    return contract_out(ctx, row)


# ---------------------------------------------------------------- revenue


def _line(key: str, name: str, n: int, cents: int, owed: int) -> RevenueLine:
    return RevenueLine(key=key, name=name, contracts=n, revenue_cents=cents, share_owed_cents=owed)


def market_revenue(ctx: Ctx, year: int | None = None, unit_code: str | None = None) -> Revenue:
    """Signed contracts' prices per product, operator and resource (a product's price split
    evenly over its inputs, the remainder to the first), with the share owed back under
    each agreement (``revenue_share_percent``, rounded down to the fen). An operator sees
    its own unit's; ``unit_code`` narrows the figures to one operator's unit."""
    unit = scope_unit(ctx, "view_market_revenue")
    if unit_code is not None:
        unit = org.unit_id_for_code(ctx, unit_code.strip())
        if unit is None:
            raise Invalid.field(
                "unit_code", f"单位 {unit_code} 不存在。", f"Unit {unit_code} does not exist."
            )
        require(ctx, "view_market_revenue", unit, target=f"unit:{unit_code}")
    query = (
        select(Contract, Product, Agreement)
        .join(Product, Product.id == Contract.product_id)
        .join(Agreement, Agreement.id == Product.agreement_id)
        .where(Contract.status.in_([CS.ACTIVE, CS.ENDED]), Contract.price_cents.is_not(None))
        .order_by(Contract.id)
    )
    if unit is not None:
        query = query.where(Contract.operator_unit_id == unit)
    products: dict[int, list[int]] = {}
    operators: dict[int, list[int]] = {}
    resources: dict[str, list[int]] = {}
    names: dict[int, str] = {}
    total = owed_total = 0
    for contract, product, agreement in ctx.db.execute(query).all():
        if year is not None and (contract.starts_on is None or contract.starts_on.year != year):
            continue
        cents = contract.price_cents or 0
        owed = cents * agreement.revenue_share_percent // 100
        total += cents
        owed_total += owed
        names[product.id] = product.name
        for bucket, key in ((products, product.id), (operators, product.operator_unit_id)):
            line = bucket.setdefault(key, [0, 0, 0])
            line[0] += 1
            line[1] += cents
            line[2] += owed
        inputs = list(product.inputs) or ["-"]
        share, rest = divmod(cents, len(inputs))
        owed_share, owed_rest = divmod(owed, len(inputs))
        for i, code in enumerate(inputs):
            line = resources.setdefault(code, [0, 0, 0])
            line[0] += 1
            line[1] += share + (rest if i == 0 else 0)
            line[2] += owed_share + (owed_rest if i == 0 else 0)
    return Revenue(
        total_cents=total,
        share_owed_cents=owed_total,
        products=[_line(str(k), names[k], *v) for k, v in products.items()],
        operators=[_line(_code(ctx, k), _operator_name(ctx, k), *v) for k, v in operators.items()],
        resources=[_line(k, _resource_name(ctx, k), *v) for k, v in sorted(resources.items())],
    )


def _resource_name(ctx: Ctx, code: str) -> str:
    with _as_platform(ctx):
        try:
            return catalog.get_entry(ctx, code).name
        except ShuzhiError:
            return code


__all__ = [
    "apply_purchase",
    "create_delivery_key",
    "decline_contract",
    "end_contract",
    "evaluate_contract",
    "expire_contracts",
    "file_transaction",
    "get_contract",
    "list_contracts",
    "list_listed_products",
    "listed_product",
    "market_revenue",
    "record_file_delivery",
    "sign_contract",
    "why_not_listed",
]
