"""Common government abbreviations (社保 ↔ 社会保险): shipped defaults the bureau can edit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shuzhi.audit.models import AuditEntry
from shuzhi.catalog import abbreviations, service
from shuzhi.catalog.schemas import AbbreviationsIn
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.portal import service as portal
from tests.catalog.test_lifecycle import publish
from tests.conftest import acting
from tests.factories import Org, seed_org

# (abbreviation, the full term the demo district's catalogue uses)
DEMO_PAIRS = [
    ("社保", "社会保险"),
    ("低保", "最低生活保障"),
    ("医院", "医疗机构"),
    ("人社", "人力资源和社会保障"),
]
# The same on the demo portal (its few open datasets come from these units).
PORTAL_PAIRS = [("发改", "发展和改革"), ("住建", "住房和城乡建设")]


def test_shipped_list_is_large_and_consistent() -> None:
    groups = abbreviations.SHIPPED
    assert len(groups) >= 50
    terms = [t for g in groups for t in g]
    assert len(terms) == len(set(terms)), "a term belongs to one group only"
    flat = {t for g in groups for t in g}
    for pair in [("社保", "社会保险"), ("医保", "医疗保障"), ("公积金", "住房公积金"),
                 ("公交", "公共交通"), ("低保", "最低生活保障"), ("市监", "市场监管")]:
        assert set(pair) <= flat
        assert any(set(pair) <= set(g) for g in groups)
    assert abbreviations.check_groups([list(g) for g in groups]) == []


def test_demo_abbreviations_find_the_full_terms(demo_database: Database) -> None:
    with acting(demo_database, SYSTEM) as ctx:
        for short, full in DEMO_PAIRS:
            full_hits = service.list_entries(ctx, full, limit=200)
            short_hits = service.list_entries(ctx, short, limit=200)
            assert full_hits.total > 0, full
            assert short_hits.total >= full_hits.total, (short, full)
            assert {e.resource_code for e in full_hits.items} <= {
                e.resource_code for e in short_hits.items
            }
    with acting(demo_database) as ctx:  # the public, anonymous
        for short, full in PORTAL_PAIRS:
            full_open = portal.search_open(ctx, full, limit=200)
            short_open = portal.search_open(ctx, short, limit=200)
            assert full_open.total > 0, full
            assert [d.resource_code for d in short_open.items] == [
                d.resource_code for d in full_open.items
            ]


@pytest.fixture
def org(database: Database) -> Org:
    return seed_org(database)


def test_bureau_edits_the_list(database: Database, org: Org) -> None:
    publish(database, org, name="数据管理局考核信息", abstract="数据管理局的年度考核。")
    executive = org.actor(Role.CDO_EXECUTIVE)
    with acting(database, executive) as ctx:
        shipped = service.list_abbreviations(ctx)
        assert not shipped.customised and len(shipped.groups) >= 50
        assert service.list_entries(ctx, "NDKH").total == 0
        groups = [*shipped.groups, ["NDKH", "年度考核"]]
        saved = service.save_abbreviations(ctx, AbbreviationsIn(groups=groups))
        assert saved.customised and ["NDKH", "年度考核"] in saved.groups
    with acting(database, org.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        assert [e.name for e in service.list_entries(ctx, "NDKH").items] == ["数据管理局考核信息"]
        assert service.list_abbreviations(ctx).customised
        with pytest.raises(Forbidden):
            service.save_abbreviations(ctx, AbbreviationsIn(groups=[["甲", "乙乙"]]))
    with acting(database, executive) as ctx:
        # a removed group stops working; the rest keeps working
        kept = [g for g in groups if "社保" not in g]
        service.save_abbreviations(ctx, AbbreviationsIn(groups=kept))
        assert not any("社保" in g for g in service.list_abbreviations(ctx).groups)
        reset = service.reset_abbreviations(ctx)
        assert not reset.customised and ["NDKH", "年度考核"] not in reset.groups
        assert service.list_entries(ctx, "NDKH").total == 0
        actions = [
            (e.action, e.target_id)
            for e in ctx.db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            if e.target_type == "catalog_setting"
        ]
    assert actions == [("catalog.setting_changed", "search_abbreviations")] * 3


def test_bad_lists_are_refused_and_nothing_changes(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        before = service.list_abbreviations(ctx)
        for bad in (
            [["社保"]],  # one term
            [["社保", "社会保险"], ["社保", "社保局"]],  # a term in two groups
            [["社保", "！！"]],  # nothing searchable
            [["社保", "社" * 17]],  # too long to be looked up in a query
        ):
            with pytest.raises(Invalid):
                service.save_abbreviations(ctx, AbbreviationsIn(groups=bad))
        assert service.list_abbreviations(ctx) == before


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(max_size=20), max_size=5), max_size=6))
def test_check_groups_never_crashes(groups: list[list[str]]) -> None:
    problems = abbreviations.check_groups(groups)
    if not problems:
        cleaned = abbreviations.clean(groups)
        assert all(len(g) >= 2 for g in cleaned)
