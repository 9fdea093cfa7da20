"""The ``shuzhi`` commands, run in process against the same data directory as the server."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.db.engine import Database
from shuzhi.settings import Settings

runner = CliRunner()


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_init_user_apikey_and_audit_verify(env: dict[str, str], database: Database) -> None:
    code, out = run(
        env,
        "init",
        "--region-code",
        "QX",
        "--region-name",
        "试点区",
        "--admin",
        "chief",
        "--admin-password",
        "Region-head-2026",
    )
    assert code == 0, out
    code, out = run(
        env,
        "user",
        "add",
        "li",
        "--role",
        "data_liaison",
        "--unit",
        "QX",
        "--password",
        "Liaison-pass-1",
    )
    assert code == 0, out
    code, out = run(
        env,
        "user",
        "add",
        "li",
        "--role",
        "data_liaison",
        "--unit",
        "QX",
        "--password",
        "Liaison-pass-1",
    )
    assert code == 1 and "用户名已存在" in out
    code, out = run(env, "apikey", "create", "--name", "人社系统", "--unit", "QX")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    prefix = token.split("_")[1]
    code, out = run(env, "apikey", "list")
    assert code == 0 and prefix in out and token not in out
    assert run(env, "apikey", "revoke", prefix)[0] == 0
    code, out = run(env, "apikey", "revoke", prefix)
    assert code == 1 and "already revoked" in out
    code, out = run(env, "audit", "verify")
    assert code == 0 and "chain intact" in out
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'user:nobody' WHERE seq = 3"))
    code, out = run(env, "audit", "verify")
    assert code == 1 and "entry 3" in out


def test_bad_arguments_are_explained(env: dict[str, str]) -> None:
    code, out = run(env, "user", "add", "xy", "--role", "data_liaison", "--password", "short")
    assert code == 1
    assert "password" in out and "unit_code" in out


@pytest.mark.slow
def test_demo_builds_idempotently_and_writes_credentials(
    env: dict[str, str], settings: Settings
) -> None:
    code, out = run(env, "demo", "--no-serve")
    assert code == 0, out
    credentials = json.loads((settings.data_dir / "demo-credentials.json").read_text("utf-8"))
    accounts = credentials["accounts"]
    assert {a["role"] for a in accounts} >= {"cdo", "cdo_executive", "unit_cdo", "data_liaison"}
    assert all(a["password"] in out for a in accounts[:1])
    code, _ = run(env, "demo", "--no-serve")
    assert code == 0
    assert (
        json.loads((settings.data_dir / "demo-credentials.json").read_text("utf-8")) == credentials
    )
