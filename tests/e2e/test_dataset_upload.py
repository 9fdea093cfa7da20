"""End to end in a real browser: a liaison uploads a GBK CSV to an entry and sees its
profile, classification and quality score."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from shuzhi.context import SYSTEM
from shuzhi.quality import service as quality
from shuzhi.quality.models import RuleKind
from shuzhi.quality.schemas import RuleIn
from tests.conftest import acting
from tests.e2e.conftest import LiveServer, login
from tests.factories import PASSWORD, seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv

pytestmark = pytest.mark.browser


def test_liaison_uploads_gbk_csv(live_server: LiveServer, page: Page, tmp_path: Path) -> None:
    database = live_server.database
    seed_org(database)
    code = published_entry(database)
    with acting(database, SYSTEM) as ctx:
        quality.define_quality_rule(
            ctx, code, RuleIn(kind=RuleKind.RESIDENT_ID, column="公民身份号码")
        )
    rows = people_rows(200)
    rows[5][1] = "330106198503120000"  # one bad ID
    source = write_csv(tmp_path / "户籍人口.csv", rows, encoding="gbk")
    base = live_server.url

    login(page, base, "a.liaison", PASSWORD)
    page.goto(f"{base}/datasets/{code}")
    page.set_input_files("#upload-form input[type=file]", str(source))
    page.click("#upload")
    expect(page.locator("#version-status")).to_have_text("当前版本")
    expect(page.locator("#row-count")).to_have_text("200")
    expect(page.locator("#quality-score")).to_have_text("99.8")
    profile = page.locator("#profile")
    expect(profile).to_contain_text("公民身份号码")
    expect(profile).to_contain_text("已脱敏")
    classification = page.locator("#classification")
    expect(classification.locator("[data-category=resident_id]")).to_have_count(1)
    expect(classification).to_contain_text("居民身份证号码")
    expect(page.locator("#quality-results")).to_contain_text("1 / 200")
    assert "330106198503120000" not in page.content()


def test_liaison_edits_quality_rules_on_the_dataset_page(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    database = live_server.database
    seed_org(database)
    code = published_entry(database)
    base = live_server.url
    login(page, base, "a.liaison", PASSWORD)
    page.goto(f"{base}/datasets/{code}")
    page.set_input_files(
        "#upload-form input[type=file]", str(write_csv(tmp_path / "p.csv", people_rows(50)))
    )
    page.click("#upload")
    expect(page.locator("#quality-score")).to_have_text("未设置规则")
    page.goto(f"{base}/datasets/{code}")
    rules = page.locator("#quality-rules")
    expect(rules).to_contain_text("未设置质量规则")
    rules.locator("summary", has_text="添加规则").click()
    form = page.locator("#rule-add")
    form.locator("select[name=kind]").select_option("range")
    form.locator("input[name=column]").fill("年龄")
    form.locator("input[name=min]").fill("100")
    form.locator("input[name=max]").fill("1")
    form.locator("#rule-add-submit").click()
    expect(page.locator(".alert[role=alert]")).to_contain_text("下限：下限不能大于上限")
    form = page.locator("#rule-add")
    form.locator("input[name=min]").fill("0")
    form.locator("input[name=max]").fill("120")
    form.locator("#rule-add-submit").click()
    row = page.locator("#rule-list tbody tr").first
    expect(row).to_contain_text("取值范围")
    expect(row).to_contain_text("0 – 120")
    row.locator("summary").click()
    row.locator("select[name=kind]").select_option("not_null")
    row.locator("button[type=submit]", has_text="保存规则").click()
    expect(page.locator("#rule-list tbody tr").first).to_contain_text("非空")
    page.locator("#rule-list tbody tr").first.locator("button", has_text="删除规则").click()
    expect(page.locator("#quality-rules")).to_contain_text("未设置质量规则")
