"""Data assets on the balance sheet (入表): cost items, classification, amortisation and the
disclosure tables, computed exactly; the operator's own books only."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from shuzhi.context import Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid, NotFound
from shuzhi.market import service
from shuzhi.market.books_models import CostItem
from shuzhi.market.books_schemas import AssetIn, CostItemIn, MovementRow
from shuzhi.market.service.balance import parse_amount, schedule
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.market.helpers import active_agreement, figures_entry, operator_party


@given(
    cost=st.integers(min_value=0, max_value=10**14),
    months=st.integers(min_value=1, max_value=600),
    ready=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
)
def test_the_schedule_sums_to_the_cost_exactly(cost: int, months: int, ready: date) -> None:
    lines = list(schedule(cost, months, ready))
    assert len(lines) == months and sum(fen for _, _, fen in lines) == cost
    assert all(fen >= 0 for _, _, fen in lines)
    assert len({fen for _, _, fen in lines[:-1]}) <= 1  # straight line
    year, month, _ = lines[0]
    assert (year * 12 + month) == ready.year * 12 + ready.month + 1  # the month after
    assert len({(y, m) for y, m, _ in lines}) == months  # one line per month, none twice


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999999.99"), places=2))
def test_amounts_are_read_exactly(amount: Decimal) -> None:
    assert parse_amount(str(amount)) == int(amount * 100)


@given(st.text(max_size=20))
def test_an_amount_is_a_positive_plain_decimal_or_refused(text: str) -> None:
    try:
        fen = parse_amount(text)
    except Invalid as err:
        assert err.errors[0].field == "amount" and err.errors[0].message.zh
    else:
        assert fen > 0


@pytest.mark.parametrize("text", ["0", "0.00", "-5", "1.234", "1e3", "=1+1", "", "12,800"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(Invalid):
        parse_amount(text)
    assert parse_amount("１２８００.５") == 1_280_050  # full-width digits as typed in Chinese


def _operator(database: Database, seeded: Org) -> tuple[str, str]:
    """The operator (department A's organisation) and a resource its agreement authorised."""
    party = operator_party(database, seeded)
    code = figures_entry(database)
    active_agreement(database, seeded, party.id, [code])
    return party.uscc, code


def _cost(category: str, day: date, amount: str, basis: str = "按工时分摊") -> CostItemIn:
    return CostItemIn.model_validate(
        {"category": category, "incurred_on": day, "amount": amount, "basis": basis}
    )


def _row(rows: list[MovementRow], key: str) -> Decimal:
    return next(r.total for r in rows if r.key == key)


def test_intangible_asset_is_amortised_and_the_tables_tie_out(database: Database) -> None:
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    op = seeded.actor(Role.OPERATOR)
    with acting(database, op) as ctx:
        asset = service.declare_data_asset(
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
        service.record_cost_item(ctx, uscc, code, _cost("collection", date(2025, 1, 10), "1000"))
        service.record_cost_item(ctx, uscc, code, _cost("cleaning", date(2025, 3, 1), "200.01"))
        late = service.record_cost_item(ctx, uscc, code, _cost("labour", date(2025, 5, 1), "50"))
        books = service.balance_sheet(ctx, uscc, 2025)
        next_year = service.balance_sheet(ctx, uscc, 2026)
    assert asset.asset_class == "intangible" and not late.capitalised
    (a,) = books.assets
    assert a.cost == Decimal("1200.01")
    (s,) = books.schedules
    assert s.lines[0].month == "2025-04" and s.lines[-1].month == "2026-03"
    assert sum(line.amount for line in s.lines) == Decimal("1200.01")
    assert s.lines[-1].amount == Decimal("100.01") and s.lines[-1].carrying == 0
    t = books.intangible
    assert _row(t, "cost.opening") == 0 and _row(t, "cost.increase") == Decimal("1200.01")
    assert _row(t, "amortisation.increase") == Decimal("900.00")  # April to December
    assert _row(t, "carrying.ending") == Decimal("300.01")
    n = next_year.intangible
    assert _row(n, "cost.opening") == _row(n, "cost.ending") == Decimal("1200.01")
    assert _row(n, "amortisation.opening") == Decimal("900.00")
    assert _row(n, "amortisation.increase") == Decimal("300.01")
    assert _row(n, "carrying.ending") == 0 and _row(n, "carrying.opening") == Decimal("300.01")
    for rows in (t, n):
        for part in ("cost", "amortisation"):
            assert _row(rows, f"{part}.ending") == _row(rows, f"{part}.opening") + _row(
                rows, f"{part}.increase"
            ) - _row(rows, f"{part}.decrease")
        row = next(r for r in rows if r.key == "cost.ending")
        assert row.purchased + row.developed + row.other == row.total
    assert all(r.total == 0 for r in books.inventory)
    assert "未经审计" in books.notice_zh and "not an audited statement" in books.notice_en


def test_resource_held_for_sale_is_inventory(database: Database) -> None:
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        asset = service.declare_data_asset(
            ctx,
            uscc,
            AssetIn(resource_code=code, name="行业数据集", use="for_sale", origin="purchased"),
        )
        service.record_cost_item(ctx, uscc, code, _cost("quality", date(2025, 6, 1), "3000.5"))
        books = service.balance_sheet(ctx, uscc, 2025)
    assert asset.asset_class == "inventory" and books.schedules == []
    ending = next(r for r in books.inventory if r.key == "carrying.ending")
    assert (ending.purchased, ending.total) == (Decimal("3000.50"), Decimal("3000.50"))


def test_bad_input_is_refused_and_nothing_is_stored(database: Database) -> None:
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    op = seeded.actor(Role.OPERATOR)
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.declare_data_asset(
            ctx, uscc, AssetIn(resource_code="999999-X-00-0000", name="别人的数据", use="own_use")
        )
    assert err.value.errors[0].field == "resource_code"
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.record_cost_item(ctx, uscc, code, _cost("labour", date(2025, 1, 1), "10"))
    assert err.value.errors[0].field == "resource_code"  # not declared yet
    with acting(database, op) as ctx:
        service.declare_data_asset(
            ctx, uscc, AssetIn(resource_code=code, name="企业经营数据", use="own_use")
        )
    tomorrow = utcnow().date() + timedelta(days=1)
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.record_cost_item(ctx, uscc, code, _cost("labour", tomorrow, "-10"))
    assert {e.field for e in err.value.errors} == {"amount", "incurred_on"}
    with pytest.raises(Invalid) as err, acting(database, op) as ctx:
        service.declare_data_asset(
            ctx,
            uscc,
            AssetIn(resource_code=code, name="企业经营数据", use="own_use", ready_on=tomorrow),
        )
    assert {e.field for e in err.value.errors} == {"useful_life_months", "ready_on"}
    with acting(database, op) as ctx:
        assert ctx.db.scalar(select(func.count(CostItem.id))) == 0
    with pytest.raises(NotFound), acting(database, op) as ctx:
        service.balance_sheet(ctx, "91110000000000000X", 2025)


def test_only_the_organisation_itself_sees_its_books(database: Database) -> None:
    seeded = seed_org(database)
    uscc, _code = _operator(database, seeded)
    for actor in (
        seeded.other_unit_actor(Role.OPERATOR),
        seeded.actor(Role.CDO_EXECUTIVE),
        seeded.actor(Role.UNIT_CDO),
    ):
        with pytest.raises(Forbidden), acting(database, actor) as ctx:
            service.balance_sheet(ctx, uscc, 2025)


def test_workbook_for_accountants(database: Database) -> None:
    seeded = seed_org(database)
    uscc, code = _operator(database, seeded)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.declare_data_asset(
            ctx,
            uscc,
            AssetIn(
                resource_code=code,
                name="企业经营数据",
                use="own_use",
                useful_life_months=24,
                ready_on=date(2025, 12, 31),
            ),
        )
        service.record_cost_item(
            ctx,
            uscc,
            code,
            _cost("desensitisation", date(2025, 2, 1), "4800", "=cmd|' /C calc'!A0"),
        )
        data = service.export_balance_sheet(ctx, uscc, 2026)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [
        "说明",
        "数据资源",
        "成本明细",
        "摊销表",
        "减值与处置",
        "附注表A 无形资产",
        "附注表B 存货",
    ]
    for sheet in book.worksheets:
        assert "未经审计" in str(sheet["A1"].value) and "not an audited" in str(sheet["A1"].value)
    basis = book["成本明细"]["F3"]
    assert (basis.value, basis.data_type, basis.quotePrefix) == ("=cmd|' /C calc'!A0", "s", True)
    amounts = [row[2] for row in book["摊销表"].iter_rows(min_row=3, values_only=True)]
    assert len(amounts) == 24 and sum(Decimal(str(a)) for a in amounts) == Decimal("4800")
