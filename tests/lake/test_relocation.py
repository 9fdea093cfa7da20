"""A data directory moved or restored elsewhere still serves its datasets: versions are
recorded relative to it, and migration ``lake_0003`` rewrites the absolute paths of before."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.db.migrate import alembic_config, is_current, upgrade
from shuzhi.db.migrations.versions.lake_0003_lake_version_paths_relative import relative
from shuzhi.errors import NotFound
from shuzhi.lake import service as lake
from shuzhi.lake.models import DatasetVersion
from shuzhi.lake.readers import FileSource
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv


def _load_two(database: Database, tmp_path: Path) -> tuple[Org, str]:
    seeded = seed_org(database)
    code = published_entry(database)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(20))))
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "b.csv", people_rows(30))))
    return seeded, code


def _paths(database: Database) -> list[str]:
    with database.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT manifest_path FROM lake_version ORDER BY number"))
        return [str(p) for (p,) in rows]


def _serves(database: Database, seeded: Org, code: str) -> None:
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        found = lake.current_version(ctx, code)
        assert found is not None and found[0].number == 2
        sample = lake.sample_rows(ctx, code, 1, limit=5)
        assert len(sample.rows) == 5
        assert lake.sample_rows(ctx, code, 2, limit=50).rows.__len__() == 30


def test_versions_are_recorded_relative_to_the_data_directory(
    database: Database, tmp_path: Path
) -> None:
    _seeded, code = _load_two(database, tmp_path)
    paths = _paths(database)
    assert [p.split("/")[:-1] for p in paths] == [["datasets", *code.split("/")]] * 2
    assert all(p.endswith(".manifest.json") and not p.startswith("/") for p in paths)


def test_a_moved_data_directory_serves_its_datasets(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    old = tmp_path / "old"
    database.dispose()
    moved_settings = settings.with_overrides(data_dir=old)
    first = Database(moved_settings)
    try:
        seeded, code = _load_two(first, tmp_path)
        lake.close_engine(first)
    finally:
        first.dispose()
    new = tmp_path / "restored" / "elsewhere"
    new.parent.mkdir()
    shutil.move(old, new)
    assert not old.exists()
    moved = Database(settings.with_overrides(data_dir=new))
    try:
        _serves(moved, seeded, code)
        with acting(moved, seeded.actor(Role.DATA_LIAISON)) as ctx:
            third = lake.ingest(
                ctx, code, FileSource(write_csv(tmp_path / "c.csv", people_rows(9)))
            )
        assert third.version.number == 3 and (new / _paths(moved)[2]).is_file()
    finally:
        lake.close_engine(moved)
        moved.dispose()


def test_migration_makes_old_absolute_paths_relative(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    seeded, code = _load_two(database, tmp_path)
    lake.close_engine(database)
    relative_paths = _paths(database)
    command.downgrade(alembic_config(database), "lake_0002")
    data_dir = settings.data_dir.resolve()
    assert _paths(database) == [f"{data_dir}/{p}" for p in relative_paths]
    # Old absolute paths inside the data directory are still read before migrating.
    _serves(database, seeded, code)
    # One row recorded under the directory's former place (it was moved since).
    with database.engine.begin() as conn:
        conn.execute(
            sa.update(DatasetVersion)
            .where(DatasetVersion.number == 1)
            .values(manifest_path=f"/srv/former/place/{relative_paths[0]}")
        )
    with pytest.raises(NotFound, match="not in the data directory"):
        _serves(database, seeded, code)
    upgrade(database)
    assert is_current(database)
    assert _paths(database) == relative_paths
    _serves(database, seeded, code)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (
            "/data/shuzhi/datasets/A/1/v000001-ab.manifest.json",
            "datasets/A/1/v000001-ab.manifest.json",
        ),
        ("/old/datasets/A/1/v000001-ab.manifest.json", "datasets/A/1/v000001-ab.manifest.json"),
        ("/old/other/A/1/v000001-ab.manifest.json", None),
        ("/old/datasets/B/1/v000001-ab.manifest.json", None),
        ("datasets/A/1/v000001-ab.manifest.json", None),
    ],
)
def test_migration_rule(stored: str, expected: str | None) -> None:
    from pathlib import PurePosixPath

    assert relative(stored, "A/1", PurePosixPath("/data/shuzhi")) == expected
