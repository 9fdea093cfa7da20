"""End to end in a real browser: a liaison files a CDO appointment, the executive approves it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from shuzhi.audit.service import check_chain
from shuzhi.context import SYSTEM
from shuzhi.org import service as org
from tests.conftest import acting
from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, seed_org

pytestmark = pytest.mark.browser


def test_liaison_submits_and_executive_files(live_server: LiveServer, page: Page) -> None:
    seed_org(live_server.database)
    base = live_server.url

    login(page, base, "a.liaison", PASSWORD)
    page.goto(f"{base}/org/units/A")
    page.click("text=新增人员")
    page.fill("form[action$='/people'] input[name=name]", "郑思远")
    page.fill("form[action$='/people'] input[name=title]", "副局长")
    page.click("form[action$='/people'] button[type=submit]")
    page.click("text=新增任职")
    form = "form[action$='/appointments']"
    page.select_option(f"{form} select[name=position]", "unit_cdo")
    page.fill(f"{form} input[name=appointed_on]", "2026-11-02")
    page.fill(f"{form} input[name=document_no]", "甲任〔2026〕18号")
    page.click(f"{form} button[type=submit]")
    expect(page.locator("#appointment-status")).to_have_text("草稿")
    page.click("text=提交备案")
    expect(page.locator("#appointment-status")).to_have_text("待备案")
    appointment_url = page.url
    logout(page)

    login(page, base, "exec", PASSWORD)
    expect(page.locator("#ov-pending")).to_have_text("1")
    page.goto(f"{base}/org/filings?status=submitted")
    page.click("#filings >> text=郑思远")
    assert page.url == appointment_url
    page.fill("form[action$='/approve'] input[name=note]", "材料齐全")
    page.click("text=审核通过并备案")
    expect(page.locator("#appointment-status")).to_have_text("已备案")
    expect(page.locator("#history")).to_contain_text("审核通过：材料齐全")

    page.goto(f"{base}/audit")
    page.click("text=校验哈希链")
    expect(page.locator("#verify-result")).to_contain_text("哈希链完整")
    page.select_option("#audit-filters select[name=action]", "org.filing_approved")
    page.click("#audit-filter")
    rows = page.locator("#audit-entries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("任职备案通过")
    expect(page.locator("#audit-export")).to_contain_text("导出 CSV")

    with acting(live_server.database, SYSTEM) as ctx:
        filed = org.list_appointments(ctx, unit_code="A")
        assert [(a.person_name, a.status) for a in filed] == [("郑思远", "filed")]
        assert check_chain(ctx).ok


def test_console_fits_a_phone(live_server: LiveServer, page: Page) -> None:
    seed_org(live_server.database)
    page.set_viewport_size({"width": 375, "height": 700})
    login(page, live_server.url, "cdo", PASSWORD)
    page.goto(f"{live_server.url}/org/units")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    page.click("label.nav-burger")
    expect(page.locator("nav[aria-label=main] >> text=任职备案")).to_be_visible()
