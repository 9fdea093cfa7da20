"""Cockpit rows of the permission matrix (tests/auth/test_permission_matrix.py).

Each call targets the unit under test: its cockpit, a scenario it registered, an indicator
over its dataset or an alert raised by one. Snapshots are region-wide (no unit to target).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import count

from shuzhi.cockpit import service
from shuzhi.cockpit.schemas import (
    AlertAck,
    IndicatorCreate,
    MilestoneDone,
    ScenarioCancel,
    ScenarioCreate,
)
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from tests.conftest import acting
from tests.sharing.helpers import shared_entry

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
LEADERS = {Role.CDO, Role.CDO_EXECUTIVE}
DECIDERS = EXEC | {Role.UNIT_CDO}
WATCHERS = LEADERS | {Role.UNIT_CDO}

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "view_cockpit": (R | STAFF, R),
    "export_cockpit": (R | STAFF, R),
    "take_snapshot": (EXEC, EXEC),
    "snapshot_points": (R, R),
    "record_history": (EXEC, EXEC),
    "view_scenarios": (R | STAFF, R),
    "register_scenario": (EXEC | STAFF, EXEC),
    "reach_milestone": (EXEC | STAFF, EXEC),
    "cancel_scenario": (DECIDERS, EXEC),
    "view_indicators": (R | STAFF, R),
    "define_indicator": (WATCHERS, LEADERS),
    "update_indicator": (WATCHERS, LEADERS),
    "evaluate_indicators": (WATCHERS, LEADERS),
    "acknowledge_alert": (WATCHERS, LEADERS),
}

_n = count()
_datasets: dict[tuple[str, str], str] = {}


def _scenario_data(unit: str) -> ScenarioCreate:
    today = utcnow().date()
    return ScenarioCreate.model_validate(
        {
            "unit_code": unit,
            "year": today.year,
            "name": f"场景{next(_n)}",
            "goal": "一次办",
            "owner": "王芳",
            "milestones": [{"name": "上线", "due_on": today + timedelta(days=30)}],
        }
    )


def _scenario(database: Database, unit: str) -> tuple[int, int]:
    """A planned scenario of ``unit`` with one milestone: (scenario id, milestone id)."""
    with acting(database, SYSTEM) as ctx:
        made = service.register_scenario(ctx, _scenario_data(unit))
    return made.id, made.milestones[0].id


def _dataset(database: Database, unit: str) -> str:
    """One loaded dataset per database and unit (indicators only read it)."""
    k = (database.settings.database_url, unit)
    if k not in _datasets:
        _datasets[k] = shared_entry(database, unit=unit, loaded=True, rows=10)
    return _datasets[k]


def _indicator_data(code: str, resource: str) -> IndicatorCreate:
    """Ten rows against thresholds of 1 and 2: every evaluation is an alarm."""
    return IndicatorCreate.model_validate(
        {
            "code": code,
            "name": "记录数",
            "resource_code": resource,
            "func": "count",
            "direction": "above",
            "warn_at": 1,
            "alarm_at": 2,
        }
    )


def _indicator(database: Database, unit: str) -> tuple[str, str]:
    """An indicator over ``unit``'s dataset, defined by the system: (code, resource code)."""
    resource = _dataset(database, unit)
    with acting(database, SYSTEM) as ctx:
        made = service.define_indicator(ctx, _indicator_data(f"M{next(_n)}", resource))
    return made.code, resource


def _alert(database: Database, unit: str) -> int:
    """An open alarm raised by evaluating a fresh indicator of ``unit``."""
    code, _ = _indicator(database, unit)
    with acting(database, SYSTEM) as ctx:
        (alert,) = service.evaluate_indicators(ctx, [code]).alerts
    return alert.id


def _unit_id(database: Database, unit: str) -> int:
    with acting(database, SYSTEM) as ctx:
        unit_id = org.unit_id_for_code(ctx, unit)
    assert unit_id is not None
    return unit_id


Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "view_cockpit": (lambda d, u: u, lambda c, u: service.cockpit_summary(c, str(u), days=7)),
    "export_cockpit": (lambda d, u: u, lambda c, u: service.export_cockpit(c, str(u), days=7)),
    "take_snapshot": (lambda d, u: u, lambda c, u: service.take_snapshot(c)),
    "snapshot_points": (
        lambda d, u: u,
        lambda c, u: service.snapshot_points(c, utcnow().date()),
    ),
    "record_history": (
        _unit_id,
        lambda c, unit_id: service.record_history(
            c,
            [
                {
                    "day": utcnow().date() - timedelta(days=400),
                    "unit_id": unit_id,
                    "metric": "datasets",
                    "value": 1.0,
                }
            ],
        ),
    ),
    "view_scenarios": (
        _scenario,
        lambda c, s: service.get_scenario(c, s[0]),  # type: ignore[index]
    ),
    "register_scenario": (
        lambda d, u: u,
        lambda c, u: service.register_scenario(c, _scenario_data(str(u))),
    ),
    "reach_milestone": (
        _scenario,
        lambda c, s: service.reach_milestone(c, s[0], s[1], MilestoneDone(note="已上线")),  # type: ignore[index]
    ),
    "cancel_scenario": (
        _scenario,
        lambda c, s: service.cancel_scenario(c, s[0], ScenarioCancel(reason="需求取消")),  # type: ignore[index]
    ),
    "view_indicators": (
        _indicator,
        lambda c, i: service.get_indicator(c, i[0]),  # type: ignore[index]
    ),
    "define_indicator": (
        _dataset,
        lambda c, r: service.define_indicator(c, _indicator_data(f"M{next(_n)}", str(r))),
    ),
    "update_indicator": (
        _indicator,
        lambda c, i: service.update_indicator(c, i[0], _indicator_data(i[0], i[1])),  # type: ignore[index]
    ),
    "evaluate_indicators": (
        _indicator,
        lambda c, i: service.evaluate_indicators(c, [i[0]]),  # type: ignore[index]
    ),
    "acknowledge_alert": (
        _alert,
        lambda c, a: service.acknowledge_alert(c, int(str(a)), AlertAck(note="已通知核查")),
    ),
}
