"""TOTP against the RFC test vectors, and the second factor from enrolment to login."""

from __future__ import annotations

import base64
import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi.audit import service as audit
from shuzhi.auth import totp
from shuzhi.auth.models import User
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import csrf, login

RFC_SECRETS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
# RFC 6238 Appendix B: time → 8-digit code per algorithm
RFC6238 = [
    (59, {"SHA1": "94287082", "SHA256": "46119246", "SHA512": "90693936"}),
    (1111111109, {"SHA1": "07081804", "SHA256": "68084774", "SHA512": "25091201"}),
    (1111111111, {"SHA1": "14050471", "SHA256": "67062674", "SHA512": "99943326"}),
    (1234567890, {"SHA1": "89005924", "SHA256": "91819424", "SHA512": "93441116"}),
    (2000000000, {"SHA1": "69279037", "SHA256": "90698825", "SHA512": "38618901"}),
    (20000000000, {"SHA1": "65353130", "SHA256": "77737706", "SHA512": "47863826"}),
]
# RFC 4226 Appendix D: HOTP counter 0…9
RFC4226 = ["755224", "287082", "359152", "969429", "338314"]
RFC4226 += ["254676", "287922", "162583", "399871", "520489"]


@pytest.mark.parametrize(("at", "codes"), RFC6238)
def test_rfc6238_vectors(at: int, codes: dict[str, str]) -> None:
    for algorithm, expected in codes.items():
        assert totp.totp(RFC_SECRETS[algorithm], at, digits=8, algorithm=algorithm) == expected


def test_rfc4226_vectors() -> None:
    key = RFC_SECRETS["SHA1"]
    assert [totp.hotp(key, counter) for counter in range(10)] == RFC4226


def test_codes_match_within_one_step_and_never_twice() -> None:
    secret = base64.b32encode(RFC_SECRETS["SHA1"]).decode()
    now = 1111111111.0
    key = RFC_SECRETS["SHA1"]
    step = totp.step_at(now)
    for offset in (-1, 0, 1):
        code = totp.totp(key, now + offset * 30)
        assert totp.matching_step(secret, code, now, None) == step + offset
    assert totp.matching_step(secret, totp.totp(key, now - 60), now, None) is None
    assert totp.matching_step(secret, totp.totp(key, now), now, last_step=step) is None
    assert totp.matching_step(secret, "12345", now, None) is None
    assert totp.matching_step(secret, "abcdef", now, None) is None


def test_provisioning_uri_and_sealing() -> None:
    secret = totp.new_secret()
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    uri = totp.provisioning_uri(secret, "cdo")
    assert uri.startswith("otpauth://totp/Shuzhi%3Acdo?") and f"secret={secret}" in uri
    sealed = totp.seal(secret, "k" * 48)
    assert secret not in sealed and totp.unseal(sealed, "k" * 48) == secret
    with pytest.raises(Conflict):
        totp.unseal(sealed, "other" * 10)


def _code(secret: str, steps_ahead: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return totp.totp(key, time.time() + 30 * steps_ahead)


def _enrol(client: TestClient) -> str:
    page = client.post(
        "/account/totp/start", data={"csrf_token": csrf(client, "/account"), "password": PASSWORD}
    )
    assert page.status_code == 200, page.text
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert match and "otpauth://totp/" in page.text
    secret = match.group(1)
    done = client.post(
        "/account/totp/confirm",
        data={"csrf_token": csrf(client, "/account"), "code": _code(secret)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/account?done=totp_on"
    return secret


def test_second_factor_from_enrolment_to_login(
    app: object, client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    login(client, "cdo", PASSWORD)
    other_browser = TestClient(app)  # type: ignore[arg-type]
    login(other_browser, "cdo", PASSWORD)
    secret = _enrol(client)
    assert client.get("/account").status_code == 200  # this session goes on …
    assert other_browser.get("/org/units", follow_redirects=False).status_code == 303  # … not that
    with database.engine.connect() as conn:
        stored = conn.scalar(select(User.totp_secret_sealed).where(User.username == "cdo"))
    assert stored and secret not in stored

    fresh = TestClient(app)  # type: ignore[arg-type]
    first = fresh.post(
        "/login", data={"csrf_token": csrf(fresh), "username": "cdo", "password": PASSWORD}
    )
    assert first.status_code == 200 and 'name="code"' in first.text
    assert fresh.get("/org/units", follow_redirects=False).status_code == 303  # not yet in
    token = re.search(r'name="token" value="([^"]+)"', first.text)
    assert token
    step = {"csrf_token": csrf(fresh), "token": token.group(1), "stage": "second_factor"}
    wrong = fresh.post("/login/step", data={**step, "code": "000000"})
    assert wrong.status_code == 401 and "验证码不正确" in wrong.text and 'name="code"' in wrong.text
    code = _code(secret, 1)
    ok = fresh.post("/login/step", data={**step, "code": code}, follow_redirects=False)
    assert ok.status_code == 303
    assert fresh.get("/org/units").status_code == 200
    replay = TestClient(app)  # type: ignore[arg-type]
    replayed = replay.post("/login/step", data={**step, "csrf_token": csrf(replay), "code": code})
    assert replayed.status_code == 401  # a code is good once

    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        actions = [e.action for e in audit.view_audit(ctx, target_type="user").items]
    assert "auth.second_factor_enrolment_started" in actions
    assert "auth.second_factor_enabled" in actions
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        logins = audit.view_audit(ctx, action="auth.login").items
    assert any(e.details["second_factor"] for e in logins)


def test_disabling_needs_password_and_code(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "exec", PASSWORD)
    secret = _enrol(client)
    form = {"password": PASSWORD, "code": "000000"}
    bad = client.post(
        "/account/totp/disable", data={**form, "csrf_token": csrf(client, "/account")}
    )
    assert bad.status_code == 401 and "验证码不正确" in bad.text
    good = client.post(
        "/account/totp/disable",
        data={**form, "code": _code(secret, 1), "csrf_token": csrf(client, "/account")},
        follow_redirects=False,
    )
    assert good.status_code == 303
    with database.engine.connect() as conn:
        assert conn.scalar(select(User.totp_enabled_at).where(User.username == "exec")) is None


def test_only_bureau_roles_are_offered_the_second_factor(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    login(client, "a.liaison", PASSWORD)
    assert 'id="second-factor"' not in client.get("/account").text
    refused = client.post(
        "/account/totp/start", data={"csrf_token": csrf(client, "/account"), "password": PASSWORD}
    )
    assert refused.status_code == 403


def test_the_api_enrols_with_a_session(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "auditor", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/account")}
    started = client.post("/api/v1/auth/account/totp", json={"password": PASSWORD}, headers=headers)
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    confirmed = client.post(
        "/api/v1/auth/account/totp/confirm", json={"code": _code(secret)}, headers=headers
    )
    assert confirmed.status_code == 204
    assert client.get("/api/v1/auth/account").json()["second_factor_enabled"] is True
