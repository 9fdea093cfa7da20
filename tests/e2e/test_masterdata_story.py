"""In a real browser, on the demo district: the data bureau's CDO defines a base library in
the console (a refused code and a missing column shown on the forms first), feeds it three
departments' person extracts — 民政's pinyin columns mapped onto the data elements by hand,
the others by their headers — runs it, opens the review queue, decides a pair compared side
by side (masked: only the executive CDO reads the values in the clear), and runs it again:
the run history shows one entity fewer and a shorter queue."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo.district import CREDENTIALS_FILE
from shuzhi.masterdata import service
from shuzhi.masterdata.models import MasterdataMembership
from tests.conftest import acting
from tests.e2e.conftest import LiveServer, login, logout

pytestmark = pytest.mark.browser

CIVIL_AFFAIRS = {  # 民政's extract comes from an old system with pinyin headers
    "name": "xingming",
    "resident_id": "shenfenzhenghao",
    "sex": "xingbie",
    "birth_date": "chushengriqi",
    "address": "zhuzhi",
}


def _latest_run(page: Page) -> dict[str, int]:
    cells = page.locator("#md-runs tbody tr").first.locator("td")
    figures = [cells.nth(i).inner_text() for i in range(4, 9)]
    names = ("records_in", "entities_out", "links", "conflicts", "review_pairs")
    return {name: int(value) for name, value in zip(names, figures, strict=True)}


def _pair_of_two_entities(database: Database, code: str) -> int:
    """An open pair whose records the run left in two entities (others are already one
    through further records): deciding it "match" makes them one."""
    with acting(database, SYSTEM) as ctx:
        library = service.get_masterdata_library(ctx, code)
        assert library.current_run is not None
        entity = {
            (m.resource_code, m.row): m.entity_id
            for m in ctx.db.scalars(
                select(MasterdataMembership).where(
                    MasterdataMembership.run_id == library.current_run.id
                )
            )
        }
        pairs = service.list_masterdata_review(ctx, code)
    for p in pairs:
        if (
            entity[(p.left.resource_code, p.left.row)]
            != entity[(p.right.resource_code, p.right.row)]
        ):
            return p.id
    raise AssertionError("every pair in the queue is already within one entity")


def _add_member(page: Page, code: str, rank: int, mapping: dict[str, str] | None = None) -> None:
    form = page.locator("#md-member-form")
    form.locator("input[name=resource_code]").fill(code)
    form.locator("input[name=rank]").fill(str(rank))
    for field, column in (mapping or {}).items():
        form.locator(f"input[name='map.{field}']").fill(column)
    form.locator("button[type=submit]").click()
    expect(page.locator(f"#md-members tr[data-member='{code}']")).to_be_visible()


def test_the_masterdata_story(demo_server: LiveServer, page: Page) -> None:
    data_dir: Path = demo_server.database.settings.data_dir
    credentials = json.loads((data_dir / CREDENTIALS_FILE).read_text(encoding="utf-8"))
    passwords = {a["username"]: a["password"] for a in credentials["accounts"]}
    extracts = credentials["masterdata"]["population"]["datasets"]
    base = demo_server.url

    login(page, base, "sjgl.cdo", passwords["sjgl.cdo"])
    page.goto(f"{base}/masterdata")
    expect(page.locator("#md-libraries")).to_contain_text("人口基础库")
    expect(page.locator("#md-libraries")).to_contain_text("法人基础库")
    page.goto(f"{base}/masterdata/new?lang=en")
    expect(page.locator("h1")).to_have_text("Define a base library")
    page.goto(f"{base}/masterdata")
    page.click("#md-new-link")

    # A code already taken is refused on the form, with what was typed kept.
    form = page.locator("#md-new")
    form.locator("input[name=code]").fill("population")
    form.locator("input[name=name]").fill("人口核查库")
    expect(form.locator("select[name=unit_code]")).to_have_value("SJGL")
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert")).to_contain_text("基础库 population 已存在")
    expect(page.locator("#md-new input[name=name]")).to_have_value("人口核查库")
    page.locator("#md-new input[name=code]").fill("population_check")
    page.locator("#md-new button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("人口核查库")
    expect(page.locator("#md-runs")).to_contain_text("尚未运行")

    # A column the dataset does not have is refused; nothing is added.
    form = page.locator("#md-member-form")
    form.locator("input[name=resource_code]").fill(extracts["MZJ"])
    form.locator("input[name='map.name']").fill("姓名")
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert")).to_contain_text("当前版本中没有列：姓名")
    expect(page.locator("#md-members tbody tr[data-member]")).to_have_count(0)
    page.locator("#md-member-form input[name='map.name']").fill("")

    _add_member(page, extracts["GAJ"], 1)
    _add_member(page, extracts["MZJ"], 2, CIVIL_AFFAIRS)
    _add_member(page, extracts["WJW"], 3)
    civil = page.locator(f"#md-members tr[data-member='{extracts['MZJ']}']")
    expect(civil).to_contain_text("公民身份号码 ← shenfenzhenghao")

    page.click("#md-run button[value=full]")
    expect(page.locator("#md-runs tbody tr")).to_have_count(1)
    first = _latest_run(page)
    assert first["records_in"] > first["entities_out"] > 0 and first["review_pairs"] > 0

    page.click("text=人工复核")
    pairs = page.locator("#md-review tbody tr a")
    expect(pairs).to_have_count(first["review_pairs"])
    pair_id = _pair_of_two_entities(demo_server.database, "population_check")
    page.click(f"#md-review a[href='/masterdata/population_check/review/{pair_id}']")
    expect(page.locator("#md-pair")).to_be_visible()
    # The bureau's unit CDO compares masked values; the explanation is given per comparison.
    expect(page.get_by_text("仅数据局首席数据官可查看明文")).to_be_visible()
    comparisons = page.locator("#md-explanation li")
    expect(comparisons).to_have_count(6)  # one per comparison, "same county" left whole
    expect(comparisons.filter(has_text="address=")).to_have_text(re.compile(r"^address=.+\(.+\)$"))
    expect(page.locator("#md-pair")).to_contain_text("*")
    page.fill("#md-decide input[name=note]", "姓名、性别一致，同住城西街道，确认为同一人")
    page.click("#md-decide button[value=match]")
    expect(page.locator("#md-review tbody tr a")).to_have_count(first["review_pairs"] - 1)
    page.goto(f"{base}/masterdata/population_check/review?status=decided")
    expect(page.locator("#md-review")).to_contain_text("是同一对象")

    page.goto(f"{base}/masterdata/population_check")
    page.click("#md-run button[value=full]")
    expect(page.locator("#md-runs tbody tr")).to_have_count(2)
    second = _latest_run(page)
    assert second["records_in"] == first["records_in"]
    assert second["entities_out"] == first["entities_out"] - 1  # the decided pair is one
    assert second["review_pairs"] == first["review_pairs"] - 1

    # 反哺基层: the street office reads its residents' golden records, masked per its grant,
    # and reports a wrong value back; it becomes a quality issue of the source unit.
    logout(page)
    login(page, base, "chengxi.cdo", passwords["chengxi.cdo"])
    page.goto(f"{base}/masterdata")
    delivered = page.locator("#md-pushbacks")
    expect(delivered).to_contain_text("城西街道居民")
    page.click("#md-pushbacks a:has-text('城西街道居民')")
    records = page.locator("#mdp-records tbody tr")
    expect(records.first).to_contain_text("城西街道")
    assert records.count() >= 50
    expect(page.locator("#mdp-records")).to_contain_text("*")  # names, phones, dates masked
    expect(page.locator("#mdp-records thead")).not_to_contain_text("公民身份号码")
    entity = records.first.locator("td").first.inner_text()
    report = page.locator("#mdp-report")
    report.locator("input[name=entity_id]").fill(entity)
    report.locator("select[name=attribute]").select_option(index=0)
    report.locator("textarea[name=problem]").fill("该居民已于上月迁出本街道，联系电话已停用。")
    report.locator("button[type=submit]").click()
    expect(page.locator("#mdp-reports tbody tr").first).to_contain_text(entity)
