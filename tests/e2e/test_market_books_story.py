"""In a real browser: the bureau's executive opens this year's disclosure (a draft from the
ledger), prints it, publishes it; the cockpit shows the market box. The operator records a
cost of its data resource, writes it down, sells a quarter of it (over-selling refused with
the input kept) and sees its balance-sheet tables, labelled as the platform's computation."""

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

    # A write-down above the carrying amount is shown back with the input kept; then booked.
    form = "#books-reduction"
    page.select_option(f"{form} select[name=kind]", "impairment")
    page.fill(f"{form} input[name=booked_on]", str(utcnow().date()))
    page.fill(f"{form} input[name=amount]", "1234.51")
    page.fill(f"{form} input[name=reason]", "同类数据市场价格下降，可变现净值低于成本。")
    page.click(f"{form} button")
    expect(page.locator(".alert[role=alert]")).to_contain_text("1234.50")
    expect(page.locator(f"{form} input[name=reason]")).to_have_value(
        "同类数据市场价格下降，可变现净值低于成本。"
    )
    page.fill(f"{form} input[name=amount]", "234.5")
    page.click(f"{form} button")
    expect(page.locator("#books-reductions tr[data-kind=impairment]")).to_contain_text("234.50")
    expect(ending).to_contain_text("1,000.00")
    expect(page.locator("#books-table-b tr[data-key='writedown.ending']")).to_contain_text("234.50")

    # A quarter is sold: asking for more than stands is shown back; then the share is booked
    # at its carrying amount (cost 308.63: 250.00 cost of sales, 58.63 of the write-down).
    page.select_option(f"{form} select[name=kind]", "sale")
    page.fill(f"{form} input[name=booked_on]", str(utcnow().date()))
    page.fill(f"{form} input[name=share]", "125%")
    page.fill(f"{form} input[name=proceeds]", "400")
    page.fill(f"{form} input[name=reason]", "向数商出售四分之一的记录副本。")
    page.click(f"{form} button")
    expect(page.locator(".alert[role=alert]")).to_contain_text("不超过 1（100%）")
    expect(page.locator(f"{form} input[name=share]")).to_have_value("125%")
    page.fill(f"{form} input[name=share]", "25%")
    page.click(f"{form} button")
    sold = page.locator("#books-reductions tr[data-kind=sale]")
    expect(sold).to_have_attribute("data-share", "1/4")
    expect(sold.locator(".share")).to_have_text("1/4 (25.00%)")
    expect(sold).to_contain_text("250.00")
    expect(ending).to_contain_text("750.00")
    expect(page.locator("#books-assets .on-books")).to_contain_text("925.87")
