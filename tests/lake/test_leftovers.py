"""What killed loads and uploads leave behind is removed by the next load of the dataset and
by ``shuzhi lake gc``; version numbers stay without gaps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shuzhi.audit import service as audit
from shuzhi.cli import app
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import list_versions
from shuzhi.lake.query import SORTED_PREFIX, SPILL_DIR
from shuzhi.lake.readers import FileSource
from shuzhi.lake.schemas import LakeGarbage
from shuzhi.lake.writer import locked
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv

# A real ``kill -9`` of an ingest once its version's files are written and before it is
# registered (the analysis has started).
KILLED_INGEST = """
import os, signal, sys
from pathlib import Path
from shuzhi.context import Actor, Role, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.lake.schemas import LakeGarbage
from shuzhi.settings import Settings
from shuzhi.wiring import register_all

register_all()
data_dir, url, code, source, unit_id = sys.argv[1:]
settings = Settings(data_dir=Path(data_dir), database_url=url, secret_key="t" * 48,
                    credentials_key="k" * 48)
database = Database(settings)
actor = Actor(kind="user", id=1, name="killed", role=Role.DATA_LIAISON, unit_id=int(unit_id))

def die(step):
    if step == "profile":
        os.kill(os.getpid(), signal.SIGKILL)

with unit_of_work(database, actor) as ctx:
    lake.ingest(ctx, code, FileSource(Path(source)), progress=die)
"""


def _killed_ingest(settings: Settings, seeded: Org, code: str, source: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    args = [str(settings.data_dir), settings.database_url, code, str(source)]
    done = subprocess.run(
        [sys.executable, "-c", KILLED_INGEST, *args, str(seeded.unit_ids["A"])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def _dataset_dir(settings: Settings, code: str) -> Path:
    return settings.data_dir / "datasets" / code


def _stale_upload(settings: Settings, name: str = ".tmp-killed", age: float = 3600) -> Path:
    work = settings.data_dir / "uploads" / name
    work.mkdir(parents=True)
    (work / "upload.csv").write_text("姓名\n张三\n", encoding="utf-8")
    then = time.time() - age
    os.utime(work, (then, then))
    return work


def _loaded_once(database: Database, tmp_path: Path) -> tuple[Org, str]:
    seeded = seed_org(database)
    code = published_entry(database)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(20))))
    return seeded, code


@pytest.mark.slow
def test_the_next_load_removes_a_killed_loads_version_and_numbers_without_gaps(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    seeded, code = _loaded_once(database, tmp_path)
    directory = _dataset_dir(settings, code)
    _killed_ingest(settings, seeded, code, write_csv(tmp_path / "b.csv", people_rows(30)))
    # Written, never registered: version 2 exists on disk only.
    assert [v.sequence for v in list_versions(directory)] == [1, 2]
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert [v.number for v in lake.list_dataset_versions(ctx, code)] == [1]
    stale = _stale_upload(settings)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        out = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "c.csv", people_rows(40))))
    assert out.version.number == 2 and out.version.row_count == 40
    on_disk = list_versions(directory)
    assert [(v.sequence, v.row_count) for v in on_disk] == [(1, 20), (2, 40)]
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [".lock"] + [f.name for v in on_disk for f in (v.data_path, v.manifest_path)]
    )
    assert not stale.exists()
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        cleaned = audit.view_audit(ctx, action="lake.leftovers_removed")
    assert cleaned.total == 1
    assert "uploads/.tmp-killed" in str(cleaned.items[0].details)


def test_staged_uploads_in_use_or_just_created_are_kept(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    seeded, code = _loaded_once(database, tmp_path)
    young = _stale_upload(settings, ".tmp-young", age=0)
    in_use = _stale_upload(settings, ".tmp-in-use")
    with locked(in_use):  # a live upload holds its staging directory's lock
        with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
            lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "b.csv", people_rows(5))))
        assert young.exists() and in_use.exists()
    assert young.exists() and in_use.exists()


@pytest.mark.slow
def test_gc_lists_by_default_and_removes_with_apply(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    seeded, code = _loaded_once(database, tmp_path)
    directory = _dataset_dir(settings, code)
    _killed_ingest(settings, seeded, code, write_csv(tmp_path / "b.csv", people_rows(30)))
    (directory / ".tmp-work").mkdir()
    (directory / ".tmp-work" / "data.parquet").write_bytes(b"x" * 10)
    stale = _stale_upload(settings)
    # A dataset directory nobody registered at all (its first load was killed).
    lone = settings.data_dir / "datasets" / "X" / "1"
    lone.mkdir(parents=True)
    (lone / ".lock").touch()
    (lone / "v000001-aaaaaaaaaaaa.parquet").write_bytes(b"y")
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }
    runner = CliRunner()
    listed = runner.invoke(app, ["lake", "gc", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    report = LakeGarbage.model_validate_json(listed.output)
    kinds = sorted((i.kind, i.path.rsplit("/", 1)[-1][:8]) for i in report.items)
    assert kinds == [
        ("incomplete_version", "v000001-"),
        ("staged_upload", ".tmp-kil"),
        ("unregistered_version", "v000002-"),
        ("unregistered_version", "v000002-"),
        ("work_directory", ".tmp-wor"),
    ]
    assert not report.applied and stale.exists() and len(list_versions(directory)) == 2
    with locked(directory):  # a load under way: its dataset is left alone
        busy = runner.invoke(app, ["lake", "gc", "--apply", "--json"], env=env)
    partial = LakeGarbage.model_validate_json(busy.output)
    assert partial.busy == [code] and not stale.exists() and len(list_versions(directory)) == 2
    applied = runner.invoke(app, ["lake", "gc", "--apply"], env=env)
    assert applied.exit_code == 0 and "removed" in applied.output
    assert [v.sequence for v in list_versions(directory)] == [1]
    assert not (directory / ".tmp-work").exists() and not list(lone.glob("*.parquet"))
    again = runner.invoke(app, ["lake", "gc", "--json"], env=env)
    assert LakeGarbage.model_validate_json(again.output).items == []
    with acting(database, SYSTEM) as ctx:
        runs = audit.view_audit(ctx, action="lake.garbage_collected")
    assert runs.total == 4
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        out = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "c.csv", people_rows(7))))
    assert out.version.number == 2


def _sort_work(settings: Settings, name: str, age: float = 3600) -> Path:
    """A sorted answer an engine wrote out (``SparkEngine.key_rows``), ``age`` seconds old."""
    work = settings.data_dir / lake.DATASETS_DIR / SPILL_DIR / name
    (work / "rows").mkdir(parents=True, exist_ok=True)
    (work / "rows" / "part-00000.parquet").write_bytes(b"z" * 10)
    then = time.time() - age
    os.utime(work, (then, then))
    return work


def test_gc_removes_the_sorted_answers_of_processes_that_are_gone(
    database: Database, settings: Settings
) -> None:
    stale = _sort_work(settings, f"{SORTED_PREFIX}killed")
    young = _sort_work(settings, f"{SORTED_PREFIX}young", age=0)
    live = _sort_work(settings, f"{SORTED_PREFIX}live")
    duckdb_spill = stale.parent / "duckdb_temp_storage-0.tmp"
    duckdb_spill.write_bytes(b"d")
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }
    runner = CliRunner()
    with locked(live):  # a build reading its sorted answer holds the lock
        _sort_work(settings, f"{SORTED_PREFIX}live")  # old, all the same
        listed = runner.invoke(app, ["lake", "gc", "--json"], env=env)
        applied = runner.invoke(app, ["lake", "gc", "--apply", "--json"], env=env)
    for run in (listed, applied):
        assert run.exit_code == 0, run.output
        report = LakeGarbage.model_validate_json(run.output)
        found = [(i.kind, i.path, i.bytes) for i in report.items]
        assert found == [("work_directory", f"datasets/.spill/{stale.name}", 10)]
    assert not stale.exists()
    assert young.exists() and live.exists() and duckdb_spill.exists()
