"""Push-backs in the console and the JSON API: the library's unit defines one (CSRF, errors
shown on the form), runs the library and sees the status; the street sees its dataset,
masked per its grant, and files a report."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate, UserCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.masterdata import service
from tests.conftest import acting
from tests.factories import PASSWORD
from tests.masterdata.pushback_helpers import population, resident, rid
from tests.web.helpers import csrf, login


def _street_user(database: Database, username: str = "s.liaison") -> str:
    with acting(database, SYSTEM) as ctx:
        auth.create_user(
            ctx,
            UserCreate(
                username=username,
                display_name=username,
                password=PASSWORD,
                role=Role.DATA_LIAISON,
                unit_code="S",
            ),
        )
    return username


def _entity(database: Database, i: int) -> str:
    with acting(database, SYSTEM) as ctx:
        return service.lookup_masterdata_entity(ctx, "population", resident_id=rid(i)).entity_id


FORM = {
    "name": "保俶路社区高龄老人",
    "target_unit_code": "S",
    "division_code": "330106",
    "street": "北山街道",
    "community": "保俶路社区",
    "columns": ["name", "resident_id", "birth_date", "address"],
    "min_age": "80",
    "mask.address": "redact",
}


def test_define_run_read_and_report_in_the_console(client: TestClient, database: Database) -> None:
    lib = population(database)
    street_user = _street_user(database)
    login(client, "exec", PASSWORD)
    page = client.get("/masterdata/population/pushbacks")
    assert page.status_code == 200 and 'id="mdp-define"' in page.text and "城南街道" in page.text
    assert lib.dialysis in page.text  # the member datasets to choose a special group from
    token = csrf(client, "/masterdata/population/pushbacks")
    refused = client.post("/masterdata/population/pushbacks", data={**FORM})
    assert refused.status_code == 403  # no CSRF token
    bad = client.post(
        "/masterdata/population/pushbacks",
        data={**FORM, "csrf_token": token, "street": "文三路", "max_age": "70"},
    )
    assert bad.status_code == 422
    assert 'data-field="street"' in bad.text and 'data-field="conditions.0.max_age"' in bad.text
    assert 'value="保俶路社区高龄老人"' in bad.text  # the form keeps what was typed
    made = client.post(
        "/masterdata/population/pushbacks",
        data={**FORM, "csrf_token": token},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    detail = made.headers["location"]
    assert "待交付" in client.get(detail).text
    token = csrf(client, "/masterdata/population")
    ran = client.post(
        "/masterdata/population/run",
        data={"csrf_token": token, "mode": "full"},
        follow_redirects=False,
    )
    assert ran.status_code == 303
    library = client.get("/masterdata/population")
    assert 'id="md-pushbacks"' in library.text and "保俶路社区高龄老人" in library.text
    assert "年龄 ≥ 80 岁" in library.text and "正常" in library.text
    cockpit = client.get("/cockpit")
    assert '<span class="num">1</span>反哺数据集</div>' in cockpit.text
    assert '<span class="num">0</span>交付失败</div>' in cockpit.text
    # The bureau sees the status and the deliveries, not the street's records.
    shown = client.get(detail)
    assert 'id="mdp-deliveries"' in shown.text and 'id="mdp-records"' not in shown.text
    client.post("/logout")
    client.cookies.clear()

    login(client, street_user, PASSWORD)
    mine = client.get("/masterdata")
    assert mine.status_code == 200 and "保俶路社区高龄老人" in mine.text
    page = client.get(detail)
    assert page.status_code == 200 and 'id="mdp-records"' in page.text
    elders = [i for i in range(10) if i % 2 == 0]  # born 1935 in 保俶路社区
    assert rid(elders[0])[:10] + "*" * 8 in page.text and rid(elders[0]) not in page.text
    assert resident(elders[0])[4] not in page.text  # addresses redacted by the grant
    token = csrf(client, detail)
    entity = _entity(database, elders[0])
    bad = client.post(
        f"{detail}/reports",
        data={"csrf_token": token, "entity_id": entity, "attribute": "birth_date", "problem": "错"},
    )
    assert bad.status_code == 422 and 'data-field="problem"' in bad.text
    sent = client.post(
        f"{detail}/reports",
        data={
            "csrf_token": token,
            "entity_id": entity,
            "attribute": "birth_date",
            "problem": "出生日期与户口簿记载不一致",
            "proposed": "1935-02-02",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    page = client.get(detail)
    assert "出生日期与户口簿记载不一致" in page.text and "1935-02-02" in page.text
    client.get("/lang/en")
    english = client.get(detail)
    assert "Delivered records" in english.text and "Report a wrong value" in english.text
    # The street cannot define, refresh or retire.
    token = csrf(client, detail)
    for path in ("/masterdata/population/pushbacks/refresh", f"{detail}/retire"):
        assert client.post(path, data={"csrf_token": token, "reason": "x" * 20}).status_code == 403


def test_the_api(client: TestClient, database: Database) -> None:
    population(database)
    with acting(database, SYSTEM) as ctx:
        bureau = auth.create_api_key(
            ctx, ApiKeyCreate(name="数据局", role=Role.CDO_EXECUTIVE, unit_code="R")
        ).token
        street = auth.create_api_key(
            ctx, ApiKeyCreate(name="街道", role=Role.DATA_LIAISON, unit_code="S")
        ).token
    as_bureau = {"Authorization": f"Bearer {bureau}"}
    as_street = {"Authorization": f"Bearer {street}"}
    body = {
        "name": "北山街道居民",
        "target_unit_code": "S",
        "division_code": "330106",
        "street": "北山街道",
        "columns": ["姓名", "公民身份号码"],
        "conditions": [{"kind": "age", "min_age": 200}],
    }
    bad = client.post("/api/v1/masterdata/population/pushbacks", json=body, headers=as_bureau)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    body["conditions"] = []
    made = client.post("/api/v1/masterdata/population/pushbacks", json=body, headers=as_bureau)
    assert made.status_code == 201, made.text
    pushback_id = made.json()["id"]
    base = f"/api/v1/masterdata/population/pushbacks/{pushback_id}"
    assert client.post(f"{base}/refresh", headers=as_bureau).status_code == 422  # no run yet
    with acting(database, SYSTEM) as ctx:
        service.run_masterdata_library(ctx, "population")
    listed = client.get("/api/v1/masterdata/population/pushbacks", headers=as_bureau).json()
    assert [(p["status"], p["rows"]) for p in listed] == [("ok", 16)]
    assert client.get(f"{base}/records", headers=as_bureau).status_code == 403
    records = client.get(f"{base}/records", params={"limit": 3}, headers=as_street)
    assert records.status_code == 200, records.text
    page = records.json()
    assert page["total"] == 16 and len(page["rows"]) == 3 and page["next_after"]
    delivered = client.get("/api/v1/masterdata/pushbacks/delivered", headers=as_street).json()
    assert [p["id"] for p in delivered] == [pushback_id]
    report = client.post(
        f"{base}/reports",
        json={
            "entity_id": page["rows"][0]["实体标识"],
            "attribute": "姓名",
            "problem": "姓名与身份证不一致，应更正",
        },
        headers=as_street,
    )
    assert report.status_code == 201, report.text
    assert report.json()["unit_code"] in ("A", "B")
    reports = client.get(f"{base}/reports", headers=as_bureau).json()
    assert [r["id"] for r in reports] == [report.json()["id"]]
    retired = client.post(
        f"{base}/retire", json={"reason": "街道区划调整，停止反哺"}, headers=as_bureau
    )
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert client.get(f"{base}/records", headers=as_street).status_code == 409
