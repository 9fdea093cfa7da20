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
