"""The sharing console works as forms without JavaScript, and the JSON API speaks problem+json."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.sharing.access import authenticate_application
from tests.conftest import acting
from tests.factories import ACCOUNTS, PASSWORD, seed_org
from tests.sharing.helpers import application, provider_account, request, shared_entry
from tests.web.helpers import csrf, login

PAGES = [
    "/sharing/requests",
    "/sharing/requests?status=pending",
    "/sharing/requests/new",
    "/sharing/queue",
    "/sharing/grants",
    "/sharing/grants?side=provider&ended=true",
    "/sharing/applications",
    "/sharing/notifications",
    "/sharing/calendar",
    "/sharing/calendar?jurisdiction=R&year=2025",
    "/sharing/notifications/badge",
]


@pytest.mark.parametrize(
    "role", [Role.CDO_EXECUTIVE, Role.UNIT_CDO, Role.DATA_LIAISON, Role.AUDITOR]
)
def test_pages_render(client: TestClient, database: Database, role: Role) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    login(client, ACCOUNTS[role][0], PASSWORD)
    pages = [p for p in PAGES if role in (Role.UNIT_CDO, Role.DATA_LIAISON) or "new" not in p]
    if role == Role.CDO_EXECUTIVE:
        pages.append("/sharing/escalations")
    for path in [*pages, f"/sharing/requests/{out.id}"]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
    client.get("/lang/en?next=/sharing/requests")
    assert "My requests" in client.get("/sharing/requests").text


def test_request_decision_and_key_through_forms(client: TestClient, database: Database) -> None:
    seed_org(database)
    provider = provider_account(database)
    entry = shared_entry(database, "conditional", loaded=True)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/sharing/applications")
    reply = client.post(
        "/sharing/applications",
        data={"csrf_token": token, "code": "A-ZWFW", "name": "政务服务系统", "contact": "李四"},
        follow_redirects=False,
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/sharing/applications/A-ZWFW"
    assert entry in client.get("/sharing/requests/new").text
    form_page = client.get(f"/sharing/requests/new?entry={entry}")
    assert "公民身份号码" in form_page.text and "A-ZWFW" in form_page.text
    base = {
        "csrf_token": csrf(client, f"/sharing/requests/new?entry={entry}"),
        "resource_code": entry,
        "application_code": "A-ZWFW",
        "purpose": "办理社会救助时核验身份",
        "legal_basis": "《社会救助暂行办法》",
        "duration_days": "90",
        "delivery": "api",
    }
    missing = client.post("/sharing/requests/new", data=base)
    assert missing.status_code == 422 and 'data-field="columns"' in missing.text
    reply = client.post(
        "/sharing/requests/new",
        data={
            **base,
            "columns": ["姓名", "公民身份号码", "年龄"],
            "cond_column_0": "年龄",
            "cond_op_0": "in",
            "cond_value_0": "30，31,32",
        },
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text[:500]
    url = reply.headers["location"]
    detail = client.get(url).text
    assert 'id="request-status">待审批' in detail
    assert "年龄 in (30, 31, 32)" in detail
    client.post("/logout", data={"csrf_token": csrf(client, url)})

    login(client, provider, PASSWORD)
    assert url.rsplit("/", 1)[1] in client.get("/sharing/queue").text
    assert 'id="unread-count">1<' in client.get("/sharing/queue").text
    page = client.get(url).text
    assert 'id="decide-form"' in page
    token = csrf(client, url)
    reply = client.post(
        f"{url}/decide",
        data={
            "csrf_token": token,
            "outcome": "partly_approve",
            "reason": "年龄不予提供",
            "columns": ["姓名", "公民身份号码"],
            "mask__姓名": "redact",
            "mask__公民身份号码": "",
            "duration_days": "30",
            "delivery": "api",
        },
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text[:800]
    assert 'id="request-status">部分同意' in client.get(url).text
    client.post("/logout", data={"csrf_token": csrf(client, url)})

    login(client, "a.liaison", PASSWORD)
    grants = client.get("/sharing/grants").text
    assert entry in grants
    grant_id = re.search(r'href="/sharing/grants/(\d+)"', grants).group(1)  # type: ignore[union-attr]
    grant_page = client.get(f"/sharing/grants/{grant_id}").text
    assert "完全隐藏" in grant_page and 'id="renew-form"' in grant_page
    token = csrf(client, "/sharing/applications/A-ZWFW")
    created = client.post(
        "/sharing/applications/A-ZWFW/keys",
        data={"csrf_token": token, "label": "生产", "expires_in_days": "30"},
    )
    key = re.search(r'id="new-key">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    assert key not in client.get("/sharing/applications/A-ZWFW").text  # shown once
    with acting(database, SYSTEM) as ctx:
        assert authenticate_application(ctx.db, key, utcnow()).application_code == "A-ZWFW"


def test_api_requests_and_problem_shapes(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    provider_account(database)
    entry = shared_entry(database, "unconditional")
    app = application(database)
    login(client, "a.liaison", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/sharing/requests")}
    body = {
        "resource_code": entry,
        "application_code": app,
        "purpose": "核验身份信息",
        "legal_basis": "条例",
        "columns": ["姓名"],
        "row_filter": [{"column": "姓名", "op": "eq", "value": 5}],
    }
    bad = client.post("/api/v1/sharing/requests", json=body, headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "row_filter.0.value"
    body["row_filter"] = [{"column": "姓名", "op": "eq", "value": "张三' OR 1=1 --"}]
    made = client.post("/api/v1/sharing/requests", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "approved"
    assert made.json()["row_filter"][0]["value"] == "张三' OR 1=1 --"
    grant_id = made.json()["grant_id"]
    assert client.get(f"/api/v1/sharing/grants/{grant_id}").json()["status"] == "active"
    assert client.get("/api/v1/sharing/requests/9999").status_code == 404
    refused = client.post(
        f"/api/v1/sharing/grants/{grant_id}/revoke", json={"reason": "不需要"}, headers=headers
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/sharing/notifications/unread").json() == {"unread": 1}
    client.post("/logout", data={"csrf_token": csrf(client, "/sharing/requests")})
    login(client, "b.cdo", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/sharing/requests")}
    assert client.get("/api/v1/sharing/notifications/unread").json() == {"unread": 1}
    done = client.post(
        f"/api/v1/sharing/grants/{grant_id}/revoke",
        json={"reason": "停止共享：接口调用超出申请用途"},
        headers=headers,
    )
    assert done.status_code == 200 and done.json()["status"] == "revoked"
    assert seeded.unit_ids["B"]


def test_executive_edits_the_calendar(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "exec", PASSWORD)
    page = client.get("/sharing/calendar?year=2026")
    assert "春节" in page.text and 'id="working-days">' in page.text
    token = csrf(client, "/sharing/calendar")
    reply = client.post(
        "/sharing/calendar/R/days",
        data={"csrf_token": token, "day": "2026-12-28", "kind": "holiday", "name": "地方假日"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert "地方假日" in client.get("/sharing/calendar?jurisdiction=R&year=2026").text
    bad = client.post(
        "/sharing/calendar/R/days",
        data={"csrf_token": token, "day": "2026-12-29", "kind": "workday", "name": "周二"},
    )
    assert bad.status_code == 422
    reply = client.post(
        "/sharing/calendar/R/policy",
        data={"csrf_token": token, "decision_working_days": "5", "rate_limit_per_minute": "120"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert 'id="decision-days">5<' in client.get("/sharing/calendar?jurisdiction=R").text
    assert 'id="decision-days">10<' in client.get("/sharing/calendar").text


def test_hostile_input_is_refused_not_crashed(client: TestClient, database: Database) -> None:
    seed_org(database)
    entry = shared_entry(database, "conditional")
    app = application(database)
    login(client, "a.liaison", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/sharing/requests")}
    body = {
        "resource_code": entry,
        "application_code": app,
        "purpose": "核验\x00身份",
        "legal_basis": "条例",
        "columns": ["姓名"],
    }
    nul = client.post("/api/v1/sharing/requests", json=body, headers=headers)
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "purpose"
    body["purpose"] = "核验身份"
    body["resource_code"] = "x\x00y"
    assert client.post("/api/v1/sharing/requests", json=body, headers=headers).status_code == 422
    for path in (
        "/api/v1/sharing/requests/99999999999999999999",
        "/api/v1/sharing/grants/-1",
        "/api/v1/sharing/applications/A%00B",
        "/api/v1/sharing/calendar/R%00/2026",
    ):
        assert client.get(path).status_code == 404, path
    marked = client.post(
        "/api/v1/sharing/notifications/read", json={"ids": [2**70, -5]}, headers=headers
    )
    assert marked.status_code == 200 and marked.json() == {"marked": 0}
