"""What a failed staff login leaves behind and what it costs.

A name typed at the login may be anything (a password typed into the wrong box), so the
audit log records it only when it is an account's; otherwise a keyed digest stands for it,
the same for the same text, so security operations can still follow one name's attempts.
A wrong password costs at least the current argon2 costs whatever costs the account's
stored hash was made with.
"""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher, extract_parameters
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shuzhi.audit.models import AuditEntry
from shuzhi.auth import service as auth
from shuzhi.auth.models import User
from shuzhi.auth.passwords import dummy_hash, hasher
from shuzhi.context import Actor, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import ShuzhiError, TooManyRequests, Unauthenticated
from tests.auth.hashers import record_argon2
from tests.factories import PASSWORD, seed_org
from tests.secops.helpers import evaluate, rules_of
from tests.web.helpers import csrf

ATTACKER = "203.0.113.9"
ANON = Actor(kind="anonymous")
WRONG = "Wrong-guess-123"
# The seeded accounts' password, typed into the username box.
TYPED = PASSWORD


def attempt(
    database: Database, username: str, password: str, client: str = ATTACKER
) -> Actor | auth.PendingLogin | ShuzhiError:
    try:
        with unit_of_work(database, ANON, client=client) as ctx:
            return auth.authenticate(ctx, username, password)
    except ShuzhiError as err:
        return err


def failed(database: Database) -> list[AuditEntry]:
    with database.sessions() as s:
        query = select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
        return list(s.scalars(query.order_by(AuditEntry.seq)))


def named(entry: AuditEntry) -> str:
    username: str = json.loads(entry.details)["username"]
    assert entry.target_id == username
    return username


def mentions(entry: AuditEntry, text: str) -> bool:
    return text.lower() in f"{entry.target_id} {entry.details}".lower()


def test_an_unknown_typed_name_is_audited_only_as_a_digest(database: Database) -> None:
    seed_org(database)
    for typed in (TYPED, f"  {TYPED.upper()} ", "no-such-user"):
        assert isinstance(attempt(database, typed, WRONG), Unauthenticated)
    first, again, other = failed(database)
    assert not any(mentions(e, TYPED) for e in (first, again, other))
    assert named(first).startswith("digest:")
    assert named(first) == named(again)  # the same name, trimmed and lower-cased, correlates
    assert named(other).startswith("digest:") and named(other) != named(first)
    assert not mentions(other, "no-such-user")


def test_a_known_username_is_audited_by_its_name(database: Database) -> None:
    seed_org(database)
    assert isinstance(attempt(database, " CDO ", WRONG), Unauthenticated)
    with database.sessions.begin() as s:
        s.execute(update(User).where(User.username == "operator").values(active=False))
    assert isinstance(attempt(database, "operator", PASSWORD), Unauthenticated)
    entries = failed(database)
    assert [(named(e), json.loads(e.details)["reason"]) for e in entries] == [
        ("cdo", "bad credentials"),
        ("operator", "inactive"),
    ]


def test_a_throttled_unknown_name_is_audited_only_as_a_digest(database: Database) -> None:
    seed_org(database)
    outcomes = [attempt(database, TYPED, WRONG) for _ in range(6)]
    assert isinstance(outcomes[-1], TooManyRequests)
    entries = failed(database)
    reasons = [json.loads(e.details)["reason"] for e in entries]
    assert reasons == ["bad credentials"] * 5 + ["throttled"]
    assert len({named(e) for e in entries}) == 1
    assert not any(mentions(e, TYPED) for e in entries)


def test_the_login_page_records_only_known_names(client: TestClient, database: Database) -> None:
    seed_org(database)
    for username in (TYPED, "cdo"):
        form = {"csrf_token": csrf(client), "username": username, "password": WRONG}
        assert client.post("/login", data=form).status_code == 401
    unknown, known = failed(database)
    assert named(unknown).startswith("digest:") and not mentions(unknown, TYPED)
    assert named(known) == "cdo"


def test_failed_logins_with_unknown_names_still_fire_the_spray_rule(database: Database) -> None:
    seed_org(database)
    for i in range(6):
        assert isinstance(attempt(database, f"{TYPED}-{i}", WRONG), Unauthenticated)
    fired = {
        subject for rule, subject in rules_of(evaluate(database, utcnow())) if rule == "login_spray"
    }
    assert [s.startswith("client:203.0.*.*#") for s in fired] == [True]


def _stored(database: Database, username: str) -> str:
    with database.sessions() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == username))
    assert stored is not None
    return stored


def _make_hash_cheaper(database: Database, username: str) -> str:
    """The account's hash as made before the costs were raised (half the memory)."""
    settings = database.settings
    old = PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost // 2
    ).hash(PASSWORD)
    assert hasher(settings).check_needs_rehash(old)
    with database.sessions.begin() as s:
        s.execute(update(User).where(User.username == username).values(password_hash=old))
    return old


def test_a_wrong_password_for_an_old_hash_also_costs_the_current_costs(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_org(database)
    settings = database.settings
    old = _make_hash_cheaper(database, "cdo")
    current = _stored(database, "exec")
    argon2 = record_argon2(monkeypatch, settings)
    checked = []
    for username in ("cdo", "exec", "no-such-user"):
        argon2.forget()
        assert isinstance(attempt(database, username, WRONG), Unauthenticated)
        checked.append(argon2.verified)
    dummy = dummy_hash(settings)
    assert checked == [[old, dummy], [current], [dummy]]
    costs = extract_parameters(dummy)
    assert (costs.time_cost, costs.memory_cost) == (
        settings.argon2_time_cost,
        settings.argon2_memory_cost,
    )


def test_the_right_password_for_an_old_hash_is_checked_once_and_rehashed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_org(database)
    old = _make_hash_cheaper(database, "cdo")
    argon2 = record_argon2(monkeypatch, database.settings)
    assert isinstance(attempt(database, "cdo", PASSWORD), Actor)
    assert argon2.verified == [old] and argon2.hashed == 1
    assert not hasher(database.settings).check_needs_rehash(_stored(database, "cdo"))
