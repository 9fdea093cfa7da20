"""What the books read about listing and trading: the one seam between the ledger's products
and the trades recorded elsewhere in the market.

``products_of_year`` gives each product offered in a year with its fee and its trading
figures; ``trade_totals`` the region's listed and traded products and revenue. The trading
figures come from the contracts (``service/contracts.py``): a product counts as listed when it
is listed now or had a contract signed in the year; contracts and revenue are those signed
(and not declined) in the year, at their agreed price. No permission check and no audit
record: callers check and record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from shuzhi.context import Ctx
from shuzhi.market.models import (
    Contract,
    ContractStatus,
    Product,
    ProductStatus,
    Registration,
    RegistrationStatus,
)
from shuzhi.market.service.listing import listed_product_ids


@dataclass(frozen=True)
class ProductYear:
    """A product as offered in a year: what the disclosure lists under its operator."""

    product_id: int
    operator_unit_id: int
    agreement_id: int
    name: str
    kind: str
    scenario: str
    delivery_mode: str
    price_cents: int
    fee_standard: str
    registration_number: str | None
    listed: bool = False  # on the market at any time in the year
    contracts: int = 0  # contracts signed in the year
    revenue_fen: int = 0  # revenue of the year, in fen


@dataclass(frozen=True)
class TradeTotals:
    listed: int = 0  # products listed now
    traded: int = 0  # products with at least one contract in the year
    revenue_fen: int = 0  # revenue of the year, in fen


def year_end(year: int) -> datetime:
    return datetime.combine(date(year, 12, 31), time.max, tzinfo=UTC)


def products_of_year(ctx: Ctx, year: int) -> list[ProductYear]:
    """Products that passed their compliance review and existed by the end of ``year``,
    with their registration number (if registered) and trading figures."""
    rows = ctx.db.execute(
        select(Product, Registration.number)
        .outerjoin(
            Registration,
            (Registration.product_id == Product.id)
            & (Registration.status == RegistrationStatus.REGISTERED),
        )
        .where(Product.status == ProductStatus.COMPLIANT, Product.created_at <= year_end(year))
        .order_by(Product.operator_unit_id, Product.id)
    )
    signed = _signed_in(ctx, year)
    listed_now = listed_product_ids(ctx)
    return [
        ProductYear(
            product_id=p.id,
            operator_unit_id=p.operator_unit_id,
            agreement_id=p.agreement_id,
            name=p.name,
            kind=str(p.kind),
            scenario=p.scenario,
            delivery_mode=str(p.delivery_mode),
            price_cents=p.price_cents,
            fee_standard=p.fee_standard,
            registration_number=number,
            listed=p.id in listed_now or p.id in signed,
            contracts=signed.get(p.id, (0, 0))[0],
            revenue_fen=signed.get(p.id, (0, 0))[1],
        )
        for p, number in rows
    ]


def _signed_in(ctx: Ctx, year: int) -> dict[int, tuple[int, int]]:
    """Product → (contracts signed in ``year``, their price in fen)."""
    rows = ctx.db.execute(
        select(Contract.product_id, Contract.price_cents).where(
            Contract.status.in_([ContractStatus.ACTIVE, ContractStatus.ENDED]),
            Contract.starts_on >= date(year, 1, 1),
            Contract.starts_on <= date(year, 12, 31),
        )
    )
    found: dict[int, tuple[int, int]] = {}
    for product_id, cents in rows:
        n, total = found.get(product_id, (0, 0))
        found[product_id] = (n + 1, total + (cents or 0))
    return found


def trade_totals(ctx: Ctx, year: int) -> TradeTotals:
    """Listed products now, products traded and revenue in ``year``."""
    signed = _signed_in(ctx, year)
    return TradeTotals(
        listed=len(listed_product_ids(ctx)),
        traded=len(signed),
        revenue_fen=sum(total for _n, total in signed.values()),
    )
