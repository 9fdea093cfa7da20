"""In a real browser, on the demo district: the 城西街道 analyst counts elderly residents living
alone with a chronic condition per community (small communities suppressed), asks the
pension data under differential privacy (noisy figures with intervals, ε charged), and finds
the release the demo left pending, which the health commission's CDO sees in its queue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from shuzhi.demo.district import CREDENTIALS_FILE
from tests.e2e.conftest import LiveServer, login, logout

pytestmark = pytest.mark.browser


def test_the_demo_sandbox_story(demo_server: LiveServer, page: Page) -> None:
    data_dir: Path = demo_server.database.settings.data_dir
    credentials = json.loads((data_dir / CREDENTIALS_FILE).read_text(encoding="utf-8"))
    passwords = {a["username"]: a["password"] for a in credentials["accounts"]}
    sandbox = credentials["sandbox"]
    base = demo_server.url

    login(page, base, "chengxi.liaison", passwords["chengxi.liaison"])
    page.goto(f"{base}/sandbox")
    expect(page.locator(".sbx-grant")).to_have_count(3)
    page.fill("#sbx-sql", sandbox["example_query"])
    page.click("#sbx-run")
    expect(page.locator("#sbx-result tbody tr").first).to_be_visible()
    # The smallest communities fall below k: left out, without saying how many.
    expect(page.locator("#sbx-withheld")).to_be_visible()
    shown = page.locator("#sbx-result tbody tr").count()
    assert 1 <= shown < 7

    page.fill("#sbx-sql", sandbox["dp_example_query"])
    page.fill("#sbx-epsilon-in", "0.5")
    page.click("#sbx-run")
    expect(page.locator("#sbx-epsilon")).to_have_text("0.5")
    expect(page.locator("#sbx-withheld")).to_be_visible()
    expect(page.locator("#sbx-result .sbx-interval").first).to_be_visible()

    page.goto(f"{base}/sandbox/releases")
    expect(page.locator(".sbx-release[data-status=pending]")).to_have_count(1)
    logout(page)

    login(page, base, "wjw.cdo", passwords["wjw.cdo"])
    page.goto(f"{base}/sandbox/releases")
    expect(page.locator(".sbx-release[data-status=pending] .sbx-approve")).to_have_count(1)
    page.goto(f"{base}/sandbox/provider")
    expect(page.locator("#sbx-queries tr[data-status=done]").first).to_be_visible()
