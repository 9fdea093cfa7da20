"""Every role against every service operation, on its own unit and on another unit.

The expected table below is written out by hand from design §2; a new operation in
``RULES`` fails ``test_every_rule_is_in_the_matrix`` until it is added here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from shuzhi.audit import service as audit
from shuzhi.audit import siem
from shuzhi.audit.schemas import AuditFilter
from shuzhi.auth import service as auth
from shuzhi.auth.permissions import RULES
from shuzhi.auth.schemas import (
    ApiKeyCreate,
    PasswordChange,
    PasswordReset,
    TotpStart,
    UserCreate,
)
from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden
from shuzhi.org import service as org
from shuzhi.org.models import Position, UnitKind
from shuzhi.org.schemas import AppointmentCreate, PersonCreate, UnitCreate
from tests.assess import matrix as assess_matrix
from tests.catalog import matrix as catalog_matrix
from tests.catalog import matrix_excel_projects as catalog_excel_matrix
from tests.cockpit import matrix as cockpit_matrix
from tests.conftest import acting
from tests.factories import PASSWORD, Org, seed_org
from tests.gateway import matrix as gateway_matrix
from tests.lake import matrix as datasets_matrix
from tests.market import matrix as market_matrix
from tests.market import matrix_books as market_books_matrix
from tests.masterdata import matrix as masterdata_matrix
from tests.masterdata import matrix_pushback as masterdata_pushback_matrix
from tests.portal import matrix as portal_matrix
from tests.sandbox import matrix as sandbox_matrix
from tests.secops import matrix as secops_matrix
from tests.sharing import matrix as sharing_matrix

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
NONE: set[Role] = set()

# operation → (roles allowed on their own unit, roles allowed on another unit)
EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "view_units": (R | STAFF, R | STAFF),
    "manage_units": (EXEC, EXEC),
    "view_people": (R | STAFF, R),
    "manage_people": (EXEC | STAFF, EXEC),
    "create_appointment": (EXEC | STAFF, EXEC),
    "submit_filing": (EXEC | STAFF, EXEC),
    "approve_filing": ({Role.CDO, Role.CDO_EXECUTIVE}, {Role.CDO, Role.CDO_EXECUTIVE}),
    "return_filing": ({Role.CDO, Role.CDO_EXECUTIVE}, {Role.CDO, Role.CDO_EXECUTIVE}),
    "end_appointment": (EXEC | {Role.UNIT_CDO}, EXEC),
    "view_appointments": (R | STAFF, R),
    "export_roster": (R | STAFF, R | STAFF),
    "view_org_overview": (R | STAFF, R | STAFF),
    "manage_users": (EXEC, EXEC),
    "view_users": (R, R),
    "manage_api_keys": (EXEC, EXEC),
    "reset_password": (EXEC, EXEC),
    "change_own_password": (set(Role), set(Role)),
    "manage_own_totp": (R, R),
    "view_audit": (R, R),
    "export_audit": (R, R),
    "verify_audit": ({Role.AUDITOR, Role.CDO_EXECUTIVE}, {Role.AUDITOR, Role.CDO_EXECUTIVE}),
    "export_audit_siem": (
        {Role.AUDITOR, Role.CDO_EXECUTIVE},
        {Role.AUDITOR, Role.CDO_EXECUTIVE},
    ),
    "archive_audit": (set(), set()),
}

_n = iter(range(10_000))


def _appointment(database: Database, unit: str, state: str) -> int:
    """A data-liaison appointment in ``unit``, taken to ``state`` by the system."""
    with acting(database, SYSTEM) as ctx:
        person = org.create_person(ctx, PersonCreate(unit_code=unit, name=f"测试{next(_n)}"))
        appt = org.create_appointment(
            ctx,
            AppointmentCreate(
                person_id=person.id, position=Position.DATA_LIAISON, appointed_on=date(2026, 1, 5)
            ),
        )
        if state == "submitted":
            org.submit_filing(ctx, appt.id)
        return appt.id


def _person(database: Database, unit: str) -> int:
    with acting(database, SYSTEM) as ctx:
        return org.create_person(ctx, PersonCreate(unit_code=unit, name=f"人员{next(_n)}")).id


def _change_and_back(ctx: Ctx) -> None:
    """Change one's own password, then back, so the next call knows the password again."""
    other = "Spare-lantern-orchid-42"
    auth.change_password(ctx, PasswordChange(current_password=PASSWORD, new_password=other))
    auth.change_password(ctx, PasswordChange(current_password=other, new_password=PASSWORD))


# operation → (prepare(database, unit) -> args, call(ctx, args))
Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "view_units": (lambda d, u: u, lambda c, u: org.list_units(c)),
    "manage_units": (
        lambda d, u: u,
        lambda c, u: org.create_unit(
            c,
            UnitCreate(
                code=f"N{next(_n)}", name="新设单位", kind=UnitKind.DEPARTMENT, parent_code="R"
            ),
        ),
    ),
    "view_people": (lambda d, u: u, lambda c, u: org.list_people(c, str(u))),
    "manage_people": (
        lambda d, u: u,
        lambda c, u: org.create_person(c, PersonCreate(unit_code=str(u), name="新人员")),
    ),
    "create_appointment": (
        _person,
        lambda c, p: org.create_appointment(
            c,
            AppointmentCreate(
                person_id=int(str(p)), position=Position.DATA_LIAISON, appointed_on=date(2026, 2, 1)
            ),
        ),
    ),
    "submit_filing": (
        lambda d, u: _appointment(d, u, "draft"),
        lambda c, a: org.submit_filing(c, int(str(a))),
    ),
    "approve_filing": (
        lambda d, u: _appointment(d, u, "submitted"),
        lambda c, a: org.approve_filing(c, int(str(a))),
    ),
    "return_filing": (
        lambda d, u: _appointment(d, u, "submitted"),
        lambda c, a: org.return_filing(c, int(str(a)), "任命材料不全"),
    ),
    "end_appointment": (
        lambda d, u: _appointment(d, u, "draft"),
        lambda c, a: org.end_appointment(c, int(str(a)), "调岗"),
    ),
    "view_appointments": (
        lambda d, u: _appointment(d, u, "draft"),
        lambda c, a: org.get_appointment(c, int(str(a))),
    ),
    "export_roster": (lambda d, u: u, lambda c, u: org.export_roster(c)),
    "view_org_overview": (lambda d, u: u, lambda c, u: org.org_overview(c)),
    "manage_users": (
        lambda d, u: u,
        lambda c, u: auth.create_user(
            c,
            UserCreate(
                username=f"new{next(_n)}",
                display_name="新账号",
                password="Another-pass-9",
                role=Role.AUDITOR,
            ),
        ),
    ),
    "view_users": (lambda d, u: u, lambda c, u: auth.list_users(c)),
    "manage_api_keys": (
        lambda d, u: u,
        lambda c, u: auth.create_api_key(
            c, ApiKeyCreate(name="系统", role=Role.CONSUMER, unit_code=str(u))
        ),
    ),
    "reset_password": (
        lambda d, u: u,
        lambda c, u: auth.reset_password(c, "operator", PasswordReset()),
    ),
    "change_own_password": (lambda d, u: u, lambda c, u: _change_and_back(c)),
    "manage_own_totp": (
        lambda d, u: u,
        lambda c, u: auth.start_totp(c, TotpStart(password=PASSWORD)),
    ),
    "view_audit": (lambda d, u: u, lambda c, u: audit.view_audit(c)),
    "export_audit": (
        lambda d, u: u,
        lambda c, u: audit.export_audit(c, AuditFilter(), "csv", {}),
    ),
    "verify_audit": (lambda d, u: u, lambda c, u: audit.verify_audit(c)),
    "export_audit_siem": (
        lambda d, u: u,
        lambda c, u: siem.export_for_siem(
            c, io.StringIO(), utcnow() - timedelta(days=1), utcnow(), "jsonl"
        ),
    ),
    "archive_audit": (lambda d, u: u, lambda c, u: audit.archive_audit(c, utcnow())),
}

EXPECTED.update(catalog_matrix.EXPECTED)
OPERATIONS.update(catalog_matrix.OPERATIONS)
EXPECTED.update(catalog_excel_matrix.EXPECTED)
OPERATIONS.update(catalog_excel_matrix.OPERATIONS)
EXPECTED.update(datasets_matrix.EXPECTED)
OPERATIONS.update(datasets_matrix.OPERATIONS)
EXPECTED.update(sharing_matrix.EXPECTED)
OPERATIONS.update(sharing_matrix.OPERATIONS)
EXPECTED.update(gateway_matrix.EXPECTED)
OPERATIONS.update(gateway_matrix.OPERATIONS)
EXPECTED.update(sandbox_matrix.EXPECTED)
OPERATIONS.update(sandbox_matrix.OPERATIONS)
EXPECTED.update(cockpit_matrix.EXPECTED)
OPERATIONS.update(cockpit_matrix.OPERATIONS)
EXPECTED.update(portal_matrix.EXPECTED)
OPERATIONS.update(portal_matrix.OPERATIONS)
EXPECTED.update(assess_matrix.EXPECTED)
OPERATIONS.update(assess_matrix.OPERATIONS)
EXPECTED.update(market_matrix.EXPECTED)
OPERATIONS.update(market_matrix.OPERATIONS)
EXPECTED.update(market_books_matrix.EXPECTED)
OPERATIONS.update(market_books_matrix.OPERATIONS)
EXPECTED.update(masterdata_matrix.EXPECTED)
OPERATIONS.update(masterdata_matrix.OPERATIONS)
EXPECTED.update(masterdata_pushback_matrix.EXPECTED)
OPERATIONS.update(masterdata_pushback_matrix.OPERATIONS)
EXPECTED.update(secops_matrix.EXPECTED)
OPERATIONS.update(secops_matrix.OPERATIONS)


def test_every_rule_is_in_the_matrix() -> None:
    assert set(RULES) == set(EXPECTED) == set(OPERATIONS)


class _Outcomes:
    """One operation tried by each role on a unit. What the operation acts on is prepared
    afresh only after a call went through (it may have consumed it): a refused call changes
    nothing, so the next role meets the same state (and most roles are refused)."""

    def __init__(self, database: Database, seeded: Org, operation: str) -> None:
        self.database, self.seeded = database, seeded
        self.prepare, self.call = OPERATIONS[operation]
        self.prepared: dict[str, object] = {}

    def allowed(self, role: Role, unit: str) -> bool:
        if unit not in self.prepared:
            self.prepared[unit] = self.prepare(self.database, unit)
        try:
            with acting(self.database, self.seeded.actor(role)) as ctx:
                self.call(ctx, self.prepared[unit])
        except Forbidden:
            return False
        del self.prepared[unit]
        return True


@pytest.mark.parametrize("operation", sorted(EXPECTED))
def test_role_matrix(database: Database, operation: str) -> None:
    outcomes = _Outcomes(database, seed_org(database), operation)
    own, other = EXPECTED[operation]
    for role in Role:
        # Unit-scoped accounts belong to A; region accounts to R. "Other" is department B.
        assert outcomes.allowed(role, "A") == (role in own), f"{operation} by {role} on own unit"
        assert outcomes.allowed(role, "B") == (role in other), (
            f"{operation} by {role} on another unit"
        )


def test_denials_are_audited(database: Database) -> None:
    seeded = seed_org(database)
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        org.create_unit(
            ctx, UnitCreate(code="X1", name="越权单位", kind=UnitKind.DEPARTMENT, parent_code="R")
        )
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        page = audit.view_audit(ctx, action="operation.denied")
        assert org.unit_id_for_code(ctx, "X1") is None
    assert page.total == 1
    entry = page.items[0]
    assert entry.actor == "user:a.liaison" and entry.outcome == "denied"
    assert entry.details["operation"] == "manage_units"


# ---------------------------------------------------------------- lists of unpublished entries

# Who may read the review queue (submitted, unpublished entries): region readers and their
# own unit's staff. A consumer belongs to a unit too, but sees published entries only.
REVIEW_QUEUE = R | STAFF


def test_review_queue_is_scoped_to_who_may_see_drafts(database: Database) -> None:
    seeded = seed_org(database)
    own = catalog_matrix._entry(database, "A", "submitted")
    other = catalog_matrix._entry(database, "B", "submitted")
    for role in Role:
        try:
            with acting(database, seeded.actor(role)) as ctx:
                queue = {e.resource_code for e in catalog.review_queue(ctx)}
        except Forbidden:
            queue = None
        assert (queue is not None) == (role in REVIEW_QUEUE), role
        if queue is not None:
            assert queue == ({own, other} if role in R else {own}), role
    # The overview's counts follow the same rule: a consumer of A counts no drafts of A.
    with acting(database, seeded.actor(Role.CONSUMER)) as ctx:
        assert catalog.catalog_overview(ctx).submitted == 0
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert catalog.catalog_overview(ctx).submitted == 1


def test_consumer_key_does_not_list_unpublished_entries(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    code = catalog_matrix._entry(database, "A", "submitted")
    with acting(database, SYSTEM) as ctx:
        key = auth.create_api_key(ctx, ApiKeyCreate(name="系统", role=Role.CONSUMER, unit_code="A"))
        name = catalog.get_entry(ctx, code).name
    headers = {"Authorization": f"Bearer {key.token}"}
    queue = client.get("/api/v1/catalog/review-queue", headers=headers)
    assert queue.status_code == 403
    assert code not in queue.text and name not in queue.text
    with acting(database, SYSTEM) as ctx:
        denied = audit.view_audit(ctx, action="operation.denied")
    assert any(e.details["operation"] == "view_entry_drafts" for e in denied.items)
    # The other lists a consumer key may read show published entries only.
    listed = client.get("/api/v1/catalog/entries", headers=headers)
    assert listed.status_code == 200 and code not in listed.text and name not in listed.text
    single = client.get(f"/api/v1/catalog/entries/{code}", headers=headers)
    assert single.status_code == 404 and name not in single.text
    overview = client.get("/api/v1/catalog/overview", headers=headers)
    assert overview.status_code == 200 and overview.json()["submitted"] == 0
