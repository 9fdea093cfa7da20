"""Sandbox rows of the permission matrix (tests/auth/test_permission_matrix.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from shuzhi.context import Ctx, Role
from shuzhi.db.engine import Database
from shuzhi.sandbox import service
from shuzhi.sandbox.rules import QueryRefused
from shuzhi.sandbox.schemas import QueryIn

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "run_sandbox_query": (STAFF | {Role.CONSUMER}, set()),
    "view_sandbox_grants": (R | STAFF | {Role.CONSUMER}, R),
    "view_sandbox_queries": (R | STAFF, R),
}


def _run(ctx: Ctx, unit: object) -> None:
    # Allowed callers get past the permission check to the parser.
    with contextlib.suppress(QueryRefused):
        service.run_query(ctx, QueryIn(sql="SELEC"), unit_code=str(unit))


Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "run_sandbox_query": (lambda d, u: u, _run),
    "view_sandbox_grants": (
        lambda d, u: u,
        lambda c, u: service.list_sandbox_grants(c, unit_code=str(u)),
    ),
    "view_sandbox_queries": (lambda d, u: u, lambda c, u: service.list_queries(c, str(u))),
}
