"""End to end in a real browser: a department's system calls the sharing gateway with its
application key and gets masked rows; the region CDO then sees the call in the statistics.

The request → approval → key part runs through the sharing services (as the sharing
story's own browser test drives it through the console)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.datasets.helpers import people_rows
from tests.e2e.conftest import LiveServer, login
from tests.factories import PASSWORD
from tests.gateway.helpers import share

pytestmark = pytest.mark.browser

FETCH = """async ([url, token]) => {
  const r = await fetch(url, {headers: {Authorization: 'Bearer ' + token}});
  return {status: r.status, body: await r.text()};
}"""


def test_api_call_returns_masked_rows_and_shows_in_statistics(
    live_server: LiveServer, page: Page
) -> None:
    shared = share(live_server.database)
    base = live_server.url
    target = people_rows(30)[3]

    page.goto(f"{base}/login")  # any page of the site: fetch runs from its origin
    answer: dict[str, Any] = page.evaluate(
        FETCH, [f"{base}/api/v1/share/{shared.code}/records/{target[1]}", shared.token]
    )
    assert answer["status"] == 200, answer
    record = json.loads(answer["body"])
    assert record["公民身份号码"] == target[1][:10] + "********"
    assert record["姓名"].startswith(target[0][0]) and "*" in record["姓名"]
    assert target[2] not in answer["body"]  # the phone column is not granted
    page_of_rows = page.evaluate(
        FETCH, [f"{base}/api/v1/share/{shared.code}/records?limit=5", shared.token]
    )
    assert len(json.loads(page_of_rows["body"])["items"]) == 5

    login(page, base, "cdo", PASSWORD)
    recent = page.locator("#gw-recent")
    for _ in range(40):  # the meter writes within about a second
        page.goto(f"{base}/gateway/stats?days=7")
        if shared.app in (recent.text_content() or ""):
            break
        page.wait_for_timeout(250)
    expect(recent).to_contain_text(shared.app)
    expect(recent).to_contain_text(shared.code)
    expect(page.locator("#gw-total-calls")).to_have_text("2")
    expect(page.locator("#gw-top-consumers")).to_contain_text("区甲局")
    expect(page.locator("#gw-chart-calls rect")).to_have_count(7)
