"""Refusals on another unit's cockpit, indicators and alerts are Forbidden and audited under
the operation that was refused (not hidden as NotFound, not named after another check)."""

from __future__ import annotations

import pytest

from shuzhi.audit import service as audit
from shuzhi.cockpit import service
from shuzhi.cockpit.schemas import AlertAck, IndicatorCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, NotFound
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.sharing.helpers import shared_entry


def _alarmed(database: Database) -> int:
    """Indicator CNT over a dataset of unit A, evaluated once by the system into an alarm."""
    code = shared_entry(database, unit="A", loaded=True, rows=10)
    data = IndicatorCreate.model_validate(
        {
            "code": "CNT",
            "name": "记录数",
            "resource_code": code,
            "func": "count",
            "direction": "above",
            "warn_at": 1,
            "alarm_at": 2,
        }
    )
    with acting(database, SYSTEM) as ctx:
        service.define_indicator(ctx, data)
        (alert,) = service.evaluate_indicators(ctx, ["CNT"]).alerts
    return alert.id


def _denied(database: Database, seeded: Org) -> list[tuple[str, str]]:
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        page = audit.view_audit(ctx, action="operation.denied")
    return [(e.details["operation"], e.details["target"]) for e in page.items]


def test_another_units_indicator_and_alert_are_refused_and_audited(database: Database) -> None:
    seeded = seed_org(database)
    alert_id = _alarmed(database)
    with pytest.raises(Forbidden), acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        service.evaluate_indicators(ctx, ["CNT"])
    with (
        pytest.raises(Forbidden),
        acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx,
    ):
        service.acknowledge_alert(ctx, alert_id, AlertAck(note="看到了"))
    with pytest.raises(NotFound), acting(database, seeded.actor(Role.CDO)) as ctx:
        service.evaluate_indicators(ctx, ["NOPE"])
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        assert len(service.get_indicator(ctx, "CNT").history) == 1  # the refusal wrote nothing
        assert [a.id for a in service.list_alerts(ctx)] == [alert_id]
    assert set(_denied(database, seeded)) == {
        ("evaluate_indicators", "indicator:CNT"),
        ("acknowledge_alert", f"alert:{alert_id}"),
    }
    # The unit's own CDO evaluates and acknowledges.
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        assert service.evaluate_indicators(ctx, ["CNT"]).evaluated == 1
        service.acknowledge_alert(ctx, alert_id, AlertAck(note="已通知核查"))


def test_export_of_another_units_cockpit_is_refused_as_an_export(database: Database) -> None:
    seeded = seed_org(database)
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.export_cockpit(ctx, "B", days=7)
    assert _denied(database, seeded) == [("export_cockpit", "cockpit:B")]
