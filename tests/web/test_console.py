"""Console sessions: login, CSRF, throttling, logout, language, safe redirects."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.audit import service as audit
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import csrf, login


def test_pages_need_a_login_and_redirect_back(client: TestClient) -> None:
    response = client.get("/org/units", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/org/units"


def test_session_cookie_is_httponly_and_samesite(client: TestClient, database: Database) -> None:
    seed_org(database)
    token = csrf(client)
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": "cdo", "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "shuzhi_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_forms_without_the_csrf_token_are_refused(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    assert client.post("/login", data={"username": "cdo", "password": PASSWORD}).status_code == 403
    login(client, "exec", PASSWORD)
    form = {"code": "C9", "name": "区新设局", "kind": "department", "parent_code": "R"}
    for bad in ({}, {"csrf_token": "forged"}):
        response = client.post("/org/units/new", data={**form, **bad})
        assert response.status_code == 403
        assert "CSRF" in response.text
    api = client.post("/api/v1/org/units", json=form)
    assert api.status_code == 403
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        assert org.unit_id_for_code(ctx, "C9") is None
    ok = client.post(
        "/org/units/new", data={**form, "csrf_token": csrf(client, "/")}, follow_redirects=False
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/org/units/C9"


def test_bad_form_input_is_shown_back_and_nothing_is_stored(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    login(client, "exec", PASSWORD)
    response = client.post(
        "/org/units/new",
        data={
            "csrf_token": csrf(client, "/"),
            "code": "A",
            "name": "重复",
            "kind": "department",
            "parent_code": "R",
            "uscc": "123",
        },
    )
    assert response.status_code == 422
    assert "单位代码 A 已存在" in response.text and "统一社会信用代码无效" in response.text
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        assert len(org.list_units(ctx)) == 4


def test_repeated_failures_lock_the_account_for_a_while(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    for _ in range(5):
        response = client.post(
            "/login",
            data={"csrf_token": csrf(client), "username": "cdo", "password": "wrong-password-1"},
        )
        assert response.status_code == 401
    locked = client.post(
        "/login", data={"csrf_token": csrf(client), "username": "cdo", "password": PASSWORD}
    )
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        failures = audit.view_audit(ctx, action="auth.login_failed")
    assert failures.total == 6


def test_logout_ends_the_session_even_if_the_cookie_is_replayed(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    login(client, "cdo", PASSWORD)
    stolen = client.cookies.get("shuzhi_session")
    assert client.get("/org/units").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    client.cookies.set("shuzhi_session", stolen or "")
    assert client.get("/org/units", follow_redirects=False).status_code == 303


def test_login_never_redirects_off_site(client: TestClient, database: Database) -> None:
    seed_org(database)
    token = csrf(client)
    response = client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": "cdo",
            "password": PASSWORD,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_language_switch(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "cdo", PASSWORD)
    assert "首席数据官组织概览" in client.get("/").text
    client.get("/lang/en?next=/")
    page = client.get("/")
    assert "CDO organisation overview" in page.text and '<html lang="en">' in page.text


def test_unit_staff_cannot_open_other_units_appointments(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    login(client, "a.liaison", PASSWORD)
    assert client.get("/org/units/A").status_code == 200
    page = client.get("/org/units/B")
    assert page.status_code == 200 and "新增人员" not in page.text
    assert client.get("/api/v1/org/people?unit=B").status_code == 403
    assert client.get("/auth/users").status_code == 403
