"""The publication guard, closing and republishing, and the figures the cockpit reads."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shuzhi.audit.service import view_audit
from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid, NotFound
from shuzhi.portal import service
from tests.catalog.helpers import update
from tests.conftest import acting
from tests.factories import seed_org
from tests.portal.helpers import STATS_ITEMS, open_entry, opened, provider


def test_unconditional_entry_opens_and_is_found_by_a_two_character_word(
    database: Database,
) -> None:
    seeded = seed_org(database)
    code = open_entry(database, name="公交站点统计", rows=12)
    opened(database, seeded, code)
    with acting(database) as ctx:
        page = service.search_open(ctx, "公交")
        assert [i.resource_code for i in page.items] == [code]
        assert page.facets["open_type"] == {"unconditional": 1}
        found = service.get_open_dataset(ctx, code)
        assert found.record_count == 12 and found.data_available
        assert [c.name for c in found.columns] == ["街道名称", "年份", "公交站点数"]


def test_not_open_entries_and_entries_without_data_are_refused(database: Database) -> None:
    seeded = seed_org(database)
    closed = open_entry(database, "not_open")
    empty = open_entry(database, loaded=False)
    with acting(database, provider(seeded)) as ctx, pytest.raises(Conflict) as err:
        service.open_dataset(ctx, closed)
    assert "不予开放" in err.value.message.zh
    with acting(database, provider(seeded)) as ctx, pytest.raises(Conflict):
        service.open_dataset(ctx, empty)


def test_personal_information_needs_the_providers_confirmation(database: Database) -> None:
    seeded = seed_org(database)
    code = open_entry(database, people=True, rows=5)
    with acting(database, provider(seeded)) as ctx, pytest.raises(Invalid) as err:
        service.open_dataset(ctx, code)
    assert "公民身份号码" in err.value.errors[0].message.zh
    opened(database, seeded, code, confirm=True)
    with acting(database) as ctx:
        found, shown = service.dataset_page(ctx, code)
    assert shown is not None and found.columns[1].deidentified
    ids = [row[shown.columns.index("公民身份号码")] for row in shown.rows]
    assert all(i is not None and "*" in i for i in ids)


def test_only_the_providers_cdo_opens(database: Database) -> None:
    seeded = seed_org(database)
    code = open_entry(database)
    for actor in (seeded.actors[Role.UNIT_CDO], seeded.other_unit_actor(Role.DATA_LIAISON)):
        with acting(database, actor) as ctx, pytest.raises(Forbidden):
            service.open_dataset(ctx, code)


def test_closing_hides_and_republishing_is_audited(database: Database) -> None:
    seeded = seed_org(database)
    code = open_entry(database, name="公交线路统计")
    opened(database, seeded, code)
    with acting(database, provider(seeded)) as ctx:
        service.republish_dataset(ctx, code)
        with pytest.raises(Invalid):
            service.close_dataset(ctx, code, " ")
        service.close_dataset(ctx, code, "数据口径调整")
    with acting(database) as ctx:
        assert service.search_open(ctx, "公交").total == 0
        with pytest.raises(NotFound):
            service.get_open_dataset(ctx, code)
    with acting(database, SYSTEM) as ctx:
        actions = [e.action for e in view_audit(ctx, target_type="open_dataset").items]
    assert {"portal.dataset_opened", "portal.dataset_republished", "portal.dataset_closed"} <= set(
        actions
    )


def test_withdrawing_the_entry_closes_its_publication_and_it_cannot_reopen(
    database: Database,
) -> None:
    seeded = seed_org(database)
    code = open_entry(database, name="公交站台统计")
    opened(database, seeded, code)
    with acting(database, provider(seeded)) as ctx:
        catalog.withdraw_entry(ctx, code, "统计口径停用")
    with acting(database) as ctx:
        assert service.search_open(ctx, "公交").total == 0
        with pytest.raises(NotFound):
            service.get_open_dataset(ctx, code)
    with acting(database, provider(seeded)) as ctx:
        closed = [p for p in service.list_publications(ctx) if p.resource_code == code]
        assert closed[0].status == "closed" and "统计口径停用" in closed[0].close_reason
        with pytest.raises(Conflict):
            service.open_dataset(ctx, code)


def test_a_revision_to_not_open_closes_the_publication(database: Database) -> None:
    seeded = seed_org(database)
    code = open_entry(database, name="公交客流统计")
    kept = open_entry(database, name="公交线网统计")
    opened(database, seeded, code)
    opened(database, seeded, kept)
    liaison, cdo = seeded.other_unit_actor(Role.DATA_LIAISON), provider(seeded)
    for target, open_type in ((code, "not_open"), (kept, "unconditional")):
        with acting(database, cdo) as ctx:
            current = catalog.get_entry(ctx, target)
        with acting(database, liaison) as ctx:
            catalog.revise_entry(ctx, target)
            extra = {"not_open_reason": "sensitive"} if open_type == "not_open" else {}
            catalog.update_entry(
                ctx,
                target,
                update(
                    name=current.name,
                    unit_code="B",
                    items=STATS_ITEMS,
                    open_type=open_type,
                    **({"not_open_reason": ""} | extra),
                ),
            )
            catalog.submit_entry(ctx, target)
        with acting(database, cdo) as ctx:
            catalog.approve_entry(ctx, target)
    with acting(database) as ctx:
        assert [i.resource_code for i in service.search_open(ctx, "公交").items] == [kept]


def test_figures_per_unit_and_day(database: Database) -> None:
    seeded = seed_org(database)
    code = open_entry(database, rows=7)
    opened(database, seeded, code)
    with acting(database) as ctx:
        service.get_open_dataset(ctx, code)
        service.get_open_dataset(ctx, code)
        service.release(ctx, code, "csv")
    with acting(database, seeded.actors[Role.CDO]) as ctx:
        figures = service.portal_figures(ctx)
    assert (figures.open_entries, figures.open_records) == (1, 7)
    assert (figures.views, figures.downloads, figures.api_calls) == (2, 1, 0)
    assert [u.unit_code for u in figures.units] == ["B"]
    assert figures.days[-1].views == 2
    # Every day of the window is in the series, the days without use as zeros.
    assert len(figures.days) == 30
    assert figures.days[-1].day - figures.days[0].day == timedelta(days=29)
    assert [d.views + d.downloads + d.api_calls for d in figures.days[:-1]] == [0] * 29
    with acting(database, seeded.actors[Role.CONSUMER]) as ctx, pytest.raises(Forbidden):
        service.portal_figures(ctx)
