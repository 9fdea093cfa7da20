"""The demo catalogue: deterministic and idempotent (the full-size build, with the figures
the district reports describe, is checked once in tests/test_cli.py)."""

from __future__ import annotations

from shuzhi.audit.service import check_chain
from shuzhi.catalog import service
from shuzhi.catalog.schemas import CatalogOverview, UnitRate
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo.district import build_demo
from tests.conftest import SMALL_CATALOGUE, acting

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
