"""Gateway rows of the permission matrix (tests/auth/test_permission_matrix.py)."""

from __future__ import annotations

from collections.abc import Callable

from shuzhi.context import Ctx, Role
from shuzhi.db.engine import Database
from shuzhi.gateway import stats

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
READERS = R | STAFF | {Role.CONSUMER}

# Statistics are scoped, not targeted: every reader sees its own slice of the calls.
EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "view_call_stats": (READERS, READERS),
}

Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "view_call_stats": (lambda d, u: u, lambda c, u: stats.call_stats(c, 7)),
}
