"""Code tables as data, 一数一源 conflicts, functional lists and the compile rate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from shuzhi.catalog import service
from shuzhi.catalog.models import CatalogEntry, CompileTask
from shuzhi.catalog.schemas import (
    CodeIn,
    ConflictResolve,
    DutyIn,
    ElementIn,
    MatterIn,
    SegmentLengths,
    TaskIn,
)
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid, NotFound
from tests.catalog.helpers import create, item
from tests.catalog.test_lifecycle import publish
from tests.conftest import acting
from tests.factories import Org, seed_org


@pytest.fixture
def org(database: Database) -> Org:
    return seed_org(database)


# ---------------------------------------------------------------- code tables


def test_executive_adds_update_cycle_which_then_validates(database: Database, org: Org) -> None:
    with pytest.raises(Invalid), acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(update_cycle="9"))
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        out = service.save_code(
            ctx, "update_cycle", "9", CodeIn(label_zh="按需", label_en="On demand")
        )
    assert out.active and not out.locked
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        assert service.create_entry(ctx, create(update_cycle="9")).update_cycle == "9"


def test_locked_codes_cannot_be_disabled_and_unknown_tables(database: Database, org: Org) -> None:
    with pytest.raises(Invalid) as err, acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.save_code(
            ctx,
            "share_type",
            "conditional",
            CodeIn(label_zh="有条件共享", national_code="2", active=False),
        )
    assert [e.field for e in err.value.errors] == ["active"]
    with pytest.raises(NotFound), acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.save_code(ctx, "no_such_table", "1", CodeIn(label_zh="x"))
    with pytest.raises(Invalid), acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.save_code(ctx, "format_subtype", "3.TiDB", CodeIn(label_zh="TiDB", parent_code="9"))
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        relabelled = service.save_code(
            ctx,
            "share_type",
            "conditional",
            CodeIn(label_zh="有条件共享（申请）", national_code="2", sort_order=1),
        )
    assert relabelled.label_zh == "有条件共享（申请）"  # text is kept as typed


def test_disabled_code_is_rejected(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.save_code(ctx, "update_cycle", "8", CodeIn(label_zh="不定期", active=False))
    with pytest.raises(Invalid), acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(update_cycle="8"))


def test_segment_lengths_are_data(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.set_segment_lengths(
            ctx,
            SegmentLengths.model_validate(
                {"class": 1, "subclass": 2, "group": 4, "detail_max": 0, "sequence": 4}
            ),
        )
    with pytest.raises(Invalid), acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(group_code="001"))
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        out = service.create_entry(ctx, create(group_code="0001"))
    assert out.resource_code == "1010001/0001"


# ---------------------------------------------------------------- 一数一源


def test_second_source_raises_conflict_and_executive_assigns(database: Database, org: Org) -> None:
    first = publish(database, org)  # unit A claims 公民身份号码
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        assert service.list_elements(ctx)[0].source_unit_code == "A"
    # unit B catalogues the same element as its own source
    with acting(database, org.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        b = service.create_entry(
            ctx,
            create(
                name="流动人口登记信息",
                items=[item("身份证号", length=18, element_code="DE0001", is_source=True)],
            ),
        )
        service.submit_entry(ctx, b.resource_code)
    with acting(database, org.other_unit_actor(Role.UNIT_CDO)) as ctx:
        service.approve_entry(ctx, b.resource_code)
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        conflicts = service.list_conflicts(ctx)
    assert len(conflicts) == 1
    c = conflicts[0]
    assert (c.element_code, c.source_unit_code, c.claimant_unit_code) == ("DE0001", "A", "B")
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        assert [x.id for x in service.list_conflicts(ctx)] == [c.id]  # A is a party
    with pytest.raises(Forbidden), acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        service.resolve_source_conflict(ctx, c.id, ConflictResolve(source_unit_code="A"))
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        done = service.resolve_source_conflict(
            ctx, c.id, ConflictResolve(source_unit_code="A", note="公安为法定来源")
        )
    assert done.status == "resolved" and done.assigned_unit_code == "A"
    with pytest.raises(Conflict), acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.resolve_source_conflict(ctx, c.id, ConflictResolve(source_unit_code="B"))
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        b_item = service.get_entry(ctx, b.resource_code).items[0]
        a_item = service.get_entry(ctx, first.resource_code).items[1]
    assert not b_item.is_source and b_item.source_unit_code == "A"
    assert a_item.is_source


def test_new_element_synonym_reaches_search(database: Database, org: Org) -> None:
    publish(database, org, items=[item("不动产单元号", length=28)], name="不动产登记信息")
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        assert service.list_entries(ctx, "房屋编码").total == 0
        service.save_element(
            ctx,
            ElementIn(
                code="DE0006",
                name="不动产单元号",
                data_type="C",
                length=28,
                synonyms=["不动产单元代码", "房屋编码"],
            ),
        )
        assert service.list_entries(ctx, "房屋编码").total == 1


# ---------------------------------------------------------------- tasks and compile rate


def _tasks(database: Database, unit: str, n: int, high: int = 0) -> list[int]:
    with acting(database, SYSTEM) as ctx:
        duty = service.create_duty(ctx, DutyIn(unit_code=unit, code=f"{unit}D", name="户籍管理"))
        matter = service.create_matter(
            ctx, MatterIn(duty_id=duty.id, code=f"{unit}M1", name="户口登记")
        )
        return [
            service.create_task(
                ctx, TaskIn(matter_id=matter.id, name=f"资源{i}", high_value=i < high)
            ).id
            for i in range(n)
        ]


def test_compile_rate_moves_with_publication(database: Database, org: Org) -> None:
    tasks = _tasks(database, "A", 4, high=1)
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        before = service.compile_rate(ctx)
        matters_before = service.uncatalogued_matters(ctx)
    a = next(u for u in before.units if u.unit_code == "A")
    s = next(u for u in before.units if u.unit_code == "S")
    assert (a.tasks, a.done, a.rate) == (4, 0, 0.0)
    assert s.tasks == 0 and s.rate is None  # no tasks: n/a, not a division by zero
    assert [m.code for m in matters_before] == ["AM1"]
    publish(database, org, task_ids=tasks[:2])
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        after = service.compile_rate(ctx)
        open_tasks = service.list_tasks(ctx, open_only=True)
    assert (after.region.tasks, after.region.done, after.region.rate) == (4, 2, 0.5)
    assert after.region.high_value_done == 1 and len(open_tasks) == 2


def test_task_of_another_unit_or_already_covered(database: Database, org: Org) -> None:
    b_tasks = _tasks(database, "B", 1)
    a_tasks = _tasks(database, "A", 1)
    with pytest.raises(Invalid), acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(task_ids=b_tasks))
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(task_ids=a_tasks))
    with pytest.raises(Invalid), acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(name="第二个", task_ids=a_tasks))


def test_withdrawal_undoes_coverage_and_trend(database: Database, org: Org) -> None:
    tasks = _tasks(database, "A", 2)
    out = publish(database, org, task_ids=tasks)
    today = date.today()
    with database.engine.begin() as conn:  # backdate the history the trend is computed from
        conn.execute(update(CompileTask).values(created_on=today - timedelta(days=20)))
        conn.execute(update(CatalogEntry).values(first_published_on=today - timedelta(days=10)))
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        trend = service.compile_trend(ctx, 30, today=today)
    assert trend[0].tasks == 0 and trend[0].rate is None
    by_day = {p.day: p for p in trend}
    assert by_day[today - timedelta(days=15)].done == 0
    assert by_day[today - timedelta(days=15)].tasks == 2
    assert by_day[today].done == 2 and by_day[today].rate == 1.0
    with acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        service.withdraw_entry(ctx, out.resource_code, "资源已合并")
        rate = service.compile_rate(ctx)
    assert rate.region.done == 0
