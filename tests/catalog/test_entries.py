"""Compiling and editing entries: codes, data items, stored-data checks (both backends)."""

from __future__ import annotations

import pytest

from shuzhi.catalog import service
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid, NotFound
from tests.catalog.helpers import create, item, update
from tests.conftest import acting
from tests.factories import Org, seed_org


@pytest.fixture
def org(database: Database) -> Org:
    return seed_org(database)


def test_liaison_creates_entry_with_items_and_sequence(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        first = service.create_entry(ctx, create())
        second = service.create_entry(ctx, create(name="流动人口信息"))
    assert first.resource_code == "101001/000001"
    assert second.resource_code == "101001/000002"
    assert first.unit_code == "A" and first.status == "draft" and first.version == 1
    assert [i.name for i in first.items] == ["姓名", "公民身份号码", "户籍地址"]
    ident = first.items[1]
    assert ident.element_code == "DE0001" and ident.is_source
    # 姓名 is linked to its data element by name, as a reference (not a source claim).
    assert first.items[0].element_code == "DE0003" and not first.items[0].is_source


def test_explicit_sequence_and_duplicate_code(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        out = service.create_entry(ctx, create(sequence_code="42", detail_code="7"))
    assert out.resource_code == "1010017/000042"
    with pytest.raises(Invalid) as err, acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(name="另一个", sequence_code="000042", detail_code="7"))
    assert [e.field for e in err.value.errors] == ["sequence_code"]


def test_every_problem_is_reported_at_once(database: Database, org: Org) -> None:
    bad = create(
        share_type="conditional",
        open_type="conditional",
        update_cycle="99",
        items=[item("姓名", data_type="X"), item("姓名")],
        related_codes=["999/1"],
    )
    with pytest.raises(Invalid) as err, acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, bad)
    fields = {e.field for e in err.value.errors}
    assert {
        "share_conditions",
        "open_conditions",
        "update_cycle",
        "items.0.data_type",
        "items.1.name",
        "related_codes",
    } <= fields


def test_other_unit_cannot_edit(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        out = service.create_entry(ctx, create())
    # Another unit may not know of the draft: the edit is answered like a code nobody holds.
    with pytest.raises(NotFound), acting(database, org.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        service.update_entry(ctx, out.resource_code, update(name="改名"))
    with pytest.raises(Forbidden), acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.create_entry(ctx, create(unit_code="A"))


def test_update_replaces_items_and_logs_fields(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        out = service.create_entry(ctx, create())
        new = service.update_entry(
            ctx, out.resource_code, update(abstract="新的摘要内容", items=[item("姓名")])
        )
    assert [i.name for i in new.items] == ["姓名"]
    assert new.history[-1].action == "updated"
    assert "abstract" in new.history[-1].note and "items" in new.history[-1].note
