"""The sandbox API: an application key or a console session asks; refusals are problem+json
naming the rule; grants list schemas and roles without rows; the provider sees the queries."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from shuzhi.db.engine import Database
from shuzhi.web.session import CSRF_HEADER
from tests.factories import PASSWORD, seed_org
from tests.sandbox.helpers import HEALTH, people, sandbox
from tests.sharing.helpers import provider_account
from tests.web.helpers import csrf, login


def test_application_key_queries_and_refusals(client: TestClient, database: Database) -> None:
    sb = sandbox(database, seed_org(database))
    auth = {"Authorization": f"Bearer {sb.token}"}
    sql = f'SELECT 社区, COUNT(*) AS n FROM "{sb.health}" GROUP BY 社区 ORDER BY n DESC'
    reply = client.post("/api/v1/sandbox/queries", json={"sql": sql}, headers=auth)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "done" and body["rows"] == [["东苑", 40], ["西苑", 25]]
    # 南苑 (under k) is left out without a word of how many groups were.
    assert body["suppressed"] is None and body["columns"] == ["社区", "n"]
    assert body["epsilon_spent"] is None and body["intervals"] is None and body["reason"] is None
    assert isinstance(body["id"], int)

    star = client.post(
        "/api/v1/sandbox/queries", json={"sql": f'SELECT * FROM "{sb.health}"'}, headers=auth
    )
    assert star.status_code == 422
    assert star.headers["content-type"].startswith("application/problem+json")
    problem = star.json()
    assert "rule select_star" in problem["detail_en"] and "规则 select_star" in problem["detail_zh"]
    assert problem["errors"][0]["field"] == "sql"

    outside = client.post(
        "/api/v1/sandbox/queries",
        json={"sql": "SELECT COUNT(*) FROM ds_999999_000001"},
        headers=auth,
    )
    assert outside.status_code == 403 and "rule unknown_table" in outside.json()["detail_en"]

    bad_key = client.post(
        "/api/v1/sandbox/queries", json={"sql": sql}, headers={"Authorization": "Bearer sza_x_y"}
    )
    assert bad_key.status_code == 401
    # Anonymous and without a CSRF token: refused before anything is read.
    assert client.post("/api/v1/sandbox/queries", json={"sql": sql}).status_code in (401, 403)
    assert client.post("/api/v1/sandbox/queries", json={}, headers=auth).status_code == 422

    grants = client.get("/api/v1/sandbox/grants", headers=auth)
    assert grants.status_code == 200
    listed = {g["resource_code"]: g for g in grants.json()}
    assert set(listed) == {sb.health, sb.population}
    health = listed[sb.health]
    assert [c["name"] for c in health["columns"]] == HEALTH
    roles = {c["name"]: c["role"] for c in health["columns"]}
    assert roles["诊断"] == "hidden" and roles["身份证号"] == "join_key" and health["k"] == 10
    # Schemas only: no value of the data appears anywhere in the answer.
    text = grants.text
    assert not any(p["身份证号"] in text or p["诊断"] in text for p in people())


def test_console_session_and_provider_view(client: TestClient, database: Database) -> None:
    sb = sandbox(database, seed_org(database))
    login(client, "a.liaison", PASSWORD)
    token = csrf(client)
    sql = f'SELECT 慢病, COUNT(*) FROM "{sb.health}" GROUP BY 慢病'
    reply = client.post("/api/v1/sandbox/queries", json={"sql": sql}, headers={CSRF_HEADER: token})
    assert reply.status_code == 200, reply.text
    expected = Counter(p["慢病"] for p in people())
    assert sorted(reply.json()["rows"]) == sorted([k, n] for k, n in expected.items())
    # Without the CSRF token a cookie session may not ask.
    assert client.post("/api/v1/sandbox/queries", json={"sql": sql}).status_code == 403
    client.post(
        "/api/v1/sandbox/queries",
        json={"sql": f'SELECT 身份证号 FROM "{sb.health}"'},
        headers={CSRF_HEADER: token},
    )
    client.cookies.clear()

    provider = provider_account(database)
    login(client, provider, PASSWORD)
    seen = client.get("/api/v1/sandbox/queries")
    assert seen.status_code == 200
    statuses = [(q["status"], q["rule"]) for q in seen.json()]
    assert ("done", None) in statuses
    done = next(q for q in seen.json() if q["status"] == "done")
    assert done["plan"]["datasets"] == [sb.health] and done["suppressed"] == 0
    # The analyst unit's staff cannot read another unit's provider view.
    client.cookies.clear()
    login(client, "a.liaison", PASSWORD)
    assert client.get("/api/v1/sandbox/queries?unit_code=B").status_code == 403
