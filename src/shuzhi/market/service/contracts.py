"""Trading (交易): contracts for listed products, their delivery, filing and evaluation.

A buyer is an approved market party; the operator signs a contract with a price and a term
(starting on the day it is signed). An API product is delivered through the sharing
gateway: signing issues a grant to the buyer's application for the product's own output
(``service.output``; never one of its inputs) that expires with the contract, and the buyer
takes an application key bound to it; ending the contract revokes the grant, so the key is
refused at once. A file contract's buyer downloads the output as CSV
(``output.download_product_file``); a file handed over otherwise is recorded with its
SHA-256. The operator files the transaction (交易备案)
and the buyer evaluates it."""

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
    Contract,
    ContractStatus,
    DeliveryMode,
    Party,
    PartyStatus,
    Product,
    Registration,
)
from shuzhi.market.service.common import (
    agreement_row,
    conflict,
    invalid,
    product_row,
    refused,
    today,
)
from shuzhi.market.service.listing import _registration_of, why_not_listed
from shuzhi.market.service.products import api_delivery_problems
from shuzhi.market.trade_schemas import (
    ContractOut,
    DeliveryKey,
    EvaluationIn,
    FileDeliveryIn,
    PurchaseIn,
    SignIn,
)
from shuzhi.org import service as org
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service as sharing
from shuzhi.sharing.schemas import AppKeyIn, ApplicationIn, DecisionIn, RequestCreate

FILING_PREFIX = "SZJY"
MAX_API_TERM_DAYS = 730  # an application key lives at most two years
CS = ContractStatus


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
        downloads=row.downloads or 0,
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
    """The resource the gateway serves for an API product: its own output, never an input
    (a product with no output yet is not signed for API delivery)."""
    assert product.output_resource_code is not None
    return product.output_resource_code


def _no_output(product: Product) -> tuple[str, str] | None:
    if product.output_resource_code is not None:
        return None
    return (
        f"数据产品「{product.name}」尚未形成产品结果（沙箱发布或运营机构加载的结果），"
        "不能以接口方式交付。",
        f"Data product '{product.name}' has no output of its own yet (a sandbox release or"
        " a result the operator loaded); it cannot be delivered through the API.",
    )


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
    if row.delivery_mode == DeliveryMode.API:
        problem = _no_output(product)
        if problem is None:
            with _as_platform(ctx):
                problem = api_delivery_problems(ctx, _delivery_resource(product))
        if problem is not None:
            errors.add("delivery_mode", *problem)
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
    "record_file_delivery",
    "sign_contract",
]
