"""Rows of the permission matrix for the market's books (tests/auth/test_permission_matrix.py):
the annual disclosure (the bureau) and the balance-sheet records (the organisation itself).

Each disclosure call gets a year of its own (an agreement of the unit's operator moved into
that year), so publishing never meets an earlier publication."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import count

from sqlalchemy import select

from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.engine import Database
from shuzhi.market import service
from shuzhi.market.books_models import DataAsset
from shuzhi.market.books_schemas import AssetIn, CostItemIn, ReductionIn
from shuzhi.market.models import Agreement
from shuzhi.market.service.balance import organisation
from tests.conftest import acting
from tests.market.matrix import _agreement, _entry

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
EXEC = {Role.CDO_EXECUTIVE}
OP = {Role.OPERATOR}
NONE: set[Role] = set()

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "view_disclosure": (R, R),
    "export_disclosure": (R, R),
    "publish_disclosure": (EXEC, EXEC),
    "declare_data_asset": (OP, NONE),
    "record_cost_item": (OP, NONE),
    "record_asset_reduction": (OP, NONE),
    "view_balance_sheet": (OP, NONE),
}


def _next_year(database: Database) -> int:
    """2001, 2002, … for each database (each test has a fresh one)."""
    years: count[int] = vars(database).setdefault("_matrix_books_years", count(2001))
    return next(years)


def _year(database: Database, unit: str) -> int:
    """A past year of its own in which an agreement of ``unit``'s operator was in force."""
    agreement_id = _agreement(database, unit)
    year = _next_year(database)
    with acting(database, SYSTEM) as ctx:
        row = ctx.db.get(Agreement, agreement_id)
        assert row is not None
        row.starts_on, row.ends_on = date(year, 1, 1), date(year, 12, 31)
    return year


def _uscc(database: Database, unit: str) -> tuple[str, str]:
    """The USCC of ``unit``'s operator and a resource its agreement authorised."""
    agreement_id = _agreement(database, unit)
    with acting(database, SYSTEM) as ctx:
        agreement = service.get_agreement(ctx, agreement_id)
        party = service.get_market_party(ctx, agreement.operator_id)
    return party.uscc, _entry(database)


def _declared(database: Database, unit: str) -> tuple[str, str]:
    uscc, code = _uscc(database, unit)
    with acting(database, SYSTEM) as ctx:
        service.declare_data_asset(
            ctx, uscc, AssetIn(resource_code=code, name="企业经营数据", use="for_sale")
        )
    return uscc, code


def _with_cost(database: Database, unit: str) -> tuple[str, str]:
    """A declared resource with a cost to impair (declared once: an asset with bookings
    keeps its declaration)."""
    uscc, code = _uscc(database, unit)
    with acting(database, SYSTEM) as ctx:
        unit_id = organisation(ctx, uscc).id
        known = ctx.db.scalar(
            select(DataAsset.id).where(
                DataAsset.unit_id == unit_id, DataAsset.resource_code == code
            )
        )
        if known is None:
            service.declare_data_asset(
                ctx, uscc, AssetIn(resource_code=code, name="企业经营数据", use="for_sale")
            )
        service.record_cost_item(ctx, uscc, code, COST)
    return uscc, code


def _pair(a: object) -> tuple[str, str]:
    assert isinstance(a, tuple)
    return str(a[0]), str(a[1])


COST = CostItemIn.model_validate(
    {"category": "labour", "incurred_on": "2025-01-31", "amount": "1200", "basis": "按工时"}
)
WRITE_DOWN = ReductionIn.model_validate(
    {
        "kind": "impairment",
        "booked_on": "2025-02-28",
        "amount": "100",
        "reason": "市场价格下跌，可变现净值低于成本。",
    }
)

Prep = Callable[[Database, str], object]
Call = Callable[[Ctx, object], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "view_disclosure": (_year, lambda c, y: service.get_disclosure(c, int(str(y)))),
    "export_disclosure": (_year, lambda c, y: service.export_disclosure(c, int(str(y)), "xlsx")),
    "publish_disclosure": (_year, lambda c, y: service.publish_disclosure(c, int(str(y)))),
    "declare_data_asset": (
        _uscc,
        lambda c, a: service.declare_data_asset(
            c, _pair(a)[0], AssetIn(resource_code=_pair(a)[1], name="企业经营数据", use="for_sale")
        ),
    ),
    "record_cost_item": (
        _declared,
        lambda c, a: service.record_cost_item(c, _pair(a)[0], _pair(a)[1], COST),
    ),
    "record_asset_reduction": (
        _with_cost,
        lambda c, a: service.record_asset_reduction(c, _pair(a)[0], _pair(a)[1], WRITE_DOWN),
    ),
    "view_balance_sheet": (_uscc, lambda c, a: service.balance_sheet(c, _pair(a)[0], 2025)),
}
