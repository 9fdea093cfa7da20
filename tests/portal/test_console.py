"""The providers' console: opening through the guard and deciding applications by form."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.db.engine import Database
from shuzhi.portal import service
from shuzhi.portal.schemas import ApplicationIn
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.portal.helpers import applicant, open_entry, opened
from tests.sharing.helpers import provider_account
from tests.web.helpers import csrf, login


def test_open_with_confirmation_then_decide(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    people = open_entry(database, people=True, rows=5)
    conditional = open_entry(database, "conditional")
    opened(database, seeded, conditional)
    who = applicant(database)
    with acting(database) as ctx:
        submitted = service.submit_open_application(
            ctx,
            who,
            ApplicationIn(
                resource_code=conditional, purpose="研究站点布局的科研用途", accept_agreement=True
            ),
        )
    login(client, provider_account(database), PASSWORD)
    page = client.get("/portal")
    assert page.status_code == 200 and "公民身份号码" in page.text
    token = csrf(client, "/portal")
    refused = client.post("/portal/open", data={"csrf_token": token, "resource_code": people})
    assert refused.status_code == 422 and "公民身份号码" in refused.text
    done = client.post(
        "/portal/open",
        data={"csrf_token": token, "resource_code": people, "confirm_deidentified": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    queue = client.get("/portal/applications")
    assert "研究站点布局" in queue.text
    no_reason = client.post(
        f"/portal/applications/{submitted.id}/decide",
        data={"csrf_token": token, "outcome": "refuse", "note": ""},
    )
    assert no_reason.status_code == 422
    client.post(
        f"/portal/applications/{submitted.id}/decide",
        data={"csrf_token": token, "outcome": "approve", "note": "同意"},
    )
    assert "已同意" in client.get("/portal/applications").text


def test_consumers_and_anonymous_cannot_manage(client: TestClient, database: Database) -> None:
    seed_org(database)
    assert client.get("/portal", follow_redirects=False).status_code == 303
    assert client.get("/api/3/action/package_list").json()["result"] == []
