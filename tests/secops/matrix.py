"""Security operations rows of the permission matrix (tests/auth/test_permission_matrix.py).

Each call targets the unit under test: an alert or incident owned by it, a key of one of its
applications, a containment of such a key. Thresholds and evaluation are region-wide.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from shuzhi.secops import reports, review, service
from shuzhi.secops.models import Alert, AlertStatus, Severity
from shuzhi.secops.schemas import ContainmentIn, IncidentIn, LiftIn, ThresholdIn
from shuzhi.sharing.models import AppKey
from tests.conftest import acting
from tests.sharing import matrix as sharing_matrix
from tests.sharing.helpers import application, key

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
EXEC = {Role.CDO_EXECUTIVE}
LEADERS = {Role.CDO, Role.CDO_EXECUTIVE}
CDO = {Role.UNIT_CDO}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "view_security_alerts": (R | CDO, R),
    "handle_security_alert": (LEADERS | CDO, LEADERS),
    "view_secops_thresholds": (R, R),
    "set_secops_threshold": (EXEC, EXEC),
    "evaluate_secops": (EXEC, EXEC),
    "contain_subject": (EXEC | CDO, EXEC),
    "lift_containment": (EXEC, EXEC),
    "view_incidents": (R | CDO, R),
    "manage_incidents": (LEADERS | CDO, LEADERS),
    "view_risk_register": (R | CDO, R),
    "assess_risk": (LEADERS | CDO, LEADERS),
    "export_risk_report": (R | CDO, R),
    "view_security_report": (R | CDO, R),
    "view_grant_reviews": (R | STAFF, R),
    "confirm_grant_review": (EXEC | CDO, EXEC),
}


def _unit(database: Database, unit: str) -> int:
    with acting(database, SYSTEM) as ctx:
        found = org.unit_id_for_code(ctx, unit)
    assert found is not None
    return found


def _alert(database: Database, unit: str) -> int:
    now = utcnow()
    with database.sessions.begin() as session:
        alert = Alert(
            rule="enumeration",
            severity=Severity.HIGH,
            subject=f"key:{now.timestamp()}",
            unit_id=_unit(database, unit),
            status=AlertStatus.OPEN,
            first_seen=now,
            last_seen=now,
            count=1,
            evidence=[],
        )
        session.add(alert)
        session.flush()
        return alert.id


def _key(database: Database, unit: str) -> int:
    token = key(database, application(database, unit))
    with database.sessions() as session:
        found = session.scalar(select(AppKey.id).where(AppKey.prefix == token.split("_")[1]))
    assert found is not None
    return int(found)


def _contained(database: Database, unit: str) -> int:
    with acting(database, SYSTEM) as ctx:
        held = service.contain(
            ctx,
            ContainmentIn(
                kind="application_key", id=_key(database, unit), reason="权限矩阵测试用暂停"
            ),
        )
    return held.id


def _incident(database: Database, unit: str) -> int:
    with acting(database, SYSTEM) as ctx:
        return service.open_incident(
            ctx, IncidentIn(title="矩阵测试事件", unit_id=_unit(database, unit))
        ).id


def _risk_unit(database: Database, unit: str) -> str:
    """The unit's subject in the risk register (entered by the background run)."""
    with acting(database, SYSTEM) as ctx:
        service.reassess_due(ctx)
    return f"unit:{_unit(database, unit)}"


def _review(database: Database, unit: str) -> int:
    """A pending review of a grant the unit provides (the review age passed)."""
    grant_id = sharing_matrix._grant(database, "S", unit)
    with acting(database, SYSTEM) as ctx:
        review.sweep_grant_reviews(ctx, utcnow() + timedelta(days=181))
        return next(r.id for r in review.list_grant_reviews(ctx) if r.grant_id == grant_id)


OPERATIONS: dict[str, tuple[Callable[[Database, str], object], Callable[[Ctx, object], object]]] = {
    "view_security_alerts": (_alert, lambda c, a: service.get_alert(c, int(str(a)))),
    "handle_security_alert": (_alert, lambda c, a: service.acknowledge_alert(c, int(str(a)))),
    "view_secops_thresholds": (lambda d, u: u, lambda c, u: service.list_thresholds(c)),
    "set_secops_threshold": (
        lambda d, u: u,
        lambda c, u: service.set_threshold(
            c, "enumeration", "distinct_keys", ThresholdIn(value=600)
        ),
    ),
    "evaluate_secops": (
        lambda d, u: u,
        lambda c, u: service.evaluate(c, utcnow() + timedelta(days=400)),
    ),
    "contain_subject": (
        _key,
        lambda c, k: service.contain(
            c, ContainmentIn(kind="application_key", id=int(str(k)), reason="权限矩阵测试用暂停")
        ),
    ),
    "lift_containment": (
        _contained,
        lambda c, h: service.lift_containment(c, int(str(h)), LiftIn(reason="测试")),
    ),
    "view_incidents": (_incident, lambda c, i: service.get_incident(c, int(str(i)))),
    "view_risk_register": (_risk_unit, lambda c, s: service.get_risk_subject(c, str(s))),
    "assess_risk": (_risk_unit, lambda c, s: service.reassess_risk(c, str(s))),
    "export_risk_report": (lambda d, u: u, lambda c, u: service.risk_report(c, str(u))),
    "manage_incidents": (
        lambda d, u: _unit(d, u),
        lambda c, u: service.open_incident(
            c, IncidentIn(title="矩阵测试事件", unit_id=int(str(u)))
        ),
    ),
    "view_security_report": (
        lambda d, u: u,
        lambda c, u: reports.monthly_report(c, str(u), "2026-01"),
    ),
    "view_grant_reviews": (_review, lambda c, r: review.get_grant_review(c, int(str(r)))),
    "confirm_grant_review": (
        _review,
        lambda c, r: review.confirm_grant_review(
            c, int(str(r)), review.ConfirmIn(note="业务仍在使用，用途未变")
        ),
    ),
}
