"""The trading console (/market/trade) and the trading API: bad input is shown on the page
in the reader's language and nothing is kept; refusals reach API callers in both languages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.market import service
from shuzhi.market.models import Contract
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.market.trade_helpers import PURPOSE, buyer, listed_product
from tests.web.helpers import csrf, login


def test_trade_page_in_both_languages_and_bad_input_kept_out(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    listed = listed_product(database, seeded)
    login(client, "operator", PASSWORD)
    zh = client.get("/market/trade")
    assert zh.status_code == 200 and "产品上架与交易" in zh.text and listed.number in zh.text
    en = client.get("/market/trade?lang=en")
    assert "Products, listing and trading" in en.text and "Describe a product" in en.text
    token = csrf(client, "/market/trade")
    bad = client.post(
        "/market/trade/products",
        data={"csrf_token": token, "name": "x", "price": "很多", "inputs": listed.resource},
    )
    assert bad.status_code == 422 and 'id="errors"' in bad.text
    with acting(database, SYSTEM) as ctx:
        assert len(service.list_products(ctx)) == 1  # only the listed one


def test_api_refusals_are_bilingual(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    under_notice = listed_product(database, seeded, register=False)
    buyer_id, _ = buyer(database, seeded, unit="A")  # the operator's own unit
    login(client, "operator", PASSWORD)
    token = csrf(client, "/market")
    reply = client.post(
        "/api/v1/market/contracts",
        json={
            "registration_number": under_notice.number,
            "buyer_party_id": buyer_id,
            "purpose": PURPOSE,
        },
        headers={"X-CSRF-Token": token},
    )
    assert reply.status_code == 422, reply.text
    text = reply.text
    assert "无登记不交易" in text and "not registered" in text
    assert "运营机构不能购买自己的产品" in text and "cannot buy its own product" in text
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.query(Contract).count() == 0
