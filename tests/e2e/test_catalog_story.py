"""End to end in a real browser: a liaison compiles an entry with data items, the unit CDO
approves it, another unit finds it by a two-character Chinese word, the compile rate moves."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import DutyIn, MatterIn, TaskIn
from shuzhi.context import SYSTEM
from tests.conftest import acting
from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, seed_org

pytestmark = pytest.mark.browser


def _tasks(live_server: LiveServer) -> None:
    with acting(live_server.database, SYSTEM) as ctx:
        duty = catalog.create_duty(ctx, DutyIn(unit_code="A", code="ZN01", name="户籍管理"))
        matter = catalog.create_matter(ctx, MatterIn(duty_id=duty.id, code="SX01", name="户口登记"))
        for name in ("户籍人口登记信息", "户口迁移办理信息"):
            catalog.create_task(ctx, TaskIn(matter_id=matter.id, name=name, high_value=True))


def test_compile_approve_find_and_rate(live_server: LiveServer, page: Page) -> None:
    seed_org(live_server.database)
    _tasks(live_server)
    base = live_server.url

    login(page, base, "a.liaison", PASSWORD)
    page.goto(f"{base}/catalog/progress")
    expect(page.locator("tr[data-unit=A] .rate")).to_have_text("0.0%")
    expect(page.locator("tr[data-unit=S] .rate")).to_have_text("无任务")

    page.goto(f"{base}/catalog")
    page.click("text=新建目录")
    page.fill("input[name=name]", "户籍人口登记信息")
    page.fill(
        "textarea[name=abstract]", "本区户籍人口登记的基本信息，含姓名、公民身份号码、户籍地址。"
    )
    page.select_option("select[name=classification]", "1:01")
    page.fill("input[name=group_code]", "001")
    page.select_option("select[name=share_type]", "conditional")
    page.fill("textarea[name=share_conditions]", "仅限依法履职需要使用")
    page.fill("textarea[name=not_shared_basis]", "《政务数据共享条例》（共享条件）")
    page.select_option("select[name=open_type]", "not_open")
    page.select_option("select[name=not_open_reason]", "sensitive")
    rows = [("姓名", "C", "50"), ("公民身份号码", "C", "18"), ("户籍地址", "C", "200")]
    for i, (name, dtype, length) in enumerate(rows):
        page.fill(f"input[name=items-{i}-name]", name)
        page.select_option(f"select[name=items-{i}-data_type]", dtype)
        page.fill(f"input[name=items-{i}-length]", length)
    page.check("input[name=items-1-is_source]")
    page.fill("input[name=items-1-element_code]", "DE0001")
    # more rows than the blank ones offered: the add-row button keeps what was typed
    page.click("text=增加信息项行")
    expect(page.locator("input[name=items-0-name]")).to_have_value("姓名")
    page.fill("input[name=items-3-name]", "出生日期")
    page.select_option("select[name=items-3-data_type]", "D")
    page.fill("input[name=items-3-length]", "8")
    page.check("#tasks input >> nth=0")
    page.click("#save-entry")
    expect(page.locator("#entry-status")).to_have_text("草稿")
    expect(page.locator("#items")).to_contain_text("公民身份号码")
    expect(page.locator("#items")).to_contain_text("出生日期")
    entry_url = page.url
    page.click("#submit-entry")
    expect(page.locator("#entry-status")).to_have_text("待审核")
    logout(page)

    login(page, base, "a.cdo", PASSWORD)
    page.goto(f"{base}/catalog/review")
    page.click("#review >> text=户籍人口登记信息")
    assert page.url == entry_url
    page.fill("form[action$='/approve'] input[name=note]", "同意发布")
    page.click("#approve-entry")
    expect(page.locator("#entry-status")).to_have_text("已发布")
    expect(page.locator("#history")).to_contain_text("审核通过并发布：同意发布")
    logout(page)

    # the bureau finds it by a two-character word inside a longer one, and by a synonym
    login(page, base, "exec", PASSWORD)
    page.goto(f"{base}/catalog")
    page.fill("input[name=q]", "人口")
    page.click("text=检索 >> nth=-1")
    expect(page.locator("#entries")).to_contain_text("户籍人口登记信息")
    page.fill("input[name=q]", "身份证")
    page.press("input[name=q]", "Enter")
    expect(page.locator("#entries")).to_contain_text("户籍人口登记信息")

    page.goto(f"{base}/catalog/progress")
    expect(page.locator("tr[data-unit=A] .rate")).to_have_text("50.0%")
    expect(page.locator("#region-done")).to_have_text("1 / 2")
