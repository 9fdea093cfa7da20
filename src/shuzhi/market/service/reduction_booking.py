"""Booking a reduction of a data asset (``record_asset_reduction``): what is checked and
computed is a plan over the asset's costs and earlier bookings (``plan_reduction``, no
storage), so that every rule is the same whether one booking or a long sequence of them is
tried; the service then stores the row and audits it.

A sale or derecognition takes the whole asset, or a share of what stands that day given as
a fraction (``share``: 0.25, 25 %, 1/4) or as the part's original cost (``share_cost``, in
yuan): the share's cost is the fraction of the cost standing (whole fen, half a fen rounded
up), apportioned among accumulated amortisation, allowance and carrying amount
(``reductions.apportion``). A share whose cost is all the cost standing is the whole asset.
More than what stands (a fraction above 1, a cost above the cost standing) is refused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from fractions import Fraction

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector, Invalid
from shuzhi.market.books_events import AssetReductionRecorded
from shuzhi.market.books_models import (
    AssetReduction,
    AssetUse,
    CostItem,
    DataAsset,
    ReductionKind,
)
from shuzhi.market.books_schemas import ReductionIn, ReductionOut
from shuzhi.market.service.balance import _costs, organisation, parse_amount
from shuzhi.market.service.common import refused, today
from shuzhi.market.service.disclosure import FIRST_YEAR, yuan
from shuzhi.market.service.reductions import (
    apportion,
    leaving,
    parse_share,
    position,
    reduction_out,
    reductions_of,
    share_cost,
)
from shuzhi.validation import required_reason

K = ReductionKind


def _money(text: str, field: str, errors: ErrorCollector) -> int | None:
    try:
        return parse_amount(text)
    except Invalid as err:
        for e in err.errors:
            errors.add(field, e.message.zh, e.message.en)
        return None


def _fields(
    data: ReductionIn, errors: ErrorCollector
) -> tuple[int | None, Fraction | None, int | None, int | None]:
    """(amount, share, share's cost, proceeds) as given, each checked for its kind."""
    amount = share = part = proceeds = None
    leaves = data.kind in (K.SALE, K.DERECOGNITION)
    if not leaves:
        amount = _money(data.amount, "amount", errors)
        if data.share.strip() or data.share_cost.strip():
            errors.add(
                "share",
                "份额只用于出售或终止确认。",
                "A share is given for a sale or derecognition only.",
            )
    elif data.amount.strip():
        errors.add(
            "amount",
            "出售或终止确认按账面价值结转（整体，或所填份额），不填金额。",
            "A sale or derecognition takes the carrying amount (of the whole, or of the share"
            " given); give no amount.",
        )
    if leaves and data.share.strip() and data.share_cost.strip():
        errors.add(
            "share",
            "份额与份额成本只填一项。",
            "Give the share or the share's cost, not both.",
        )
    elif leaves and data.share.strip():
        try:
            share = parse_share(data.share)
        except Invalid as err:
            errors.errors.extend(err.errors)
    elif leaves and data.share_cost.strip():
        part = _money(data.share_cost, "share_cost", errors)
    if data.proceeds.strip() and data.kind != K.SALE:
        errors.add("proceeds", "只有出售才填写处置价款。", "Proceeds are given for a sale only.")
    elif data.proceeds.strip():
        proceeds = _money(data.proceeds, "proceeds", errors)
    return amount, share, part, proceeds


def plan_reduction(
    asset: DataAsset | None,
    code: str,
    items: Sequence[CostItem],
    booked: Sequence[AssetReduction],
    data: ReductionIn,
    on: date,
) -> AssetReduction:
    """The booking ``data`` would make on ``asset`` (costs ``items``, earlier bookings
    ``booked`` in order), checked against its balances that day, ``on`` being today; not
    stored. Raises ``Invalid`` with every problem found."""
    errors = ErrorCollector()
    try:
        reason = required_reason(data.reason, "记录减值、出售或终止确认", "Booking a reduction")
    except Invalid as err:
        errors.errors.extend(err.errors)
        reason = ""
    day = data.booked_on
    if day > on:
        errors.add(
            "booked_on", "入账日期不能晚于今天。", "A booking cannot be dated in the future."
        )
    elif day.year < FIRST_YEAR:
        errors.add(
            "booked_on",
            f"入账日期不能早于 {FIRST_YEAR} 年。",
            f"A booking cannot be dated before {FIRST_YEAR}.",
        )
    amount, share, part, proceeds = _fields(data, errors)
    cost = amortised = allowed = carrying = 0
    whole = False
    if asset is None:
        errors.add(
            "resource_code",
            f"数据资源 {code} 尚未登记为本机构的数据资产。",
            f"Resource {code} is not declared as a data asset of this organisation.",
        )
        raise Invalid(errors=errors.errors)
    gone = leaving(booked)
    last = booked[-1].booked_on if booked else None
    inventory = asset.use == AssetUse.FOR_SALE
    if gone is not None:
        errors.add(
            "kind",
            f"该数据资源已于 {gone.booked_on} 出售或终止确认，不再记录。",
            f"The resource left the books on {gone.booked_on}; nothing more is booked.",
        )
    elif last is not None and day < last:
        errors.add(
            "booked_on",
            f"入账日期不能早于该资源上一笔记录（{last}）。",
            f"The date cannot be before the resource's last booking ({last}).",
        )
    elif data.kind == K.REVERSAL and not inventory:
        errors.add(
            "kind",
            "无形资产减值损失一经确认，在以后会计期间不得转回。",
            "An intangible asset's impairment loss is never reversed.",
        )
    elif data.kind in (K.IMPAIRMENT, K.REVERSAL):
        now = position(asset, items, booked, day)
        if data.kind == K.IMPAIRMENT and amount is not None and amount > now.carrying:
            errors.add(
                "amount",
                f"减值金额超过 {day} 的账面价值 {yuan(now.carrying)} 元。",
                f"The impairment exceeds the carrying amount on {day} (CNY {yuan(now.carrying)}).",
            )
        if data.kind == K.REVERSAL and amount is not None and amount > now.allowance:
            errors.add(
                "amount",
                f"转回金额超过已计提的跌价准备 {yuan(now.allowance)} 元"
                "（转回后账面价值不得高于成本）。",
                f"The reversal exceeds the allowance standing (CNY {yuan(now.allowance)}):"
                " the carrying amount cannot rise above cost.",
            )
    else:
        latest = max((i.incurred_on for i in items), default=None)
        now = position(asset, items, booked, day, with_month=False)
        if latest is not None and day < latest:
            errors.add(
                "booked_on",
                f"出售或终止确认日期不能早于已记录的成本（{latest}）。",
                f"The asset cannot leave the books before a recorded cost ({latest}).",
            )
        elif now.cost <= 0:
            errors.add(
                "kind",
                f"{day} 该数据资源没有资本化的成本，无可终止确认。",
                f"On {day} the resource has no capitalised cost to derecognise.",
            )
        elif part is not None and part > now.cost:
            errors.add(
                "share_cost",
                f"份额成本 {yuan(part)} 元超过 {day} 尚在账上的成本 {yuan(now.cost)} 元，"
                "不能出售或终止确认多于尚在账上的部分。",
                f"The share's cost (CNY {yuan(part)}) exceeds the cost still on the books on"
                f" {day} (CNY {yuan(now.cost)}): no more than what stands can leave.",
            )
        elif share is not None and share_cost(now.cost, share) == 0:
            errors.add(
                "share",
                f"份额过小：不足尚在账上成本 {yuan(now.cost)} 元的一分钱。",
                f"The share is too small: less than one fen of the cost on the books"
                f" (CNY {yuan(now.cost)}).",
            )
        else:
            if share is not None:
                cost = share_cost(now.cost, share)
            elif part is not None:
                cost = part
            else:
                cost = now.cost
            whole = cost == now.cost
            amortised, allowed, carrying = apportion(
                cost, now.amortised, now.allowance, now.carrying
            )
            if not whole and share is None:
                share = Fraction(cost, now.cost)
    if errors.errors:
        raise Invalid(errors=errors.errors)
    leaves = data.kind in (K.SALE, K.DERECOGNITION)
    return AssetReduction(
        asset_id=asset.id,
        kind=data.kind,
        booked_on=day,
        amount_fen=amount if not leaves and amount is not None else carrying,
        cost_fen=cost,
        amortisation_fen=amortised if leaves else None,
        allowance_fen=allowed if leaves else None,
        share=None if whole or share is None else str(share),
        proceeds_fen=proceeds,
        reason=reason,
    )


def record_asset_reduction(
    ctx: Ctx, uscc: str, resource_code: str, data: ReductionIn
) -> ReductionOut:
    """Book an impairment, a reversal, or a sale or derecognition of a declared data asset
    or of a share of it (validated against its balances on that day, audited)."""
    unit = organisation(ctx, uscc)
    code = resource_code.strip()
    target = f"asset:{unit.code}:{code}"
    require(ctx, "record_asset_reduction", unit.id, target=target)
    asset = ctx.db.scalar(
        select(DataAsset).where(DataAsset.unit_id == unit.id, DataAsset.resource_code == code)
    )
    items = _costs(ctx, [asset.id])[asset.id] if asset is not None else []
    booked = reductions_of(ctx, [asset.id])[asset.id] if asset is not None else []
    try:
        row = plan_reduction(asset, code, items, booked, data, today())
    except Invalid as err:
        raise refused("record_asset_reduction", target, err) from None
    assert asset is not None
    row.recorded_by = ctx.actor.label
    ctx.db.add(row)
    ctx.db.flush()
    record(
        ctx,
        AssetReductionRecorded(
            asset_id=asset.id,
            unit=unit.id,
            reduction_id=row.id,
            kind=str(data.kind),
            amount_fen=row.amount_fen,
            booked_on=row.booked_on.isoformat(),
            share=row.share,
            cost_fen=row.cost_fen,
        ),
    )
    return reduction_out(asset, row)
