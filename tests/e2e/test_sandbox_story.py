"""In a real browser: an analyst of department A opens the sandbox workspace, sees the
granted datasets' column roles (no rows), runs a cross-department count of elderly residents
living alone with chronic conditions per community, and gets the small community suppressed;
a row-level query is refused naming its rule. The analyst builds a count by clicking, asks to
release the figures; the provider's CDO sees the query on its data, approves the release,
and the analyst downloads it."""

from __future__ import annotations

from collections import Counter

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, seed_org
from tests.sandbox.helpers import K, people, sandbox
from tests.sharing.helpers import provider_account

pytestmark = pytest.mark.browser


def test_analyst_counts_in_the_sandbox(live_server: LiveServer, page: Page) -> None:
    sb = sandbox(live_server.database, seed_org(live_server.database))
    base = live_server.url
    login(page, base, "a.liaison", PASSWORD)
    page.goto(f"{base}/sandbox")
    expect(page.locator("h1")).to_have_text("数据沙箱")
    expect(page.locator(".sbx-grant")).to_have_count(2)
    expect(page.locator("tr[data-role=hidden]").first).to_contain_text("诊断")
    page.fill(
        "#sbx-sql",
        f'SELECT a.社区, COUNT(*) AS 人数 FROM "{sb.health}" a JOIN "{sb.population}" b '
        "ON a.身份证号 = b.身份证号 WHERE b.独居 = '是' AND a.慢病 = '是' GROUP BY a.社区",
    )
    page.click("#sbx-run")
    expected = Counter(r["社区"] for r in people() if r["独居"] == "是" and r["慢病"] == "是")
    shown = {c: n for c, n in expected.items() if n >= K}
    assert shown == {"东苑": 13}
    expect(page.locator("#sbx-result tbody tr")).to_have_count(1)
    expect(page.locator("#sbx-result tbody tr")).to_contain_text("东苑")
    assert len(expected) > len(shown)  # small communities left out, and how many is not told
    expect(page.locator("#sbx-withheld")).to_be_visible()
    page.fill("#sbx-sql", f'SELECT * FROM "{sb.health}"')
    page.click("#sbx-run")
    expect(page.locator("#sbx-error")).to_contain_text("规则 select_star")

    # The builder: no SQL typed; it writes the query into the editor.
    expect(page.locator("nav a[href='/sandbox']")).to_have_count(1)
    page.select_option("#sbx-b-dataset", sb.health)
    page.check(f".sbx-b-columns[data-dataset='{sb.health}'] input[value='社区']")
    page.select_option("#sbx-b-measure", "people")
    page.select_option("#sbx-b-f1", "慢病")
    page.fill("#sbx-b-v1", "是")
    page.click("#sbx-build")
    expect(page.locator("#sbx-sql")).to_contain_text('COUNT(DISTINCT "身份证号")')
    page.click("#sbx-run")
    expect(page.locator("#sbx-result tbody tr")).to_have_count(2)
    page.fill("#sbx-release-purpose", "独居慢病老人走访排班")
    page.click("#sbx-release")
    page.wait_for_url(f"{base}/sandbox/releases")
    expect(page.locator(".sbx-release[data-status=pending]")).to_have_count(1)
    logout(page)

    login(page, base, provider_account(live_server.database), PASSWORD)
    page.goto(f"{base}/sandbox/provider")
    expect(page.locator("#sbx-queries tr[data-status=done]")).to_have_count(2)
    page.goto(f"{base}/sandbox/releases")
    page.click(".sbx-release[data-status=pending] .sbx-approve")
    expect(page.locator(".sbx-release[data-status=approved]")).to_have_count(1)
    logout(page)

    login(page, base, "a.liaison", PASSWORD)
    page.goto(f"{base}/sandbox/releases")
    with page.expect_download() as download:
        page.click(".sbx-release[data-status=approved] a.sbx-download >> nth=0")
    path = download.value.path()
    assert "东苑" in path.read_text(encoding="utf-8-sig")
