"""The ``shuzhi`` commands, run in process against the same data directory as the server."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from shuzhi.catalog import service as catalog
from shuzhi.cli import app
from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.settings import Settings, load_settings

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


def _credentials(data_dir: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((data_dir / "demo-credentials.json").read_text("utf-8"))
    return found


def _check_credentials_and_rebuild(env: dict[str, str], output: str) -> None:
    """The demo's accounts are written and shown; building it again changes none of them."""
    data_dir = Path(env["SHUZHI_DATA_DIR"])
    credentials = _credentials(data_dir)
    accounts = credentials["accounts"]
    assert {a["role"] for a in accounts} >= {"cdo", "cdo_executive", "unit_cdo", "data_liaison"}
    assert all(a["password"] in output for a in accounts[:1])
    code, _ = run(env, "demo", "--no-serve")
    assert code == 0
    assert _credentials(data_dir) == credentials


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _check_private(data: Path) -> None:
    """Only the platform's own account can read what it wrote."""
    assert _mode(data) == 0o700
    database = data / "shuzhi.db"
    assert _mode(database) == 0o600
    for companion in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        if companion.exists():
            assert _mode(companion) == 0o600, companion
    assert _mode(data / "demo-credentials.json") == 0o600
    found = list(data.rglob("*"))
    assert any(p.suffix == ".parquet" for p in found), "the demo wrote no lake files"
    loose = {str(p.relative_to(data)): oct(_mode(p)) for p in found if _mode(p) & 0o077}
    assert loose == {}


def _check_full_catalogue(env: dict[str, str]) -> None:
    """The figures of the full-size catalogue the district reports describe."""
    database = Database(load_settings(env))
    try:
        with unit_of_work(database, SYSTEM) as ctx:
            region = catalog.compile_rate(ctx).region
            overview = catalog.catalog_overview(ctx)
            assert (region.tasks, region.done, region.rate) == (1739, 1609, 0.9252)
            # the compiled entries, the three datasets of the sandbox demo, the market demo's
            # four resources and its two products' own outputs, the eight extracts of the base
            # libraries and the street's push-back dataset
            assert overview.published == 1609 + 3 + 4 + 2 + 8 + 1 and overview.submitted == 25
            assert len(catalog.list_conflicts(ctx)) == 6
            assert catalog.list_entries(ctx, "人口").total > 100
            assert catalog.list_entries(ctx, "身份证").total > 100
    finally:
        database.dispose()


@pytest.mark.slow
def test_demo_builds_the_full_district_idempotently_with_private_files(tmp_path: Path) -> None:
    """The full-size build is slow, so it is checked once, on the default storage (SQLite):
    as a newcomer runs it, under a typical login umask (``022``), with which files made
    without an explicit mode would be world-readable."""
    env = {"SHUZHI_DATA_DIR": str(tmp_path / "data"), "SHUZHI_SECRET_KEY": "s" * 40}
    previous = os.umask(0o022)
    try:
        code, out = run(env, "demo", "--no-serve")
    finally:
        os.umask(previous)
    assert code == 0, out
    _check_private(tmp_path / "data")
    _check_full_catalogue(env)
    _check_credentials_and_rebuild(env, out)


@pytest.mark.slow
@pytest.mark.parametrize(
    "settings", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_demo_builds_idempotently_on_postgresql(env: dict[str, str]) -> None:
    code, out = run(env, "demo", "--no-serve")
    assert code == 0, out
    _check_credentials_and_rebuild(env, out)
