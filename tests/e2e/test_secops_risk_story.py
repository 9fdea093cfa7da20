"""End to end in a real browser: a department's CDO finds its dataset in the risk register,
answers the questionnaire, sees the score fall and its history grow, confirms the unit's
assessment and opens the annual important-data risk assessment report."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from shuzhi.context import SYSTEM
from shuzhi.secops import service
from shuzhi.secops.risk_questions import DEFAULT_QUESTIONS
from tests.conftest import acting
from tests.e2e.conftest import LiveServer, login
from tests.factories import PASSWORD
from tests.gateway.helpers import share
from tests.sharing.helpers import provider_account

pytestmark = pytest.mark.browser


def test_unit_cdo_answers_confirms_and_opens_the_report(
    live_server: LiveServer, page: Page
) -> None:
    database = live_server.database
    shared = share(database)
    with acting(database, SYSTEM) as ctx:
        service.reassess_due(ctx)
    username = provider_account(database)
    base = live_server.url
    login(page, base, username, PASSWORD)
    page.click("nav[aria-label=main] >> text=安全运营")
    page.click("#risk-register-link")
    rows = page.locator("#risk-register tbody tr")
    expect(rows.first).to_be_visible()
    # department B's CDO sees department B's subjects only
    expect(page.locator("#risk-register tbody tr", has_text="区甲局")).to_have_count(0)
    page.locator(f"#risk-register tr[data-subject='dataset:{shared.code}'] a").first.click()
    before = int(page.locator("#risk-score").inner_text())
    for code, kind, *_ in DEFAULT_QUESTIONS:
        if kind == "dataset":
            page.select_option(f"select[name='answer.{code}']", "yes")
    page.click("#risk-answers button[type=submit]")
    expect(page.locator("#risk-history tbody tr")).to_have_count(2)
    assert int(page.locator("#risk-score").inner_text()) < before
    expect(page.locator("#risk-reasons tr[data-factor^='q:']")).to_have_count(0)
    page.goto(f"{base}/secops/risk")
    page.locator("#risk-register tr[data-subject^='unit:'] a").first.click()
    for code, kind, *_ in DEFAULT_QUESTIONS:
        if kind == "unit":
            page.select_option(f"select[name='answer.{code}']", "yes")
    page.click("#risk-answers button[type=submit]")
    page.click("#confirm")
    expect(page.locator("#risk-reviewed")).to_contain_text(username)
    page.click("#risk-report-link")
    expect(page.locator("#report-title")).to_contain_text("重要数据处理风险评估报告")
    expect(page.locator("#report-activities")).to_contain_text(shared.code)
    href = page.locator("#report-pdf").get_attribute("href") or ""
    assert href.startswith(f"/secops/risk/report/{quote('B')}/pdf")
    with page.expect_download() as download:
        page.click("#report-pdf")
    assert download.value.suggested_filename.endswith(".pdf")
