"""Bulk compiles: results composed from what was written, reference data read once per
transaction and forgotten when it changes or is rolled back (both backends)."""

from __future__ import annotations

import contextlib

import pytest

from shuzhi.catalog import codes, service
from shuzhi.catalog.models import CodeTable
from shuzhi.catalog.schemas import CodeIn, DutyIn, MatterIn, TaskIn
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid, NotFound
from tests.catalog.helpers import create, item, update
from tests.catalog.test_lifecycle import publish
from tests.conftest import acting
from tests.factories import Org, seed_org


@pytest.fixture
def org(database: Database) -> Org:
    return seed_org(database)


def test_created_entry_is_what_reading_it_back_gives(database: Database, org: Org) -> None:
    with acting(database, SYSTEM) as ctx:
        duty = service.create_duty(ctx, DutyIn(unit_code="A", code="D1", name="户籍管理"))
        matter = service.create_matter(ctx, MatterIn(duty_id=duty.id, code="M1", name="户口"))
        tasks = [
            service.create_task(ctx, TaskIn(matter_id=matter.id, name=f"资源{i}")).id
            for i in range(3)
        ]
        data = create(
            unit_code="A",
            task_ids=[tasks[2], tasks[0]],
            items=[
                item("姓名"),  # element found by its name
                item("身份证", length=18),  # by a synonym
                item("公民身份号码", length=18, element_code="DE0001", is_source=True),
                item("备注", data_type="m", description="说明"),  # no element
            ],
        )
        first = service.create_entry(ctx, data)
        assert first == service.get_entry(ctx, first.resource_code)
        # Publishing makes unit A the source of DE0001; an entry created next in the same
        # transaction shows it.
        service.submit_entry(ctx, first.resource_code)
        service.approve_entry(ctx, first.resource_code)
        second = service.create_entry(
            ctx, create(unit_code="B", name="人口信息", items=[item("身份证号", length=18)])
        )
        assert second.items[0].source_unit_code == "A"
        assert second == service.get_entry(ctx, second.resource_code)
    with acting(database, SYSTEM) as ctx:
        stored = service.get_entry(ctx, second.resource_code)
    assert second == stored
    assert [i.element_code for i in first.items] == ["DE0003", "DE0001", "DE0001", None]
    assert first.items[3].data_type == "M"
    assert first.task_ids == sorted([tasks[0], tasks[2]])


def test_code_added_in_the_same_transaction_validates(database: Database, org: Org) -> None:
    with acting(database, SYSTEM) as ctx:
        with pytest.raises(Invalid):
            service.create_entry(ctx, create(unit_code="A", update_cycle="9"))
        service.save_code(ctx, "update_cycle", "9", CodeIn(label_zh="按需", label_en="On demand"))
        out = service.create_entry(ctx, create(unit_code="A", update_cycle="9"))
    assert out.update_cycle == "9"


def test_reference_data_rolled_back_with_a_savepoint_is_forgotten(
    database: Database, org: Org
) -> None:
    with acting(database, SYSTEM) as ctx:
        assert not codes.code_book(ctx).has(CodeTable.UPDATE_CYCLE, "9")
        with pytest.raises(RuntimeError), ctx.db.begin_nested():
            service.save_code(ctx, "update_cycle", "9", CodeIn(label_zh="按需", label_en="x"))
            assert codes.code_book(ctx).has(CodeTable.UPDATE_CYCLE, "9")
            raise RuntimeError("the rest of this step failed")
        assert not codes.code_book(ctx).has(CodeTable.UPDATE_CYCLE, "9")
        with pytest.raises(Invalid):
            service.create_entry(ctx, create(unit_code="A", update_cycle="9"))


def test_many_entries_read_at_once_are_what_each_viewer_reads_one_by_one(
    database: Database, org: Org
) -> None:
    published = publish(database, org).resource_code
    revising = publish(database, org, name="流动人口信息").resource_code
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.revise_entry(ctx, revising)
        service.update_entry(ctx, revising, update(name="流动人口信息（修订）"))
        draft = service.create_entry(ctx, create(name="暂住人口信息")).resource_code
    codes = [published, revising, draft, "999999/000001"]
    for viewer in (org.actor(Role.DATA_LIAISON), org.other_unit_actor(Role.DATA_LIAISON), SYSTEM):
        with acting(database, viewer) as ctx:
            many = service.get_entries(ctx, [f" {c} " for c in codes])
            one_by_one = {}
            for code in codes:
                with contextlib.suppress(NotFound):
                    one_by_one[code] = service.get_entry(ctx, code)
        assert many == one_by_one
    assert set(many) == {published, revising, draft}
