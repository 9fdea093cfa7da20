"""The market on the cockpit: products registered (listed and traded from the trade feed),
agreements ending within 90 days, and the annual disclosure's reminder."""

from __future__ import annotations

import io
from datetime import date, timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shuzhi.cockpit import service as cockpit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.market import service
from shuzhi.market.models import Agreement, Registration
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.market.helpers import (
    active_agreement,
    executive,
    figures_entry,
    operator_party,
    registered_story,
)
from tests.web.helpers import login


def test_market_figures_on_the_region_cockpit(database: Database) -> None:
    seeded = seed_org(database)
    today = utcnow().date()
    agreement, _product, filed = registered_story(database, seeded)
    with acting(database, SYSTEM) as ctx:
        reg = ctx.db.get(Registration, filed.id)
        assert reg is not None
        reg.notice_ends_at = utcnow() - timedelta(minutes=1)
    with acting(database, executive(seeded)) as ctx:
        service.confirm_registration(ctx, filed.number)
    party = operator_party(database, seeded, name="另一运营机构有限公司")
    ending = active_agreement(
        database,
        seeded,
        party.id,
        [figures_entry(database)],
        ends_on=str(today + timedelta(days=30)),
    )
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        m = cockpit.cockpit_summary(ctx).market
    assert m is not None
    # the registered, compliant product is listed (trade feed); nobody has bought it yet
    assert (m.products_registered, m.products_listed, m.products_traded) == (1, 1, 0)
    assert [(a.id, a.days_left) for a in m.agreements_expiring] == [(ending.id, 30)]
    assert agreement.id not in [a.id for a in m.agreements_expiring]  # a year away
    assert [(d.year, d.status) for d in m.disclosures] == [(today.year, "not_due")]
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        march = cockpit.cockpit_summary(ctx, today=date(today.year + 1, 3, 1)).market
    assert march is not None
    assert [(d.year, d.status) for d in march.disclosures] == [
        (today.year, "due"),
        (today.year + 1, "not_due"),  # the first agreement runs into next year
    ]
    assert march.agreements_expiring == []  # ended by then
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        assert cockpit.cockpit_summary(ctx).market is None
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        book = load_workbook(io.BytesIO(cockpit.export_cockpit(ctx)))
    rows = dict(book["数据市场"].iter_rows(min_row=2, max_row=5, values_only=True))
    assert rows["已登记产品"] == 1 and rows["本年交易收入（元）"] == 0


def test_cockpit_page_reminds_of_an_overdue_disclosure(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    agreement = active_agreement(database, seeded, party.id, [figures_entry(database)])
    last = utcnow().year - 1
    with acting(database, SYSTEM) as ctx:
        row = ctx.db.get(Agreement, agreement.id)
        assert row is not None
        row.starts_on, row.ends_on = date(last, 1, 1), date(last, 12, 31)
    login(client, "cdo", PASSWORD)
    page = client.get("/cockpit")
    assert page.status_code == 200
    assert 'id="disclosure-reminder"' in page.text and 'data-status="overdue"' in page.text
    assert f"{last} 年度授权运营信息披露须于 {last + 1}-03-31 前发布" in page.text
    assert 'id="market-figures"' in page.text
    english = client.get("/cockpit?lang=en")
    assert f"The {last} disclosure of authorised operation is due by" in english.text
