"""End to end in a real browser: the bureau's security officer sees an enumeration alert,
opens an incident from it, suspends the key in one click and lifts it again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shuzhi.db.base import utcnow
from shuzhi.sharing.models import AppKey
from tests.e2e.conftest import LiveServer, login
from tests.factories import PASSWORD
from tests.gateway.helpers import share
from tests.secops.helpers import HOUR, evaluate, lookups, replay

pytestmark = pytest.mark.browser


def test_officer_contains_the_key_of_an_enumeration_alert(
    live_server: LiveServer, page: Page
) -> None:
    database = live_server.database
    shared = share(database)
    with database.sessions() as session:
        key_id = session.scalar(
            select(AppKey.id).where(AppKey.prefix == shared.token.split("_")[1])
        )
    now = utcnow()
    replay(
        database, lookups(600, now - HOUR / 2, now, (f"d{i}" for i in range(600)), key_id=key_id)
    )
    evaluate(database, now)
    base = live_server.url
    login(page, base, "exec", PASSWORD)
    page.click("nav[aria-label=main] >> text=安全运营")
    row = page.locator("#alerts tbody tr", has_text=f"key:{key_id}").filter(has_text="enumeration")
    expect(row).to_have_count(1)
    row.locator("a").first.click()
    page.click("#acknowledge")
    expect(page.locator("#alert-status")).to_have_text("已确认")
    page.click("#open-incident")
    expect(page.locator("#incident-status")).to_have_text("未处理")
    page.select_option("#contain select[name=kind]", "application_key")
    page.fill("#contain input[name=id]", str(key_id))
    page.fill("#contain input[name=reason]", "枚举攻击进行中，暂停该密钥")
    page.click("#contain-now")
    expect(page.locator("#containments .containment-state")).to_have_text("生效中")
    page.fill("#containments input[name=reason]", "已更换密钥，恢复")
    page.click("#containments button.lift")
    expect(page.locator("#containments .containment-state")).to_have_text("已解除")
    expect(page.locator("#timeline li")).to_have_count(3)
