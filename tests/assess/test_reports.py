"""Reports of a round: the region's (ranking, distribution, heat map, year-on-year) and one
unit's (domains, items, evidence, gaps, previous round), as pages, API and Excel."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from shuzhi.app import create_app
from shuzhi.assess import service
from shuzhi.assess.schemas import AnswerIn
from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.demo.district import build_demo
from shuzhi.errors import Forbidden
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitUpdate
from tests.assess.helpers import ATTEST, open_round
from tests.conftest import acting
from tests.factories import seed_org
from tests.web.helpers import login


@pytest.mark.slow
def test_the_region_and_unit_reports_on_the_demo_district(demo_database: Database) -> None:
    with acting(demo_database, SYSTEM) as ctx:
        _current, last, before = service.list_assessment_rounds(ctx)
        results = service.round_results(ctx, last.id)
        region = service.region_report(ctx, last.id)
        mzj = service.unit_report(ctx, last.id, "MZJ")
        mzj_before = service.round_results(ctx, before.id)
    scores = [r.score for r in region.ranking]
    assert scores == sorted(scores, reverse=True) and len(scores) == len(results.units) > 40
    assert [r.rank for r in region.ranking] == list(range(1, len(scores) + 1))
    assert region.distribution == results.distribution
    assert region.domains == results.domain_means and len(region.domains) == 9
    by_unit = {u.unit_code: u for u in results.units}
    for h in region.heat:
        assert h.scores == [d.score for d in by_unit[h.unit_code].domains]
    # Year on year: the eight departments of the 2018-model round before; nobody else.
    earlier = {u.unit_code: u for u in mzj_before.units}
    moved = [r for r in region.ranking if r.previous_round_id is not None]
    assert {r.unit_code for r in moved} == set(earlier)
    for r in moved:
        assert r.previous_round_id == before.id
        assert r.previous_score == earlier[r.unit_code].score
        assert r.change == round(r.score - earlier[r.unit_code].score, 3)
    # One unit: domains as in the results, every item, its answers, gaps, the year before.
    assert (mzj.level, mzj.score) == (by_unit["MZJ"].level, by_unit["MZJ"].score)
    assert len(mzj.items) == 33 and len(mzj.domains) == 9
    assert mzj.previous_round_id == before.id
    assert mzj.previous_level == earlier["MZJ"].level
    # Domains the two models share are compared; 数据应用 of 2018 has no 2025 twin.
    assert set(mzj.previous_domains) == {d.code for d in mzj.domains} - {"assets", "circulation"}
    assert {e.state for e in mzj.evidence} <= {"accepted", "returned"}
    assert sum(1 for e in mzj.evidence if e.evidence == "platform") == 43
    assert all(
        e.documents for e in mzj.evidence if e.evidence == "document" and e.state == "accepted"
    )
    assert mzj.gaps and all(g.next_level == g.level + 1 for g in mzj.gaps)


@pytest.fixture
def demo_client(demo_database: Database) -> Iterator[TestClient]:
    app = create_app(demo_database.settings, database=demo_database, migrate=False)
    with TestClient(app, base_url="http://testserver") as client:
        cdo = next(a for a in build_demo(demo_database) if a.username == "cdo")
        login(client, cdo.username, cdo.password)
        yield client


@pytest.mark.slow
def test_the_report_pages_charts_tables_and_downloads(
    demo_client: TestClient, demo_database: Database
) -> None:
    with acting(demo_database, SYSTEM) as ctx:
        _current, last, _before = service.list_assessment_rounds(ctx)
    page = demo_client.get(f"/assess/rounds/{last.id}/report")
    assert page.status_code == 200
    html = page.text
    for chart, table in [
        ("report-ranking", "ranking-table"),
        ("report-distribution", "distribution-table"),
        ("report-heat", "heat-table"),
        ("report-yoy", "yoy-table"),
    ]:
        section = html.split(f'id="{chart}"')[1].split("</section>")[0]
        assert "<svg" in section and f'id="{table}"' in section, chart
    assert html.count('class="assess-heat"') == 1 and "<rect" in html
    printed = demo_client.get(f"/assess/rounds/{last.id}/report/print").text
    assert 'class="print-page"' in printed and 'id="heat-table"' in printed
    assert "<nav" not in printed
    unit = demo_client.get(f"/assess/rounds/{last.id}/units/MZJ/report").text
    for table in ("domain-table", "item-table", "evidence-table", "gap-table"):
        assert f'id="{table}"' in unit
    assert 'class="assess-radar"' in unit
    api = demo_client.get(f"/api/v1/assess/rounds/{last.id}/report").json()
    assert api["kind"] == "self_assessment" and len(api["ranking"]) > 40
    xlsx = demo_client.get(f"/assess/rounds/{last.id}/report.xlsx")
    assert xlsx.headers["content-disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["排名", "等级分布", "能力域热力"]
    assert book["排名"].max_row == 3 + len(api["ranking"])
    one = load_workbook(
        io.BytesIO(demo_client.get(f"/assess/rounds/{last.id}/units/MZJ/report.xlsx").content)
    )
    assert one.sheetnames == ["总体", "能力项", "佐证", "差距"]
    assert one["能力项"].max_row == 1 + 33
    # The same reports as PDF files, generated on the server, with their text extractable.
    assert 'id="report-pdf"' in html and f"/assess/rounds/{last.id}/report.pdf" in html
    assert f"/assess/rounds/{last.id}/units/MZJ/report.pdf" in unit
    region_pdf = demo_client.get(f"/assess/rounds/{last.id}/report.pdf")
    assert region_pdf.headers["content-type"] == "application/pdf"
    assert region_pdf.headers["content-disposition"] == (
        f'attachment; filename="assessment-{last.id}.pdf"'
    )
    text = _pdf_text(region_pdf.content)
    for row in api["ranking"]:
        assert _flat(row["unit_name"]) in text and str(row["score"]) in text
    assert "单位排名" in text and "等级分布" in text and "与上一轮对比" in text
    assert "全区平均" in text and "自评估结果，非认证结论" in text
    unit_pdf = demo_client.get(f"/assess/rounds/{last.id}/units/MZJ/report.pdf")
    mzj = demo_client.get(f"/api/v1/assess/rounds/{last.id}/units/MZJ/report").json()
    text = _pdf_text(unit_pdf.content)
    assert _flat(mzj["unit_name"]) in text and f"得分{mzj['score']}" in text
    for part in (*mzj["domains"], *mzj["items"]):
        assert _flat(part["name_zh"]) in text
    assert all(e["indicator"] in text for e in mzj["evidence"])
    assert all(_flat(g["text_zh"]) in text for g in mzj["gaps"])
    english = demo_client.get(f"/assess/rounds/{last.id}/units/MZJ/report.pdf?lang=en")
    assert _flat(mzj["domains"][0]["name_en"]) in _pdf_text(english.content)
    with acting(demo_database, SYSTEM) as ctx:
        exported = audit.view_audit(ctx, action="assess.report_exported")
    assert exported.total == 5
    assert sorted(e.details["file_format"] for e in exported.items) == ["pdf"] * 3 + ["xlsx"] * 2


def _flat(text: str) -> str:
    return "".join(text.split())


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return _flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def test_exports_never_hold_a_formula_and_reports_stay_within_the_unit(
    database: Database,
) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    with acting(database, SYSTEM) as ctx:
        org.update_unit(ctx, "A", UnitUpdate(name='=HYPERLINK("http://x","y")<b>', parent_code="R"))
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.save_assessment_answer(
            ctx, round_id, "A", ATTEST, AnswerIn(met=True, statement="设有数据治理小组")
        )
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        data = service.export_report(ctx, round_id)
        unit_data = service.export_report(ctx, round_id, "A")
    for raw, risky in ((data, 1), (unit_data, 0)):
        book = load_workbook(io.BytesIO(raw))
        cells = [c for s in book.worksheets for row in s.iter_rows() for c in row]
        named = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=")]
        # The unit's name, starting with "=", is text with the quote prefix (the region's
        # ranking holds it as a cell of its own; the unit's workbook in its title only).
        assert len(named) >= risky and all(c.data_type == "s" and c.quotePrefix for c in named)
        assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))
        assert any("HYPERLINK" in str(c.value) for c in cells)
    # In the PDF files the name is text, as typed.
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        region_pdf = service.export_report_pdf(ctx, round_id)
        unit_pdf = service.export_report_pdf(ctx, round_id, "A")
    for raw in (region_pdf, unit_pdf):
        assert '=HYPERLINK("http://x","y")<b>' in _pdf_text(raw)
    assert "设有数据治理小组" not in _pdf_text(unit_pdf)  # statements are not in the report
    # Unit staff read their own unit's report only.
    with acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        ranking = service.region_report(ctx, round_id).ranking
        assert [r.unit_code for r in ranking] == ["B"]
    with (
        pytest.raises(Forbidden),
        acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx,
    ):
        service.unit_report(ctx, round_id, "A")
    with (
        pytest.raises(Forbidden),
        acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx,
    ):
        service.export_report(ctx, round_id, "A")
    with (
        pytest.raises(Forbidden),
        acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx,
    ):
        service.export_report_pdf(ctx, round_id, "A")
    with acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        own = _pdf_text(service.export_report_pdf(ctx, round_id))
    assert "HYPERLINK" not in own
    with acting(database, SYSTEM) as ctx:
        exported = audit.view_audit(ctx, action="assess.report_exported")
        refused = audit.view_audit(ctx, action="operation.denied")
    formats = sorted(e.details["file_format"] for e in exported.items)
    assert formats == ["pdf", "pdf", "pdf", "xlsx", "xlsx"]
    assert refused.total >= 2
