"""The data-asset disclosure tables for a year (A: intangible, B: inventory) by origin
(purchased, developed, other): original cost, accumulated amortisation or write-downs,
carrying amounts, opening and ending, with 期末 = 期初 + 增加 − 减少, computed from what
``balance`` records (costs, and the impairments, reversals, sales and derecognitions of
``reductions``), the year's reductions with their reasons, and the XLSX workbook for
accountants.

Every figure is the platform's computation, never an audited statement; the page and the
file say so."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.errors import Invalid
from shuzhi.market.books_events import BalanceSheetRead
from shuzhi.market.books_models import (
    AssetOrigin,
    AssetReduction,
    AssetUse,
    CostItem,
    DataAsset,
    ReductionKind,
)
from shuzhi.market.books_schemas import (
    AmortisationLine,
    AssetSchedule,
    BalanceSheetOut,
    MovementRow,
    ReductionOut,
)
from shuzhi.market.service.balance import (
    _asset_out,
    _cost_out,
    _costs,
    _schedule_of,
    organisation,
)
from shuzhi.market.service.common import today
from shuzhi.market.service.disclosure import FIRST_YEAR, yuan
from shuzhi.market.service.reductions import (
    capitalised,
    cost_fen,
    month_end,
    reduction_out,
    reductions_of,
    removed,
    standing,
)
from shuzhi.market.texts import TEXTS
from shuzhi.security import cells

NOTICE = TEXTS["mk.books.notice"]


@dataclass
class _Columns:
    """One figure per origin column, in fen."""

    purchased: int = 0
    developed: int = 0
    other: int = 0

    def add(self, origin: AssetOrigin, fen: int) -> None:
        setattr(self, str(origin), getattr(self, str(origin)) + fen)

    def row(self, key: str) -> MovementRow:
        zh, en = ROWS[key]
        return MovementRow(
            key=key,
            zh=zh,
            en=en,
            purchased=yuan(self.purchased),
            developed=yuan(self.developed),
            other=yuan(self.other),
            total=yuan(self.purchased + self.developed + self.other),
        )

    def plus(self, other: _Columns) -> _Columns:
        return _Columns(
            self.purchased + other.purchased,
            self.developed + other.developed,
            self.other + other.other,
        )

    def minus(self, other: _Columns) -> _Columns:
        return _Columns(
            self.purchased - other.purchased,
            self.developed - other.developed,
            self.other - other.other,
        )


ROWS: dict[str, tuple[str, str]] = {
    "cost.opening": ("一、账面原值 1. 期初余额", "I. Original cost 1. Opening balance"),
    "cost.increase": ("2. 本期增加金额", "2. Increase in the year"),
    "cost.decrease": ("3. 本期减少金额", "3. Decrease in the year"),
    "cost.decrease.sale": ("其中：出售或处置", "of which: sold or disposed of"),
    "cost.decrease.derecognition": (
        "其中：失效且终止确认",
        "of which: lapsed and derecognised",
    ),
    "cost.ending": ("4. 期末余额", "4. Ending balance"),
    "amortisation.opening": (
        "二、累计摊销 1. 期初余额",
        "II. Accumulated amortisation 1. Opening balance",
    ),
    "amortisation.increase": ("2. 本期增加金额（计提）", "2. Charged in the year"),
    "amortisation.decrease": ("3. 本期减少金额", "3. Decrease in the year"),
    "amortisation.decrease.sale": ("其中：处置", "of which: disposed of"),
    "amortisation.decrease.derecognition": (
        "其中：失效且终止确认",
        "of which: lapsed and derecognised",
    ),
    "amortisation.ending": ("4. 期末余额", "4. Ending balance"),
    "impairment.opening": ("三、减值准备 1. 期初余额", "III. Impairment 1. Opening balance"),
    "impairment.increase": ("2. 本期增加金额（计提）", "2. Charged in the year"),
    "impairment.decrease": ("3. 本期减少金额", "3. Decrease in the year"),
    "impairment.decrease.sale": ("其中：处置", "of which: disposed of"),
    "impairment.decrease.derecognition": (
        "其中：失效且终止确认",
        "of which: lapsed and derecognised",
    ),
    "impairment.ending": ("4. 期末余额", "4. Ending balance"),
    "writedown.opening": (
        "二、存货跌价准备 1. 期初余额",
        "II. Write-down allowance 1. Opening balance",
    ),
    "writedown.increase": ("2. 本期增加金额（计提）", "2. Charged in the year"),
    "writedown.decrease": ("3. 本期减少金额", "3. Decrease in the year"),
    "writedown.decrease.reversal": ("其中：转回", "of which: reversed"),
    "writedown.decrease.writeoff": ("其中：转销", "of which: written off with the asset"),
    "writedown.ending": ("4. 期末余额", "4. Ending balance"),
    "carrying.ending": ("账面价值 1. 期末账面价值", "Carrying amount 1. End of the year"),
    "carrying.opening": ("2. 期初账面价值", "2. Start of the year"),
}


def movements(
    assets: list[DataAsset],
    costs: dict[int, list[CostItem]],
    reductions: dict[int, list[AssetReduction]],
    year: int,
    use: AssetUse,
) -> list[MovementRow]:
    """The table for one class: opening balances from the bookings, the year's additions
    (costs, charges, impairments) and reductions (sales and derecognitions, whole or of a
    share, with what each removed; reversals); 期末 = 期初 + 增加 − 减少 holds for every block
    by construction, and the ending is the next year's opening."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    cols: dict[str, _Columns] = {}

    def add(key: str, origin: AssetOrigin, fen: int) -> None:
        cols.setdefault(key, _Columns()).add(origin, fen)

    allowance_key = "impairment" if use == AssetUse.OWN_USE else "writedown"
    for asset in (a for a in assets if a.use == use):
        items, booked, origin = costs[asset.id], reductions[asset.id], asset.origin
        lines = _schedule_of(asset, items, booked)
        opening = standing(asset, items, booked, lines, start - timedelta(days=1))
        add("cost.opening", origin, opening.cost)
        add("amortisation.opening", origin, opening.amortised)
        add(f"{allowance_key}.opening", origin, opening.allowance)
        add(
            "cost.increase",
            origin,
            sum(
                i.amount_fen
                for i in items
                if capitalised(asset, i) and start <= i.incurred_on <= end
            ),
        )
        add("amortisation.increase", origin, sum(fen for y, _m, fen in lines if y == year))
        for r in booked:
            if not start <= r.booked_on <= end:
                continue
            if r.kind == ReductionKind.IMPAIRMENT:
                add(f"{allowance_key}.increase", origin, r.amount_fen)
            elif r.kind == ReductionKind.REVERSAL:
                add(f"{allowance_key}.decrease", origin, r.amount_fen)
                add(f"{allowance_key}.decrease.reversal", origin, r.amount_fen)
            else:
                kind = str(r.kind)
                amortised, left = removed(r, booked, lines)
                add("cost.decrease", origin, r.cost_fen)
                add(f"cost.decrease.{kind}", origin, r.cost_fen)
                add("amortisation.decrease", origin, amortised)
                add(f"amortisation.decrease.{kind}", origin, amortised)
                add(f"{allowance_key}.decrease", origin, left)
                sub = kind if use == AssetUse.OWN_USE else "writeoff"
                add(f"{allowance_key}.decrease.{sub}", origin, left)

    def get(key: str) -> _Columns:
        return cols.get(key, _Columns())

    def ending(block: str) -> _Columns:
        return (
            get(f"{block}.opening").plus(get(f"{block}.increase")).minus(get(f"{block}.decrease"))
        )

    blocks = ["cost"] + (
        ["amortisation", "impairment"] if use == AssetUse.OWN_USE else ["writedown"]
    )
    rows: list[MovementRow] = []
    for block in blocks:
        subs = [k for k in ROWS if k.startswith(f"{block}.decrease.")]
        rows += [get(f"{block}.opening").row(f"{block}.opening")]
        rows += [get(f"{block}.increase").row(f"{block}.increase")]
        rows += [get(f"{block}.decrease").row(f"{block}.decrease")]
        rows += [get(k).row(k) for k in subs]
        rows += [ending(block).row(f"{block}.ending")]
    carried_end, carried_open = ending("cost"), get("cost.opening")
    for block in blocks[1:]:
        carried_end = carried_end.minus(ending(block))
        carried_open = carried_open.minus(get(f"{block}.opening"))
    rows += [carried_end.row("carrying.ending"), carried_open.row("carrying.opening")]
    return rows


def _sheet(ctx: Ctx, uscc: str, year: int) -> BalanceSheetOut:
    unit = organisation(ctx, uscc)
    require(ctx, "view_balance_sheet", unit.id, target=f"books:{unit.code}:{year}")
    if not FIRST_YEAR <= year <= today().year:
        raise Invalid.field(
            "year",
            f"年度须在 {FIRST_YEAR} 年至今年之间。",
            f"The year must be between {FIRST_YEAR} and this year.",
        )
    assets = list(
        ctx.db.scalars(select(DataAsset).where(DataAsset.unit_id == unit.id).order_by(DataAsset.id))
    )
    costs = _costs(ctx, [a.id for a in assets])
    booked = reductions_of(ctx, [a.id for a in assets])
    end = date(year, 12, 31)
    schedules = []
    charges = {a.id: _schedule_of(a, costs[a.id], booked[a.id]) for a in assets}
    for asset in assets:
        lines = []
        items, done = costs[asset.id], booked[asset.id]
        cost = cost_fen(asset, items)
        for y, m, fen in charges[asset.id]:
            now = standing(asset, items, done, charges[asset.id], month_end(y, m))
            lines.append(
                AmortisationLine(
                    month=f"{y:04d}-{m:02d}",
                    amount=yuan(fen),
                    accumulated=yuan(now.amortised),
                    carrying=yuan(now.carrying),
                )
            )
        if lines:
            schedules.append(
                AssetSchedule(
                    asset_id=asset.id,
                    resource_code=asset.resource_code,
                    name=asset.name,
                    cost=yuan(cost),
                    lines=lines,
                )
            )
    return BalanceSheetOut(
        unit_code=unit.code,
        unit_name=unit.name,
        uscc=unit.uscc or uscc,
        year=year,
        notice_zh=NOTICE[0],
        notice_en=NOTICE[1],
        assets=[_asset_out(ctx, a, costs[a.id], booked[a.id]) for a in assets],
        costs=[_cost_out(a, i) for a in assets for i in costs[a.id] if i.incurred_on <= end],
        schedules=schedules,
        intangible=movements(assets, costs, booked, year, AssetUse.OWN_USE),
        inventory=movements(assets, costs, booked, year, AssetUse.FOR_SALE),
        reductions=[
            reduction_out(a, r, removed(r, booked[a.id], charges[a.id]))
            for a in assets
            for r in booked[a.id]
            if r.booked_on.year == year
        ],
    )


def balance_sheet(ctx: Ctx, uscc: str, year: int) -> BalanceSheetOut:
    """The organisation's data assets for ``year``: the platform's computation (audited read)."""
    out = _sheet(ctx, uscc, year)
    unit = organisation(ctx, uscc)
    record(ctx, BalanceSheetRead(uscc=out.uscc, unit=unit.id, year=year))
    return out


def share_label(r: ReductionOut) -> str:
    """A disposal's share for a reader of either language: ``1/4 (25.00%)``, 整体 Whole, —."""
    if r.share is not None:
        return f"{r.share} ({r.share_percent}%)"
    return _both("mk.books.red.whole") if r.whole else "—"


def _both(key: str) -> str:
    zh, en = TEXTS[key]
    return f"{zh} {en}"


def _notice(sheet: object) -> None:
    sheet.append([f"{NOTICE[0]} {NOTICE[1]}"])  # type: ignore[attr-defined]
    sheet["A1"].font = Font(bold=True, color="B00020")  # type: ignore[index]


def _table(book: Workbook, title: str, caption: str, rows: list[MovementRow]) -> None:
    sheet = book.create_sheet(title)
    _notice(sheet)
    sheet.append([caption])
    sheet.append(
        [
            _both("mk.books.item"),
            "外购 Purchased",
            "自行开发/加工 Developed",
            "其他方式 Other",
            _both("mk.books.total"),
        ]
    )
    for r in rows:
        sheet.append([f"{r.zh} {r.en}", r.purchased, r.developed, r.other, r.total])


def export_balance_sheet(ctx: Ctx, uscc: str, year: int) -> bytes:
    """The tables as an XLSX workbook for accountants (formula-safe, audited)."""
    return balance_sheet_file(ctx, uscc, year)[1]


def balance_sheet_file(ctx: Ctx, uscc: str, year: int) -> tuple[BalanceSheetOut, bytes]:
    """The tables and their workbook (one audited export)."""
    out = _sheet(ctx, uscc, year)
    book = Workbook()
    info = book.active
    assert info is not None
    info.title = "说明"
    _notice(info)
    info.append([_both("mk.books.title"), out.unit_name])
    info.append([_both("mk.uscc"), out.uscc])
    info.append([_both("mk.disc.year"), out.year])
    info.append(["依据 Basis", "财会〔2023〕11号《企业数据资源相关会计处理暂行规定》"])
    assets = book.create_sheet("数据资源")
    _notice(assets)
    assets.append(
        [
            _both(k)
            for k in (
                "mk.disc.resource_code",
                "mk.name",
                "mk.books.class",
                "mk.books.origin",
                "mk.books.life",
                "mk.books.ready_on",
                "mk.books.cost",
            )
        ]
    )
    for a in out.assets:
        assets.append(
            [
                a.resource_code,
                a.name,
                _both(f"mk.books.class.{a.asset_class}"),
                _both(f"mk.books.origin.{a.origin}"),
                a.useful_life_months if a.useful_life_months is not None else "—",
                a.ready_on if a.ready_on is not None else "—",
                a.cost,
            ]
        )
    costs = book.create_sheet("成本明细")
    _notice(costs)
    costs.append(
        [
            _both(k)
            for k in (
                "mk.disc.resource_code",
                "mk.books.category",
                "mk.books.incurred_on",
                "mk.books.amount",
                "mk.books.capitalised",
                "mk.books.basis",
                "mk.note",
                "mk.books.recorded_by",
            )
        ]
    )
    for c in out.costs:
        costs.append(
            [
                c.resource_code,
                _both(f"mk.books.cat.{c.category}"),
                c.incurred_on,
                c.amount,
                "是 Yes" if c.capitalised else _both("mk.books.expensed"),
                c.basis,
                c.note,
                c.recorded_by,
            ]
        )
    amortisation = book.create_sheet("摊销表")
    _notice(amortisation)
    amortisation.append(
        [
            _both(k)
            for k in (
                "mk.disc.resource_code",
                "mk.books.month",
                "mk.books.amortisation",
                "mk.books.accumulated",
                "mk.books.carrying",
            )
        ]
    )
    for s in out.schedules:
        for line in s.lines:
            amortisation.append(
                [s.resource_code, line.month, line.amount, line.accumulated, line.carrying]
            )
    reductions = book.create_sheet("减值与处置")
    _notice(reductions)
    reductions.append(
        [
            _both(k)
            for k in (
                "mk.disc.resource_code",
                "mk.name",
                "mk.books.class",
                "mk.books.red.kind",
                "mk.books.red.booked_on",
                "mk.books.red.share",
                "mk.books.red.amount",
                "mk.books.red.cost_removed",
                "mk.books.red.amortisation_removed",
                "mk.books.red.allowance_removed",
                "mk.books.red.proceeds",
                "mk.books.red.cost_of_sales",
                "mk.books.red.gain_or_loss",
                "mk.reason",
                "mk.books.recorded_by",
            )
        ]
    )
    for r in out.reductions:
        reductions.append(
            [
                r.resource_code,
                r.name,
                _both(f"mk.books.class.{r.asset_class}"),
                _both(f"mk.books.red.{r.kind}.{r.asset_class}"),
                r.booked_on,
                share_label(r),
                r.amount,
                r.cost_removed,
                r.amortisation_removed if r.amortisation_removed is not None else "—",
                r.allowance_removed if r.allowance_removed is not None else "—",
                r.proceeds if r.proceeds is not None else "—",
                r.cost_of_sales if r.cost_of_sales is not None else "—",
                r.gain_or_loss if r.gain_or_loss is not None else "—",
                r.reason,
                r.recorded_by,
            ]
        )
    _table(book, "附注表A 无形资产", _both("mk.books.table_a"), out.intangible)
    _table(book, "附注表B 存货", _both("mk.books.table_b"), out.inventory)
    cells.seal_workbook(book)
    buffer = io.BytesIO()
    book.save(buffer)
    unit = organisation(ctx, uscc)
    record(ctx, BalanceSheetRead(uscc=out.uscc, unit=unit.id, year=year, file_format="xlsx"))
    return out, buffer.getvalue()
