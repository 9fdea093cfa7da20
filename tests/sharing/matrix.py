"""Sharing rows of the permission matrix (tests/auth/test_permission_matrix.py).

The unit under test is the consumer for a requester's steps and the provider for a
decider's; the other party is street S.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from itertools import count

from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import calendar_service as calendar
from shuzhi.sharing import service
from shuzhi.sharing.models import DayKind
from shuzhi.sharing.schemas import (
    AppKeyIn,
    ApplicationIn,
    CalendarDayIn,
    DecisionIn,
    ExtensionIn,
    RenewalIn,
    RequestCreate,
    RotateIn,
)
from tests.conftest import acting
from tests.sharing.helpers import application, key, request, shared_entry

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
LEADERS = {Role.CDO, Role.CDO_EXECUTIVE}
DECIDERS = EXEC | {Role.UNIT_CDO}
NONE: set[Role] = set()

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "submit_share_request": (STAFF, NONE),
    "withdraw_share_request": (STAFF, NONE),
    "decide_share_request": (DECIDERS, EXEC),
    "extend_share_request": ({Role.UNIT_CDO}, NONE),
    "escalate_overdue": (EXEC, EXEC),
    "appeal_share_request": (STAFF, NONE),
    "arbitrate_share_request": (LEADERS, LEADERS),
    "renew_grant": (STAFF, NONE),
    "revoke_grant": (DECIDERS, EXEC),
    "view_share_requests": (R | STAFF, R),
    "view_grants": (R | STAFF, R),
    "register_application": (EXEC | STAFF, EXEC),
    "retire_application": (DECIDERS, EXEC),
    "view_applications": (R | STAFF, R),
    "create_app_key": (STAFF, NONE),
    "rotate_app_key": (STAFF, NONE),
    "revoke_app_key": (EXEC | STAFF, EXEC),
    "view_sharing_calendar": (R | STAFF, R | STAFF),
    "manage_sharing_calendar": (EXEC, EXEC),
    "view_notifications": (set(Role), set(Role)),
    "manage_own_notices": (set(Role), set(Role)),
    "view_notice_outbox": (R, R),
}

_n = count()
_entries: dict[tuple[str, str, str], str] = {}


def _entry(database: Database, unit: str, share: str) -> str:
    """One entry per database, unit and share type (entries are only read by these calls)."""
    k = (database.settings.database_url, unit, share)
    if k not in _entries:
        _entries[k] = shared_entry(database, share, unit=unit)
    return _entries[k]


def _asked(database: Database, consumer: str, provider: str, share: str) -> int:
    """A request of ``consumer`` for an entry of ``provider``, filed by the system."""
    app = application(database, consumer)
    out = request(database, SYSTEM, _entry(database, provider, share), app, unit_code=consumer)
    return out.id


def _escalated(database: Database, provider: str) -> int:
    request_id = _asked(database, "S", provider, "conditional")
    with acting(database, SYSTEM) as ctx:
        service.escalate_overdue(ctx, utcnow() + timedelta(days=60))
    return request_id


def _appealed(database: Database, consumer: str) -> int:
    request_id = _asked(database, consumer, "S", "not_shared")
    with acting(database, SYSTEM) as ctx:
        service.appeal_share_request(ctx, request_id, "履职确需，请求仲裁支持")
    return request_id


def _grant(database: Database, consumer: str, provider: str) -> int:
    app = application(database, consumer)
    out = request(
        database, SYSTEM, _entry(database, provider, "unconditional"), app, unit_code=consumer
    )
    assert out.grant_id is not None
    return out.grant_id


def _keyed(database: Database, unit: str) -> tuple[str, str]:
    app = application(database, unit)
    return app, key(database, app).split("_")[1]


_days = count()


def _day() -> date:
    return date(2030, 1, 1) + timedelta(days=next(_days))


Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "submit_share_request": (
        lambda d, u: (application(d, u), _entry(d, "S", "conditional"), u),
        lambda c, a: service.submit_share_request(
            c,
            RequestCreate.model_validate(
                {
                    "resource_code": a[1],  # type: ignore[index]
                    "application_code": a[0],  # type: ignore[index]
                    "unit_code": a[2],  # type: ignore[index]
                    "purpose": "核验身份",
                    "legal_basis": "条例",
                    "columns": ["姓名"],
                }
            ),
        ),
    ),
    "withdraw_share_request": (
        lambda d, u: _asked(d, u, "S", "conditional"),
        lambda c, r: service.withdraw_share_request(c, int(str(r)), "不再需要"),
    ),
    "decide_share_request": (
        _escalated,
        lambda c, r: service.decide_share_request(
            c,
            int(str(r)),
            DecisionIn(outcome="refuse", reason="用途不明确，未说明履职依据", basis="目录共享条件"),
        ),
    ),
    "extend_share_request": (
        lambda d, u: _asked(d, "S", u, "conditional"),
        lambda c, r: service.extend_share_request(
            c, int(str(r)), ExtensionIn(reason="需会同法制部门核实，延期答复")
        ),
    ),
    "escalate_overdue": (lambda d, u: u, lambda c, u: service.escalate_overdue(c)),
    "appeal_share_request": (
        lambda d, u: _asked(d, u, "S", "not_shared"),
        lambda c, r: service.appeal_share_request(c, int(str(r)), "履职确需，请求仲裁支持"),
    ),
    "arbitrate_share_request": (
        _appealed,
        lambda c, r: service.arbitrate_share_request(
            c, int(str(r)), DecisionIn(outcome="refuse", reason="维持原决定：目录登记为不予共享")
        ),
    ),
    "renew_grant": (
        lambda d, u: _grant(d, u, "S"),
        lambda c, g: service.renew_grant(c, int(str(g)), RenewalIn(duration_days=30)),
    ),
    "revoke_grant": (
        lambda d, u: _grant(d, "S", u),
        lambda c, g: service.revoke_grant(c, int(str(g)), "停止共享：业务系统已下线"),
    ),
    "view_share_requests": (
        lambda d, u: _asked(d, u, "S", "conditional"),
        lambda c, r: service.get_share_request(c, int(str(r))),
    ),
    "view_grants": (
        lambda d, u: _grant(d, u, "S"),
        lambda c, g: service.get_grant(c, int(str(g))),
    ),
    "register_application": (
        lambda d, u: u,
        lambda c, u: apps.register_application(
            c, ApplicationIn(code=f"M-{next(_n)}", name="新系统", unit_code=str(u))
        ),
    ),
    "retire_application": (
        lambda d, u: application(d, u),
        lambda c, a: apps.retire_application(c, str(a), "下线"),
    ),
    "view_applications": (
        lambda d, u: application(d, u),
        lambda c, a: apps.get_application(c, str(a)),
    ),
    "create_app_key": (
        lambda d, u: application(d, u),
        lambda c, a: apps.create_app_key(c, str(a), AppKeyIn()),
    ),
    "rotate_app_key": (
        _keyed,
        lambda c, k: apps.rotate_app_key(c, k[0], k[1], RotateIn()),  # type: ignore[index]
    ),
    "revoke_app_key": (
        _keyed,
        lambda c, k: apps.revoke_app_key(c, k[0], k[1]),  # type: ignore[index]
    ),
    "view_sharing_calendar": (
        lambda d, u: u,
        lambda c, u: calendar.get_calendar(c, "national", 2026),
    ),
    "manage_sharing_calendar": (
        lambda d, u: u,
        lambda c, u: calendar.set_calendar_day(
            c, "national", CalendarDayIn(day=_day(), kind=DayKind.HOLIDAY, name="测试")
        ),
    ),
    "view_notifications": (lambda d, u: u, lambda c, u: service.list_notifications(c)),
    "manage_own_notices": (lambda d, u: u, lambda c, u: service.get_notice_address(c)),
    "view_notice_outbox": (lambda d, u: u, lambda c, u: service.list_notice_outbox(c)),
}
