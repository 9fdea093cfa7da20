"""The cockpit over HTTP: the JSON summary others rely on, refusals as problem+json, the
console pages without JavaScript (tables), forms that re-show their errors, exports."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from tests.factories import PASSWORD, seed_org
from tests.sharing.helpers import shared_entry
from tests.web.helpers import csrf, login


def test_summary_json_and_unit_scope(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "cdo", PASSWORD)
    body = client.get("/api/v1/cockpit/summary").json()
    assert body["scope"] == "region" and body["figures"]["compile_rate"] is None
    assert {r["unit_code"] for r in body["ranking"]} == {"A", "B", "S"}
    unit = client.get("/api/v1/cockpit/summary", params={"unit": "B", "days": 7}).json()
    assert unit["scope"] == "B" and unit["ranking"] == [] and len(unit["trends"][0]["points"]) == 7
    bad = client.get("/api/v1/cockpit/summary", params={"days": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "days"
    missing = client.get("/api/v1/cockpit/summary", params={"unit": "ZZ"})
    assert missing.status_code == 422
    client.cookies.clear()
    login(client, "a.cdo", PASSWORD)
    assert client.get("/api/v1/cockpit/summary").json()["scope"] == "A"
    refused = client.get("/api/v1/cockpit/summary", params={"unit": "B"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "区乙局" not in refused.text  # no figure of the other unit leaks


def test_pages_work_without_javascript(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "cdo", PASSWORD)
    page = client.get("/cockpit")
    assert page.status_code == 200
    for marker in (
        'id="answer-aggregation"',
        'id="ranking-table"',
        'id="trend-table"',
        'id="request-table"',
        "/cockpit/charts/trends.csv",
        "echarts.common.min.js",
    ):
        assert marker in page.text  # fmt: skip
    assert "<details open" in page.text  # tables are open until the script draws the charts
    assert client.get("/cockpit/print").status_code == 200
    csv_text = client.get("/cockpit/charts/trends.csv", params={"days": 7}).text
    assert csv_text.splitlines()[0].startswith("day,compile_rate")
    assert len(csv_text.strip().splitlines()) == 8
    assert client.get("/cockpit/charts/nope.csv").status_code == 422
    book = load_workbook(io.BytesIO(client.get("/cockpit/export.xlsx").content))
    assert book.sheetnames[:4] == ["三问", "指标", "单位排名", "趋势"]
    assert client.get("/static/vendor/echarts/echarts.common.min.js").status_code == 200


def test_forms_register_scenario_define_indicator_and_acknowledge(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    code = shared_entry(database, unit="A", loaded=True)
    login(client, "a.liaison", PASSWORD)
    today = utcnow().date()
    form = {
        "csrf_token": csrf(client, "/cockpit/scenarios"),
        "year": str(today.year),
        "name": "",
        "goal": "一次办",
        "owner": "王芳",
        "milestones": f"上线 {today + timedelta(days=30)}",
    }
    again = client.post("/cockpit/scenarios", data=form)
    assert again.status_code == 422 and 'data-field="name"' in again.text
    made = client.post(
        "/cockpit/scenarios", data={**form, "name": "出生一件事"}, follow_redirects=False
    )
    assert made.status_code == 303
    assert "出生一件事" in client.get(made.headers["location"]).text
    client.cookies.clear()
    login(client, "a.cdo", PASSWORD)
    token = csrf(client, "/cockpit/indicators")
    indicator = {
        "csrf_token": token,
        "code": "AGE",
        "name": "平均年龄",
        "resource_code": code,
        "func": "avg",
        "column": "年龄",
        "direction": "above",
        "warn_at": "30",
        "alarm_at": "20",
    }
    wrong = client.post("/cockpit/indicators", data=indicator)
    assert wrong.status_code == 422 and 'data-field="alarm_at"' in wrong.text
    ok = client.post(
        "/cockpit/indicators", data={**indicator, "warn_at": "10"}, follow_redirects=False
    )
    assert ok.status_code == 303
    edit = client.get("/cockpit/indicators/AGE/edit")
    assert 'action="/cockpit/indicators/AGE/edit"' in edit.text and 'value="年龄"' in edit.text
    changed = client.post(
        "/cockpit/indicators/AGE/edit",
        data={**indicator, "name": "年龄均值", "warn_at": "11"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert client.get("/api/v1/cockpit/indicators/AGE").json()["warn_at"] == 11
    client.post("/cockpit/indicators/evaluate", data={"csrf_token": token})
    alert = client.get("/api/v1/cockpit/alerts").json()[0]
    ack = client.post(
        f"/cockpit/alerts/{alert['id']}/acknowledge",
        data={"csrf_token": token, "note": "已核查"},
        follow_redirects=False,
    )
    assert ack.status_code == 303
    assert client.get("/api/v1/cockpit/alerts").json() == []


def test_names_cannot_break_out_of_the_embedded_chart_data(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    login(client, "a.liaison", PASSWORD)
    today = utcnow().date()
    client.post(
        "/cockpit/scenarios",
        data={
            "csrf_token": csrf(client, "/cockpit/scenarios"),
            "year": str(today.year),
            "name": "</script><script>alert(1)</script>",
            "goal": "g",
            "owner": "o",
            "milestones": f"m {today + timedelta(days=3)}",
        },
    )
    page = client.get("/cockpit").text
    assert "<script>alert(1)" not in page
    assert "\\u003c/script\\u003e" in page
