"""Reductions of data assets (财会〔2023〕11号 with CAS 1, 6, 8): impairment and write-downs,
their reversal (inventory only), sale and derecognition — validated, audited, and carried
into the disclosure tables with figures worked out by hand below."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from shuzhi.audit.models import AuditEntry
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.market import service
from shuzhi.market.books_models import (
    AssetReduction,
    AssetUse,
    DataAsset,
    ReductionKind,
)
from shuzhi.market.books_schemas import AssetIn, CostItemIn, MovementRow, ReductionIn
from shuzhi.market.service.balance import schedule
from shuzhi.market.service.reductions import amortisation, month_end
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import PASSWORD, Org, seed_org
from tests.market.helpers import active_agreement, figures_entry, operator_party
from tests.market.test_books_cli import _run
from tests.web.helpers import csrf, login

D = Decimal


def _operator(database: Database, seeded: Org) -> tuple[str, str]:
    party = operator_party(database, seeded)
    code = figures_entry(database)
    active_agreement(database, seeded, party.id, [code])
    return party.uscc, code


def _cost(day: date, amount: str) -> CostItemIn:
    return CostItemIn.model_validate(
        {"category": "collection", "incurred_on": day, "amount": amount, "basis": "按工时分摊"}
    )


def _booking(kind: str, day: date, amount: str = "", **over: str) -> ReductionIn:
    data = {
        "kind": kind,
        "booked_on": day,
        "amount": amount,
        "reason": "市场需求下降，预计可收回金额低于账面价值。",
    }
    return ReductionIn.model_validate(data | over)


def _rows(rows: list[MovementRow]) -> dict[str, Decimal]:
    return {r.key: r.total for r in rows}


def _ties_out(rows: list[MovementRow], blocks: tuple[str, ...]) -> None:
    t = _rows(rows)
    for block in blocks:
        assert t[f"{block}.ending"] == (
            t[f"{block}.opening"] + t[f"{block}.increase"] - t[f"{block}.decrease"]
        )
        subs = [v for k, v in t.items() if k.startswith(f"{block}.decrease.")]
        assert sum(subs) == t[f"{block}.decrease"]
    carried = t["cost.ending"] - sum(t[f"{b}.ending"] for b in blocks[1:])
    assert t["carrying.ending"] == carried


def _audited(database: Database, action: str) -> int:
    with acting(database, SYSTEM) as ctx:
        return int(
            ctx.db.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
            or 0
        )


def test_intangible_asset_impaired_amortised_on_the_rest_and_sold(database: Database) -> None:
    """Cost 1,200.01 ready on 15 March 2025, 12 months: 100.00 a month from April. After
    June (300.00 charged) it is impaired by 300.00, leaving 600.01 over the nine months
    July–March: 66.66 a month, the last 66.73. 2025 charges 300.00 + 6 × 66.66 = 699.96;
    the carrying amount at the end is 1,200.01 − 699.96 − 300.00 = 200.05. Sold on
    10 February 2026 for 150.00: January is charged (66.66), February is not; derecognised
    1,200.01 − 766.62 − 300.00 = 133.39, a gain of 16.61."""
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    op = seeded.actor(Role.OPERATOR)
    with acting(database, op) as ctx:
        service.declare_data_asset(
            ctx,
            uscc,
            AssetIn(
                resource_code=code,
                name="企业经营数据",
                use="own_use",
                useful_life_months=12,
                ready_on=date(2025, 3, 15),
            ),
        )
        service.record_cost_item(ctx, uscc, code, _cost(date(2025, 1, 10), "1000"))
        service.record_cost_item(ctx, uscc, code, _cost(date(2025, 3, 1), "200.01"))
        impaired = service.record_asset_reduction(
            ctx, uscc, code, _booking("impairment", date(2025, 6, 30), "300")
        )
    assert impaired.amount == D("300.00") and impaired.asset_class == "intangible"
    # more than the carrying amount at the end of 2025 (200.05), and any reversal: refused
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.record_asset_reduction(
            ctx, uscc, code, _booking("impairment", date(2025, 12, 31), "200.06")
        )
    assert err.value.errors[0].field == "amount" and "200.05" in err.value.errors[0].message.zh
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.record_asset_reduction(
            ctx, uscc, code, _booking("reversal", date(2025, 12, 31), "10")
        )
    assert err.value.errors[0].field == "kind" and "不得转回" in err.value.errors[0].message.zh
    with acting(database, op) as ctx:
        books = service.balance_sheet(ctx, uscc, 2025)
    t = _rows(books.intangible)
    assert t["cost.increase"] == t["cost.ending"] == D("1200.01") and t["cost.decrease"] == 0
    assert t["amortisation.increase"] == t["amortisation.ending"] == D("699.96")
    assert t["impairment.increase"] == t["impairment.ending"] == D("300.00")
    assert t["carrying.ending"] == D("200.05") and t["carrying.opening"] == 0
    _ties_out(books.intangible, ("cost", "amortisation", "impairment"))
    (s,) = books.schedules
    assert [line.amount for line in s.lines[:4]] == [D("100.00")] * 3 + [D("66.66")]
    assert s.lines[-1].month == "2026-03" and s.lines[-1].amount == D("66.73")
    assert s.lines[2].carrying == D("600.01")  # June: after its charge and the impairment
    assert sum(line.amount for line in s.lines) + D("300.00") == D("1200.01")
    assert [r.kind for r in books.reductions] == [ReductionKind.IMPAIRMENT]

    with acting(database, op) as ctx:
        sold = service.record_asset_reduction(
            ctx, uscc, code, _booking("sale", date(2026, 2, 10), proceeds="150")
        )
        after = service.balance_sheet(ctx, uscc, 2026)
    assert (sold.amount, sold.cost_removed, sold.gain_or_loss) == (
        D("133.39"),
        D("1200.01"),
        D("16.61"),
    )
    assert sold.cost_of_sales is None  # an intangible asset's disposal is not cost of sales
    n = _rows(after.intangible)
    assert n["cost.opening"] == n["cost.decrease"] == n["cost.decrease.sale"] == D("1200.01")
    assert n["amortisation.opening"] == D("699.96") and n["amortisation.increase"] == D("66.66")
    assert n["amortisation.decrease.sale"] == D("766.62") and n["amortisation.ending"] == 0
    assert n["impairment.opening"] == n["impairment.decrease.sale"] == D("300.00")
    assert n["carrying.opening"] == D("200.05") and n["carrying.ending"] == 0
    _ties_out(after.intangible, ("cost", "amortisation", "impairment"))
    (s,) = after.schedules
    assert s.lines[-1].month == "2026-01" and len(s.lines) == 10
    (a,) = after.assets
    assert a.left_books_on == date(2026, 2, 10)
    assert _audited(database, "market.asset_reduction_recorded") == 2
    assert _audited(database, "market.refused") >= 2

    # Off the books: no more costs, bookings or a new declaration.
    refusals: list[Callable[[Ctx], object]] = [
        lambda c: service.record_cost_item(c, uscc, code, _cost(date(2026, 1, 5), "10")),
        lambda c: service.record_asset_reduction(
            c, uscc, code, _booking("derecognition", date(2026, 3, 1))
        ),
        lambda c: service.declare_data_asset(
            c, uscc, AssetIn(resource_code=code, name="企业经营数据", use="for_sale")
        ),
    ]
    for attempt in refusals:
        with pytest.raises(Invalid), acting(database, op) as ctx:
            attempt(ctx)
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(func.count()).select_from(AssetReduction)) == 2


def test_inventory_written_down_reversed_and_sold_at_cost_of_sales(database: Database) -> None:
    """Costs 5,000.00 and 1,000.50 (6,000.50), purchased. Written down by 800.00 on 30 June,
    300.00 reversed on 30 September (500.00 standing: 500.01 more is refused), sold on
    15 November for 9,000.00: cost of sales 6,000.50 − 500.00 = 5,500.50; the allowance
    written off with it."""
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    op = seeded.actor(Role.OPERATOR)
    with acting(database, op) as ctx:
        service.declare_data_asset(
            ctx,
            uscc,
            AssetIn(resource_code=code, name="行业数据集", use="for_sale", origin="purchased"),
        )
        service.record_cost_item(ctx, uscc, code, _cost(date(2025, 2, 1), "5000"))
        service.record_cost_item(ctx, uscc, code, _cost(date(2025, 5, 1), "1000.50"))
        service.record_asset_reduction(
            ctx, uscc, code, _booking("impairment", date(2025, 6, 30), "800")
        )
        service.record_asset_reduction(
            ctx, uscc, code, _booking("reversal", date(2025, 9, 30), "300")
        )
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.record_asset_reduction(
            ctx, uscc, code, _booking("reversal", date(2025, 10, 31), "500.01")
        )
    assert "500.00" in err.value.errors[0].message.zh and "above cost" in (
        err.value.errors[0].message.en
    )
    with acting(database, op) as ctx:
        middle = service.balance_sheet(ctx, uscc, 2025)
        sold = service.record_asset_reduction(
            ctx, uscc, code, _booking("sale", date(2025, 11, 15), proceeds="9000")
        )
        books = service.balance_sheet(ctx, uscc, 2025)
    m = _rows(middle.inventory)
    assert m["writedown.ending"] == D("500.00") and m["carrying.ending"] == D("5500.50")
    assert (sold.cost_of_sales, sold.cost_removed, sold.proceeds) == (
        D("5500.50"),
        D("6000.50"),
        D("9000.00"),
    )
    t = _rows(books.inventory)
    assert t["cost.increase"] == t["cost.decrease"] == t["cost.decrease.sale"] == D("6000.50")
    assert t["writedown.increase"] == D("800.00")
    assert t["writedown.decrease.reversal"] == D("300.00")
    assert t["writedown.decrease.writeoff"] == D("500.00")
    assert t["cost.ending"] == t["writedown.ending"] == t["carrying.ending"] == 0
    purchased = next(r for r in books.inventory if r.key == "cost.decrease")
    assert purchased.purchased == D("6000.50") and purchased.developed == 0
    _ties_out(books.inventory, ("cost", "writedown"))
    assert all(r.total == 0 for r in books.intangible)
    assert [r.kind for r in books.reductions] == [
        ReductionKind.IMPAIRMENT,
        ReductionKind.REVERSAL,
        ReductionKind.SALE,
    ]


def test_bad_bookings_are_refused_together_and_nothing_is_stored(database: Database) -> None:
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    op = seeded.actor(Role.OPERATOR)
    with acting(database, op) as ctx:
        service.declare_data_asset(
            ctx, uscc, AssetIn(resource_code=code, name="行业数据集", use="for_sale")
        )
        service.record_cost_item(ctx, uscc, code, _cost(date(2025, 2, 1), "100"))
        service.record_asset_reduction(
            ctx, uscc, code, _booking("impairment", date(2025, 6, 30), "10")
        )
    tomorrow = utcnow().date() + timedelta(days=1)
    cases = [
        # a negative amount, a date in the future, a reason that says nothing
        (_booking("impairment", tomorrow, "-5", reason="不行"), {"amount", "booked_on", "reason"}),
        # before the last booking; proceeds on an impairment
        (_booking("impairment", date(2025, 6, 1), "5", proceeds="1"), {"booked_on", "proceeds"}),
        # more than the carrying amount (90.00 left)
        (_booking("impairment", date(2025, 7, 1), "90.01"), {"amount"}),
        # a sale takes the carrying amount: no amount of its own; no proceeds on a derecognition
        (_booking("sale", date(2025, 7, 1), "90"), {"amount"}),
        (_booking("derecognition", date(2025, 7, 1), proceeds="5"), {"proceeds"}),
        (_booking("impairment", date(1999, 12, 31), "1"), {"booked_on"}),
        (_booking("impairment", date(2025, 7, 1), ""), {"amount"}),
    ]
    for booking, fields in cases:
        with pytest.raises(Invalid) as err, acting(database, op) as ctx:
            service.record_asset_reduction(ctx, uscc, code, booking)
        assert {e.field for e in err.value.errors} == fields, booking
        assert all(e.message.zh and e.message.en for e in err.value.errors)
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.record_asset_reduction(
            ctx, uscc, "NOT-DECLARED", _booking("impairment", date(2025, 7, 1), "1")
        )
    assert err.value.errors[0].field == "resource_code"
    with pytest.raises(Forbidden), acting(database, seeded.other_unit_actor(Role.OPERATOR)) as c:
        service.record_asset_reduction(c, uscc, code, _booking("impairment", date(2025, 7, 1), "1"))
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(func.count()).select_from(AssetReduction)) == 1
    assert _audited(database, "market.asset_reduction_recorded") == 1
    # a cost can still be added (the books are not closed); the asset's use cannot change
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.declare_data_asset(
            ctx,
            uscc,
            AssetIn(
                resource_code=code,
                name="行业数据集",
                use="own_use",
                useful_life_months=12,
                ready_on=date(2025, 1, 1),
            ),
        )
    assert err.value.errors[0].field == "use"


def test_console_books_a_reduction_and_shows_it(database: Database, client: TestClient) -> None:
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.declare_data_asset(
            ctx, uscc, AssetIn(resource_code=code, name="行业数据集", use="for_sale")
        )
        service.record_cost_item(ctx, uscc, code, _cost(date(2025, 2, 1), "100"))
    login(client, "operator", PASSWORD)
    page = f"/market/books?org={uscc}&year=2025"
    token = csrf(client, page)
    form = {
        "csrf_token": token,
        "org": uscc,
        "year": "2025",
        "resource_code": code,
        "kind": "impairment",
        "booked_on": "2025-06-30",
        "amount": "100.01",
        "proceeds": "",
        "reason": "样本数据过时，预计售价低于成本。",
    }
    bad = client.post("/market/books/reductions", data=form)
    assert bad.status_code == 422 and "100.00" in bad.text and 'value="100.01"' in bad.text
    assert "样本数据过时" in bad.text
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(func.count()).select_from(AssetReduction)) == 0
    made = client.post(
        "/market/books/reductions", data=form | {"amount": "40"}, follow_redirects=False
    )
    assert made.status_code == 303
    shown = client.get(page)
    assert 'data-kind="impairment"' in shown.text and "计提存货跌价准备" in shown.text
    assert "样本数据过时" in shown.text
    english = client.get(page + "&lang=en")
    assert "Write-down" in english.text and "of which: reversed" in english.text
    forged = client.post("/market/books/reductions", data=form | {"csrf_token": ""})
    assert forged.status_code == 403


@given(
    cost=st.integers(min_value=0, max_value=10**12),
    months=st.integers(min_value=1, max_value=120),
    cuts=st.lists(
        st.tuples(st.integers(min_value=0, max_value=130), st.integers(0, 1000)), max_size=4
    ),
    sold_after=st.one_of(st.none(), st.integers(min_value=0, max_value=130)),
)
def test_amortisation_after_impairments_still_ties_out(
    cost: int, months: int, cuts: list[tuple[int, int]], sold_after: int | None
) -> None:
    """Whatever impairments (each at most the carrying amount left when booked, in
    thousandths) and whenever it leaves the books: no negative charge; while it stays, the
    charges and impairments sum to the cost exactly; with nothing booked it is ``schedule``."""
    ready = date(2024, 1, 15)
    asset = DataAsset(use=AssetUse.OWN_USE, ready_on=ready, useful_life_months=months)
    items = [SimpleNamespace(incurred_on=date(2024, 1, 1), amount_fen=cost)]
    assert amortisation(asset, items, []) == list(schedule(cost, months, ready))  # type: ignore[arg-type]
    booked: list[AssetReduction] = []
    for offset, share in sorted(cuts):
        day = _month_end(ready, offset)
        lines = amortisation(asset, items, booked)  # type: ignore[arg-type]
        charged = sum(f for y, m, f in lines if (y, m) <= (day.year, day.month))
        left = cost - charged - sum(r.amount_fen for r in booked)
        booked.append(
            AssetReduction(
                kind=ReductionKind.IMPAIRMENT, booked_on=day, amount_fen=left * share // 1000
            )
        )
    if sold_after is not None:
        booked.append(
            AssetReduction(
                kind=ReductionKind.SALE, booked_on=_month_end(ready, sold_after), amount_fen=0
            )
        )
    lines = amortisation(asset, items, booked)  # type: ignore[arg-type]
    assert all(fen >= 0 for *_ym, fen in lines)
    impaired = sum(r.amount_fen for r in booked if r.kind == ReductionKind.IMPAIRMENT)
    if sold_after is None:
        assert len(lines) == months
        assert sum(fen for *_ym, fen in lines) + impaired == cost
    else:
        assert sum(fen for *_ym, fen in lines) + impaired <= cost


def _month_end(start: date, months: int) -> date:
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    return month_end(year, month + 1)


def test_workbook_and_command_line_show_the_reductions(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.declare_data_asset(
            ctx, uscc, AssetIn(resource_code=code, name="行业数据集", use="for_sale")
        )
        service.record_cost_item(ctx, uscc, code, _cost(date(2025, 2, 1), "880"))
        service.record_asset_reduction(
            ctx,
            uscc,
            code,
            _booking("derecognition", date(2025, 8, 1), reason="产品已下架，数据不再可用。"),
        )
        data = service.export_balance_sheet(ctx, uscc, 2025)
    book = load_workbook(io.BytesIO(data))
    assert "减值与处置" in book.sheetnames
    row = [c.value for c in book["减值与处置"][3]]
    assert row[0] == code and row[5] == "整体 Whole" and row[6] == 880
    assert "失效且终止确认" in str(row[3]) and row[7] == 880 and row[9] == 0  # no allowance
    assert "产品已下架" in str(row[13])
    out = tmp_path / "books.xlsx"
    status, output = _run(
        settings, "market", "balance-sheet", "--org", uscc, "--year", "2025", "--out", str(out)
    )
    assert status == 0, output
    assert "2025-08-01" in output and "失效且终止确认" in output and "880.00" in output
    assert "产品已下架" in output
