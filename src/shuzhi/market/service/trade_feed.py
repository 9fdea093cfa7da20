"""What the books read about listing and trading: the one seam between the ledger's products
and the trades recorded elsewhere in the market.

``products_of_year`` gives each product offered in a year with its fee and its trading
figures; ``trade_totals`` the region's listed and traded products and revenue. Until listing
and trading are recorded on the platform, listed/contracts/revenue read zero; the trading
module fills them here (and nowhere else), so the disclosure and the cockpit follow.
No permission check and no audit record: callers check and record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from shuzhi.context import Ctx
from shuzhi.market.models import (
    Product,
    ProductStatus,
    Registration,
    RegistrationStatus,
)


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
        )
        for p, number in rows
    ]


def trade_totals(ctx: Ctx, year: int) -> TradeTotals:
    """Listed products now, traded products and revenue in ``year`` (zero until trading is
    recorded on the platform)."""
    return TradeTotals()
