"""The market's console pages: the bureau decides, the operator submits, in both languages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.market import service
from shuzhi.market.schemas import COMPLIANCE_ITEMS, ProductIn
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org, uscc
from tests.market.helpers import active_agreement, figures_entry, operator_party, product_data
from tests.web.helpers import csrf, login


def test_bureau_and_operator_work_the_console(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    login(client, "exec", PASSWORD)
    token = csrf(client, "/market")
    bad = client.post(
        "/market/parties",
        data={"csrf_token": token, "kind": "operator", "name": "某数据公司", "uscc": "123"},
    )
    assert bad.status_code == 422 and 'id="errors"' in bad.text and "统一社会信用代码" in bad.text
    made = client.post(
        "/market/parties",
        data={
            "csrf_token": token,
            "kind": "operator",
            "name": "某数据公司",
            "uscc": uscc(55),
            "unit_code": "B",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = client.get("/market")
    assert "某数据公司" in page.text and "待审核" in page.text
    english = client.get("/market?lang=en")
    assert "Applied" in english.text and "Market parties" in english.text
    # a product of department A's operator, to be submitted and reviewed in the console
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, party.id, [code])
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        product = service.create_product(
            ctx, ProductIn.model_validate(product_data(agreement.id, [code]))
        )
    client.post("/logout", data={"csrf_token": csrf(client, "/market")})
    login(client, "operator", PASSWORD)
    mine = client.get("/market")
    assert mine.status_code == 200 and "企业经营健康指数" in mine.text
    assert "某数据公司" not in mine.text  # another organisation's party
    sent = client.post(
        f"/market/products/{product.id}/submission",
        data={"csrf_token": csrf(client, "/market")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    client.post("/logout", data={"csrf_token": csrf(client, "/market")})
    login(client, "exec", PASSWORD)
    form = {"csrf_token": csrf(client, "/market")}
    for item in COMPLIANCE_ITEMS:
        form[f"{item}.passed"] = "1"
    reviewed = client.post(
        f"/market/products/{product.id}/compliance", data=form, follow_redirects=False
    )
    assert reviewed.status_code == 303
    assert "合规" in client.get("/market").text
    forged = client.post(f"/market/products/{product.id}/submission", data={})
    assert forged.status_code == 403
