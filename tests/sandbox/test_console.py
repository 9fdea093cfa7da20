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
    assert (
        'id="sbx-suppressed">1<' in reply.text and "东苑" in reply.text and "南苑" not in reply.text
    )
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
