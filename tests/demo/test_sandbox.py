"""The demo sandbox: three providers' datasets joined on the resident ID, small communities
suppressed, a refusal, one pending release, and an analyst key in demo-credentials.json whose
example query answers. The market demo's operator also works in the sandbox (its health
index is an approved release to a data product)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from shuzhi.app import create_app
from shuzhi.context import SYSTEM, Ctx
from shuzhi.db.engine import Database
from shuzhi.demo.district import CREDENTIALS_FILE, build_demo
from shuzhi.market import service as market
from shuzhi.sandbox import releases
from shuzhi.sandbox import service as sandbox
from tests.conftest import acting


def market_health_id(ctx: Ctx) -> int:
    return next(p.id for p in market.list_products(ctx) if p.name == "企业经营健康指数")


def test_demo_sandbox_answers_the_example_query(demo_database: Database) -> None:
    credentials = demo_database.settings.data_dir / CREDENTIALS_FILE
    stored = json.loads(credentials.read_text(encoding="utf-8"))["sandbox"]
    assert set(stored["datasets"]) == {"population", "health", "social_security"}
    app = create_app(demo_database.settings, database=demo_database, migrate=False)
    with TestClient(app, base_url="http://testserver") as client:
        reply = client.post(
            "/api/v1/sandbox/queries",
            json={"sql": stored["example_query"]},
            headers={"Authorization": f"Bearer {stored['api_key']}"},
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["status"] == "done" and body["columns"] == ["社区", "人数"]
        # Small communities are left out, and how many is not told to the analyst.
        assert len(body["rows"]) >= 4 and body["suppressed"] is None
        assert all(n >= stored["k"] for _, n in body["rows"])
        grants = client.get(
            "/api/v1/sandbox/grants", headers={"Authorization": f"Bearer {stored['api_key']}"}
        ).json()
        assert any(g["dp_required"] for g in grants)
        noisy = client.post(
            "/api/v1/sandbox/queries",
            json={"sql": stored["dp_example_query"], "epsilon": 0.2},
            headers={"Authorization": f"Bearer {stored['api_key']}"},
        )
        assert noisy.status_code == 200, noisy.text
        assert noisy.json()["epsilon_spent"] == 0.2 and noisy.json()["intervals"]
        budget = client.get(
            "/api/v1/sandbox/budget", headers={"Authorization": f"Bearer {stored['api_key']}"}
        ).json()
        assert [round(b["epsilon_spent"], 6) for b in budget] == [0.7]
    with acting(demo_database, SYSTEM) as ctx:
        pending = releases.list_releases(ctx, status="pending")
        assert len(pending) == 1 and pending[0].suppressed is None
        queries = sandbox.list_queries(ctx)
        assert {q.status for q in queries} == {"done", "refused"}
        # The providers' record keeps how many groups each answer left out.
        assert any(q.suppressed >= 1 for q in queries if q.status == "done")
        use = {u.unit_code: u.refused for u in releases.use_per_unit(ctx)}
        # the street office (one refusal) and the market demo's operator (no refusal), which
        # built its health index in the sandbox
        operator = market.get_product(ctx, market_health_id(ctx)).operator_unit_code
        assert set(use) == {"JD-CX", operator} and use["JD-CX"] >= 1 and use[operator] == 0
        released = releases.list_releases(ctx, status="approved")
        assert [r.target for r in released] == ["data_product"]
    # Built once: a second build changes nothing and keeps the credentials.
    before = credentials.read_text(encoding="utf-8")
    build_demo(demo_database)
    assert credentials.read_text(encoding="utf-8") == before
    with acting(demo_database, SYSTEM) as ctx:
        assert len(releases.list_releases(ctx)) == 2  # the street office's, the operator's
