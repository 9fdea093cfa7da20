"""Which columns a reader sees masked is decided when a version is read: an override (or a
stricter classification) reaches the profile and rows of every version, and a column masked
at its load stays masked."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.lake.schemas import VersionOut
from tests.catalog.helpers import item
from tests.conftest import acting
from tests.factories import PASSWORD, Org, seed_org
from tests.lake.helpers import (
    NOTE_HEADER,
    NOTE_ITEMS,
    note_rows,
    people_rows,
    published_entry,
    shows_a_diagnosis,
    write_csv,
)
from tests.web.helpers import login

API = "/api/v1"


def _two_versions_then_override(database: Database, tmp_path: Path) -> tuple[Org, str]:
    """Versions 1 and 2 with the note column loaded unmasked, then the unit CDO's override
    of the note to ``health`` (masked)."""
    seeded = seed_org(database)
    code = published_entry(database, items=NOTE_ITEMS)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        for n, rows in ((1, 60), (2, 70)):
            path = write_csv(tmp_path / f"v{n}.csv", note_rows(rows), NOTE_HEADER)
            loaded = lake.ingest(ctx, code, FileSource(path)).version
            note = next(c for c in loaded.classification if c.name == "备注")
            assert note.category == "none"  # loaded unmasked
        assert shows_a_diagnosis(lake.sample_rows(ctx, code, 1, 50).rows)
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        lake.override_classification(ctx, code, "备注", "health", "病情")
    return seeded, code


def _note(version: VersionOut) -> tuple[bool, list[object]]:
    column = next(c for c in version.profile.columns if c.name == "备注")
    return column.masked, [column.min, column.max, *(t.value for t in column.top_values)]


def test_an_override_masks_every_version(database: Database, tmp_path: Path) -> None:
    seeded, code = _two_versions_then_override(database, tmp_path)
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        for number in (1, 2):
            version = lake.get_dataset_version(ctx, code, number)
            masked, values = _note(version)
            assert masked and values and not shows_a_diagnosis(values), number
            note = next(c for c in version.classification if c.name == "备注")
            assert note.category == "health" and note.overridden and note.detected == "none"
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        for number in (1, 2):
            rows = lake.sample_rows(ctx, code, number, 50)
            assert "备注" in rows.masked_columns
            assert not shows_a_diagnosis(rows.rows), number


def test_an_override_masks_every_version_over_http(
    app: FastAPI, client: TestClient, database: Database, tmp_path: Path
) -> None:
    _seeded, code = _two_versions_then_override(database, tmp_path)
    login(client, "auditor", PASSWORD)  # reads versions, not rows
    for number in (1, 2):
        version = client.get(f"{API}/datasets/{code}/versions/{number}")
        assert version.status_code == 200
        assert not shows_a_diagnosis(version.json()["profile"]), number
        page = client.get(f"/datasets/{code}/versions/{number}")
        assert page.status_code == 200 and 'id="profile"' in page.text
        assert not shows_a_diagnosis(page.text), number
    with TestClient(app, base_url="http://testserver") as liaison:
        login(liaison, "a.liaison", PASSWORD)
        for number in (1, 2):
            rows = liaison.get(f"{API}/datasets/{code}/versions/{number}/rows?limit=50")
            assert rows.status_code == 200 and len(rows.json()["rows"]) == 50
            assert not shows_a_diagnosis(rows.json()["rows"]), number
            page = liaison.get(f"/datasets/{code}/versions/{number}")
            assert page.status_code == 200 and 'id="rows"' in page.text
            assert not shows_a_diagnosis(page.text), number


def test_a_column_masked_at_its_load_stays_masked(database: Database, tmp_path: Path) -> None:
    """An override to a category that masks nothing reaches later loads only (docs/datasets.md)."""
    seeded = seed_org(database)
    code = published_entry(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(30))))
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        out = lake.override_classification(ctx, code, "联系电话", "none", "单位总机")
    assert next(c for c in out.classification if c.name == "联系电话").category == "none"
    phones = {row[2] for row in people_rows(31)}
    with acting(database, liaison) as ctx:
        first = lake.get_dataset_version(ctx, code, 1)
        column = next(c for c in first.profile.columns if c.name == "联系电话")
        assert column.masked and not phones & {t.value for t in column.top_values}
        rows = lake.sample_rows(ctx, code, 1, 30)
        assert "联系电话" in rows.masked_columns and not phones & {r[2] for r in rows.rows}
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "b.csv", people_rows(31))))
        later = lake.sample_rows(ctx, code, 2, 31)
    assert "联系电话" not in later.masked_columns and {r[2] for r in later.rows} == phones


def test_a_stricter_classification_of_a_later_load_masks_older_versions(
    database: Database, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = published_entry(database, items=[item("号码")])
    codes = [[f"K{i:05d}"] for i in range(40)]
    mobiles = [[f"13{5 + i % 5}{57120000 + i * 7919:08d}"] for i in range(40)]
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        for n, rows in ((1, codes), (2, mobiles)):
            loaded = lake.ingest(
                ctx, code, FileSource(write_csv(tmp_path / f"{n}.csv", rows, ["号码"]))
            )
            assert [c.category for c in loaded.version.classification] == [
                "none" if n == 1 else "mobile_phone"
            ]
        first = lake.sample_rows(ctx, code, 1, 40)
        profile = lake.get_dataset_version(ctx, code, 1).profile.columns[0]
    clear = {row[0] for row in codes}
    assert first.masked_columns == ["号码"] and not clear & {row[0] for row in first.rows}
    assert profile.masked and not clear & {profile.min, profile.max}
