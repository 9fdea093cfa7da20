"""The annual important-data risk assessment report (page and PDF), the register's console
pages and JSON API: both languages, a unit name with markup shown as typed, downloads
audited, other units refused, forms without the CSRF token refused."""

from __future__ import annotations

import io
from urllib.parse import quote

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from shuzhi.app import create_app
from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitUpdate
from shuzhi.secops import service
from shuzhi.secops.risk_models import RiskAssessment, RiskSubject
from tests.conftest import acting
from tests.factories import PASSWORD
from tests.secops.test_risk import registered
from tests.web.helpers import csrf, login

ODD_NAME = '<b>区乙局</b> & =HYPERLINK("http://x")'


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _rename_b(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        org.update_unit(ctx, "B", UnitUpdate(name=ODD_NAME, parent_code="R"))


def test_the_report_pdf_holds_every_part_and_prints_the_unit_name_as_typed(
    database: Database,
) -> None:
    shared = registered(database)
    _rename_b(database)
    # as if the dataset had been graded 重要数据 (a million people are too many for a test)
    with database.sessions.begin() as session:
        row = session.scalar(
            select(RiskSubject).where(RiskSubject.subject == f"dataset:{shared.code}")
        )
        assert row is not None
        current = session.get(RiskAssessment, row.current_id)
        assert current is not None
        current.facts = {**current.facts, "level": "important"}
    cdo_b = shared.seeded.other_unit_actor(Role.UNIT_CDO)
    with acting(database, cdo_b) as ctx:
        data = service.export_risk_report_pdf(ctx, "B")
    assert data.startswith(b"%PDF")
    text = _text(data)
    for part in (
        "重要数据处理风险评估报告",
        "一、处理者基本情况",
        "二、重要数据的种类和数量",
        "三、数据处理活动情况",
        "四、数据安全管理制度和措施",
        "五、发现的风险及应对措施",
        "六、数据安全事件及处置",
    ):
        assert part in text, part
    assert "<b>区乙局</b>" in text and '=HYPERLINK("http://x")' in text
    assert shared.code in text
    important = text.split("二、重要数据的种类和数量")[1].split("三、")[0]
    assert shared.code in important and "重要数据" in important
    # the other unit consuming the data is counted, never named
    assert "区甲局" not in text
    with acting(database, cdo_b) as ctx:
        ctx.locale = "en"
        english = _text(service.export_risk_report_pdf(ctx, "B"))
    assert "Important-data risk assessment report" in english and "5. Risks found" in english
    with acting(database, SYSTEM) as ctx:
        page = audit.view_audit(ctx, action="secops.risk_report_exported")
    assert page.total == 2


def test_console_pages_answer_confirm_and_print_in_both_languages(database: Database) -> None:
    shared = registered(database)
    _rename_b(database)
    unit_b = shared.seeded.unit_ids["B"]
    with TestClient(create_app(database.settings, database=database, migrate=False)) as client:
        login(client, "exec", PASSWORD)
        listed = client.get("/secops/risk")
        assert listed.status_code == 200 and "数据安全风险登记" in listed.text
        assert f"dataset:{shared.code}" in listed.text
        assert "&lt;b&gt;区乙局&lt;/b&gt;" in listed.text and "<b>区乙局</b>" not in listed.text
        assert "Risk register" in client.get("/secops/risk?lang=en").text
        linked = client.get(f"/secops/risk/dataset/{quote(shared.code, safe='')}")
        assert linked.status_code == 200 and "ds_purpose" in linked.text
        assert f'href="/secops/risk/dataset/{quote(shared.code)}"' in listed.text
        base = f"/secops/risk/unit/{unit_b}"
        page = client.get(base)
        assert page.status_code == 200 and "评估问卷" in page.text and "评分依据" in page.text
        token = csrf(client, base)
        form = {f"answer.{code}": "yes" for code in _unit_codes()}
        assert client.post(f"{base}/answers", data=form, follow_redirects=False).status_code == 403
        bad = client.post(
            f"{base}/answers", data={"csrf_token": token, "answer.unit_rules": "maybe"}
        )
        assert bad.status_code == 422
        saved = client.post(
            f"{base}/answers",
            data={"csrf_token": token, **form, "note.unit_rules": "2026 年修订"},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        assert "2026 年修订" in client.get(base).text
        confirmed = client.post(
            f"{base}/confirm", data={"csrf_token": token}, follow_redirects=False
        )
        assert confirmed.status_code == 303
        assert "user:exec" in client.get(base).text
        again = client.post(f"{base}/assess", data={"csrf_token": token}, follow_redirects=False)
        assert again.status_code == 303
        assert "人工发起" in client.get(base).text
        report = client.get("/secops/risk/report/B")
        assert report.status_code == 200 and "重要数据处理风险评估报告" in report.text
        assert "&lt;b&gt;区乙局&lt;/b&gt;" in report.text and "data-print" in report.text
        assert "Processing activities" in client.get("/secops/risk/report/B?lang=en").text
        pdf = client.get("/secops/risk/report/B/pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert "<b>区乙局</b>" in _text(pdf.content)
        assert client.get("/secops/risk/report/B?year=1999").status_code == 422
        cockpit = client.get("/cockpit")
        assert "逾期未确认的风险评估" in cockpit.text


def _unit_codes() -> list[str]:
    from shuzhi.secops.risk_questions import DEFAULT_QUESTIONS

    return [q[0] for q in DEFAULT_QUESTIONS if q[1] == "unit"]


def test_the_api_lists_answers_and_refuses_other_units(database: Database) -> None:
    shared = registered(database)
    with TestClient(create_app(database.settings, database=database, migrate=False)) as client:
        login(client, "a.cdo", PASSWORD)
        listed = client.get("/api/v1/secops/risk").json()
        assert {i["unit_code"] for i in listed["items"]} == {"A"}
        assert client.get(f"/api/v1/secops/risk/dataset/{shared.code}").status_code == 403
        assert (
            client.post(
                f"/api/v1/secops/risk/dataset/{shared.code}/assess",
                headers={"X-CSRF-Token": csrf(client)},
            ).status_code
            == 403
        )
        assert client.get("/api/v1/secops/risk/report/B/pdf").status_code == 403
        assert client.get("/api/v1/secops/risk/report/A").status_code == 200
        unit_a = shared.seeded.unit_ids["A"]
        token = csrf(client)
        answered = client.post(
            f"/api/v1/secops/risk/unit/{unit_a}/answers",
            json={"answers": [{"question": "unit_officer", "answer": "no", "note": ""}]},
            headers={"X-CSRF-Token": token},
        )
        assert answered.status_code == 200
        body = answered.json()
        points = {r["factor"]: r["points"] for r in body["reasons"]}
        assert points["q:unit_officer"] == 6
        refused = client.post(
            f"/api/v1/secops/risk/unit/{unit_a}/confirm", headers={"X-CSRF-Token": token}
        )
        assert refused.status_code == 422
        assert client.get("/api/v1/secops/risk/unit/999999").status_code == 404
