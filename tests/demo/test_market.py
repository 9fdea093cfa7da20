"""The demo market: an operator under an authorisation agreement, two registered products
(the health index built through a sandbox release of three departments' enterprise data),
two brokers of different grades, one objection during the notice, the trajectory service
sold for ¥200,000 and the health index for ¥120,000, both delivered through the gateway with
the buyer's keys from demo-credentials.json: the index's key reads the released figures,
never the departments' enterprise records."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi.app import create_app
from shuzhi.auth.models import User
from shuzhi.auth.passwords import verify_password
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo.district import CREDENTIALS_FILE, build_demo
from shuzhi.market import service as market
from shuzhi.sandbox import releases
from tests.conftest import acting


def test_demo_market_lists_sells_and_delivers(demo_database: Database) -> None:
    credentials = demo_database.settings.data_dir / CREDENTIALS_FILE
    stored = json.loads(credentials.read_text(encoding="utf-8"))["market"]
    assert stored["operator"]["username"] == "csjt.operator"
    app = create_app(demo_database.settings, database=demo_database, migrate=False)
    with TestClient(app, base_url="http://testserver") as client:
        listing = client.get("/api/v1/market/products").json()
        assert listing["total"] == 2
        prices = {i["name"]: i["price"] for i in listing["items"]}
        assert prices["公交车辆实时轨迹数据服务"] == "¥200,000.00"
        assert "企业经营健康指数" in prices
        served = client.get(
            stored["endpoint"], headers={"Authorization": f"Bearer {stored['api_key']}"}
        )
        assert served.status_code == 200, served.text
        assert served.json()["items"] and "车辆自编号" in served.json()["items"][0]
        index = stored["health_index"]
        figures = client.get(
            index["endpoint"], headers={"Authorization": f"Bearer {index['api_key']}"}
        )
        assert figures.status_code == 200, figures.text
        rows = figures.json()["items"]
        assert len(rows) == 6 and set(rows[0]) >= {"行业", "企业数", "健康指数", "户均用电量"}
        assert all("统一社会信用代码" not in r and "利润总额" not in r for r in rows)
    with acting(demo_database, SYSTEM) as ctx:
        # the operator's account works with the password the credentials file shows
        user = ctx.db.scalar(select(User).where(User.username == stored["operator"]["username"]))
        assert user is not None and user.role == "operator"
        assert verify_password(ctx.settings, user.password_hash, stored["operator"]["password"])
        parties = market.list_market_parties(ctx)
        grades = sorted(p.licence_grade or "" for p in parties if p.kind == "broker")
        assert grades == ["A", "B"]
        registrations = market.list_registrations(ctx)
        objections = [o for r in registrations for o in r.objections]
        assert [o.status for o in objections] == ["dismissed"]
        health = next(p for p in market.list_products(ctx) if p.name == "企业经营健康指数")
        assert len(health.inputs) == 3
        assert health.sandbox_release_id is not None
        assert health.sandbox_release_id == index["sandbox_release_id"]
        assert health.output_resource_code == index["resource_code"]
        assert health.output_resource_code not in health.inputs
        released = releases.product_release(ctx, health.sandbox_release_id)
        assert released is not None and len(released[0].rows) == 6
        assert health.sample == [
            dict(zip(released[0].columns, r, strict=True)) for r in released[0].rows
        ]
        bus, index_contract = market.list_contracts(ctx)
        assert bus.price_cents == 20_000_000 and bus.filing_number and bus.rating == 5
        assert index_contract.price_cents == 12_000_000 and index_contract.filing_number
        assert index_contract.resource_code == health.output_resource_code
        revenue = market.market_revenue(ctx)
        assert revenue.total_cents == 32_000_000 and revenue.share_owed_cents == 3_200_000
    # Built once: a second build changes nothing and keeps the credentials.
    before = credentials.read_text(encoding="utf-8")
    build_demo(demo_database)
    assert credentials.read_text(encoding="utf-8") == before
    with acting(demo_database, SYSTEM) as ctx:
        assert len(market.list_contracts(ctx)) == 2
