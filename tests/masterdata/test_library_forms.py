"""Console forms that define a base library and feed it member datasets: CSRF, Chinese and
English, every invalid input shown on the form with nothing written."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.masterdata import service
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.masterdata.helpers import load, person, two_departments
from tests.web.helpers import csrf, login

LIBRARY = {"code": "residents", "name": "常住人口库", "kind": "person", "unit_code": "A"}


def _libraries(database: Database) -> list[str]:
    with acting(database, SYSTEM) as ctx:
        return [lib.code for lib in service.list_masterdata_libraries(ctx)]


def test_a_unit_cdo_defines_a_library_in_the_console(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    login(client, "a.cdo", PASSWORD)
    listing = client.get("/masterdata")
    assert 'href="/masterdata/new"' in listing.text
    page = client.get("/masterdata/new")
    # A unit CDO defines libraries of its own unit only: no other unit is offered.
    assert page.status_code == 200 and 'value="A" selected' in page.text
    assert 'value="B"' not in page.text
    token = csrf(client, "/masterdata/new")

    bad = client.post(
        "/masterdata/new",
        data={**LIBRARY, "csrf_token": token, "code": "Bad Code", "name": "", "threshold": "2"},
    )
    assert bad.status_code == 422
    for shown in ("代码：格式不正确", "名称：内容过短", "合并阈值：不能大于 1"):
        assert shown in bad.text
    assert 'value="Bad Code"' in bad.text  # what was typed stays in the form
    other_unit = client.post(
        "/masterdata/new", data={**LIBRARY, "csrf_token": token, "unit_code": "B"}
    )
    assert other_unit.status_code == 403
    no_token = client.post("/masterdata/new", data=LIBRARY)
    assert no_token.status_code in (400, 403)
    reserved = client.post("/masterdata/new", data={**LIBRARY, "csrf_token": token, "code": "new"})
    assert reserved.status_code == 422 and "控制台保留的路径" in reserved.text
    assert _libraries(database) == []

    done = client.post(
        "/masterdata/new", data={**LIBRARY, "csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/masterdata/residents#members"
    again = client.post("/masterdata/new", data={**LIBRARY, "csrf_token": token})
    assert again.status_code == 422 and "基础库 residents 已存在" in again.text
    english = client.post("/masterdata/new?lang=en", data={**LIBRARY, "csrf_token": token})
    assert "Base library residents already exists" in english.text
    assert "Define a base library" in client.get("/masterdata/new?lang=en").text
    assert _libraries(database) == ["residents"]


def test_those_who_may_not_define_get_no_form(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "cdo", PASSWORD)  # the CDO reads libraries; the executive defines them
    assert 'href="/masterdata/new"' not in client.get("/masterdata").text
    assert client.get("/masterdata/new").status_code == 403


def test_members_are_added_mapped_and_removed_in_the_console(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    a, b = two_departments(database)
    load(database, a, [person(i) for i in range(6)])
    load(database, b, [person(i) for i in range(3, 9)])
    login(client, "exec", PASSWORD)
    token = csrf(client, "/masterdata/new")
    defined = client.post(
        "/masterdata/new",
        data={**LIBRARY, "csrf_token": token, "unit_code": "R"},
        follow_redirects=False,
    )
    assert defined.status_code == 303
    page = client.get("/masterdata/residents")
    assert 'id="md-member-form"' in page.text and 'name="map.resident_id"' in page.text

    missing_column = client.post(
        "/masterdata/residents/members",
        data={"csrf_token": token, "resource_code": a, "map.name": "名字"},
    )
    assert missing_column.status_code == 422 and "当前版本中没有列：名字" in missing_column.text
    bad_rank = client.post(
        "/masterdata/residents/members",
        data={"csrf_token": token, "resource_code": a, "rank": "first"},
    )
    assert bad_rank.status_code == 422 and "权威顺序：须为整数" in bad_rank.text
    unknown = client.post(
        "/masterdata/residents/members",
        data={"csrf_token": token, "resource_code": "999999/000001"},
    )
    assert unknown.status_code == 422 and '<li data-field="resource_code">' in unknown.text
    no_library = client.post(
        "/masterdata/nowhere/members", data={"csrf_token": token, "resource_code": a}
    )
    assert no_library.status_code == 404
    english = client.post(
        "/masterdata/residents/members?lang=en",
        data={"csrf_token": token, "resource_code": "", "rank": "1"},
    )
    assert english.status_code == 422 and "Resource code：Too short" in english.text

    mapped = {"map.name": "姓名", "map.resident_id": "公民身份号码", "map.phone": "联系电话"}
    for code, rank in ((a, "1"), (b, "2")):
        added = client.post(
            "/masterdata/residents/members",
            data={"csrf_token": token, "resource_code": code, "rank": rank, **mapped},
            follow_redirects=False,
        )
        assert added.status_code == 303, added.text
    with acting(database, SYSTEM) as ctx:
        library = service.get_masterdata_library(ctx, "residents")
    assert [(m.resource_code, m.rank) for m in library.members] == [(a, 1), (b, 2)]
    assert library.members[0].mapping == {
        "name": "姓名",
        "resident_id": "公民身份号码",
        "phone": "联系电话",
    }
    page = client.get("/masterdata/residents")
    assert "公民身份号码 ← 公民身份号码" in page.text

    removed = client.post(
        "/masterdata/residents/members/remove",
        data={"csrf_token": token, "resource_code": b},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    with acting(database, SYSTEM) as ctx:
        library = service.get_masterdata_library(ctx, "residents")
    assert [m.resource_code for m in library.members] == [a]
