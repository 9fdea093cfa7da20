"""End to end in a real browser: a provider's CDO finds an old grant in the review queue,
confirms it is still needed, and reads the unit's monthly security report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from shuzhi.context import SYSTEM
from shuzhi.db.base import utcnow
from shuzhi.secops import review
from shuzhi.secops.reports import BEIJING
from tests.conftest import acting
from tests.e2e.conftest import LiveServer, login
from tests.factories import PASSWORD
from tests.gateway.helpers import share
from tests.sharing.helpers import provider_account

pytestmark = pytest.mark.browser


def test_provider_confirms_a_grant_and_reads_the_report(
    live_server: LiveServer, page: Page
) -> None:
    database = live_server.database
    share(database)
    with acting(database, SYSTEM) as ctx:
        review.sweep_grant_reviews(ctx, utcnow() + timedelta(days=181))
    base = live_server.url
    login(page, base, provider_account(database), PASSWORD)
    page.click("nav[aria-label=main] >> text=安全运营")
    page.click("text=授权定期复核")
    row = page.locator("#grant-reviews tbody tr").first
    expect(row).to_contain_text("待确认")
    row.locator("input[name=note]").fill("低保复核业务仍在使用，用途未变")
    row.locator("button").click()
    expect(page.locator("#grant-reviews tbody tr")).to_have_text(["暂无"])
    page.click("#review-filter >> text=已确认")
    expect(page.locator("#grant-reviews tbody tr").first).to_contain_text("低保复核业务仍在使用")
    page.click("text=月度安全报告")
    month = utcnow().astimezone(BEIJING).strftime("%Y-%m")
    page.fill("#report-pick input[name=month]", month)
    page.click("#report-pick button")
    expect(page.locator("#report-reviews tbody tr").first).to_contain_text("已确认")
    expect(page.locator("#report-pick a")).to_have_attribute(
        "href", f"/secops/reports/B/{month}.pdf"
    )
