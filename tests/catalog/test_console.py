"""Console pages render for every role that may see them, and the editor round-trips a form."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shuzhi.context import Role
from shuzhi.db.engine import Database
from tests.catalog.test_lifecycle import publish
from tests.factories import ACCOUNTS, PASSWORD, seed_org
from tests.web.helpers import csrf, login

PAGES = [
    "/catalog",
    "/catalog?q=人口&share_type=unconditional",
    "/catalog/review",
    "/catalog/progress",
    "/catalog/conflicts",
    "/catalog/code-tables",
]


@pytest.mark.parametrize("role", [Role.CDO_EXECUTIVE, Role.UNIT_CDO, Role.DATA_LIAISON])
def test_pages_render(client: TestClient, database: Database, role: Role) -> None:
    seeded = seed_org(database)
    code = publish(database, seeded).resource_code
    login(client, ACCOUNTS[role][0], PASSWORD)
    for path in [*PAGES, f"/catalog/entries/{code}", f"/catalog/entries/{code}/versions/1"]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
    assert "户籍人口信息" in client.get("/catalog?q=人口").text
    # a published entry leads to its dataset (upload and versions)
    assert f'href="/datasets/{code}"' in client.get(f"/catalog/entries/{code}").text
    assert client.get(f"/datasets/{code}").status_code == 200


def test_editor_adds_rows_and_saves(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/catalog/entries/new")
    form = {
        "csrf_token": token,
        "name": "社会保险参保信息",
        "abstract": "参保人员的险种、缴费状态等信息。",
        "classification": "2:03",
        "group_code": "001",
        "format_code": "3",
        "share_type": "conditional",
        "share_conditions": "用于社保待遇核定",
        "not_shared_basis": "《社会保险法》第八十一条",
        "share_method": "platform",
        "share_method_type": "interface",
        "open_type": "not_open",
        "not_open_reason": "sensitive",
        "update_cycle": "4",
        "items-0-name": "姓名",
        "items-0-data_type": "C",
        "items-0-length": "50",
        "items-0-share_type": "conditional",
        "items-1-name": "",
    }
    more = client.post("/catalog/entries/new", data={**form, "action": "add_row"})
    assert more.status_code == 200 and 'name="items-3-name"' in more.text
    saved = client.post(
        "/catalog/entries/new", data={**form, "action": "save"}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/catalog/entries/203001/000001"
    bad = client.post("/catalog/entries/new", data={**form, "share_conditions": "", "name": "另一"})
    assert bad.status_code == 422 and "有条件共享必须填写共享条件" in bad.text


def test_operator_cannot_see_the_catalogue(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "operator", PASSWORD)
    assert client.get("/catalog").status_code == 403
