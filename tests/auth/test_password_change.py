"""Changing one's password and an administrator's reset, from the console, the API and the
CLI: the current password is needed, the policy holds, other sessions end, all is audited."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shuzhi.audit import service as audit
from shuzhi.cli import app as cli_app
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import csrf, login

NEW = "Spare-lantern-orchid-42"


def _actions(database: Database, auditor: object, action: str) -> list[dict[str, object]]:
    with acting(database, auditor) as ctx:  # type: ignore[arg-type]
        return [e.details for e in audit.view_audit(ctx, action=action).items]


def test_console_change_keeps_this_session_and_ends_the_others(
    app: object, client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    login(client, "a.liaison", PASSWORD)
    other = TestClient(app)  # type: ignore[arg-type]
    login(other, "a.liaison", PASSWORD)
    form = {"current_password": "Not-my-password-1", "new_password": NEW}
    wrong = client.post("/account/password", data={**form, "csrf_token": csrf(client, "/account")})
    assert wrong.status_code == 401 and "当前密码不正确" in wrong.text
    weak = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "password12",
            "csrf_token": csrf(client, "/account"),
        },
    )
    assert weak.status_code == 422
    assert "密码至少 12 个字符" in weak.text or "常见密码" in weak.text
    done = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW,
            "csrf_token": csrf(client, "/account"),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert client.get("/org/units").status_code == 200
    assert other.get("/org/units", follow_redirects=False).status_code == 303
    fresh = TestClient(app)  # type: ignore[arg-type]
    login(fresh, "a.liaison", NEW)
    changed = _actions(database, seeded.actor(Role.AUDITOR), "auth.password_changed")
    assert changed == [{"username": "a.liaison"}]
    failed = _actions(database, seeded.actor(Role.AUDITOR), "auth.login_failed")
    assert [f["reason"] for f in failed] == ["bad current password"]


def test_api_change_needs_the_current_password(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "operator", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/")}
    body = {"current_password": "Not-my-password-1", "new_password": NEW}
    assert (
        client.post("/api/v1/auth/account/password", json=body, headers=headers).status_code == 401
    )
    body = {"current_password": PASSWORD, "new_password": "password12"}
    weak = client.post("/api/v1/auth/account/password", json=body, headers=headers)
    assert weak.status_code == 422
    problem = weak.json()
    assert "密码至少 12 个字符" in str(problem) and "at least 12" in str(problem)
    body = {"current_password": PASSWORD, "new_password": NEW}
    ok = client.post("/api/v1/auth/account/password", json=body, headers=headers)
    assert ok.status_code == 204
    # the caller's session was renewed with the new cookie; it still works
    assert client.get("/api/v1/auth/me").status_code == 200


def test_admin_reset_forces_a_change_at_next_login(
    app: object, client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    victim = TestClient(app)  # type: ignore[arg-type]
    login(victim, "a.cdo", PASSWORD)
    login(client, "exec", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/")}
    reset = client.post("/api/v1/auth/users/a.cdo/reset-password", json={}, headers=headers)
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    assert reset.json()["require_change"] is True and len(temporary) >= 20
    assert victim.get("/org/units", follow_redirects=False).status_code == 303  # sessions ended
    listed = {u["username"]: u for u in client.get("/api/v1/auth/users").json()}
    assert listed["a.cdo"]["must_change_password"] is True

    user = TestClient(app)  # type: ignore[arg-type]
    step = user.post(
        "/login", data={"csrf_token": csrf(user), "username": "a.cdo", "password": temporary}
    )
    assert step.status_code == 200 and 'name="new_password"' in step.text
    assert user.get("/org/units", follow_redirects=False).status_code == 303  # not in yet
    token = re.search(r'name="token" value="([^"]+)"', step.text)
    assert token
    form = {"csrf_token": csrf(user), "token": token.group(1), "stage": "new_password"}
    weak = user.post("/login/step", data={**form, "new_password": "password12"})
    assert weak.status_code == 422 and "密码至少 12 个字符" in weak.text
    done = user.post("/login/step", data={**form, "new_password": NEW}, follow_redirects=False)
    assert done.status_code == 303
    assert user.get("/org/units").status_code == 200
    # the temporary password is gone, and the step cannot be replayed
    # (with a CSRF token of the new session: the one from before the login is refused now)
    replay = {**form, "csrf_token": csrf(user, "/"), "new_password": "Another-lantern-77"}
    again = user.post("/login/step", data=replay)
    assert again.status_code == 401
    resets = _actions(database, seeded.actor(Role.AUDITOR), "auth.password_reset")
    assert resets == [{"username": "a.cdo", "require_change": True, "second_factor_removed": False}]


def test_only_the_account_manager_resets(client: TestClient, database: Database) -> None:
    seed_org(database)
    login(client, "cdo", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/")}
    refused = client.post("/api/v1/auth/users/a.cdo/reset-password", json={}, headers=headers)
    assert refused.status_code == 403


def test_console_reset_shows_the_temporary_password_once(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    login(client, "exec", PASSWORD)
    page = client.post(
        "/auth/users/reset",
        data={
            "csrf_token": csrf(client, "/auth/users"),
            "username": "operator",
            "require_change": "on",
        },
    )
    assert page.status_code == 200
    match = re.search(r'id="temporary-password">([^<]+)<', page.text)
    assert match and match.group(1) not in client.get("/auth/users").text
    weak = client.post(
        "/auth/users/reset",
        data={
            "csrf_token": csrf(client, "/auth/users"),
            "username": "operator",
            "new_password": "password12",
        },
    )
    assert weak.status_code == 422 and "密码至少 12 个字符" in weak.text


def test_cli_reset_and_change(settings: Settings, database: Database) -> None:
    seed_org(database)
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }
    runner = CliRunner()
    reset = runner.invoke(
        cli_app, ["user", "reset-password", "a.cdo", "--no-require-change"], env=env
    )
    assert reset.exit_code == 0, reset.output
    temporary = reset.output.strip().splitlines()[-1]
    wrong = runner.invoke(
        cli_app, ["user", "passwd", "a.cdo"], env=env, input=f"nope\n{NEW}\n{NEW}\n"
    )
    assert wrong.exit_code == 1 and "当前密码不正确" in wrong.output
    weak = runner.invoke(
        cli_app,
        ["user", "passwd", "a.cdo"],
        env=env,
        input=f"{temporary}\npassword12\npassword12\n",
    )
    assert weak.exit_code == 1 and "密码至少 12 个字符" in weak.output
    ok = runner.invoke(
        cli_app, ["user", "passwd", "a.cdo"], env=env, input=f"{temporary}\n{NEW}\n{NEW}\n"
    )
    assert ok.exit_code == 0, ok.output
    missing = runner.invoke(cli_app, ["user", "reset-password", "nobody"], env=env)
    assert missing.exit_code == 1
