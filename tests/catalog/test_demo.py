"""The demo catalogue: deterministic, idempotent, with the figures the issue describes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shuzhi.audit.service import check_chain
from shuzhi.catalog import service
from shuzhi.catalog.schemas import CatalogOverview, UnitRate
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo.district import build_demo
from tests.conftest import SMALL_CATALOGUE, acting, make_settings

Figures = tuple[UnitRate, CatalogOverview, list[tuple[str, str, str]], list[tuple[str, str]]]


def _figures(database: Database) -> Figures:
    with acting(database, SYSTEM) as ctx:
        rate = service.compile_rate(ctx)
        overview = service.catalog_overview(ctx)
        conflicts = sorted(
            (c.element_code, c.source_unit_code, c.claimant_unit_code)
            for c in service.list_conflicts(ctx)
        )
        first = service.list_entries(ctx, "", limit=5).items
        return rate.region, overview, conflicts, [(e.resource_code, e.name) for e in first]


def test_small_demo_is_deterministic_and_idempotent(demo_database: Database) -> None:
    region, overview, conflicts, first = _figures(demo_database)
    small = SMALL_CATALOGUE
    assert (region.tasks, region.done) == (small["TASKS"], small["PUBLISHED"])
    assert overview.submitted == small["SUBMITTED"]
    assert overview.drafts == small["DRAFTS"]
    assert conflicts, "some units claim elements other units are the source of"
    build_demo(demo_database)
    assert _figures(demo_database) == (region, overview, conflicts, first)
    with acting(demo_database, SYSTEM) as ctx:
        every = overview.entries
        assert service.list_entries(ctx, "信息").total == every  # every name ends in 信息
        assert check_chain(ctx).ok


@pytest.mark.slow
def test_full_demo_catalogue(tmp_path: Path, sqlite_template: Path) -> None:
    """The full-size build is slow, so it is checked once, on the default (SQLite) backend."""
    shutil.copy(sqlite_template, tmp_path / "shuzhi.db")
    database = Database(make_settings(tmp_path, f"sqlite:///{tmp_path / 'shuzhi.db'}"))
    build_demo(database)
    region, overview, conflicts, _ = _figures(database)
    assert (region.tasks, region.done, region.rate) == (1739, 1609, 0.9252)
    # the compiled entries, the three datasets of the sandbox demo, the market demo's four
    # resources and its two products' own outputs, the eight extracts of the base libraries
    # and the street's push-back dataset
    assert overview.published == 1609 + 3 + 4 + 2 + 8 + 1 and overview.submitted == 25
    assert len(conflicts) == 6
    with acting(database, SYSTEM) as ctx:
        assert service.list_entries(ctx, "人口").total > 100
        assert service.list_entries(ctx, "身份证").total > 100
    database.dispose()
