"""Stored source definitions: connection URLs sealed at rest, masked when shown, unsealed
only for the pull; a wrong key fails the pull clearly; the migration seals old rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from shuzhi.audit import service as audit
from shuzhi.cli import app as cli
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.db.migrate import alembic_config, is_current, upgrade
from shuzhi.lake import service as lake
from shuzhi.lake.credentials import unseal
from shuzhi.lake.models import SourceDefinition
from shuzhi.lake.schemas import SourceIn
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.lake.helpers import people_rows, published_entry
from tests.web.helpers import csrf, login

SECRET = "TopSecret9"


def _later() -> datetime:
    """A moment at which a source defined just now with 'every 1m' is due."""
    return datetime.now(UTC) + timedelta(minutes=5)


COLUMNS = "姓名 TEXT, 公民身份号码 TEXT, 联系电话 TEXT, 出生日期 TEXT, 年龄 TEXT"


def _raw_sources(database: Database) -> list[dict[str, object]]:
    with database.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM lake_source ORDER BY id")).mappings().all()
    return [dict(r) for r in rows]


def _define(database: Database, code: str, url: str, table: str = "people") -> None:
    seeded_liaison = _liaison(database)
    with acting(database, seeded_liaison) as ctx:
        lake.define_source(
            ctx, code, SourceIn(name="人口库", url=url, table=table, schedule="every 1m")
        )


def _liaison(database: Database):  # type: ignore[no-untyped-def]
    from shuzhi.auth import service as auth

    with acting(database, SYSTEM) as ctx:
        return auth.login(ctx, "a.liaison", PASSWORD)


def test_password_is_sealed_at_rest_and_masked_everywhere(
    client: TestClient, database: Database, settings: Settings
) -> None:
    seed_org(database)
    code = published_entry(database)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/")
    urls = [
        f"postgresql://etl:{SECRET}@db.example:5432/pop",
        f"mysql+pymysql://etl@db.example:3306/pop?charset=utf8mb4&password={SECRET}",
    ]
    for url in urls:
        made = client.post(
            f"/api/v1/datasets/{code}/sources",
            json={"name": "人口库", "url": url, "table": "people", "schedule": "0 2 * * *"},
            headers={"X-CSRF-Token": token},
        )
        assert made.status_code == 201 and SECRET not in made.text
    listed = client.get(f"/api/v1/datasets/{code}/sources").json()
    assert [s["url"] for s in listed] == [
        "postgresql://etl:***@db.example:5432/pop",
        "mysql+pymysql://etl@db.example:3306/pop?charset=utf8mb4&password=***",
    ]
    page = client.get(f"/datasets/{code}")
    assert "etl:***@db.example" in page.text and SECRET not in page.text
    stored = _raw_sources(database)
    assert len(stored) == 2
    for row, url in zip(stored, urls, strict=True):
        assert all(SECRET not in str(value) for value in row.values())
        assert unseal(str(row["url_sealed"]), settings.credentials_key) == url
    login(client, "auditor", PASSWORD)
    assert SECRET not in client.get("/api/v1/audit/entries").text


def test_the_pull_unseals_the_url_and_loads(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    seed_org(database)
    code = published_entry(database)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        # The test server trusts local connections, so a password in the URL is harmless and
        # the pull only works if the stored URL is unsealed to exactly what was given.
        source_url = url.set(password=SECRET).render_as_string(hide_password=False)
        with psycopg.connect(url.set(drivername="postgresql").render_as_string(False)) as conn:
            conn.execute(f"CREATE TABLE people ({COLUMNS})")
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO people VALUES (%s,%s,%s,%s,%s)", people_rows(30))
    else:
        db_file = tmp_path / "src.db"
        with sqlite3.connect(db_file) as conn:
            conn.execute(f"CREATE TABLE people ({COLUMNS})")
            conn.executemany("INSERT INTO people VALUES (?,?,?,?,?)", people_rows(30))
        source_url = f"sqlite:///{db_file}"
    _define(database, code, source_url)
    assert all(SECRET not in str(v) for row in _raw_sources(database) for v in row.values())
    runs = lake.run_due_sources(database, SYSTEM, now=_later())
    assert [r.outcome for r in runs] == ["created"], runs
    with acting(database, SYSTEM) as ctx:
        version = lake.get_dataset_version(ctx, code)
    assert version.row_count == 30 and SECRET not in str(version.source)


def test_a_wrong_key_fails_the_pull_clearly(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    _define(database, code, f"postgresql://etl:{SECRET}@127.0.0.1:1/pop")
    rotated = Database(settings.with_overrides(credentials_key="r" * 48))
    try:
        runs = lake.run_due_sources(rotated, SYSTEM, now=_later())
    finally:
        rotated.dispose()
    assert [r.outcome for r in runs] == ["failed"]
    assert "SHUZHI_CREDENTIALS_KEY" in runs[0].message and "无法解密" in runs[0].message_zh
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        failed = audit.view_audit(ctx, action="lake.ingest_failed")
        outcome = lake.list_sources(ctx, code)[0].last_outcome
    assert failed.total == 1 and SECRET not in str(failed.items[0].details)
    assert outcome.startswith("failed: 无法解密") and "cannot be decrypted" in outcome
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
        "SHUZHI_CREDENTIALS_KEY": "w" * 40,
    }
    with acting(database, SYSTEM) as ctx:  # due again for the command line, which runs now
        for row in ctx.db.scalars(sa.select(SourceDefinition)):
            row.last_run_at = datetime.now(UTC) - timedelta(hours=1)
    result = CliRunner().invoke(cli, ["ingest", "--due"], env=env)
    assert result.exit_code == 1
    assert "cannot be decrypted" in result.output and "无法解密" in result.output


def test_migration_seals_plaintext_rows_and_downgrade_restores_them(
    database: Database, settings: Settings
) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    _define(database, code, "sqlite:///placeholder.db")
    config = alembic_config(database)
    command.downgrade(config, "lake_0001")
    plain = f"postgresql://etl:{SECRET}@db.example/pop"
    with database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE lake_source SET url = :u"), {"u": plain})
    assert (
        _raw_sources(database)[0]["url"] == plain and "url_sealed" not in _raw_sources(database)[0]
    )
    upgrade(database)
    assert is_current(database)
    row = _raw_sources(database)[0]
    assert row["url"] == "postgresql://etl:***@db.example/pop"
    assert unseal(str(row["url_sealed"]), settings.credentials_key) == plain
    command.downgrade(config, "lake_0001")
    assert _raw_sources(database)[0]["url"] == plain
    upgrade(database)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert lake.list_sources(ctx, code)[0].url == "postgresql://etl:***@db.example/pop"


def test_migration_without_a_key_stops_before_changing_anything(
    database: Database, settings: Settings
) -> None:
    import pytest

    seed_org(database)
    code = published_entry(database)
    _define(database, code, f"postgresql://etl:{SECRET}@db.example/pop")
    command.downgrade(alembic_config(database), "lake_0001")
    keyless = Database(settings.with_overrides(credentials_key=""))
    try:
        with pytest.raises(RuntimeError, match="SHUZHI_CREDENTIALS_KEY"):
            upgrade(keyless)
    finally:
        keyless.dispose()
    assert "url_sealed" not in _raw_sources(database)[0]
    upgrade(database)
    assert is_current(database)
