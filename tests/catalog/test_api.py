"""The catalogue JSON API: shapes others rely on, 401 for anonymous callers, API keys."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import Role
from shuzhi.db.engine import Database
from tests.catalog.helpers import entry_data
from tests.catalog.test_lifecycle import publish
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import csrf, login

API = "/api/v1/catalog"


def test_anonymous_gets_401(client: TestClient) -> None:
    for path in ("/entries", "/entries/101001/000001", "/compile-rate", "/dcat.jsonld"):
        assert client.get(API + path).status_code == 401, path


def test_list_get_and_compile_rate_shapes(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    code = publish(database, seeded).resource_code
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        token = auth.create_api_key(
            ctx, ApiKeyCreate(name="接口", role=Role.CONSUMER, unit_code="B")
        ).token
    headers = {"Authorization": f"Bearer {token}"}

    page = client.get(
        f"{API}/entries", params={"q": "人口", "share_type": "unconditional"}, headers=headers
    )
    assert page.status_code == 200
    body = page.json()
    assert set(body) == {"total", "items", "facets"} and body["total"] == 1
    assert body["items"][0]["resource_code"] == code
    assert body["facets"]["unit"] == {"A": 1}
    one = client.get(f"{API}/entries/{code}", headers=headers)
    assert one.status_code == 200 and one.json()["name"] == "户籍人口信息"
    assert client.get(f"{API}/entries/9/9", headers=headers).status_code == 404
    rate = client.get(f"{API}/compile-rate", headers=headers)
    assert rate.status_code == 403  # consumers do not see the league table
    dcat = client.get(f"{API}/dcat.jsonld", headers=headers)
    assert dcat.headers["content-type"].startswith("application/ld+json")
    graph = dcat.json()
    assert graph["@type"] == "dcat:Catalog"
    assert graph["dcat:dataset"][0]["dct:identifier"] == code


def test_console_liaison_creates_entry_via_api_and_session(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/catalog")
    response = client.post(f"{API}/entries", json=entry_data(), headers={"X-CSRF-Token": token})
    assert response.status_code == 201, response.text
    code = response.json()["resource_code"]
    bad = client.post(
        f"{API}/entries",
        json=entry_data(name="另一个目录", share_type="conditional"),
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["share_conditions", "not_shared_basis"]
    submit = client.post(f"{API}/entries/{code}/submit", headers={"X-CSRF-Token": token})
    assert submit.json()["status"] == "submitted"
    assert client.get("/catalog/review").status_code == 200
