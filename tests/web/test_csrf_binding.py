"""The CSRF token is bound to the session it was issued in."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuzhi.db.engine import Database
from shuzhi.portal.views import APPLICANT_COOKIE
from shuzhi.web.session import BOUND_COOKIES, CSRF_COOKIE, SESSION_COOKIE
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import csrf, login

UNIT = {"code": "C9", "name": "区新设局", "kind": "department", "parent_code": "R"}


def test_a_token_from_session_a_is_refused_with_session_b(app: FastAPI, database: Database) -> None:
    seed_org(database)
    with TestClient(app) as a, TestClient(app) as b, TestClient(app) as bare:
        login(a, "exec", PASSWORD)
        login(b, "exec", PASSWORD)  # the same account, a different session
        token_a = csrf(a, "/")
        csrf(b, "/")
        session_a, session_b = a.cookies[SESSION_COOKIE], b.cookies[SESSION_COOKIE]
        assert session_a != session_b
        nonce_a = a.cookies[CSRF_COOKIE]

        def post(session: str, token: str, **form: str) -> int:
            cookie = f"{SESSION_COOKIE}={session}; {CSRF_COOKIE}={nonce_a}"
            response = bare.post(
                "/org/units/new",
                data={**UNIT, **form, "csrf_token": token},
                headers={"Cookie": cookie},
                follow_redirects=False,
            )
            return response.status_code

        # Session B's cookie with A's CSRF cookie planted next to it: A's token is refused.
        assert post(session_b, token_a) == 403
        # And B's own token is refused with A's nonce (it was made for B's nonce).
        assert post(session_b, csrf(b, "/")) == 403
        # The same request with session A's cookie goes through.
        assert post(session_a, token_a) == 303


def test_a_token_issued_before_login_is_refused_after_it(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    before = csrf(client, "/login")
    login(client, "exec", PASSWORD)
    assert client.post("/org/units/new", data={**UNIT, "csrf_token": before}).status_code == 403
    after = csrf(client, "/")
    assert after != before
    response = client.post(
        "/org/units/new", data={**UNIT, "csrf_token": after}, follow_redirects=False
    )
    assert response.status_code == 303


def test_the_portal_applicant_session_is_bound_too() -> None:
    assert SESSION_COOKIE in BOUND_COOKIES and APPLICANT_COOKIE in BOUND_COOKIES
