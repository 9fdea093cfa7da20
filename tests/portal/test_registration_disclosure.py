"""Registering tells nobody whether an address already has an account, and one client
cannot try addresses without limit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuzhi.audit.models import AuditEntry
from shuzhi.db.engine import Database
from shuzhi.portal.models import Applicant
from tests.factories import seed_org
from tests.portal.helpers import applicant
from tests.web.helpers import csrf

FORM = {"name": "王研究", "organisation": "某大学", "kind": "research"}


def _register(client: TestClient, email: str, password: str = "Fresh-open-data-77"):  # type: ignore[no-untyped-def]
    token = csrf(client, "/open/account/register")
    return client.post(
        "/open/account/register",
        data={**FORM, "csrf_token": token, "email": email, "password": password},
        follow_redirects=False,
    )


def _shape(response) -> tuple[int, str | None, str]:  # type: ignore[no-untyped-def]
    return response.status_code, response.headers.get("location"), response.text


def test_a_registered_address_gets_the_same_answer_as_a_new_one(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    applicant(database, "known@example.cn")
    known = _register(client, "Known@Example.cn")
    new = _register(client, "someone-new@example.cn")
    assert _shape(known) == _shape(new)
    assert known.status_code == 303
    assert client.get(known.headers["location"]).text == client.get(new.headers["location"]).text
    with database.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Applicant)) == 2
        repeated = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "portal.applicant_registration_repeated")
        ).all()
    assert [e.target_id for e in repeated] == ["known@example.cn"]


def test_one_client_cannot_try_addresses_without_limit(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    limit = database.settings.login_address_max_failures
    answers = [_register(client, f"probe{i}@example.cn").status_code for i in range(limit + 2)]
    assert answers[:limit] == [303] * limit
    assert answers[limit:] == [429, 429]
    with database.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Applicant)) == limit
