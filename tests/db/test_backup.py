"""``shuzhi backup`` / ``shuzhi restore``: a data directory backed up while in use and
restored at another path serves its datasets; a damaged backup is refused whole."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from shuzhi.app import create_app
from shuzhi.audit import service as audit
from shuzhi.audit.models import AuditEntry
from shuzhi.cli import app as cli
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.settings import Settings
from tests.conftest import acting, make_settings
from tests.gateway.helpers import Shared, share

runner = CliRunner()


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Backups and restored copies go outside the data directory (the test's tmp_path)."""
    place = tmp_path.parent / f"{tmp_path.name}-out"
    place.mkdir()
    return place


def _env(settings: Settings, **over: str) -> dict[str, str]:
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": settings.secret_key,
        "SHUZHI_CREDENTIALS_KEY": settings.credentials_key,
    }
    env.update(over)
    return {k: v for k, v in env.items() if v}


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def _serves(settings: Settings, shared: Shared) -> None:
    """The data directory's dataset is read through the query engine and the gateway."""
    database = Database(settings)
    try:
        with acting(database, shared.seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx:
            found = lake.current_version(ctx, shared.code)
            assert found is not None
            assert found[1].data_path.is_relative_to(settings.data_dir)
            assert len(lake.sample_rows(ctx, shared.code, 1, limit=50).rows) == 30
        application = create_app(settings, database=database, migrate=False)
        with TestClient(application) as client:
            answer = client.get(
                f"/api/v1/share/{shared.code}/records", headers=shared.auth, params={"limit": 5}
            )
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["items"]) == 5
        with acting(database, SYSTEM) as ctx:
            assert audit.check_chain(ctx).ok
        lake.close_engine(database)
    finally:
        database.dispose()


SQLITE = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
POSTGRESQL = pytest.mark.parametrize("settings", ["postgresql"], indirect=True)


@SQLITE
@pytest.mark.parametrize("archive", ["", ".tar.gz"])
def test_sqlite_backup_restored_elsewhere_serves_its_datasets(
    database: Database, settings: Settings, out_dir: Path, archive: str
) -> None:
    shared = share(database)
    # The server keeps a connection open while the backup runs.
    with database.engine.connect():
        code, out = run(_env(settings), "backup", str(out_dir / f"bk{archive}"))
    assert code == 0, out
    backup = out_dir / f"bk{archive}"
    if not archive:
        manifest = json.loads((backup / "backup.json").read_text())
        assert manifest["database"] == "sqlite" and manifest["audit_seq"] > 0
        names = set(manifest["files"])
        assert any(n.startswith("datasets/") and n.endswith(".parquet") for n in names)
        assert not any(n.startswith("gateway/keys") for n in names)
    target = out_dir / "elsewhere" / "restored"
    env = _env(settings, SHUZHI_DATA_DIR=str(target), SHUZHI_DATABASE_URL="")
    code, out = run(env, "restore", str(backup))
    assert code == 0, out
    _serves(make_settings(target, f"sqlite:///{target / 'shuzhi.db'}"), shared)
    # The backup was audited in the database it holds.
    restored = Database(make_settings(target, f"sqlite:///{target / 'shuzhi.db'}"))
    with restored.sessions() as session:
        taken = session.scalars(
            select(AuditEntry.target_id).where(AuditEntry.action == "system.backup_taken")
        ).all()
    restored.dispose()
    assert taken == [str(backup)]


@SQLITE
def test_restore_refuses_damage_and_overwrites_only_when_forced(
    database: Database, settings: Settings, out_dir: Path
) -> None:
    share(database)
    backup = out_dir / "bk"
    assert run(_env(settings), "backup", str(backup))[0] == 0
    assert run(_env(settings), "backup", str(backup))[0] == 1  # never overwritten
    target = out_dir / "target"
    env = _env(settings, SHUZHI_DATA_DIR=str(target), SHUZHI_DATABASE_URL="")

    parquet = next((backup / "files").rglob("*.parquet"))
    original = parquet.read_bytes()
    parquet.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    code, out = run(env, "restore", str(backup))
    assert code == 1 and "damaged" in out and "损坏" in out
    assert not target.exists()
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".restore-")]
    parquet.write_bytes(original)

    stray = backup / "files" / "datasets" / "stray.parquet"
    stray.write_bytes(b"x")
    assert run(env, "restore", str(backup))[0] == 1 and not target.exists()
    stray.unlink()
    (backup / "database.sqlite").write_bytes(b"not a database")
    assert run(env, "restore", str(backup))[0] == 1 and not target.exists()

    archive = out_dir / "bk2.tar.gz"
    assert run(_env(settings), "backup", str(archive))[0] == 0
    cut = out_dir / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    code, out = run(env, "restore", str(cut))
    assert code == 1 and "nothing was restored" in out and not target.exists()
    with tarfile.open(archive) as tar:
        assert "./backup.json" in tar.getnames()

    assert run(env, "restore", str(archive))[0] == 0
    code, out = run(env, "restore", str(archive))
    assert code == 1 and "--force" in out
    code, out = run(env, "restore", "--force", str(archive))
    assert code == 0, out
    kept = [p for p in out_dir.iterdir() if p.name.startswith("target.before-restore-")]
    assert len(kept) == 1 and (kept[0] / "shuzhi.db").exists()


@pytest.mark.postgres
@POSTGRESQL
def test_postgresql_backs_up_files_only(
    database: Database, settings: Settings, out_dir: Path
) -> None:
    shared = share(database)
    code, out = run(_env(settings), "backup", str(out_dir / "bk"))
    assert code == 1 and "pg_dump" in out and not (out_dir / "bk").exists()
    # An anchor line past the database's log, as when pg_dump ran before the files were
    # copied: the restore leaves it out, so the restored log verifies.
    with open(settings.data_dir / "audit-anchors", "a", encoding="utf-8") as fh:
        fh.write("99999\t" + "0" * 64 + "\t2026-01-01T00:00:00+00:00\t" + "0" * 64 + "\n")
    code, out = run(_env(settings), "backup", "--files-only", str(out_dir / "bk"))
    assert code == 0, out
    # The database stays where it is (as after pg_restore); the files go to a new path.
    target = out_dir / "moved"
    code, out = run(_env(settings, SHUZHI_DATA_DIR=str(target)), "restore", str(out_dir / "bk"))
    assert code == 0 and "pg_restore" in out and "1 anchor line(s)" in out
    database.dispose()
    _serves(settings.with_overrides(data_dir=target), shared)
