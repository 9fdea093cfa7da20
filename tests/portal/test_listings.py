"""Listings (CKAN, DCAT) show the version checked at publication and read no lake manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.db.migrate import alembic_config
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.portal import service
from shuzhi.portal.schemas import OpenDataset
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import write_csv
from tests.portal.helpers import STATS_HEADER, open_entry, opened, provider, stats_rows


def _listed(database: Database, code: str) -> OpenDataset:
    with acting(database) as ctx:
        return service.open_datasets(ctx, [code])[0]


def _no_lake(*_args: object) -> None:
    raise AssertionError("a listing read the lake")


def test_listings_show_the_checked_version_until_the_provider_republishes(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = seed_org(database)
    code = open_entry(database, rows=12)
    opened(database, seeded, code)
    newer = write_csv(tmp_path / "newer.csv", stats_rows(20), header=STATS_HEADER)
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(newer))
    with acting(database) as ctx:
        assert service.get_open_dataset(ctx, code).record_count == 20  # the page: current

    monkeypatch.setattr(lake, "current_version", _no_lake)
    listed = _listed(database, code)
    assert (listed.record_count, listed.version, listed.data_available) == (12, 1, True)
    assert [c.name for c in listed.columns] == STATS_HEADER
    monkeypatch.undo()

    with acting(database, provider(seeded)) as ctx:
        service.republish_dataset(ctx, code)
    monkeypatch.setattr(lake, "current_version", _no_lake)
    assert (_listed(database, code).record_count, _listed(database, code).version) == (20, 2)


def test_the_migration_fills_the_columns_of_existing_publications(database: Database) -> None:
    seeded = seed_org(database)
    code = open_entry(database, people=True, rows=5)
    opened(database, seeded, code, confirm=True)
    before = _listed(database, code)
    config = alembic_config(database)
    command.downgrade(config, "portal_0001")
    command.upgrade(config, "heads")
    after = _listed(database, code)
    assert after == before and any(c.deidentified for c in after.columns)
