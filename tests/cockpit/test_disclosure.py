"""Cockpit indicators under the disclosure rules: no filtering on, grouping by, summing,
averaging or taking the extreme of a personal column (refused at definition, guarded at
evaluation for definitions stored before the rule), and grouped figures over fewer than five
rows suppressed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shuzhi.audit import service as audit
from shuzhi.cockpit import service
from shuzhi.cockpit.models import Alert, Indicator, Level, Reading, WebhookState
from shuzhi.cockpit.schemas import IndicatorCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.org import service as org
from shuzhi.security.disclosure import MIN_GROUP_SIZE
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.lake.helpers import people_rows
from tests.sharing.helpers import shared_entry


@pytest.fixture
def seeded(database: Database) -> Org:
    return seed_org(database)


def _indicator(code: str, resource: str, **over: Any) -> IndicatorCreate:
    data: dict[str, Any] = {
        "code": code,
        "name": "记录数",
        "resource_code": resource,
        "func": "count",
        "direction": "above",
        "warn_at": 1,
        "alarm_at": 2,
    }
    data.update(over)
    return IndicatorCreate.model_validate(data)


def test_personal_columns_are_refused_at_definition(database: Database, seeded: Org) -> None:
    code = shared_entry(database, unit="A", loaded=True, rows=30)
    rows = people_rows(30)
    phone = rows[3][2]
    cases = [
        (_indicator("BY-ID", code, group_by="公民身份号码"), "group_by"),
        (_indicator("PHONE", code, filters=f"联系电话 eq {phone}"), "filters"),
        (_indicator("NAME", code, filters="姓名 like_prefix 王"), "filters"),
        (_indicator("OLDEST", code, func="max", column="出生日期"), "column"),
        # Two sums or averages whose filters differ by one person give that person's value.
        (_indicator("SUM-PHONE", code, func="sum", column="联系电话"), "column"),
        (_indicator("AVG-ID", code, func="avg", column="公民身份号码"), "column"),
    ]
    for data, field in cases:
        with pytest.raises(Invalid) as err, acting(database, seeded.actor(Role.CDO)) as ctx:
            service.define_indicator(ctx, data)
        fields = [e.field for e in err.value.errors]
        assert field in fields, (data.code, fields)
        text = json.dumps([[e.message.zh, e.message.en] for e in err.value.errors])
        assert phone not in text and "王" not in text
        assert all(r[1] not in text for r in rows)
    with acting(database, SYSTEM) as ctx:
        assert not ctx.db.query(Indicator).count()
        denied = audit.view_audit(ctx, action="operation.denied")
    assert denied.total == len(cases)
    targets = " ".join(e.details["target"] for e in denied.items)
    assert "group:公民身份号码" in targets and phone not in targets
    # The same figures over non-personal columns are fine.
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.define_indicator(ctx, _indicator("AGE", code, filters="年龄 ge 30"))


def test_stored_definitions_that_reveal_are_not_computed(database: Database, seeded: Org) -> None:
    """A definition stored before the rule (grouped by the resident ID), with a reading and an
    alert that already carry a raw ID: evaluation refuses it, and what was kept is not shown."""
    code = shared_entry(database, unit="A", loaded=True, rows=30)
    raw_id = people_rows(30)[0][1]
    now = utcnow()
    with acting(database, SYSTEM) as ctx:
        unit_id = org.unit_id_for_code(ctx, "A")
        assert unit_id is not None
        ind = Indicator(
            code="OLD-BY-ID",
            name="按身份证计数",
            unit_id=unit_id,
            resource_code=code,
            func="count",
            column_name=None,
            filters_json=[],
            group_by="公民身份号码",
            direction="above",
            warn_at=0.5,
            alarm_at=1.0,
            level=Level.ALARM,
            created_by="user:old",
        )
        ctx.db.add(ind)
        ctx.db.flush()
        ctx.db.add(
            Reading(
                indicator_id=ind.id, at=now, value=1.0, level=Level.ALARM, group_key=raw_id,
                message="",
            )
        )  # fmt: skip
        ctx.db.add(
            Alert(
                indicator_id=ind.id, unit_id=unit_id, level=Level.ALARM, value=1.0,
                message=f"按身份证计数（{raw_id}）= 1 ≥ 1", raised_at=now,
                webhook_state=WebhookState.NONE,
            )
        )  # fmt: skip
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        result = service.evaluate_indicators(ctx, ["OLD-BY-ID"])
        shown = service.get_indicator(ctx, "OLD-BY-ID")
        alerts = service.list_alerts(ctx)
    ((_, reading),) = result.readings
    assert reading.level == "error" and reading.group_key is None and reading.value is None
    assert "公民身份号码" in reading.message
    text = shown.model_dump_json() + json.dumps(
        [a.model_dump(mode="json") for a in alerts], ensure_ascii=False
    )
    assert raw_id not in text
    assert all(r.group_key is None for r in shown.history)


def test_stored_filter_values_on_personal_columns_are_not_shown(
    database: Database, seeded: Org
) -> None:
    code = shared_entry(database, unit="A", loaded=True, rows=30)
    phone = people_rows(30)[3][2]
    with acting(database, SYSTEM) as ctx:
        unit_id = org.unit_id_for_code(ctx, "A")
        assert unit_id is not None
        ctx.db.add(
            Indicator(
                code="OLD-PHONE", name="按电话计数", unit_id=unit_id, resource_code=code,
                func="count", column_name=None, group_by=None, direction="above",
                filters_json=[{"column": "联系电话", "op": "eq", "value": phone},
                              {"column": "年龄", "op": "ge", "value": "30"}],
                warn_at=0.5, alarm_at=1.0, level=Level.OK, created_by="user:old",
            )
        )  # fmt: skip
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        (shown,) = service.list_indicators(ctx)
    assert phone not in shown.model_dump_json()
    assert [(f.column, f.value) for f in shown.filters] == [("联系电话", "***"), ("年龄", "30")]
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        ((_, reading),) = service.evaluate_indicators(ctx, ["OLD-PHONE"]).readings
    assert reading.level == "error" and reading.value is None


def test_small_groups_are_suppressed(database: Database, seeded: Org) -> None:
    # 280 people: ages 20..59 occur five times each, ages 60..79 four times each.
    code = shared_entry(database, unit="A", loaded=True, rows=280)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.define_indicator(
            ctx,
            _indicator("FEWEST", code, group_by="年龄", direction="below", warn_at=4, alarm_at=3),
        )
        service.define_indicator(
            ctx, _indicator("ONE", code, func="avg", column="年龄", filters="年龄 eq 79")
        )
        result = dict(service.evaluate_indicators(ctx).readings)
    fewest = result["FEWEST"]
    # Without suppression the smallest group would be 4 (an age from 60 on), in warn.
    assert fewest.value == MIN_GROUP_SIZE and fewest.level == "ok"
    assert fewest.group_key is not None and int(fewest.group_key) < 60
    one = result["ONE"]
    assert one.value is None and str(MIN_GROUP_SIZE) in one.message


def test_a_stored_sum_of_a_personal_column_is_not_computed(database: Database, seeded: Org) -> None:
    """Sums of a phone column over 年龄 ≥ 44 and over 年龄 ≥ 45, stored before the rule:
    their difference would be the one 44-year-old's whole number."""
    code = shared_entry(database, unit="A", loaded=True, rows=30)
    with acting(database, SYSTEM) as ctx:
        unit_id = org.unit_id_for_code(ctx, "A")
        for age in (44, 45):
            ctx.db.add(
                Indicator(
                    code=f"SUM-{age}", name="号码之和", unit_id=unit_id, resource_code=code,
                    func="sum", column_name="联系电话",
                    filters_json=[{"column": "年龄", "op": "ge", "value": str(age)}],
                    group_by=None, direction="above", warn_at=1e30, alarm_at=2e30,
                    level=Level.OK, created_by="user:old",
                )
            )  # fmt: skip
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        result = service.evaluate_indicators(ctx, ["SUM-44", "SUM-45"])
    readings = [reading for _, reading in result.readings]
    assert len(readings) == 2
    assert all(r.level == "error" and r.value is None for r in readings)
    assert all("联系电话" in r.message for r in readings)
