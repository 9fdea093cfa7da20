"""Data resources on the balance sheet (数据资产入表), computed by the platform for an operator
or a state-owned enterprise from the costs it records, following the Ministry of Finance's
《企业数据资源相关会计处理暂行规定》 (财会〔2023〕11号).

* Each data resource is declared with its use: held for own use or to provide services →
  intangible asset (无形资产, CAS 6); held for sale in ordinary activities → inventory (存货,
  CAS 1). A resource is known when one of the organisation's agreements authorised it or the
  organisation holds its registration in the ledger.
* Cost items (collection, cleaning, desensitisation, quality assessment, registration,
  compliance review, labour) carry a date (never in the future), a positive amount in fen
  (entered as yuan with at most two decimals, parsed exactly), the allocation basis and who
  recorded them. For an intangible asset, costs up to the day it is ready for its intended
  use are capitalised; later ones are expensed as incurred.
* Intangible assets are amortised straight-line, monthly, over the declared useful life,
  from the month after they are ready for use. Every month but the last carries the
  whole-fen share; the last carries the rest, so the schedule sums to the cost exactly.
* The disclosure tables computed from these, and their workbook: ``balance_tables``.

Every figure is the platform's computation, never an audited statement; the page and the
file say so."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector, Invalid, NotFound
from shuzhi.market.books_events import (
    CostItemRecorded,
    DataAssetDeclared,
)
from shuzhi.market.books_models import (
    AssetOrigin,
    AssetReduction,
    AssetUse,
    CostItem,
    DataAsset,
)
from shuzhi.market.books_schemas import (
    AssetIn,
    AssetOut,
    CostItemIn,
    CostItemOut,
)
from shuzhi.market.models import (
    Agreement,
    AgreementResource,
    AgreementStatus,
    Party,
    PartyStatus,
    Registration,
    RegistrationStatus,
    SubjectKind,
)
from shuzhi.market.service.common import refused, today
from shuzhi.market.service.disclosure import FIRST_YEAR, yuan
from shuzhi.market.service.reductions import (
    LEAVING,
    amortisation,
    capitalised,
    capitalised_on,
    cost_fen,
    leaving,
    reductions_of,
)
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitBrief

MAX_FEN = 10**14  # one trillion yuan: far above any data resource's cost
_AMOUNT = re.compile(r"^[0-9]{1,13}(?:\.[0-9]{1,2})?$")
ORIGINS = (AssetOrigin.PURCHASED, AssetOrigin.DEVELOPED, AssetOrigin.OTHER)


def asset_class(use: AssetUse) -> str:
    """财会〔2023〕11号: held for sale → inventory (存货); otherwise intangible (无形资产)."""
    return "inventory" if use == AssetUse.FOR_SALE else "intangible"


def parse_amount(text: str) -> int:
    """Yuan as typed (``"1234.5"``, full-width digits too) → fen, exactly; refused unless a
    positive amount with at most two decimal places."""
    value = unicodedata.normalize("NFKC", str(text)).strip()
    if not _AMOUNT.match(value):
        raise Invalid.field(
            "amount",
            "金额须为正数（元），最多两位小数，例如 12800.50。",
            "The amount is a positive number of yuan with at most two decimals, e.g. 12800.50.",
        )
    try:
        fen = int(Decimal(value) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise Invalid.field("amount", "金额无法识别。", "The amount cannot be read.") from None
    if fen <= 0 or fen > MAX_FEN:
        raise Invalid.field(
            "amount",
            "金额须大于 0 且不超过 1 万亿元。",
            "The amount must be above 0 and at most one trillion yuan.",
        )
    return fen


def organisation(ctx: Ctx, uscc: str) -> UnitBrief:
    """The organisation with this unified social credit code: an approved market party's
    unit, or a unit that holds the code (a state-owned enterprise)."""
    code = unicodedata.normalize("NFKC", uscc).strip().upper()
    unit_id = ctx.db.scalar(
        select(Party.unit_id).where(
            Party.uscc == code,
            Party.status.in_((PartyStatus.APPROVED, PartyStatus.SUSPENDED)),
            Party.unit_id.is_not(None),
        )
    )
    brief = org.unit_brief(ctx, unit_id) if unit_id is not None else None
    if brief is None:
        brief = next((u for u in org.all_unit_briefs(ctx) if (u.uscc or "") == code), None)
    if brief is None:
        raise NotFound(
            f"没有统一社会信用代码为 {code} 的机构。",
            f"No organisation has the unified social credit code {code}.",
        )
    return brief


def uscc_of_unit(ctx: Ctx, unit_id: int | None) -> str | None:
    """The code an organisation's books go by: its approved party's, else its own."""
    if unit_id is None:
        return None
    code = ctx.db.scalar(
        select(Party.uscc)
        .where(
            Party.unit_id == unit_id,
            Party.status.in_((PartyStatus.APPROVED, PartyStatus.SUSPENDED)),
        )
        .order_by(Party.id)
        .limit(1)
    )
    if code is not None:
        return code
    brief = org.unit_brief(ctx, unit_id)
    return brief.uscc if brief else None


def known_resource(ctx: Ctx, unit_id: int, resource_code: str) -> bool:
    """One of the organisation's agreements (once in force) authorised the resource, or the
    organisation holds its registration."""
    authorised = ctx.db.scalar(
        select(AgreementResource.id)
        .join(Agreement, Agreement.id == AgreementResource.agreement_id)
        .where(
            Agreement.operator_unit_id == unit_id,
            Agreement.status.not_in((AgreementStatus.DRAFT, AgreementStatus.APPROVED)),
            AgreementResource.resource_code == resource_code,
        )
        .limit(1)
    )
    if authorised is not None:
        return True
    held = ctx.db.scalar(
        select(Registration.id)
        .where(
            Registration.subject_kind == SubjectKind.RESOURCE,
            Registration.resource_code == resource_code,
            Registration.holder_unit_id == unit_id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .limit(1)
    )
    return held is not None


def _costs(ctx: Ctx, asset_ids: list[int]) -> dict[int, list[CostItem]]:
    found: dict[int, list[CostItem]] = {i: [] for i in asset_ids}
    if asset_ids:
        rows = ctx.db.scalars(
            select(CostItem)
            .where(CostItem.asset_id.in_(asset_ids))
            .order_by(CostItem.incurred_on, CostItem.id)
        )
        for row in rows:
            found[row.asset_id].append(row)
    return found


def _next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def schedule(cost: int, months: int, ready_on: date) -> Iterator[tuple[int, int, int]]:
    """(year, month, fen) of a straight-line amortisation: ``months`` months from the month
    after ``ready_on``; the whole-fen share each month and the rest in the last, so the
    amounts sum to ``cost`` exactly."""
    if months <= 0:
        raise ValueError("a useful life has at least one month")
    share = cost // months
    year, month = _next_month(ready_on)
    for n in range(months):
        yield year, month, share if n < months - 1 else cost - share * (months - 1)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _schedule_of(
    asset: DataAsset, items: list[CostItem], reductions: list[AssetReduction] | None = None
) -> list[tuple[int, int, int]]:
    """The asset's amortisation: ``schedule`` while nothing reduced it; after an impairment
    or once it left the books, as ``reductions.amortisation`` computes it."""
    return amortisation(asset, items, reductions or [])


def _asset_out(
    ctx: Ctx,
    asset: DataAsset,
    items: list[CostItem],
    reductions: list[AssetReduction] | None = None,
) -> AssetOut:
    gone = leaving(reductions or [])
    parted = sum(r.cost_fen for r in reductions or [] if r.kind in LEAVING)
    unit = org.unit_brief(ctx, asset.unit_id)
    return AssetOut(
        id=asset.id,
        unit_code=unit.code if unit else "",
        resource_code=asset.resource_code,
        name=asset.name,
        use=asset.use,
        asset_class=asset_class(asset.use),
        origin=asset.origin,
        useful_life_months=asset.useful_life_months,
        ready_on=asset.ready_on,
        cost=yuan(cost_fen(asset, items)),
        cost_on_books=yuan(0 if gone is not None else cost_fen(asset, items) - parted),
        declared_by=asset.declared_by,
        left_books_on=gone.booked_on if gone is not None else None,
    )


def _cost_out(asset: DataAsset, item: CostItem) -> CostItemOut:
    return CostItemOut(
        id=item.id,
        asset_id=asset.id,
        resource_code=asset.resource_code,
        category=item.category,
        incurred_on=item.incurred_on,
        amount=yuan(item.amount_fen),
        capitalised=capitalised(asset, item),
        basis=item.basis,
        note=item.note,
        recorded_by=item.recorded_by,
        recorded_at=item.recorded_at,
    )


# ---------------------------------------------------------------- recording


def declare_data_asset(ctx: Ctx, uscc: str, data: AssetIn) -> AssetOut:
    """Declare a data resource's use (and, for own use, its useful life and ready date);
    declaring it again changes them."""
    unit = organisation(ctx, uscc)
    code = data.resource_code.strip()
    target = f"asset:{unit.code}:{code}"
    require(ctx, "declare_data_asset", unit.id, target=target)
    errors = ErrorCollector()
    if not known_resource(ctx, unit.id, code):
        errors.add(
            "resource_code",
            f"数据资源 {code} 未经授权运营协议授予本机构，也不是本机构登记持有的资源。",
            f"Resource {code} was never authorised to this organisation nor is it registered"
            " as held by it.",
        )
    if data.use == AssetUse.OWN_USE and data.ready_on is not None and not data.useful_life_months:
        errors.add(
            "useful_life_months",
            "自用的数据资源达到预定用途后须声明使用寿命（月）。",
            "A resource for own use that is ready for use needs its useful life (months).",
        )
    if data.use == AssetUse.FOR_SALE and (data.useful_life_months or data.ready_on):
        errors.add(
            "useful_life_months",
            "持有待售的数据资源确认为存货，不摊销，不填使用寿命与预定用途日。",
            "A resource held for sale is inventory and is not amortised: no useful life or"
            " ready date.",
        )
    if data.ready_on is not None and data.ready_on > today():
        errors.add(
            "ready_on",
            "达到预定用途日不能晚于今天。",
            "The ready-for-use date cannot be in the future.",
        )
    row = ctx.db.scalar(
        select(DataAsset).where(DataAsset.unit_id == unit.id, DataAsset.resource_code == code)
    )
    if row is not None and reductions_of(ctx, [row.id])[row.id]:
        errors.add(
            "use",
            "该数据资源已记录减值、出售或终止确认，用途、使用寿命与预定用途日不能再更改。",
            "Reductions are booked on this resource: its use, life and ready date stay.",
        )
    if errors.errors:
        raise refused("declare_data_asset", target, Invalid(errors=errors.errors))
    changed = row is not None
    if row is None:
        row = DataAsset(unit_id=unit.id, resource_code=code, declared_by=ctx.actor.label)
        ctx.db.add(row)
    row.name = data.name
    row.use = data.use
    row.origin = data.origin
    row.useful_life_months = data.useful_life_months if data.use == AssetUse.OWN_USE else None
    row.ready_on = data.ready_on if data.use == AssetUse.OWN_USE else None
    ctx.db.flush()
    record(
        ctx,
        DataAssetDeclared(
            asset_id=row.id, unit=unit.id, resource_code=code, use=str(data.use), changed=changed
        ),
    )
    return _asset_out(ctx, row, _costs(ctx, [row.id])[row.id])


def record_cost_item(ctx: Ctx, uscc: str, resource_code: str, data: CostItemIn) -> CostItemOut:
    """Record one cost of a declared data resource (validated, audited)."""
    unit = organisation(ctx, uscc)
    code = resource_code.strip()
    target = f"asset:{unit.code}:{code}"
    require(ctx, "record_cost_item", unit.id, target=target)
    asset = ctx.db.scalar(
        select(DataAsset).where(DataAsset.unit_id == unit.id, DataAsset.resource_code == code)
    )
    errors = ErrorCollector()
    if asset is None:
        errors.add(
            "resource_code",
            f"数据资源 {code} 尚未登记为本机构的数据资产，请先声明其用途。",
            f"Resource {code} is not declared as a data asset of this organisation; declare"
            " its use first.",
        )
    booked = reductions_of(ctx, [asset.id])[asset.id] if asset is not None else []
    gone = leaving(booked)
    shared = max((r.booked_on for r in booked if r.kind in LEAVING), default=None)
    if gone is not None:
        errors.add(
            "resource_code",
            f"数据资源 {code} 已于 {gone.booked_on} 出售或终止确认，不再记录成本。",
            f"Resource {code} left the books on {gone.booked_on}; no more costs are recorded.",
        )
    elif (
        asset is not None
        and shared is not None
        and data.incurred_on < shared
        and capitalised_on(asset, data.incurred_on)
    ):
        errors.add(
            "incurred_on",
            f"该数据资源已于 {shared} 出售或终止确认部分份额，资本化成本不能早于该日。",
            f"A share of the resource was sold or derecognised on {shared}; a capitalised cost"
            " cannot be dated before it.",
        )
    fen = 0
    try:
        fen = parse_amount(data.amount)
    except Invalid as err:
        errors.errors.extend(err.errors)
    if data.incurred_on > today():
        errors.add(
            "incurred_on", "成本发生日期不能晚于今天。", "A cost cannot be dated in the future."
        )
    elif data.incurred_on.year < FIRST_YEAR:
        errors.add(
            "incurred_on",
            f"成本发生日期不能早于 {FIRST_YEAR} 年。",
            f"A cost cannot be dated before {FIRST_YEAR}.",
        )
    if errors.errors:
        raise refused("record_cost_item", target, Invalid(errors=errors.errors))
    assert asset is not None
    item = CostItem(
        asset_id=asset.id,
        category=data.category,
        incurred_on=data.incurred_on,
        amount_fen=fen,
        basis=data.basis,
        note=data.note,
        recorded_by=ctx.actor.label,
    )
    ctx.db.add(item)
    ctx.db.flush()
    record(
        ctx,
        CostItemRecorded(
            asset_id=asset.id,
            unit=unit.id,
            cost_item_id=item.id,
            category=str(data.category),
            amount_fen=fen,
            incurred_on=data.incurred_on.isoformat(),
        ),
    )
    return _cost_out(asset, item)
