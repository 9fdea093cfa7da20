"""The transaction structure of an ingest, on both databases: no transaction is open while the
source is read and analysed; the version number is claimed when the version is registered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import list_versions
from shuzhi.lake.models import Dataset, DatasetVersion, VersionStatus
from shuzhi.lake.readers import FileSource
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv


def test_no_transaction_is_open_while_the_load_reads_and_analyses(
    database: Database, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    seen: dict[str, bool] = {}
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:

        def progress(step: str) -> None:
            seen[step] = ctx.db.in_transaction()

        out = lake.ingest(
            ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(40))), progress=progress
        )
        # The registration was committed by the ingest itself.
        assert not ctx.db.in_transaction()
    assert out.outcome == "created"
    assert seen == {"load": False, "profile": False, "classify": False, "quality": False}


def test_a_number_taken_meanwhile_moves_the_version_to_the_next(
    database: Database, tmp_path: Path
) -> None:
    """Another registration of the same dataset between this load's files and its own
    registration (a load on another host): the version takes the next number, files too."""
    seeded = seed_org(database)
    code = published_entry(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(20))))

    def register_elsewhere(step: str) -> None:
        if step != "quality":
            return
        with acting(database, SYSTEM) as other:
            dataset = other.db.scalar(select(Dataset).where(Dataset.resource_code == code))
            assert dataset is not None
            first = other.db.scalar(
                select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)
            )
            assert first is not None
            other.db.add(
                DatasetVersion(
                    dataset_id=dataset.id,
                    number=2,
                    lake_version_id="v000002-elsewhere000",
                    manifest_path="datasets/elsewhere.manifest.json",
                    schema_json=[],
                    row_count=0,
                    content_hash="0" * 64,
                    source_json={},
                    rejects_json={},
                    status=VersionStatus.SUPERSEDED,
                    created_by="system:elsewhere",
                )
            )

    with acting(database, liaison) as ctx:
        out = lake.ingest(
            ctx,
            code,
            FileSource(write_csv(tmp_path / "b.csv", people_rows(30))),
            progress=register_elsewhere,
        )
    assert out.version.number == 3 and out.version.version_id.startswith("v000003-")
    directory = database.settings.data_dir / "datasets" / code
    on_disk = list_versions(directory)
    assert [v.sequence for v in on_disk] == [1, 3]
    manifest = json.loads(on_disk[-1].manifest_path.read_text(encoding="utf-8"))
    assert manifest["sequence"] == 3 and manifest["version_id"] == out.version.version_id
    assert not list(directory.glob("v000002-*"))
    with acting(database, liaison) as ctx:
        assert lake.sample_rows(ctx, code, 3, limit=50).rows.__len__() == 30


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_a_number_registered_between_reading_and_inserting_is_retried(
    database: Database, tmp_path: Path
) -> None:
    """PostgreSQL: two registrations may read the same highest number; the second insert
    fails on the unique (dataset, number) constraint and is retried with the next number.
    (On SQLite the write lock serialises registrations, so this cannot happen there.)"""
    seeded = seed_org(database)
    code = published_entry(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(20))))
    raced: list[str] = []

    def race(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if raced or not statement.startswith("INSERT INTO lake_version"):
            return
        raced.append(statement)
        with database.engine.connect() as other:  # a second connection: commits at once
            other.execute(
                text(
                    "INSERT INTO lake_version (dataset_id, number, lake_version_id,"
                    " manifest_path, schema_json, row_count, content_hash, source_json,"
                    " rejects_json, schema_check_json, profile_json, classification_json,"
                    " grade_json, status, review_note, created_by, created_at)"
                    " SELECT dataset_id, 2, 'v000002-elsewhere000', 'x', schema_json, 0, :h,"
                    " source_json, rejects_json, schema_check_json, profile_json,"
                    " classification_json, grade_json, 'superseded', '', 'system:elsewhere',"
                    " created_at FROM lake_version WHERE number = 1"
                ),
                {"h": "0" * 64},
            )
            other.commit()

    event.listen(database.engine, "before_cursor_execute", race)
    try:
        with acting(database, liaison) as ctx:
            out = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "b.csv", people_rows(9))))
    finally:
        event.remove(database.engine, "before_cursor_execute", race)
    assert raced and out.version.number == 3
    directory = database.settings.data_dir / "datasets" / code
    assert [v.sequence for v in list_versions(directory)] == [1, 3]
    with acting(database, liaison) as ctx:
        assert [v.number for v in lake.list_dataset_versions(ctx, code)] == [3, 2, 1]
