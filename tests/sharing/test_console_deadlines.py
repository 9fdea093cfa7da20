"""The console shows what the deadline rules decided: the extended deadline, a provisional
deadline's warning, an unseeded year on the calendar page; and takes the new inputs (the
extension, the basis of a refusal, the declaration that a year is complete)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.sharing import calendar_service as calendar
from shuzhi.sharing import service
from shuzhi.sharing.calendar import local_day
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.sharing.helpers import application, provider_account, request, shared_entry
from tests.web.helpers import csrf, login


def test_provider_extends_and_everyone_sees_the_extended_deadline(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    provider_account(database)
    entry = shared_entry(database, "conditional")
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    assert out.due_on is not None
    login(client, "b.cdo", PASSWORD)
    url = f"/sharing/requests/{out.id}"
    assert 'id="extend-form"' in client.get(url).text
    token = csrf(client, url)
    short = client.post(f"{url}/extend", data={"csrf_token": token, "reason": "不行"})
    assert short.status_code == 422 and "10" in short.text
    done = client.post(
        f"{url}/extend",
        data={"csrf_token": token, "reason": "需会同法制部门核实共享依据（第二轮）"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with acting(database, SYSTEM) as ctx:
        extended = service.get_share_request(ctx, out.id)
    assert extended.original_due_on == out.due_on and extended.due_on != out.due_on
    page = client.get(url).text
    assert str(extended.due_on) in page and str(out.due_on) in page
    assert "需会同法制部门核实共享依据（第二轮）" in page and 'id="extend-form"' not in page
    queue = client.get("/sharing/queue").text
    assert str(extended.due_on) in queue and "已延期" in queue
    # the refusal form asks for the basis; a bare refusal is refused with both reasons
    bad = client.post(
        f"{url}/decide", data={"csrf_token": token, "outcome": "refuse", "reason": "不行"}
    )
    assert bad.status_code == 422 and 'name="basis"' in bad.text
    refused = client.post(
        f"{url}/decide",
        data={
            "csrf_token": token,
            "outcome": "refuse",
            "reason": "申请用途与所列信息项不相符（见第三条）",
            "basis": "目录共享条件：仅限依法履职需要",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 303
    page = client.get(url).text
    assert "申请用途与所列信息项不相符（见第三条）" in page
    assert "目录共享条件：仅限依法履职需要" in page


def test_calendar_page_warns_of_an_unseeded_year_and_takes_the_declaration(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    year = local_day(utcnow()).year
    with acting(database, SYSTEM) as ctx:
        for y in (year, year + 1):
            service.set_calendar_year(ctx, "national", y, False)
    entry = shared_entry(database, "conditional")
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    assert out.due_on is not None and out.due_provisional
    login(client, "exec", PASSWORD)
    page = client.get(f"/sharing/calendar?year={out.due_on.year}").text
    assert 'id="not-seeded"' in page and "1 件" in page
    assert 'id="provisional-deadline"' in client.get(f"/sharing/requests/{out.id}").text
    token = csrf(client, "/sharing/calendar")
    # 2026 holds its arrangement: it can be declared complete again
    reply = client.post(
        "/sharing/calendar/national/years/2026",
        data={"csrf_token": token, "complete": "1"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert 'id="seeded"' in client.get("/sharing/calendar?year=2026").text
    # 2030 holds nothing: refused, nothing stored
    empty = client.post(
        "/sharing/calendar/national/years/2030", data={"csrf_token": token, "complete": "1"}
    )
    assert empty.status_code == 422 and "13" in empty.text
    with acting(database, SYSTEM) as ctx:
        assert not calendar.get_calendar(ctx, "national", 2030).seeded


def test_api_extends_and_declares(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    provider_account(database)
    entry = shared_entry(database, "conditional")
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    login(client, "b.cdo", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/sharing/requests")}
    done = client.post(
        f"/api/v1/sharing/requests/{out.id}/extend",
        json={"reason": "需会同法制部门核实共享依据"},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["original_due_on"] == str(out.due_on)
    again = client.post(
        f"/api/v1/sharing/requests/{out.id}/extend",
        json={"reason": "需会同法制部门核实共享依据"},
        headers=headers,
    )
    assert again.status_code == 409
    client.post("/logout", data={"csrf_token": csrf(client, "/sharing/requests")})
    login(client, "exec", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/sharing/requests")}
    cal = client.put(
        "/api/v1/sharing/calendar/national/2027", json={"complete": True}, headers=headers
    )
    assert cal.status_code == 422
    assert client.get("/api/v1/sharing/calendar/national/2027").json()["seeded"] is False
