"""Sandbox rows of the permission matrix (tests/auth/test_permission_matrix.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from shuzhi.context import Ctx, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid, NotFound
from shuzhi.sandbox import releases, service
from shuzhi.sandbox.rules import QueryRefused
from shuzhi.sandbox.schemas import QueryIn, ReleaseDecisionIn, ReleaseIn, TemplateIn

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


# ---- releases and templates -------------------------------------------------------------


def _query(database: Database, unit: str) -> int:
    from shuzhi.context import SYSTEM
    from shuzhi.org import service as org
    from shuzhi.sandbox.models import QueryStatus, SandboxQuery
    from tests.conftest import acting

    with acting(database, SYSTEM) as ctx:
        unit_id = org.unit_id_for_code(ctx, unit)
        assert unit_id is not None
        row = SandboxQuery(
            analyst=f"unit:{unit_id}",
            unit_id=unit_id,
            actor="user:x",
            sql="SELECT 1",
            status=QueryStatus.DONE,
            plan={},
            rows_released=0,
            suppressed=0,
        )
        ctx.db.add(row)
        ctx.db.flush()
        return row.id


def _release(database: Database, unit: str) -> int:
    """A pending release asked by unit A of a query over unit ``unit``'s data."""
    from shuzhi.context import SYSTEM
    from shuzhi.org import service as org
    from shuzhi.sandbox.models import (
        ReleaseStatus,
        ReleaseTarget,
        SandboxRelease,
        SandboxReleaseReview,
    )
    from tests.conftest import acting

    query = _query(database, unit)
    with acting(database, SYSTEM) as ctx:
        provider = org.unit_id_for_code(ctx, unit)
        assert provider is not None
        row = SandboxRelease(
            query_id=query,
            unit_id=provider,
            requested_by="user:x",
            purpose="p",
            target=ReleaseTarget.DOWNLOAD,
            figures={"columns": [], "rows": []},
            status=ReleaseStatus.PENDING,
        )
        ctx.db.add(row)
        ctx.db.flush()
        ctx.db.add(
            SandboxReleaseReview(
                release_id=row.id, provider_unit_id=provider, status=ReleaseStatus.PENDING
            )
        )
        return row.id


def _allowed_past(call: Callable[[], object]) -> None:
    # Allowed callers get past the permission check to the next rule.
    with contextlib.suppress(NotFound, Invalid):
        call()


EXPECTED.update(
    {
        "request_sandbox_release": (STAFF | {Role.CONSUMER}, set()),
        "decide_sandbox_release": ({Role.UNIT_CDO}, set()),
        "view_sandbox_releases": (R | STAFF | {Role.CONSUMER}, R),
        "download_sandbox_release": (STAFF | {Role.CONSUMER}, set()),
        "manage_sandbox_templates": ({Role.UNIT_CDO}, set()),
        "view_sandbox_templates": (R | STAFF | {Role.CONSUMER}, R | STAFF | {Role.CONSUMER}),
    }
)
OPERATIONS.update(
    {
        "request_sandbox_release": (
            _query,
            lambda c, q: _allowed_past(
                lambda: releases.request_release(c, ReleaseIn(query_id=int(str(q)), purpose="p"))
            ),
        ),
        "decide_sandbox_release": (
            _release,
            lambda c, r: releases.decide_release(c, int(str(r)), ReleaseDecisionIn(approve=True)),
        ),
        "view_sandbox_releases": (
            lambda d, u: u,
            lambda c, u: releases.list_releases(c, str(u)),
        ),
        "download_sandbox_release": (
            _release,
            lambda c, r: _allowed_past(lambda: releases.release_file(c, int(str(r)))),
        ),
        "manage_sandbox_templates": (
            lambda d, u: u,
            lambda c, u: releases.create_template(
                c,
                TemplateIn(name="t", sql="SELECT COUNT(*) FROM ds_x"),
                str(u),
            ),
        ),
        "view_sandbox_templates": (lambda d, u: u, lambda c, u: releases.list_templates(c)),
    }
)
