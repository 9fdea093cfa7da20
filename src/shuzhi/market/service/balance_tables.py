"""The data-asset disclosure tables for a year (A: intangible, B: inventory) by origin
(purchased, developed, other): original cost, accumulated amortisation or write-downs,
carrying amounts, opening and ending, with 期末 = 期初 + 增加 − 减少, computed from what
``balance`` records, and their XLSX workbook for accountants. Disposals, sales, impairment
and write-downs are not recorded on the platform: they read zero.

Every figure is the platform's computation, never an audited statement; the page and the
file say so."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.errors import Invalid
from shuzhi.market.books_events import BalanceSheetRead
from shuzhi.market.books_models import AssetOrigin, AssetUse, CostItem, DataAsset
from shuzhi.market.books_schemas import (
    AmortisationLine,
    AssetSchedule,
    BalanceSheetOut,
    MovementRow,
)
from shuzhi.market.service.balance import (
    _asset_out,
    _cost_out,
    _costs,
    _schedule_of,
    capitalised,
    cost_fen,
    organisation,
)
from shuzhi.market.service.common import today
from shuzhi.market.service.disclosure import FIRST_YEAR, yuan
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
    "cost.ending": ("4. 期末余额", "4. Ending balance"),
    "amortisation.opening": (
        "二、累计摊销 1. 期初余额",
        "II. Accumulated amortisation 1. Opening balance",
    ),
    "amortisation.increase": ("2. 本期增加金额（计提）", "2. Charged in the year"),
    "amortisation.decrease": ("3. 本期减少金额", "3. Decrease in the year"),
    "amortisation.ending": ("4. 期末余额", "4. Ending balance"),
    "impairment.opening": ("三、减值准备 1. 期初余额", "III. Impairment 1. Opening balance"),
    "impairment.increase": ("2. 本期增加金额", "2. Increase in the year"),
    "impairment.decrease": ("3. 本期减少金额", "3. Decrease in the year"),
    "impairment.ending": ("4. 期末余额", "4. Ending balance"),
    "writedown.opening": (
        "二、存货跌价准备 1. 期初余额",
        "II. Write-down allowance 1. Opening balance",
    ),
    "writedown.increase": ("2. 本期增加金额", "2. Increase in the year"),
    "writedown.decrease": ("3. 本期减少金额", "3. Decrease in the year"),
    "writedown.ending": ("4. 期末余额", "4. Ending balance"),
    "carrying.ending": ("账面价值 1. 期末账面价值", "Carrying amount 1. End of the year"),
    "carrying.opening": ("2. 期初账面价值", "2. Start of the year"),
}


def _movements(
    assets: list[DataAsset], costs: dict[int, list[CostItem]], year: int, use: AssetUse
) -> list[MovementRow]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    opening, increase = _Columns(), _Columns()
    amort_open, amort_year = _Columns(), _Columns()
    for asset in (a for a in assets if a.use == use):
        items = costs[asset.id]
        before = sum(i.amount_fen for i in items if capitalised(asset, i) and i.incurred_on < start)
        opening.add(asset.origin, before)
        increase.add(asset.origin, cost_fen(asset, items, end) - before)
        for y, _m, fen in _schedule_of(asset, items):
            if y < year:
                amort_open.add(asset.origin, fen)
            elif y == year:
                amort_year.add(asset.origin, fen)
    zero = _Columns()
    ending = _Columns(
        opening.purchased + increase.purchased,
        opening.developed + increase.developed,
        opening.other + increase.other,
    )
    rows = [
        opening.row("cost.opening"),
        increase.row("cost.increase"),
        zero.row("cost.decrease"),
        ending.row("cost.ending"),
    ]
    if use == AssetUse.OWN_USE:
        amort_end = _Columns(
            amort_open.purchased + amort_year.purchased,
            amort_open.developed + amort_year.developed,
            amort_open.other + amort_year.other,
        )
        rows += [
            amort_open.row("amortisation.opening"),
            amort_year.row("amortisation.increase"),
            zero.row("amortisation.decrease"),
            amort_end.row("amortisation.ending"),
            zero.row("impairment.opening"),
            zero.row("impairment.increase"),
            zero.row("impairment.decrease"),
            zero.row("impairment.ending"),
            ending.minus(amort_end).row("carrying.ending"),
            opening.minus(amort_open).row("carrying.opening"),
        ]
    else:
        rows += [
            zero.row("writedown.opening"),
            zero.row("writedown.increase"),
            zero.row("writedown.decrease"),
            zero.row("writedown.ending"),
            ending.row("carrying.ending"),
            opening.row("carrying.opening"),
        ]
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
    end = date(year, 12, 31)
    schedules = []
    for asset in assets:
        lines, accumulated = [], 0
        cost = cost_fen(asset, costs[asset.id])
        for y, m, fen in _schedule_of(asset, costs[asset.id]):
            accumulated += fen
            lines.append(
                AmortisationLine(
                    month=f"{y:04d}-{m:02d}",
                    amount=yuan(fen),
                    accumulated=yuan(accumulated),
                    carrying=yuan(cost - accumulated),
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
        assets=[_asset_out(ctx, a, costs[a.id]) for a in assets],
        costs=[_cost_out(a, i) for a in assets for i in costs[a.id] if i.incurred_on <= end],
        schedules=schedules,
        intangible=_movements(assets, costs, year, AssetUse.OWN_USE),
        inventory=_movements(assets, costs, year, AssetUse.FOR_SALE),
    )


def balance_sheet(ctx: Ctx, uscc: str, year: int) -> BalanceSheetOut:
    """The organisation's data assets for ``year``: the platform's computation (audited read)."""
    out = _sheet(ctx, uscc, year)
    unit = organisation(ctx, uscc)
    record(ctx, BalanceSheetRead(uscc=out.uscc, unit=unit.id, year=year))
    return out


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
    _table(book, "附注表A 无形资产", _both("mk.books.table_a"), out.intangible)
    _table(book, "附注表B 存货", _both("mk.books.table_b"), out.inventory)
    cells.seal_workbook(book)
    buffer = io.BytesIO()
    book.save(buffer)
    unit = organisation(ctx, uscc)
    record(ctx, BalanceSheetRead(uscc=out.uscc, unit=unit.id, year=year, file_format="xlsx"))
    return buffer.getvalue()
