"""The market's JSON API and its public pages (certificate check, notices, objections)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.market import service
from shuzhi.market.api import OBJECTIONS_PER_MINUTE
from tests.conftest import acting
from tests.factories import seed_org, uscc
from tests.market.helpers import figures_entry, form, passing_review, product_data
from tests.web.helpers import csrf


def _key(database: Database, role: Role, unit: str | None) -> dict[str, str]:
    with acting(database, SYSTEM) as ctx:
        made = auth.create_api_key(ctx, ApiKeyCreate(name=f"{role}", role=role, unit_code=unit))
    return {"Authorization": f"Bearer {made.token}"}


def test_the_story_through_the_api(client: TestClient, database: Database) -> None:
    seed_org(database)
    bureau = _key(database, Role.CDO_EXECUTIVE, "R")
    cdo = _key(database, Role.CDO, "R")
    operator = _key(database, Role.OPERATOR, "A")
    code = figures_entry(database)
    bad = client.post(
        "/api/v1/market/parties",
        headers=bureau,
        json={"kind": "operator", "name": "城市数据集团有限公司", "uscc": "123"},
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    party = client.post(
        "/api/v1/market/parties",
        headers=bureau,
        json={
            "kind": "operator",
            "name": "城市数据集团有限公司",
            "uscc": uscc(7),
            "unit_code": "A",
        },
    )
    assert party.status_code == 201, party.text
    pid = party.json()["id"]
    assert (
        client.post(
            f"/api/v1/market/parties/{pid}/decision", headers=bureau, json={"approve": True}
        ).json()["status"]
        == "approved"
    )
    # What may be authorised, for API callers who send codes: the published entry, by unit.
    offered = client.get("/api/v1/market/agreements/resources", headers=bureau)
    assert offered.status_code == 200
    assert {"code": code, "unit_code": "B"}.items() <= next(
        r for r in offered.json() if r["code"] == code
    ).items()
    assert client.get("/api/v1/market/agreements/resources", headers=operator).status_code == 403
    today = utcnow().date()
    drafted = client.post(
        "/api/v1/market/agreements",
        headers=bureau,
        json={
            "title": "公共数据授权运营协议",
            "operator_id": pid,
            "resources": [code],
            "rights": ["processing", "operating"],
            "scenarios": ["企业经营健康评价"],
            "fee_cap_cents": 50_000_000,
            "security_obligations": "原始数据不出域。",
            "exit_terms": "终止后删除加工结果。",
            "breach_terms": "违约即终止。",
            "starts_on": str(today - timedelta(days=1)),
            "ends_on": str(today + timedelta(days=30)),
        },
    )
    assert drafted.status_code == 201, drafted.text
    aid = drafted.json()["id"]
    assert client.post(f"/api/v1/market/agreements/{aid}/approval", headers=cdo).status_code == 200
    assert (
        client.post(f"/api/v1/market/agreements/{aid}/activation", headers=bureau).json()["status"]
        == "active"
    )
    covered = client.get(f"/api/v1/market/agreements/{aid}/covers/{code}", headers=operator)
    assert covered.json()["covered"] is True
    outside = client.get(f"/api/v1/market/agreements/{aid}/covers/NOPE", headers=operator).json()
    assert outside["covered"] is False and "outside" in outside["reason"]["en"]
    made = client.post("/api/v1/market/products", headers=operator, json=product_data(aid, [code]))
    assert made.status_code == 201, made.text
    prod = made.json()["id"]
    client.post(f"/api/v1/market/products/{prod}/submission", headers=operator)
    reviewed = client.post(
        f"/api/v1/market/products/{prod}/compliance",
        headers=bureau,
        json=passing_review().model_dump(),
    )
    assert reviewed.json()["status"] == "compliant"
    filed = client.post(
        f"/api/v1/market/products/{prod}/registration",
        headers=operator,
        json=form().model_dump(mode="json"),
    )
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]
    # public: under notice, listed and open to objections; no certificate yet
    assert client.get(f"/open/market/verify/{number}").status_code == 404
    assert client.get(f"/api/v1/market/verify/{number}").status_code == 404
    assert [n["registration_number"] for n in client.get("/api/v1/market/notices").json()] == [
        number
    ]
    page = client.get("/open/market/notices")
    assert page.status_code == 200 and number in page.text
    token = csrf(client, "/open/market/notices")
    sent = client.post(
        f"/open/market/notices/{number}/objections",
        data={
            "csrf_token": token,
            "name": "某运输公司",
            "contact": "13900000000",
            "reason": "样例数据权属存在争议。",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    short = client.post(
        f"/open/market/notices/{number}/objections",
        data={"csrf_token": token, "name": "某", "contact": "1", "reason": "不同意"},
    )
    assert short.status_code == 422 and 'id="errors"' in short.text
    record = client.get(f"/api/v1/market/registrations/{number}", headers=bureau).json()
    assert [o["status"] for o in record["objections"]] == ["open"]
    client.post(
        f"/api/v1/market/registrations/{number}/objections/{record['objections'][0]['id']}"
        "/resolution",
        headers=bureau,
        json={"approve": False, "reason": "经核实数据来源合法，异议不成立"},
    )
    with acting(database, SYSTEM) as ctx:
        service.confirm_registration(
            ctx, number, now=utcnow() + timedelta(days=service.NOTICE_DAYS, minutes=1)
        )
        code_value = service.get_registration(ctx, number).verification_code
    html = client.get(f"/open/market/verify/{number}?code={code_value}")
    assert html.status_code == 200 and 'id="code-result"' in html.text and number in html.text
    facts = client.get(f"/open/market/verify/{number}?format=json").json()
    assert facts["registration_number"] == number and facts["status"] == "registered"
    assert "verification_code" not in facts and "sections" not in facts
    assert client.get("/open/market/verify/SZDJ-2026-P-999999").status_code == 404
    cert = client.get(f"/api/v1/market/registrations/{number}/certificate", headers=operator)
    assert cert.status_code == 200 and code_value in cert.text
    package = client.get(f"/api/v1/market/registrations/{number}/export.zip", headers=operator)
    assert package.status_code == 200 and package.content[:2] == b"PK"


def test_objections_are_throttled_per_address(client: TestClient, database: Database) -> None:
    seed_org(database)
    # nothing to object to: every attempt is refused, but each is counted
    token = csrf(client)
    statuses = [
        client.post(
            "/open/market/notices/SZDJ-2026-P-000001/objections",
            data={
                "csrf_token": token,
                "name": "某公司",
                "contact": "13900000000",
                "reason": "权属存在争议的数据。",
            },
        ).status_code
        for _ in range(OBJECTIONS_PER_MINUTE + 1)
    ]
    assert statuses[:OBJECTIONS_PER_MINUTE] == [404] * OBJECTIONS_PER_MINUTE
    assert statuses[-1] == 429


def test_product_input_outside_the_agreement_over_the_api(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    operator = _key(database, Role.OPERATOR, "A")
    response = client.post(
        "/api/v1/market/products", headers=operator, json=product_data(999, ["X"])
    )
    assert response.status_code == 404
    assert "999" in response.json()["detail"]
