"""End to end in a real browser: a department asks for another's data, the provider's CDO
approves, and the requester issues its system's key and sees the grant."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from shuzhi.audit.service import check_chain
from shuzhi.context import SYSTEM
from shuzhi.db.base import utcnow
from shuzhi.sharing.access import authenticate_application, grant_for_call
from tests.conftest import acting
from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, seed_org
from tests.sharing.helpers import provider_account, shared_entry

pytestmark = pytest.mark.browser


def test_request_approval_key_and_grant(live_server: LiveServer, page: Page) -> None:
    database = live_server.database
    seed_org(database)
    provider = provider_account(database)
    entry = shared_entry(database, "conditional", loaded=True)
    base = live_server.url

    # the requesting department registers its system and asks for the data
    login(page, base, "a.liaison", PASSWORD)
    page.click("nav[aria-label=main] >> text=共享交换")
    page.click("text=应用系统")
    page.fill("#register-form input[name=code]", "A-ZWFW")
    page.fill("#register-form input[name=name]", "政务服务系统")
    page.click("#register-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("政务服务系统")
    page.click("text=申请共享")
    page.fill("input[name=q]", entry)
    page.click("button:has-text('搜索')")
    page.click(f"#entries a[href*='{entry}']:has-text('申请')")
    page.check("#columns input[value=姓名]")
    page.check("#columns input[value=公民身份号码]")
    page.fill("textarea[name=purpose]", "办理社会救助时核验申请人身份")
    page.fill("textarea[name=legal_basis]", "《社会救助暂行办法》第十一条")
    page.click("#submit-request")
    expect(page.locator("#request-status")).to_have_text("待审批")
    expect(page.locator("#deadline")).to_contain_text("剩")
    request_url = page.url
    logout(page)

    # the provider's CDO finds it in the decision queue and approves
    login(page, base, provider, PASSWORD)
    page.goto(f"{base}/sharing/queue")
    expect(page.locator("#unread-count")).to_have_text("1")
    page.click("#queue >> text=人口数据")
    assert page.url == request_url
    page.check("#decide-form input[value=approve]")
    page.fill("#decide-form textarea[name=reason]", "同意，用于社会救助核验")
    page.click("#decide-submit")
    expect(page.locator("#request-status")).to_have_text("已同意")
    expect(page.locator("#history")).to_contain_text("作出决定：同意")
    logout(page)

    # the requester issues its system's key and sees the grant
    login(page, base, "a.liaison", PASSWORD)
    page.goto(f"{base}/sharing/notifications")
    expect(page.locator("#notifications")).to_contain_text("审批结果：同意")
    page.click("text=应用系统")
    page.click("#applications >> text=A-ZWFW")
    page.fill("#key-form input[name=label]", "生产环境")
    page.click("#create-key")
    token = page.locator("#new-key").inner_text().strip()
    assert token.startswith("sza_")
    page.click("text=我的授权")
    page.click("#grants a:has-text('人口数据')")
    expect(page.locator("#grant-status")).to_have_text("有效")
    expect(page.locator("#grant-columns")).to_contain_text("公民身份号码")
    expect(page.locator("#grant-columns")).to_contain_text("部分遮蔽")

    with acting(database, SYSTEM) as ctx:
        principal = authenticate_application(ctx.db, token, utcnow())
        grant = grant_for_call(ctx.db, principal, entry, utcnow())
        assert grant.columns == ("姓名", "公民身份号码")
        assert check_chain(ctx).ok
