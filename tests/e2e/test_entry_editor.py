"""The entry editor in a real browser: an empty form grows rows, a date item needs no length,
and a missing required length is shown beside its field."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, login
from tests.factories import PASSWORD, seed_org

pytestmark = pytest.mark.browser


def _basics(page: Page, name: str) -> None:
    page.fill("input[name=name]", name)
    page.fill("textarea[name=abstract]", f"本区{name}的基本内容。")
    page.select_option("select[name=classification]", "1:01")
    page.select_option("select[name=share_type]", "unconditional")
    page.select_option("select[name=open_type]", "not_open")
    page.select_option("select[name=not_open_reason]", "sensitive")


def test_empty_form_add_row_and_blank_lengths(live_server: LiveServer, page: Page) -> None:
    seed_org(live_server.database)
    base = live_server.url
    login(page, base, "a.liaison", PASSWORD)

    page.goto(f"{base}/catalog/entries/new")
    expect(page.locator("input[name=group_code]")).to_have_value("001")
    rows = page.locator("#item-rows tbody tr")
    before = rows.count()
    page.click("text=增加信息项行")
    expect(rows).to_have_count(before + 3)

    # A character item without its length: refused, the message beside that length field.
    _basics(page, "婚姻登记信息")
    last = before + 2
    page.fill(f"input[name=items-{last}-name]", "登记日期")
    page.select_option(f"select[name=items-{last}-data_type]", "D")
    page.fill("input[name=items-0-name]", "男方姓名")
    page.select_option("select[name=items-0-data_type]", "C")
    page.click("#save-entry")
    length = page.locator("input[name=items-0-length]")
    expect(length).to_have_attribute("aria-invalid", "true")
    message = page.locator("#items-0-length-error")
    expect(message).to_contain_text("须填写数据长度")
    # The message is in the same table cell as the field.
    assert message.evaluate("e => e.parentElement.querySelector('input').name") == (
        "items-0-length"
    )
    expect(page.locator("input[name=items-1-name]")).to_have_value("登记日期")
    expect(page.locator("#items-1-length-error")).to_have_count(0)

    # With the length given, the date item's blank length is accepted.
    page.fill("input[name=items-0-length]", "50")
    page.click("#save-entry")
    expect(page.locator("#entry-status")).to_have_text("草稿")
    expect(page.locator("#items")).to_contain_text("登记日期")
    expect(page.locator("#items")).to_contain_text("男方姓名")
