"""Base-library rows of the permission matrix (tests/auth/test_permission_matrix.py).

The library under test is owned by the unit under test. Reads of entities answer a reader
who may not read the library with the same 404 as an unknown entity; here that 404 (on an
entity that exists) counts as the refusal it stands for.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid, NotFound
from shuzhi.masterdata import service
from shuzhi.masterdata.models import (
    LibraryKind,
    MasterdataEntity,
    MasterdataLibrary,
    MasterdataReviewPair,
    MasterdataRun,
    ReviewDecision,
    ReviewStatus,
    RunMode,
    RunStatus,
)
from shuzhi.masterdata.schemas import LibraryIn, MemberIn, ReviewDecisionIn
from tests.conftest import acting
from tests.lake.helpers import published_entry
from tests.masterdata.helpers import load, person, rid

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
NONE: set[Role] = set()

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "view_masterdata": (R | STAFF, R),
    "define_masterdata_library": (EXEC | {Role.UNIT_CDO}, EXEC),
    "add_masterdata_member": (EXEC | STAFF, EXEC),
    "remove_masterdata_member": (EXEC | STAFF, EXEC),
    "run_masterdata_library": (EXEC | STAFF, EXEC),
    "view_masterdata_entity": (R | STAFF, R),
    "lookup_masterdata_entity": (R | STAFF, R),
    "view_masterdata_review_pair": (R | STAFF, R),
    "decide_masterdata_review_pair": (EXEC | STAFF, EXEC),
}

_n = count()
ENTITY = "P0000000000000001"


def _library(database: Database, unit: str) -> str:
    """A library of ``unit`` with one stored entity (person 1) in its current run."""
    code = f"lib{next(_n)}"
    with acting(database, SYSTEM) as ctx:
        service.define_masterdata_library(
            ctx, LibraryIn(code=code, name="测试库", kind=LibraryKind.PERSON, unit_code=unit)
        )
        library = ctx.db.query(MasterdataLibrary).filter_by(code=code).one()
        run = MasterdataRun(
            library_id=library.id,
            mode=RunMode.FULL,
            status=RunStatus.SUCCEEDED,
            created_by="test",
        )
        ctx.db.add(run)
        ctx.db.flush()
        ctx.db.add(
            MasterdataEntity(run_id=run.id, entity_id=ENTITY, members=1, ident=rid(1), golden={})
        )
        library.current_run_id = run.id
    return code


def _with_pair(database: Database, unit: str) -> tuple[str, int]:
    """A library of ``unit`` with one open review pair."""
    code = _library(database, unit)
    with acting(database, SYSTEM) as ctx:
        library = ctx.db.query(MasterdataLibrary).filter_by(code=code).one()
        pair = MasterdataReviewPair(
            library_id=library.id,
            fingerprint=f"fp{next(_n)}",
            left_resource_code="x/1",
            left_version=1,
            left_row=1,
            left_digest="a",
            right_resource_code="x/2",
            right_version=1,
            right_row=1,
            right_digest="b",
            probability=0.9,
            weight=3.0,
            explanation="",
            status=ReviewStatus.OPEN,
            note="",
            first_run_id=library.current_run_id,
            last_run_id=library.current_run_id,
        )
        ctx.db.add(pair)
        ctx.db.flush()
        return code, pair.id


def _with_member(database: Database, unit: str) -> tuple[str, str]:
    code = _library(database, unit)
    entry = published_entry(database, unit)
    load(database, entry, [person(i) for i in range(3)])
    return code, entry


def _member_added(database: Database, unit: str) -> tuple[str, str]:
    code, entry = _with_member(database, unit)
    with acting(database, SYSTEM) as ctx:
        service.add_masterdata_member(ctx, code, MemberIn(resource_code=entry))
    return code, entry


def _hidden(call: Callable[[Ctx, str], object]) -> Callable[[Ctx, object], object]:
    def run(ctx: Ctx, code: object) -> object:
        try:
            return call(ctx, str(code))
        except NotFound:
            raise Forbidden() from None

    return run


def _allowed_if_invalid(ctx: Ctx, code: object) -> object:
    """A run of a library without members is refused as invalid, after the permission."""
    try:
        return service.run_masterdata_library(ctx, str(code))
    except Invalid:
        return None


OPERATIONS: dict[str, tuple[Callable[[Database, str], object], Callable[[Ctx, object], object]]] = {
    "view_masterdata": (_library, lambda c, code: service.get_masterdata_library(c, str(code))),
    "define_masterdata_library": (
        lambda d, u: u,
        lambda c, u: service.define_masterdata_library(
            c,
            LibraryIn(
                code=f"new{next(_n)}", name="新库", kind=LibraryKind.PERSON, unit_code=str(u)
            ),
        ),
    ),
    "add_masterdata_member": (
        _with_member,
        lambda c, a: service.add_masterdata_member(
            c,
            a[0],  # type: ignore[index]
            MemberIn(resource_code=a[1]),  # type: ignore[index]
        ),
    ),
    "remove_masterdata_member": (
        _member_added,
        lambda c, a: service.remove_masterdata_member(c, a[0], a[1]),  # type: ignore[index]
    ),
    "run_masterdata_library": (_library, _allowed_if_invalid),
    "view_masterdata_entity": (
        _library,
        _hidden(lambda c, code: service.view_masterdata_entity(c, code, ENTITY)),
    ),
    "lookup_masterdata_entity": (
        _library,
        _hidden(lambda c, code: service.lookup_masterdata_entity(c, code, resident_id=rid(1))),
    ),
    "view_masterdata_review_pair": (
        _with_pair,
        lambda c, a: service.view_masterdata_review_pair(c, a[0], a[1]),  # type: ignore[index]
    ),
    "decide_masterdata_review_pair": (
        _with_pair,
        lambda c, a: service.decide_masterdata_review_pair(
            c,
            a[0],  # type: ignore[index]
            a[1],  # type: ignore[index]
            ReviewDecisionIn(decision=ReviewDecision.NOT_MATCH),
        ),
    ),
}
