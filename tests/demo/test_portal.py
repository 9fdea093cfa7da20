"""The demo district opens data: open entries with data, some conditional, and figures."""

from __future__ import annotations

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo import portal as demo_portal
from shuzhi.demo.district import DEMO_ACTOR
from shuzhi.portal import service
from tests.conftest import acting


def test_demo_portal(demo_database: Database) -> None:
    with acting(demo_database, SYSTEM) as ctx:
        figures = service.portal_figures(ctx)
        applications = service.list_open_applications(ctx)
        open_codes = service.list_open_codes(ctx)
    assert figures.open_entries == len(open_codes) >= 3
    assert 0 < figures.conditional_entries < figures.open_entries
    assert figures.open_records >= demo_portal.ROWS[0] * figures.open_entries
    assert figures.views > 0 and len(figures.days) == 30
    assert sorted(a.status for a in applications) == ["approved", "pending"]
    with acting(demo_database) as ctx:
        for code in open_codes[:5]:
            assert service.get_open_dataset(ctx, code).data_available
    assert demo_portal.build_portal(demo_database, DEMO_ACTOR) == 0
