"""``seed_books``: the demo operator's resource on its balance sheet and the year's
disclosure published, on its own (the market demo calls it after its story)."""

from __future__ import annotations

from decimal import Decimal

from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.market import service
from tests.conftest import acting
from tests.factories import seed_org
from tests.market.helpers import active_agreement, figures_entry, operator_party


def test_seed_books(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    active_agreement(database, seeded, party.id, [code])
    year = utcnow().year
    with acting(database, SYSTEM) as ctx:
        seeded_books = service.seed_books(ctx, party.uscc, code, year=year)
    assert seeded_books.cost_items == 7 and seeded_books.cost == "283600.50"
    assert seeded_books.disclosure_sha256 and seeded_books.disclosure_year == year
    with acting(database, SYSTEM) as ctx:
        again = service.seed_books(ctx, party.uscc, code, year=year)
    assert again.cost_items == 0 and again.disclosure_sha256 == seeded_books.disclosure_sha256
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        books = service.balance_sheet(ctx, party.uscc, year)
    (asset,) = books.assets
    assert (asset.asset_class, asset.cost) == ("intangible", Decimal("283600.50"))
    assert len(books.costs) == 7 and all(c.capitalised for c in books.costs)
    (schedule,) = books.schedules
    assert len(schedule.lines) == 36 and sum(x.amount for x in schedule.lines) == asset.cost
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        disclosure = service.get_disclosure(ctx, year)
    assert disclosure.published and disclosure.operators[0].uscc == party.uscc
