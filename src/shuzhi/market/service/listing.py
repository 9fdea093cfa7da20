"""Listing (挂牌): "无登记不交易、无合规不上架".

A product is listed while it is compliant, its registration is in effect (the public notice
passed with no open objection, the record confirmed and not cancelled or past its validity)
and every input is still covered by its agreement. Only a listed product can be applied
for and signed (``contracts``). Anyone may read the listing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from shuzhi.context import Ctx
from shuzhi.errors import NotFound
from shuzhi.market.models import (
    Objection,
    ObjectionStatus,
    Party,
    Product,
    ProductStatus,
    Registration,
    RegistrationStatus,
)
from shuzhi.market.service.agreements import why_not_covered
from shuzhi.market.service.common import today
from shuzhi.market.trade_schemas import ListedProduct, Listing
from shuzhi.org import service as org


def yuan(cents: int) -> str:
    return f"¥{cents // 100:,}.{cents % 100:02d}"


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


__all__ = [
    "list_listed_products",
    "listed_product",
    "why_not_listed",
]
