"""End to end in a real browser: a unit answers and attaches evidence, another unit's CDO
reviews it, and the round's results show the unit's level."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import UserCreate
from shuzhi.context import SYSTEM, Role
from tests.assess.helpers import ATTEST, DOC, PDF, open_round
from tests.conftest import acting
from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, seed_org

pytestmark = pytest.mark.browser


def _row(indicator: str) -> str:
    return f"tr[data-indicator='{indicator}']"


def test_a_unit_answers_and_another_unit_reviews(live_server: LiveServer, page: Page) -> None:
    database = live_server.database
    seed_org(database)
    with acting(database, SYSTEM) as ctx:
        auth.create_user(
            ctx,
            UserCreate(username="b.cdo", display_name="乙局首席数据官", password=PASSWORD,
                       role=Role.UNIT_CDO, unit_code="B"),
        )  # fmt: skip
    round_id = open_round(database, units=("A", "B"))
    base = live_server.url
    sheet = f"{base}/assess/rounds/{round_id}/units/A"

    login(page, base, "a.liaison", PASSWORD)
    page.click("nav >> text=能力评估")
    page.click("#assess-rounds >> text=2026 年度数据管理能力自评估")
    page.click("#assess-results >> text=区甲局")
    assert page.url == sheet
    row = page.locator(_row(ATTEST))
    row.locator("select[name=met]").select_option("yes")
    row.locator("textarea[name=statement]").fill("已成立数据治理领导小组")
    row.locator("form.answer-form button").click()
    expect(page.locator(_row(ATTEST) + " .answer-state")).to_contain_text("草稿")
    row = page.locator(_row(DOC))
    row.locator("select[name=met]").select_option("yes")
    row.locator("form.answer-form button").click()
    page.locator(_row(DOC) + " input[type=file]").set_input_files(
        {"name": "数据管理办法.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.locator(_row(DOC) + " form.upload-form button").click()
    expect(page.locator(_row(DOC) + " .answer-state")).to_contain_text("数据管理办法.pdf")
    page.click("#submit-all button")
    expect(page.locator(_row(ATTEST) + " .answer-state")).to_contain_text("待评审")
    expect(page.locator(_row(DOC) + " .answer-state")).to_contain_text("待评审")
    logout(page)

    login(page, base, "b.cdo", PASSWORD)
    page.goto(sheet)
    page.locator(_row(ATTEST) + " button[value=accept]").click()
    expect(page.locator(_row(ATTEST) + " .answer-state")).to_contain_text("已通过")
    page.locator(_row(DOC) + " input[name=reason]").fill("不行")
    page.locator(_row(DOC) + " button[value=return]").click()
    expect(page.locator(".alert")).to_contain_text("须写明具体理由")
    page.goto(sheet)
    page.locator(_row(DOC) + " input[name=reason]").fill("办法未加盖公章，请上传正式印发版本")
    page.locator(_row(DOC) + " button[value=return]").click()
    expect(page.locator(_row(DOC) + " .answer-state")).to_contain_text("已退回")
    expect(page.locator("#item-governance\\.organisation summary")).to_contain_text("1 · 初始级")
    expect(page.locator("#domain-chart svg polygon")).to_have_count(6)
    page.goto(f"{base}/assess/rounds/{round_id}")
    expect(page.locator("#assess-results tr[data-unit='A']")).to_contain_text("区甲局")
    # The reports: the unit's (radar, items, evidence) and the region's charts and tables.
    page.click("#assess-results tr[data-unit='A'] >> text=评估报告")
    expect(page.locator("#report-domains svg.assess-radar")).to_be_visible()
    expect(page.locator(f"#evidence-table tr[data-indicator='{ATTEST}']")).to_contain_text("已通过")
    page.goto(f"{base}/assess/rounds/{round_id}")
    page.click("#region-report")
    expect(page.locator("#report-heat svg.assess-heat rect")).not_to_have_count(0)
    expect(page.locator("#ranking-table tr[data-unit='A']")).to_contain_text("区甲局")
    with page.expect_download() as download:
        page.click("#report-xlsx")
    assert download.value.suggested_filename == f"assessment-{round_id}.xlsx"
    # The same report as a PDF file made on the server, with the unit's name as text.
    with page.expect_download() as download:
        page.click("#report-pdf")
    assert download.value.suggested_filename == f"assessment-{round_id}.pdf"
    saved = Path(download.value.path()).read_bytes()
    text = "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(saved)).pages)
    assert saved.startswith(b"%PDF-") and "区甲局" in text
    logout(page)

    # The returned document answer goes back to the unit, which corrects and resubmits it.
    login(page, base, "a.liaison", PASSWORD)
    page.goto(sheet)
    expect(page.locator(_row(DOC) + " .answer-state")).to_contain_text("办法未加盖公章")
    page.locator(_row(DOC) + " form.answer-form button").click()
    page.click("#submit-all button")
    expect(page.locator(_row(DOC) + " .answer-state")).to_contain_text("待评审")
