"""What takes a data asset's carrying amount down (财会〔2023〕11号, with CAS 1, 6 and 8), as
typed bookings of the organisation itself, and the balances the tables read from them.

* **Impairment** (减值): an intangible asset's impairment allowance (CAS 8) or an inventory's
  write-down allowance (存货跌价准备, CAS 1), with its reason and amount — positive and never
  more than the carrying amount on that day, so the carrying amount never goes below zero.
* **Reversal** (转回): inventory only, at most the allowance standing, so the carrying amount
  never rises above cost. An intangible asset's impairment is never reversed (CAS 8 §17).
* **Sale** (出售/处置) and **derecognition** (失效且终止确认, e.g. the product was withdrawn), of
  the whole asset or of a share of it (copies, licences or a part of the records sold; a part
  disposed of): the share of what stands that day — a fraction, or the part's original cost —
  takes that share of the cost, and the cost is apportioned in whole fen among the
  accumulated amortisation, the allowance and the carrying amount (``apportion``: the largest
  remainders take the odd fen), so no balance ever goes below zero and the whole asset's
  last share takes exactly what is left. The carrying amount removed is inventory's cost of
  sales (营业成本) on a sale, or for an intangible asset set against the proceeds (处置损益); a
  derecognition is a loss. The whole asset leaving ends its life on the books.
* **Amortisation** is computed, not booked: straight-line over the useful life from the month
  after the ready date. An impairment is booked after its month's charge; from the next
  month on, the carrying amount left is spread over the months left (CAS 8 §16), the last
  month taking the rest. A share disposed of is not charged in its month (当月减少，当月不再
  摊销): from that month on the carrying amount that remains is spread over the months left
  (an impairment of the same month, booked before the disposal, counts from then too), so
  charges, impairments and the parts removed always sum to the cost exactly.

Bookings go forward: none is dated before the asset's last one, in the future, or after the
asset left the books; all problems are reported together and nothing is stored when any
is found. Every booking is audited."""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import select

from shuzhi.context import Ctx
from shuzhi.errors import Invalid
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
# A share as typed: a decimal fraction (0.25), a percentage (25%), or a ratio (1/4).
_DECIMAL = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,9})?$")
_PERCENT = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,6})?%$")
_RATIO = re.compile(r"^[0-9]{1,12}/[0-9]{1,12}$")


def capitalised_on(asset: DataAsset, day: date) -> bool:
    """An intangible asset's costs after it was ready for use are expensed as incurred."""
    return not (
        asset.use == AssetUse.OWN_USE and asset.ready_on is not None and day > asset.ready_on
    )


def capitalised(asset: DataAsset, item: CostItem) -> bool:
    return capitalised_on(asset, item.incurred_on)


def cost_fen(asset: DataAsset, items: Sequence[CostItem], until: date | None = None) -> int:
    """The capitalised cost recorded (up to ``until``), before anything was disposed of."""
    return sum(
        i.amount_fen
        for i in items
        if capitalised(asset, i) and (until is None or i.incurred_on <= until)
    )


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _month(day: date) -> tuple[int, int]:
    return day.year, day.month


def is_whole(row: AssetReduction) -> bool:
    """A sale or derecognition of the whole asset (every one booked before shares existed)."""
    return row.kind in LEAVING and row.share is None


def leaving(reductions: Sequence[AssetReduction]) -> AssetReduction | None:
    """The sale or derecognition that took the whole asset off the books, if any."""
    return next((r for r in reductions if is_whole(r)), None)


def disposals(reductions: Sequence[AssetReduction], until: date) -> list[AssetReduction]:
    """The sales and derecognitions (whole or of a share) booked up to ``until``."""
    return [r for r in reductions if r.kind in LEAVING and r.booked_on <= until]


def allowance(reductions: Sequence[AssetReduction], until: date) -> int:
    """The impairment (write-down) allowance standing at the end of ``until``: impairments
    less reversals and the allowance removed with each share disposed of (all of it when
    the whole asset left)."""
    standing = 0
    for r in reductions:
        if r.booked_on > until:
            continue
        if r.kind == K.IMPAIRMENT:
            standing += r.amount_fen
        elif r.kind == K.REVERSAL:
            standing -= r.amount_fen
        elif is_whole(r):
            standing = 0
        else:
            standing -= r.allowance_fen or 0
    return standing


def parse_share(text: str) -> Fraction:
    """A share as typed — ``0.25``, ``25%``, ``1/4`` (full-width characters too) — exactly;
    refused unless above 0 and at most 1 (the whole of what stands)."""
    value = unicodedata.normalize("NFKC", str(text)).strip().replace(" ", "")
    share: Fraction | None = None
    if _PERCENT.match(value):
        share = Fraction(Decimal(value[:-1])) / 100
    elif _RATIO.match(value):
        top, bottom = (int(n) for n in value.split("/"))
        share = Fraction(top, bottom) if bottom else None
    elif _DECIMAL.match(value):
        share = Fraction(Decimal(value))
    if share is None:
        raise Invalid.field(
            "share",
            "份额须写成小数（0.25）、百分比（25%）或分数（1/4）。",
            "Give the share as a fraction (0.25), a percentage (25%) or a ratio (1/4).",
        )
    if not 0 < share <= 1:
        raise Invalid.field(
            "share",
            "份额须大于 0 且不超过 1（100%）：不能出售或终止确认多于尚在账上的部分。",
            "The share must be above 0 and at most 1 (100%): no more than what is still on"
            " the books can be sold or derecognised.",
        )
    return share


def share_cost(cost: int, share: Fraction) -> int:
    """The share's original cost in whole fen (half a fen rounded up), exactly."""
    return (2 * cost * share.numerator + share.denominator) // (2 * share.denominator)


def apportion(part: int, amortised: int, impaired: int, carrying: int) -> tuple[int, int, int]:
    """Split a part's cost (at most the cost standing = amortised + impaired + carrying) in
    proportion among accumulated amortisation, allowance and carrying amount, in whole fen:
    each takes the whole fen of its share, and the fen left go to the largest remainders
    (ties to the carrying amount, then the allowance). No piece exceeds its balance, the
    pieces sum to ``part``, and the whole cost takes every balance exactly."""
    whole = amortised + impaired + carrying
    if whole <= 0 or part <= 0:
        return 0, 0, 0
    balances = (carrying, impaired, amortised)
    floors = [b * part // whole for b in balances]
    rests = [b * part % whole for b in balances]
    for i in sorted(range(3), key=lambda i: -rests[i])[: part - sum(floors)]:
        floors[i] += 1
    carried, allowed, charged = floors
    return charged, allowed, carried


def amortisation(
    asset: DataAsset, items: Sequence[CostItem], reductions: Sequence[AssetReduction] = ()
) -> list[tuple[int, int, int]]:
    """(year, month, fen) charged: straight-line from the month after the ready date over the
    useful life; after an impairment, or a share disposed of, the carrying amount left over
    the months left; none from the month the whole asset left the books."""
    months = asset.useful_life_months or 0
    if asset.use != AssetUse.OWN_USE or asset.ready_on is None or months <= 0:
        return []
    events = list(reductions)
    cost = cost_fen(asset, items)
    lines: list[tuple[int, int, int]] = []
    charged = impaired = done = share = 0
    year, month = _next_month(asset.ready_on.year, asset.ready_on.month)
    for n in range(months):
        # Every booking of an earlier month applies now; in this month, every booking up
        # to its last disposal (the charge is on what remains after it).
        upto = done
        for i in range(done, len(events)):
            here = _month(events[i].booked_on)
            if here < (year, month) or (here == (year, month) and events[i].kind in LEAVING):
                upto = i + 1
            elif here > (year, month):
                break
        fresh = n == 0 or upto > done
        for r in events[done:upto]:
            if r.kind == K.IMPAIRMENT:
                impaired += r.amount_fen
            elif r.kind == K.REVERSAL:
                impaired -= r.amount_fen
            elif is_whole(r):
                return lines
            else:
                cost -= r.cost_fen
                charged -= r.amortisation_fen or 0
                impaired -= r.allowance_fen or 0
        done = upto
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


def standing(
    asset: DataAsset,
    items: Sequence[CostItem],
    reductions: Sequence[AssetReduction],
    lines: Sequence[tuple[int, int, int]],
    on: date,
    *,
    with_month: bool = True,
) -> Position:
    """The balances at the end of ``on`` from the amortisation ``lines`` and the bookings up
    to that day, every part disposed of taken out; nothing once the whole asset left.
    ``with_month``: the month of ``on`` has been charged (an impairment is booked after it;
    a disposal is not charged for that month)."""
    gone = leaving(reductions)
    if gone is not None and gone.booked_on <= on:
        return Position(0, 0, 0)
    key = _month(on)
    parts = disposals(reductions, on)
    return Position(
        cost=cost_fen(asset, items, on) - sum(r.cost_fen for r in parts),
        amortised=sum(fen for y, m, fen in lines if (y, m) < key or (with_month and (y, m) == key))
        - sum(r.amortisation_fen or 0 for r in parts),
        allowance=allowance(reductions, on),
    )


def position(
    asset: DataAsset,
    items: Sequence[CostItem],
    reductions: Sequence[AssetReduction],
    on: date,
    *,
    with_month: bool = True,
) -> Position:
    """The balances at the end of ``on`` as booked so far (see ``standing``)."""
    lines = amortisation(asset, items, reductions)
    return standing(asset, items, reductions, lines, on, with_month=with_month)


def removed(
    row: AssetReduction,
    reductions: Sequence[AssetReduction],
    lines: Sequence[tuple[int, int, int]],
) -> tuple[int, int]:
    """(accumulated amortisation, allowance) a sale or derecognition took out: as stored;
    for a whole disposal booked before shares existed, everything charged and standing."""
    if row.amortisation_fen is not None and row.allowance_fen is not None:
        return row.amortisation_fen, row.allowance_fen
    before = [r for r in reductions if r is not row and r.booked_on <= row.booked_on]
    return sum(fen for *_ym, fen in lines), allowance(before, row.booked_on)


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


def share_percent(share: str | None) -> Decimal | None:
    """A stored share (``"1/4"``) as a percentage with two decimals (25.00)."""
    if share is None:
        return None
    exact = Fraction(share)
    return (Decimal(exact.numerator * 100) / exact.denominator).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )


def reduction_out(
    asset: DataAsset,
    row: AssetReduction,
    parts: tuple[int, int] | None = None,
) -> ReductionOut:
    """The booking as shown; ``parts``: the amortisation and allowance it removed, when not
    stored (a whole disposal booked before shares existed)."""
    inventory = asset.use == AssetUse.FOR_SALE
    leaves = row.kind in LEAVING
    gain: int | None = None
    if row.kind == K.SALE and row.proceeds_fen is not None:
        gain = row.proceeds_fen - row.amount_fen
    elif row.kind == K.DERECOGNITION:
        gain = -row.amount_fen
    if leaves and row.amortisation_fen is not None and row.allowance_fen is not None:
        parts = (row.amortisation_fen, row.allowance_fen)
    return ReductionOut(
        id=row.id,
        asset_id=asset.id,
        resource_code=asset.resource_code,
        name=asset.name,
        asset_class="inventory" if inventory else "intangible",
        kind=row.kind,
        booked_on=row.booked_on,
        share=row.share if leaves else None,
        share_percent=share_percent(row.share) if leaves else None,
        whole=is_whole(row),
        amount=yuan(row.amount_fen),
        cost_removed=yuan(row.cost_fen),
        amortisation_removed=yuan(parts[0]) if leaves and parts is not None else None,
        allowance_removed=yuan(parts[1]) if leaves and parts is not None else None,
        proceeds=yuan(row.proceeds_fen) if row.proceeds_fen is not None else None,
        cost_of_sales=yuan(row.amount_fen) if inventory and row.kind == K.SALE else None,
        gain_or_loss=yuan(gain) if gain is not None and not inventory else None,
        reason=row.reason,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )
