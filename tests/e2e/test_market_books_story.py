"""In a real browser: the bureau's executive opens this year's disclosure (a draft from the
ledger), prints it, publishes it; the cockpit shows the market box. The operator records a
cost of its data resource and sees its balance-sheet tables, labelled as the platform's
computation."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from shuzhi.db.base import utcnow
from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, seed_org
from tests.market.helpers import active_agreement, figures_entry, operator_party

pytestmark = pytest.mark.browser


def test_disclosure_and_books_in_the_browser(live_server: LiveServer, page: Page) -> None:
    database = live_server.database
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    active_agreement(database, seeded, party.id, [code])
    base, year = live_server.url, utcnow().year
    login(page, base, "exec", PASSWORD)
    page.goto(f"{base}/market")
    page.click("#books-links a")
    page.goto(f"{base}/market/disclosure/{year}")
    expect(page.locator("#disclosure-agreements tbody tr")).to_have_count(1)
    expect(page.locator("#disclosure-agreements")).to_contain_text("500,000.00")
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    page.click("[data-print]")
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")
    page.click("#publish-disclosure")
    expect(page.locator("#disclosure-status")).to_have_attribute("data-status", "published")
    page.goto(f"{base}/cockpit")
    expect(page.locator("#market-figures")).to_be_visible()
    logout(page)

    login(page, base, "operator", PASSWORD)
    page.goto(f"{base}/market")
    page.click("#books-links a")
    expect(page.locator("#books-notice")).to_contain_text("未经审计")
    page.fill("#books-forms input[name=resource_code]", code)
    page.fill("#books-forms input[name=name]", "企业经营数据")
    page.select_option("#books-forms select[name=use]", "for_sale")
    page.click("#books-forms form[action='/market/books/assets'] button")
    page.select_option("#books-forms select[name=category]", "cleaning")
    page.fill("#books-forms input[name=incurred_on]", str(date(year, 1, 1)))
    page.fill("#books-forms input[name=amount]", "1234.5")
    page.fill("#books-forms input[name=basis]", "按处理记录数分摊")
    page.click("#books-forms form[action='/market/books/costs'] button")
    expect(page.locator("#books-costs")).to_contain_text("1,234.50")
    ending = page.locator("#books-table-b tr[data-key='carrying.ending']")
    expect(ending).to_contain_text("1,234.50")
