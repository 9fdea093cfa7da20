"""The demo district is realistic, deterministic and idempotent (``demo_database`` is a copy
of one built for the session, with a small catalogue)."""

from __future__ import annotations

from shuzhi.audit.service import check_chain
from shuzhi.auth import service as auth
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo.district import build_demo
from shuzhi.org import service as org
from shuzhi.org.schemas import OrgOverview
from tests.conftest import acting

Units = tuple[tuple[str, str, str | None], ...]
Appointments = tuple[tuple[str, str, str, str], ...]
Snapshot = tuple[Units, Appointments, OrgOverview]


def _snapshot(database: Database) -> Snapshot:
    with acting(database, SYSTEM) as ctx:
        units = [(u.code, u.name, u.uscc) for u in org.list_units(ctx)]
        appts = [
            (a.unit_code, a.person_name, a.position, a.status) for a in org.list_appointments(ctx)
        ]
        return tuple(units), tuple(sorted(appts)), org.org_overview(ctx)


def test_demo_district_shape(demo_database: Database) -> None:
    accounts = build_demo(demo_database)  # already built: returns the accounts it made
    _units, appointments, overview = _snapshot(demo_database)
    kinds = overview.units_by_kind
    # three enterprises of the district, and the market demo's four approved parties (the
    # operator, the buyer and two brokers), each an enterprise unit of its own
    assert kinds == {"region": 1, "department": 31, "street": 18, "enterprise": 3 + 4}
    statuses = {a[3] for a in appointments}
    assert {"filed", "submitted", "returned", "draft"} <= statuses
    with acting(demo_database, SYSTEM) as ctx:
        for account in accounts:
            assert auth.login(ctx, account.username, account.password).role == account.role
        assert check_chain(ctx).ok


def test_demo_is_idempotent(demo_database: Database) -> None:
    first = _snapshot(demo_database)
    build_demo(demo_database)
    assert _snapshot(demo_database) == first
