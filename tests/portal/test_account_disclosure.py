"""What the portal's account forms give away: registering a known address costs the same
argon2 hashing as a new one, a failed log-in records a typed e-mail only when it is an
applicant's, and a wrong password costs at least the current argon2 costs."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shuzhi.audit.models import AuditEntry
from shuzhi.auth.passwords import dummy_hash, hasher
from shuzhi.context import Actor, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.errors import ShuzhiError, Unauthenticated
from shuzhi.portal import service
from shuzhi.portal.models import Applicant
from shuzhi.portal.schemas import ApplicantIn, ApplicantOut
from tests.auth.hashers import record_argon2
from tests.conftest import acting
from tests.portal.helpers import applicant
from tests.web.helpers import csrf

ANON = Actor(kind="anonymous")
RIGHT = "Open-data-2026"  # tests.portal.helpers.applicant's password
WRONG = "Wrong-guess-123"
TYPED = "Harbour-lantern-fog-91"  # a password typed into the e-mail box


def register(database: Database, email: str, password: str) -> ApplicantOut | None:
    with acting(database) as ctx:
        return service.register_applicant(
            ctx, ApplicantIn(email=email, name="王研究", kind="research", password=password)
        )


def attempt(
    database: Database, email: str, password: str, client: str = "203.0.113.9"
) -> tuple[ApplicantOut, int] | ShuzhiError:
    try:
        with unit_of_work(database, ANON, client=client) as ctx:
            return service.login_applicant(ctx, email, password)
    except ShuzhiError as err:
        return err


def test_a_repeated_address_costs_the_same_argon2_hashing_as_a_new_one(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    argon2 = record_argon2(monkeypatch, database.settings)
    assert register(database, "wang@example.cn", RIGHT) is not None
    new = argon2.hashed
    argon2.forget()
    assert register(database, " Wang@Example.cn ", "Other-open-data-55") is None
    repeated = argon2.hashed
    assert new == repeated == 1
    # the repeat changed nothing: the first password still logs in, the second does not
    assert not isinstance(attempt(database, "wang@example.cn", RIGHT), ShuzhiError)
    assert isinstance(attempt(database, "wang@example.cn", "Other-open-data-55"), Unauthenticated)


def failed(database: Database) -> list[AuditEntry]:
    with database.sessions() as s:
        query = select(AuditEntry).where(AuditEntry.action == "portal.applicant_login_failed")
        return list(s.scalars(query.order_by(AuditEntry.seq)))


def named(entry: AuditEntry) -> str:
    email: str = json.loads(entry.details)["email"]
    assert entry.target_id == email
    return email


def mentions(entry: AuditEntry, text: str) -> bool:
    return text.lower() in f"{entry.target_id} {entry.details}".lower()


def test_an_unknown_email_is_audited_only_as_a_digest(database: Database) -> None:
    applicant(database, "li@example.cn")
    for typed in (TYPED, TYPED.upper(), "nobody@example.cn", " LI@example.cn"):
        assert isinstance(attempt(database, typed, WRONG), Unauthenticated)
    first, again, nobody, known = failed(database)
    assert not any(mentions(e, TYPED) for e in (first, again, nobody))
    assert named(first).startswith("digest:") and named(first) == named(again)
    assert named(nobody).startswith("digest:") and not mentions(nobody, "nobody@")
    assert named(known) == "li@example.cn"


def test_the_login_page_records_only_known_emails(client: TestClient, database: Database) -> None:
    applicant(database, "li@example.cn")
    for email in (TYPED, "li@example.cn"):
        form = {"csrf_token": csrf(client, "/open/account/login"), "email": email}
        response = client.post("/open/account/login", data={**form, "password": WRONG})
        assert response.status_code == 401
    unknown, known = failed(database)
    assert named(unknown).startswith("digest:") and not mentions(unknown, TYPED)
    assert named(known) == "li@example.cn"


def test_a_wrong_password_for_an_old_hash_also_costs_the_current_costs(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = database.settings
    applicant(database, "li@example.cn")
    old = PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost // 2
    ).hash(RIGHT)
    assert hasher(settings).check_needs_rehash(old)
    with database.sessions.begin() as s:
        s.execute(update(Applicant).values(password_hash=old))
    argon2 = record_argon2(monkeypatch, settings)
    assert isinstance(attempt(database, "li@example.cn", WRONG), Unauthenticated)
    assert argon2.verified == [old, dummy_hash(settings)]
    argon2.forget()
    assert not isinstance(attempt(database, "li@example.cn", RIGHT), ShuzhiError)
    assert argon2.verified == [old] and argon2.hashed == 1  # checked once, then rehashed
