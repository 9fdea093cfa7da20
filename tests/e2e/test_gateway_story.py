"""End to end in a real browser, the whole sharing story: a department asks for another's
data, the provider's CDO approves, the requester issues its system's key; the system's call
through the gateway returns masked rows, and the region CDO sees the call in the statistics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, seed_org
from tests.lake.helpers import people_rows
from tests.sharing.helpers import provider_account, shared_entry

pytestmark = pytest.mark.browser

FETCH = """async ([url, token]) => {
  const r = await fetch(url, {headers: {Authorization: 'Bearer ' + token}});
  return {status: r.status, body: await r.text()};
}"""


def _request_approve_and_issue_key(live_server: LiveServer, page: Page, entry: str) -> str:
    """The sharing workflow in the console; returns the new application key."""
    base = live_server.url
    provider = provider_account(live_server.database)
    login(page, base, "a.liaison", PASSWORD)
    page.click("nav[aria-label=main] >> text=共享交换")
    page.click("text=应用系统")
    page.fill("#register-form input[name=code]", "A-ZWFW")
    page.fill("#register-form input[name=name]", "政务服务系统")
    page.click("#register-form button[type=submit]")
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
    logout(page)

    login(page, base, provider, PASSWORD)
    page.goto(f"{base}/sharing/queue")
    page.click("#queue >> text=人口数据")
    page.check("#decide-form input[value=approve]")
    page.fill("#decide-form textarea[name=reason]", "同意，用于社会救助核验")
    page.click("#decide-submit")
    expect(page.locator("#request-status")).to_have_text("已同意")
    logout(page)

    login(page, base, "a.liaison", PASSWORD)
    page.goto(f"{base}/sharing/applications")
    page.click("#applications >> text=A-ZWFW")
    page.fill("#key-form input[name=label]", "生产环境")
    page.click("#create-key")
    token = page.locator("#new-key").inner_text().strip()
    assert token.startswith("sza_")
    logout(page)
    return token


def test_request_approval_key_call_and_statistics(live_server: LiveServer, page: Page) -> None:
    seed_org(live_server.database)
    entry = shared_entry(live_server.database, "conditional", loaded=True)
    base = live_server.url
    token = _request_approve_and_issue_key(live_server, page, entry)
    target = people_rows(30)[3]

    # The system calls the gateway (from the browser here): masked, granted columns only.
    answer: dict[str, Any] = page.evaluate(
        FETCH, [f"{base}/api/v1/share/{entry}/records/{target[1]}", token]
    )
    assert answer["status"] == 200, answer
    record = json.loads(answer["body"])
    assert set(record) == {"姓名", "公民身份号码"}
    assert record["公民身份号码"] == target[1][:10] + "********"
    assert record["姓名"].startswith(target[0][0]) and "*" in record["姓名"]
    assert target[2] not in answer["body"]  # the phone column was not asked for
    rows = page.evaluate(FETCH, [f"{base}/api/v1/share/{entry}/records?limit=5", token])
    assert len(json.loads(rows["body"])["items"]) == 5

    # The region CDO sees both calls in the statistics (the meter writes within a second).
    login(page, base, "cdo", PASSWORD)
    recent = page.locator("#gw-recent")
    for _ in range(40):
        page.goto(f"{base}/gateway/stats?days=7")
        if "A-ZWFW" in (recent.text_content() or ""):
            break
        page.wait_for_timeout(250)
    expect(recent).to_contain_text("A-ZWFW")
    expect(recent).to_contain_text(entry)
    expect(page.locator("#gw-total-calls")).to_have_text("2")
    expect(page.locator("#gw-top-consumers")).to_contain_text("区甲局")
    expect(page.locator("#gw-chart-calls rect")).to_have_count(7)
