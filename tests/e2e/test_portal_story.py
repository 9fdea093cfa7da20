"""End to end in a real browser: the provider opens an entry in the console; an anonymous
visitor searches a two-character Chinese word, opens the dataset and downloads the CSV,
which holds exactly the published rows."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, seed_org
from tests.portal.helpers import STATS_HEADER, open_entry, stats_rows
from tests.sharing.helpers import provider_account

pytestmark = pytest.mark.browser


def test_visitor_finds_opens_and_downloads(live_server: LiveServer, page: Page) -> None:
    base = live_server.url
    seed_org(live_server.database)
    code = open_entry(live_server.database, name="公交站点统计", rows=40)
    open_entry(live_server.database, name="公园绿地统计", rows=3)
    provider = provider_account(live_server.database)

    login(page, base, provider, PASSWORD)
    page.click("nav[aria-label=main] >> text=数据开放")
    row = page.locator("#candidates tr", has_text=code)
    row.locator("button[type=submit]").click()
    expect(page.locator("#publications")).to_contain_text("公交站点统计")
    logout(page)

    page.goto(f"{base}/open")
    expect(page.locator("#count-entries")).to_have_text("1")
    page.fill("#home-q", "公交")
    page.press("#home-q", "Enter")
    expect(page.locator("#total")).to_have_text("共 1 个数据集")
    page.click("#results >> text=公交站点统计")
    expect(page.locator("#dataset-name")).to_contain_text("公交站点统计")
    expect(page.locator("#record-count")).to_have_text("40")
    expect(page.locator("#preview tbody tr")).to_have_count(20)
    with page.expect_download() as info:
        page.click("#downloads >> text=CSV")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    raw = download.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [STATS_HEADER, *stats_rows(40)]

    page.goto(f"{base}/open")
    expect(page.locator("#count-downloads")).to_have_text("1")
