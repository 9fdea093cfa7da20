"""What takes a data asset's carrying amount down (财会〔2023〕11号, with CAS 1, 6 and 8), as
typed bookings of the organisation itself, and the balances the tables read from them.

* **Impairment** (减值): an intangible asset's impairment allowance (CAS 8) or an inventory's
  write-down allowance (存货跌价准备, CAS 1), with its reason and amount — positive and never
  more than the carrying amount on that day, so the carrying amount never goes below zero.
* **Reversal** (转回): inventory only, at most the allowance standing, so the carrying amount
  never rises above cost. An intangible asset's impairment is never reversed (CAS 8 §17).
* **Sale** (出售/处置) and **derecognition** (失效且终止确认, e.g. the product was withdrawn):
  the asset leaves the books whole — its cost, accumulated amortisation and allowance are
  removed; the carrying amount is inventory's cost of sales (营业成本) on a sale, or for an
  intangible asset set against the proceeds (处置损益); a derecognition is a loss.
* **Amortisation** is computed, not booked: straight-line over the useful life from the month
  after the ready date. An impairment is booked after its month's charge; from the next
  month on, the carrying amount left is spread over the months left (CAS 8 §16), the last
  month taking the rest, so charges and impairments sum to the cost exactly. No charge in
  the month the asset leaves the books (当月减少，当月不再摊销).

Bookings go forward: none is dated before the asset's last one, in the future, or after the
asset left the books; all problems are reported together and nothing is stored when any
is found. Every booking is audited."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from shuzhi.context import Ctx
from shuzhi.market.books_models import (
    AssetReduction,
    AssetUse,
    CostItem,
    DataAsset,
    ReductionKind,
)
from shuzhi.market.books_schemas import ReductionOut
from shuzhi.market.service.disclosure import yuan

K = ReductionKind
LEAVING = (K.SALE, K.DERECOGNITION)


def capitalised(asset: DataAsset, item: CostItem) -> bool:
    """An intangible asset's costs after it was ready for use are expensed as incurred."""
    return not (
        asset.use == AssetUse.OWN_USE
        and asset.ready_on is not None
        and item.incurred_on > asset.ready_on
    )


def cost_fen(asset: DataAsset, items: Sequence[CostItem], until: date | None = None) -> int:
    return sum(
        i.amount_fen
        for i in items
        if capitalised(asset, i) and (until is None or i.incurred_on <= until)
    )


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def leaving(reductions: Sequence[AssetReduction]) -> AssetReduction | None:
    """The sale or derecognition that took the asset off the books, if any."""
    return next((r for r in reductions if r.kind in LEAVING), None)


def allowance(reductions: Sequence[AssetReduction], until: date) -> int:
    """The impairment (write-down) allowance standing at the end of ``until``."""
    return sum(
        r.amount_fen if r.kind == K.IMPAIRMENT else -r.amount_fen
        for r in reductions
        if r.kind in (K.IMPAIRMENT, K.REVERSAL) and r.booked_on <= until
    )


def amortisation(
    asset: DataAsset, items: Sequence[CostItem], reductions: Sequence[AssetReduction] = ()
) -> list[tuple[int, int, int]]:
    """(year, month, fen) charged: straight-line from the month after the ready date over the
    useful life; after an impairment the carrying amount left over the months left; none
    from the month the asset left the books."""
    months = asset.useful_life_months or 0
    if asset.use != AssetUse.OWN_USE or asset.ready_on is None or months <= 0:
        return []
    cost = cost_fen(asset, items)
    impairments = sorted((r.booked_on, r.amount_fen) for r in reductions if r.kind == K.IMPAIRMENT)
    gone = leaving(reductions)
    stop = (gone.booked_on.year, gone.booked_on.month) if gone is not None else None
    lines: list[tuple[int, int, int]] = []
    charged = impaired = applied = share = 0
    year, month = _next_month(asset.ready_on.year, asset.ready_on.month)
    for n in range(months):
        if stop is not None and (year, month) >= stop:
            break
        fresh = n == 0
        while applied < len(impairments) and (
            impairments[applied][0].year,
            impairments[applied][0].month,
        ) < (year, month):
            impaired += impairments[applied][1]
            applied += 1
            fresh = True
        left = cost - charged - impaired
        if fresh:
            share = left // (months - n)
        fen = left if n == months - 1 else share
        lines.append((year, month, fen))
        charged += fen
        year, month = _next_month(year, month)
    return lines


@dataclass(frozen=True)
class Position:
    """An asset's balances at the end of a day, in fen."""

    cost: int
    amortised: int
    allowance: int

    @property
    def carrying(self) -> int:
        return self.cost - self.amortised - self.allowance


def position(
    asset: DataAsset,
    items: Sequence[CostItem],
    reductions: Sequence[AssetReduction],
    on: date,
    *,
    with_month: bool = True,
) -> Position:
    """The balances at the end of ``on`` as booked so far (the asset still on the books).
    ``with_month``: the month of ``on`` has been charged (an impairment is booked after it;
    an asset leaving the books is not charged for that month)."""
    key = (on.year, on.month)
    return Position(
        cost=cost_fen(asset, items, on),
        amortised=sum(
            fen
            for y, m, fen in amortisation(asset, items, reductions)
            if (y, m) < key or (with_month and (y, m) == key)
        ),
        allowance=allowance(reductions, on),
    )


def reductions_of(ctx: Ctx, asset_ids: list[int]) -> dict[int, list[AssetReduction]]:
    found: dict[int, list[AssetReduction]] = {i: [] for i in asset_ids}
    if asset_ids:
        rows = ctx.db.scalars(
            select(AssetReduction)
            .where(AssetReduction.asset_id.in_(asset_ids))
            .order_by(AssetReduction.booked_on, AssetReduction.id)
        )
        for row in rows:
            found[row.asset_id].append(row)
    return found


def reduction_out(asset: DataAsset, row: AssetReduction) -> ReductionOut:
    inventory = asset.use == AssetUse.FOR_SALE
    gain: int | None = None
    if row.kind == K.SALE and row.proceeds_fen is not None:
        gain = row.proceeds_fen - row.amount_fen
    elif row.kind == K.DERECOGNITION:
        gain = -row.amount_fen
    return ReductionOut(
        id=row.id,
        asset_id=asset.id,
        resource_code=asset.resource_code,
        name=asset.name,
        asset_class="inventory" if inventory else "intangible",
        kind=row.kind,
        booked_on=row.booked_on,
        amount=yuan(row.amount_fen),
        cost_removed=yuan(row.cost_fen),
        proceeds=yuan(row.proceeds_fen) if row.proceeds_fen is not None else None,
        cost_of_sales=yuan(row.amount_fen) if inventory and row.kind == K.SALE else None,
        gain_or_loss=yuan(gain) if gain is not None and not inventory else None,
        reason=row.reason,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )
