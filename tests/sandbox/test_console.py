"""The sandbox workspace page: schemas with roles (no rows), the editor, results with the
suppressed count, refusals shown in the page's language and audited."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.audit import service as audit
from shuzhi.context import Actor, Role
from shuzhi.db.engine import Database
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.sandbox.helpers import people, sandbox
from tests.web.helpers import csrf, login


def test_workspace_shows_roles_runs_and_refuses(client: TestClient, database: Database) -> None:
    sb = sandbox(database, seed_org(database))
    login(client, "a.liaison", PASSWORD)
    page = client.get("/sandbox")
    assert page.status_code == 200
    assert sb.health in page.text and "关联键（仅用于连接）" in page.text and "隐藏" in page.text
    assert not any(p["身份证号"] in page.text for p in people())
    token = csrf(client, "/sandbox")
    sql = f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区'
    reply = client.post("/sandbox", data={"csrf_token": token, "sql": sql})
    assert reply.status_code == 200
    assert 'id="sbx-withheld"' in reply.text and "东苑" in reply.text and "南苑" not in reply.text
    refused = client.post(
        "/sandbox", data={"csrf_token": token, "sql": f'SELECT * FROM "{sb.health}"'}
    )
    assert refused.status_code == 422 and "规则 select_star" in refused.text
    client.get("/lang/en?next=/sandbox")
    english = client.post("/sandbox", data={"csrf_token": token, "sql": "SELECT 1"})
    assert "Query refused" in english.text and "Data sandbox" in english.text
    with acting(database, Actor(kind="user", name="auditor", role=Role.AUDITOR)) as ctx:
        rules = [
            e.details["rule"] for e in audit.view_audit(ctx, action="sandbox.query_refused").items
        ]
    assert "select_star" in rules


def test_builder_releases_and_provider_pages(client: TestClient, database: Database) -> None:
    from tests.sharing.helpers import provider_account

    sb = sandbox(database, seed_org(database))
    login(client, "a.liaison", PASSWORD)
    page = client.get("/sandbox")
    assert 'href="/sandbox"' in page.text and 'id="sbx-builder"' in page.text
    built = client.get(
        "/sandbox",
        params=[
            ("build", "1"),
            ("dataset", sb.health),
            ("group", "社区"),
            ("measure", "people"),
            ("f1", "慢病"),
            ("v1", "是"),
        ],
    )
    assert built.status_code == 200
    sql = f'SELECT "社区", COUNT(DISTINCT "身份证号") AS "people" FROM "{sb.health}"'
    assert sql in built.text.replace("&#34;", '"')
    wrong = client.get("/sandbox", params={"build": "1", "dataset": sb.health, "group": "诊断"})
    assert wrong.status_code == 422 and "不能用于分组" in wrong.text
    token = csrf(client, "/sandbox")
    answer = client.post(
        "/sandbox",
        data={
            "csrf_token": token,
            "sql": f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区',
        },
    )
    assert 'id="sbx-release-form"' in answer.text
    query_id = answer.text.split('name="query_id" value="')[1].split('"')[0]
    empty = client.post(
        "/sandbox/releases", data={"csrf_token": token, "query_id": query_id, "purpose": ""}
    )
    assert empty.status_code == 422
    asked = client.post(
        "/sandbox/releases",
        data={
            "csrf_token": token,
            "query_id": query_id,
            "purpose": "走访排班",
            "target": "download",
        },
        follow_redirects=True,
    )
    assert asked.status_code == 200 and 'data-status="pending"' in asked.text
    assert "sbx-download" not in asked.text and "sbx-approve" not in asked.text
    client.cookies.clear()

    login(client, provider_account(database), PASSWORD)
    queue = client.get("/sandbox/releases")
    assert "sbx-approve" in queue.text and "东苑" in queue.text
    release_id = queue.text.split('id="release-')[1].split('"')[0]
    token = csrf(client, "/sandbox/releases")
    bare = client.post(
        f"/sandbox/releases/{release_id}/decision",
        data={"csrf_token": token, "verdict": "refuse", "reason": "不行"},
    )
    assert bare.status_code == 422
    ok = client.post(
        f"/sandbox/releases/{release_id}/decision",
        data={"csrf_token": token, "verdict": "approve"},
        follow_redirects=True,
    )
    assert ok.status_code == 200 and 'data-status="approved"' in ok.text
    seen = client.get("/sandbox/provider")
    assert seen.status_code == 200 and 'data-status="done"' in seen.text
    client.get("/lang/en?next=/sandbox/provider")
    assert "Queries on our data" in client.get("/sandbox/provider").text
    client.cookies.clear()

    login(client, "a.liaison", PASSWORD)
    mine = client.get("/sandbox/releases")
    assert f"/api/v1/sandbox/releases/{release_id}/file?format=csv" in mine.text
    got = client.get(f"/api/v1/sandbox/releases/{release_id}/file?format=csv")
    assert got.status_code == 200 and "东苑" in got.content.decode("utf-8-sig")


def test_workspace_shows_budget_gauge_and_intervals(client: TestClient, database: Database) -> None:
    from tests.sandbox import helpers
    from tests.sandbox.test_private import DP_TERMS, _rows
    from tests.sharing.helpers import application

    seeded = seed_org(database)
    health = helpers._entry(database, "B", helpers.HEALTH, _rows())
    app = application(database, "A")
    helpers.grant(database, seeded.actor(Role.DATA_LIAISON), health, app, DP_TERMS)
    login(client, "a.liaison", PASSWORD)
    page = client.get("/sandbox")
    assert 'id="sbx-budget"' in page.text and 'value="2.0"' in page.text
    token = csrf(client, "/sandbox")
    sql = f'SELECT 社区, SUM(医疗费用) AS s FROM "{health}" GROUP BY 社区'
    reply = client.post("/sandbox", data={"csrf_token": token, "sql": sql, "epsilon": "0.5"})
    assert reply.status_code == 200, reply.text
    assert 'id="sbx-epsilon">0.5<' in reply.text and 'class="sbx-interval"' in reply.text
    assert 'id="sbx-withheld"' in reply.text and 'value="1.5"' in reply.text
