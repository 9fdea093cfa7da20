"""Sales and derecognitions of a share of a data asset (财会〔2023〕11号 with CAS 1 and 6):
inventory sold in parts (cost of sales and write-off in proportion), an intangible asset
partly disposed of (gain or loss on the part, amortisation on what remains), over-selling
refused, and — for any sequence of bookings — disclosure tables that balance and never go
below zero. Figures worked out by hand in each docstring."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.market import service
from shuzhi.market.books_models import (
    AssetOrigin,
    AssetReduction,
    AssetUse,
    CostCategory,
    CostItem,
    DataAsset,
    ReductionKind,
)
from shuzhi.market.books_schemas import AssetIn, MovementRow, ReductionIn
from shuzhi.market.service.balance_tables import movements
from shuzhi.market.service.disclosure import yuan
from shuzhi.market.service.reduction_booking import plan_reduction
from shuzhi.market.service.reductions import (
    amortisation,
    apportion,
    leaving,
    month_end,
    parse_share,
    position,
    standing,
)
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.market.test_books_cli import _run
from tests.market.test_reductions import _audited, _booking, _cost, _operator, _rows, _ties_out
from tests.web.helpers import csrf, login

D = Decimal
REASON = "按合同向买方交付部分数据副本，结转相应成本。"


def _part(kind: str, day: date, **over: str) -> ReductionIn:
    return _booking(kind, day, reason=REASON, **over)


def _reductions(database: Database) -> int:
    with acting(database, SYSTEM) as ctx:
        return int(ctx.db.scalar(select(func.count()).select_from(AssetReduction)) or 0)


def test_shares_are_parsed_exactly_and_apportioned_in_whole_fen() -> None:
    assert parse_share("0.25") == parse_share("25%") == parse_share("１／４") == D(1) / 4
    assert parse_share("1") == 1 and parse_share("33.3333%") * 1_000_000 == 333_333
    for bad in ("", "abc", "1/0", "0", "0%", "4/3", "150%", "1.01", "-0.5"):
        with pytest.raises(Invalid) as err:
            parse_share(bad)
        assert err.value.errors[0].field == "share" and err.value.errors[0].message.en
    # a quarter of cost 1,000,000 (amortisation 0, allowance 100,001, carrying 899,999):
    # 224,999.75 and 25,000.25 — the odd fen goes to the larger remainder (carrying)
    assert apportion(250_000, 0, 100_001, 899_999) == (0, 25_000, 225_000)
    # halves tie: the carrying amount takes the odd fen, then the allowance
    assert apportion(250_000, 0, 50_001, 449_999) == (0, 25_000, 225_000)
    assert apportion(5, 3, 3, 3) == (1, 2, 2)  # equal remainders: carrying, then allowance
    assert apportion(9, 3, 3, 3) == (3, 3, 3)  # the whole takes every balance exactly


def test_inventory_is_sold_in_parts_at_cost_of_sales(database: Database) -> None:
    """Purchased data held for sale, cost 10,000.00, written down by 1,000.01 on 31 March
    2025 (carrying 8,999.99).

    * 10 April, a quarter sold for 4,000.00: cost 2,500.00; of it 899,999 × ¼ = 224,999.75
      fen carrying and 100,001 × ¼ = 25,000.25 allowance — the odd fen to the larger
      remainder: cost of sales 2,250.00, write-down written off 250.00.
    * 20 May, copies with a cost of 2,500.00 sold (⅓ of the 7,500.00 left): carrying
      674,999 / 3 = 224,999.67, allowance 75,001 / 3 = 25,000.33 → 2,250.00 and 250.00.
    * 5,000.01 of cost or 150 % are more than stands (5,000.00): refused, nothing written.
    * 1 June 2025, half derecognised (a licence withdrawn): 2,250.00 and 250.00 (the tie to
      the carrying amount); 2026-01-15, the rest sold whole: 2,500.00 cost, 250.01 allowance,
      cost of sales 2,249.99. Every fen of cost and allowance leaves exactly once."""
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    op = seeded.actor(Role.OPERATOR)
    with acting(database, op) as ctx:
        service.declare_data_asset(
            ctx,
            uscc,
            AssetIn(resource_code=code, name="企业名录数据集", use="for_sale", origin="purchased"),
        )
        service.record_cost_item(ctx, uscc, code, _cost(date(2025, 1, 5), "10000"))
        service.record_asset_reduction(
            ctx, uscc, code, _booking("impairment", date(2025, 3, 31), "1000.01")
        )
        first = service.record_asset_reduction(
            ctx, uscc, code, _part("sale", date(2025, 4, 10), share="25%", proceeds="4000")
        )
        second = service.record_asset_reduction(
            ctx, uscc, code, _part("sale", date(2025, 5, 20), share_cost="2500", proceeds="3000")
        )
    assert (first.share, first.share_percent, first.whole) == ("1/4", D("25.00"), False)
    assert (first.cost_removed, first.cost_of_sales, first.allowance_removed) == (
        D("2500.00"),
        D("2250.00"),
        D("250.00"),
    )
    assert first.proceeds == D("4000.00") and first.gain_or_loss is None  # inventory: revenue
    assert (second.share, second.cost_of_sales, second.allowance_removed) == (
        "1/3",
        D("2250.00"),
        D("250.00"),
    )
    written = _reductions(database)
    for booking, field in (
        (_part("sale", date(2025, 5, 31), share_cost="5000.01"), "share_cost"),
        (_part("sale", date(2025, 5, 31), share="150%"), "share"),
        (_part("sale", date(2025, 5, 31), share="1/4", share_cost="100"), "share"),
        (_part("impairment", date(2025, 5, 31), amount="1", share="1/4"), "share"),
        (_part("sale", date(2025, 5, 31), share="1/4", amount="100"), "amount"),
    ):
        with pytest.raises(Invalid) as err, acting(database, op) as ctx:
            service.record_asset_reduction(ctx, uscc, code, booking)
        assert field in {e.field for e in err.value.errors}, booking
        assert all(e.message.zh and e.message.en for e in err.value.errors)
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.record_asset_reduction(
            ctx, uscc, code, _part("sale", date(2025, 5, 31), share_cost="5000.01")
        )
    (error,) = err.value.errors
    assert "5000.00" in error.message.zh and "no more than what stands" in error.message.en
    assert _reductions(database) == written
    assert _audited(database, "market.refused") >= 6

    with acting(database, op) as ctx:
        third = service.record_asset_reduction(
            ctx, uscc, code, _part("derecognition", date(2025, 6, 1), share="0.5")
        )
        books = service.balance_sheet(ctx, uscc, 2025)
    assert (third.amount, third.allowance_removed, third.gain_or_loss) == (
        D("2250.00"),
        D("250.00"),
        None,
    )
    t = _rows(books.inventory)
    assert t["cost.decrease.sale"] == D("5000.00") and t["cost.decrease.derecognition"] == D(
        "2500.00"
    )
    assert t["cost.ending"] == D("2500.00") and t["writedown.increase"] == D("1000.01")
    assert t["writedown.decrease.writeoff"] == D("750.00") and t["writedown.ending"] == D("250.01")
    assert t["carrying.ending"] == D("2249.99")
    _ties_out(books.inventory, ("cost", "writedown"))
    (asset,) = books.assets
    assert asset.cost == D("10000.00") and asset.cost_on_books == D("2500.00")
    assert asset.left_books_on is None
    assert [r.share for r in books.reductions] == [None, "1/4", "1/3", "1/2"]

    with acting(database, op) as ctx:
        last = service.record_asset_reduction(
            ctx, uscc, code, _part("sale", date(2026, 1, 15), proceeds="2600")
        )
        after = service.balance_sheet(ctx, uscc, 2026)
    assert last.whole and last.share is None and last.cost_of_sales == D("2249.99")
    assert (last.cost_removed, last.allowance_removed) == (D("2500.00"), D("250.01"))
    n = _rows(after.inventory)
    assert n["cost.opening"] == n["cost.decrease"] == D("2500.00") and n["cost.ending"] == 0
    assert n["writedown.opening"] == n["writedown.decrease.writeoff"] == D("250.01")
    assert n["carrying.opening"] == D("2249.99") and n["carrying.ending"] == 0
    _ties_out(after.inventory, ("cost", "writedown"))
    assert after.assets[0].left_books_on == date(2026, 1, 15)
    assert after.assets[0].cost_on_books == 0


def test_intangible_asset_partly_disposed_of_is_amortised_on_what_remains(
    database: Database,
) -> None:
    """Cost 1,200.00 (2024), ready on 20 December 2024, 12 months: 100.00 a month from
    January 2025. After March's charge (300.00) an impairment of 60.00 (carrying 840.00).
    On 15 April a third is sold for 500.00: cost 400.00, of it amortisation 100.00,
    allowance 20.00 and carrying 280.00 — a gain of 220.00. April is not charged on the part
    sold: from April the carrying amount left (560.00) is spread over the nine months left,
    62.22 a month and 62.24 in December. 2025: amortisation 300.00 + 8 × 62.22 + 62.24 =
    860.00 charged, 100.00 removed, 760.00 at the end; the carrying amount ends at 0."""
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
                ready_on=date(2024, 12, 20),
            ),
        )
        service.record_cost_item(ctx, uscc, code, _cost(date(2024, 11, 1), "1200"))
        service.record_asset_reduction(
            ctx, uscc, code, _booking("impairment", date(2025, 3, 31), "60")
        )
        sold = service.record_asset_reduction(
            ctx, uscc, code, _part("sale", date(2025, 4, 15), share="1/3", proceeds="500")
        )
    assert (sold.cost_removed, sold.amortisation_removed, sold.allowance_removed) == (
        D("400.00"),
        D("100.00"),
        D("20.00"),
    )
    assert (sold.amount, sold.gain_or_loss, sold.cost_of_sales) == (D("280.00"), D("220.00"), None)
    # a capitalised cost dated before the share left would change what was sold: refused
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.record_cost_item(ctx, uscc, code, _cost(date(2024, 12, 1), "10"))
    assert err.value.errors[0].field == "incurred_on" and "2025-04-15" in (
        err.value.errors[0].message.zh
    )
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.record_asset_reduction(
            ctx, uscc, code, _part("derecognition", date(2025, 5, 1), share="4/3")
        )
    assert err.value.errors[0].field == "share"
    with acting(database, op) as ctx:
        books = service.balance_sheet(ctx, uscc, 2025)
    (s,) = books.schedules
    amounts = [line.amount for line in s.lines]
    assert amounts[:3] == [D("100.00")] * 3 and amounts[3:11] == [D("62.22")] * 8
    assert amounts[11] == D("62.24") and s.lines[-1].carrying == 0
    assert s.lines[3].accumulated == D("262.22")  # April: 300 − 100 removed + 62.22
    t = _rows(books.intangible)
    assert (t["cost.opening"], t["cost.decrease.sale"], t["cost.ending"]) == (
        D("1200.00"),
        D("400.00"),
        D("800.00"),
    )
    assert t["amortisation.increase"] == D("860.00") and t["amortisation.decrease.sale"] == D(
        "100.00"
    )
    assert t["amortisation.ending"] == D("760.00") and t["impairment.ending"] == D("40.00")
    assert t["impairment.decrease.sale"] == D("20.00") and t["carrying.ending"] == 0
    _ties_out(books.intangible, ("cost", "amortisation", "impairment"))


def test_the_share_goes_through_the_api_the_console_the_workbook_and_the_command_line(
    database: Database, client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.declare_data_asset(
            ctx, uscc, AssetIn(resource_code=code, name="行业数据集", use="for_sale")
        )
        service.record_cost_item(ctx, uscc, code, _cost(date(2025, 2, 1), "1000"))
    login(client, "operator", PASSWORD)
    page = f"/market/books?org={uscc}&year=2025"
    token = csrf(client, page)
    form = {
        "csrf_token": token,
        "org": uscc,
        "year": "2025",
        "resource_code": code,
        "kind": "sale",
        "booked_on": "2025-03-01",
        "amount": "",
        "share": "",
        "share_cost": "1000.01",
        "proceeds": "500",
        "reason": REASON,
    }
    bad = client.post("/market/books/reductions", data=form)
    assert bad.status_code == 422 and "1000.00" in bad.text and 'value="1000.01"' in bad.text
    assert _reductions(database) == 0
    made = client.post(
        "/market/books/reductions",
        data=form | {"share_cost": "", "share": "20%"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    shown = client.get(page)
    assert 'data-share="1/5"' in shown.text and "1/5 (20.00%)" in shown.text
    assert "800.00" in shown.text  # the cost on the books
    assert "Share" in client.get(page + "&lang=en").text

    with acting(database, SYSTEM) as ctx:
        key = auth.create_api_key(ctx, ApiKeyCreate(name="op", role=Role.OPERATOR, unit_code="A"))
    headers = {"Authorization": f"Bearer {key.token}"}
    over = client.post(
        f"/api/v1/market/books/{uscc}/reductions",
        headers=headers,
        json={
            "resource_code": code,
            "kind": "derecognition",
            "booked_on": "2025-04-01",
            "share": "3/2",
            "reason": REASON,
        },
    )
    assert over.status_code == 422 and _reductions(database) == 1
    api = client.post(
        f"/api/v1/market/books/{uscc}/reductions",
        headers=headers,
        json={
            "resource_code": code,
            "kind": "derecognition",
            "booked_on": "2025-04-01",
            "share_cost": 200,
            "reason": REASON,
        },
    )
    assert api.status_code == 201, api.text
    assert api.json()["share"] == "1/4" and api.json()["cost_removed"] == "200.00"

    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        data = service.export_balance_sheet(ctx, uscc, 2025)
    sheet = load_workbook(io.BytesIO(data))["减值与处置"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [r[5] for r in rows] == ["1/5 (20.00%)", "1/4 (25.00%)"]
    assert [r[7] for r in rows] == [200, 200]
    out = tmp_path / "books.xlsx"
    status, output = _run(
        settings, "market", "balance-sheet", "--org", uscc, "--year", "2025", "--out", str(out)
    )
    assert status == 0, output
    assert "份额 share 1/5 (20.00%)" in output and "1/4 (25.00%)" in output


def test_a_whole_disposal_booked_before_shares_existed_reads_the_same(database: Database) -> None:
    """A sale stored before ``market_0006`` has no amortisation or allowance removed: the
    tables derive them (everything charged and standing) and show the same figures."""
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
                useful_life_months=10,
                ready_on=date(2024, 12, 20),
            ),
        )
        service.record_cost_item(ctx, uscc, code, _cost(date(2024, 11, 1), "1000"))
        service.record_asset_reduction(
            ctx, uscc, code, _booking("impairment", date(2025, 2, 28), "80")
        )
        sold = service.record_asset_reduction(
            ctx, uscc, code, _part("sale", date(2025, 6, 10), proceeds="500")
        )
        now = service.balance_sheet(ctx, uscc, 2025)
    assert sold.whole and (sold.amortisation_removed, sold.allowance_removed) == (
        D("470.00"),  # January–February 2 × 100.00, then March–May 3 × (720.00 / 8)
        D("80.00"),
    )
    with acting(database, SYSTEM) as ctx:
        row = ctx.db.get(AssetReduction, sold.id)
        assert row is not None
        row.amortisation_fen = row.allowance_fen = None
    with acting(database, op) as ctx:
        then = service.balance_sheet(ctx, uscc, 2025)
    assert then.intangible == now.intangible and then.reductions == now.reductions
    t = _rows(then.intangible)
    assert t["amortisation.decrease.sale"] == D("470.00") and t["carrying.ending"] == 0


# ---------------------------------------------------------------- any sequence

FAR = date(2040, 1, 1)  # "today" for the plans: nothing is in the future
START = date(2024, 1, 15)
LEAVES = st.sampled_from(["sale", "derecognition"])
IMPAIR = st.tuples(st.just("impairment"), st.integers(1, 1100))  # ‰ of the carrying amount
TENTHS = st.tuples(LEAVES, st.just("share"), st.integers(1, 11), st.just(10))  # 11/10: over
ACTIONS = st.one_of(
    IMPAIR,
    IMPAIR,
    IMPAIR,
    st.tuples(st.just("reversal"), st.integers(1, 1100)),  # ‰ of the allowance
    TENTHS,
    TENTHS,
    TENTHS,
    st.tuples(LEAVES, st.just("share"), st.integers(1, 12), st.integers(1, 10)),
    st.tuples(LEAVES, st.just("cost"), st.integers(1, 1100)),  # ‰ of the cost standing
    st.tuples(LEAVES, st.just("whole")),
    st.tuples(st.just("cost"), st.integers(1, 10**9)),
)


def _table(
    asset: DataAsset, items: list[CostItem], booked: list[AssetReduction], year: int
) -> dict[str, Decimal]:
    rows: list[MovementRow] = movements([asset], {1: items}, {1: booked}, year, asset.use)
    return {r.key: r.total for r in rows}


def _check_tables(
    asset: DataAsset, items: list[CostItem], booked: list[AssetReduction], until: int
) -> None:
    blocks = (
        ("cost", "amortisation", "impairment")
        if asset.use == AssetUse.OWN_USE
        else ("cost", "writedown")
    )
    previous: dict[str, Decimal] | None = None
    for year in range(START.year, until + 1):
        t = _table(asset, items, booked, year)
        assert all(v >= 0 for v in t.values()), (year, t)
        for block in blocks:
            assert t[f"{block}.ending"] == (
                t[f"{block}.opening"] + t[f"{block}.increase"] - t[f"{block}.decrease"]
            )
            subs = [v for k, v in t.items() if k.startswith(f"{block}.decrease.")]
            assert sum(subs) == t[f"{block}.decrease"]
            if previous is not None:
                assert previous[f"{block}.ending"] == t[f"{block}.opening"]
        assert t["carrying.ending"] == t["cost.ending"] - sum(t[f"{b}.ending"] for b in blocks[1:])
        previous = t


def _check_months(
    asset: DataAsset, items: list[CostItem], booked: list[AssetReduction], until: int
) -> None:
    lines = amortisation(asset, items, booked)
    assert all(fen >= 0 for *_ym, fen in lines)
    for n in range((until - START.year + 1) * 12):
        year, month = START.year + n // 12, n % 12 + 1
        now = standing(asset, items, booked, lines, month_end(year, month))
        assert min(now.cost, now.amortised, now.allowance, now.carrying) >= 0, (year, month)
    months = asset.useful_life_months or 0
    if lines and len(lines) == months and leaving(booked) is None:
        # the useful life is over: every fen of the cost is charged, impaired or removed
        y, m, _fen = lines[-1]
        assert standing(asset, items, booked, lines, month_end(y, m)).carrying == 0


@hypothesis.settings(max_examples=100, deadline=None)
@given(
    own_use=st.booleans(),
    months=st.integers(min_value=1, max_value=40),
    costs=st.lists(st.integers(min_value=1, max_value=10**10), min_size=1, max_size=3),
    steps=st.lists(st.tuples(st.integers(0, 80), ACTIONS), max_size=14),
)
def test_any_sequence_of_partial_reductions_keeps_the_tables_balanced(
    own_use: bool, months: int, costs: list[int], steps: list[tuple[int, tuple[Any, ...]]]
) -> None:
    """Whatever impairments, reversals, shares sold or derecognised (as fractions or as
    costs, sometimes more than stands) and later costs, in any order: every booking the
    rules accept removes at most what stands, in pieces that sum to its cost; over-selling
    is always refused; the tables of every year balance, carry over to the next and never
    show a negative figure; no balance is ever below zero at any month's end; and at the
    end of the useful life the carrying amount is exactly zero."""
    asset = DataAsset(
        id=1,
        unit_id=1,
        resource_code="R",
        name="R",
        use=AssetUse.OWN_USE if own_use else AssetUse.FOR_SALE,
        origin=AssetOrigin.DEVELOPED,
        useful_life_months=months if own_use else None,
        ready_on=date(2024, 1, 10) if own_use else None,
    )
    items = [
        CostItem(
            id=n + 1,
            asset_id=1,
            category=CostCategory.COLLECTION,
            incurred_on=date(2024, 1, n + 1),
            amount_fen=fen,
            basis="b",
        )
        for n, fen in enumerate(costs)
    ]
    booked: list[AssetReduction] = []
    day = START
    for gap, action in steps:
        day += timedelta(days=gap)
        if action[0] == "cost":
            if leaving(booked) is None:
                items.append(
                    CostItem(
                        id=len(items) + 1,
                        asset_id=1,
                        category=CostCategory.LABOUR,
                        incurred_on=day,
                        amount_fen=action[1],
                        basis="b",
                    )
                )
            continue
        before = position(asset, items, booked, day, with_month=False)
        data: dict[str, Any] = {"kind": action[0], "booked_on": day, "reason": REASON}
        over = False
        if action[0] in ("impairment", "reversal"):
            now = position(asset, items, booked, day)
            base = now.carrying if action[0] == "impairment" else now.allowance
            fen = base * action[1] // 1000 + (1 if action[1] > 1000 else 0)
            if fen <= 0:
                continue
            data["amount"] = str(yuan(fen))
            over = fen > base
        elif action[1] == "share":
            data["share"] = f"{action[2]}/{action[3]}"
            over = action[2] > action[3]
        elif action[1] == "cost":
            fen = before.cost * action[2] // 1000 + (1 if action[2] > 1000 else 0)
            if fen <= 0:
                continue
            data["share_cost"] = str(yuan(fen))
            over = fen > before.cost
        try:
            row = plan_reduction(asset, "R", items, booked, ReductionIn.model_validate(data), FAR)
        except Invalid as err:
            assert all(e.message.zh and e.message.en for e in err.errors)
            continue
        assert not over, data
        if row.kind in (ReductionKind.SALE, ReductionKind.DERECOGNITION):
            assert row.amortisation_fen is not None and row.allowance_fen is not None
            pieces = (row.amortisation_fen, row.allowance_fen, row.amount_fen)
            assert all(p >= 0 for p in pieces) and sum(pieces) == row.cost_fen
            assert row.cost_fen <= before.cost and row.amount_fen <= before.carrying
            assert row.amortisation_fen <= before.amortised
            assert row.allowance_fen <= before.allowance
            if row.share is None:  # the whole asset: exactly what stood
                assert (row.cost_fen, row.amount_fen) == (before.cost, before.carrying)
        row.id = len(booked) + 1
        row.recorded_by = "t"
        booked.append(row)
        until = min(day.year + (months // 12 + 2 if own_use else 1), FAR.year - 1)
        _check_tables(asset, items, booked, until)
        _check_months(asset, items, booked, until)
    until = min(day.year + (months // 12 + 2 if own_use else 1), FAR.year - 1)
    _check_tables(asset, items, booked, until)
    _check_months(asset, items, booked, until)
