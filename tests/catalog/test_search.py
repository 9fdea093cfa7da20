"""Catalogue search: 2-character Chinese words, data-element synonyms, facets, draft scope."""

from __future__ import annotations

import pytest

from shuzhi.catalog import service
from shuzhi.context import Role
from shuzhi.db.engine import Database
from tests.catalog.helpers import create, item
from tests.catalog.test_lifecycle import publish
from tests.conftest import acting
from tests.factories import Org, seed_org


@pytest.fixture
def org(database: Database) -> Org:
    return seed_org(database)


def test_two_character_word_and_synonym(database: Database, org: Org) -> None:
    publish(database, org)
    publish(
        database,
        org,
        name="企业登记信息",
        abstract="市场主体登记的基本信息。",
        class_code="1",
        subclass_code="02",
        items=[item("统一社会信用代码", length=18), item("企业名称", length=200)],
    )
    with acting(database, org.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        people = service.list_entries(ctx, "人口")
        ident = service.list_entries(ctx, "身份证")
        reg = service.list_entries(ctx, "登记")
        by_unit = service.list_entries(ctx, "", filters={"subclass": ["102"]})
    assert [e.name for e in people.items] == ["户籍人口信息"]
    assert [e.name for e in ident.items] == ["户籍人口信息"]
    assert [e.name for e in reg.items] == ["企业登记信息"]
    assert by_unit.total == 1 and people.facets["unit"] == {"A": 1}


def test_drafts_only_for_own_unit_and_bureau(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create())
    with acting(database, org.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        assert service.list_entries(ctx, "人口").total == 0
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        assert service.list_entries(ctx, "人口").total == 1
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        page = service.list_entries(ctx, "", filters={"status": ["draft"]})
    assert page.total == 1 and page.facets["status"] == {"draft": 1}
