"""Push-back rows of the permission matrix (tests/auth/test_permission_matrix.py).

Operations of the library's unit (define, refresh, retire) run on a library owned by the unit
under test; the street's operations (view, read, report) on a push-back whose *target* is
the unit under test, in a library of the region. A call refused after the permission check
for another reason (no run yet, no grant, a record not delivered) counts as allowed."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Invalid
from shuzhi.masterdata import pushback, pushback_delivery, pushback_reports, service
from shuzhi.masterdata.models import LibraryKind, MasterdataLibrary
from shuzhi.masterdata.pushback_models import MasterdataPushback
from shuzhi.masterdata.pushback_schemas import PushbackIn, ReportIn
from shuzhi.masterdata.schemas import LibraryIn
from shuzhi.org import service as org
from tests.conftest import acting

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
NONE: set[Role] = set()

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "define_masterdata_pushback": (EXEC | STAFF, EXEC),
    "refresh_masterdata_pushbacks": (EXEC | STAFF, EXEC),
    "retire_masterdata_pushback": (EXEC | STAFF, EXEC),
    "view_masterdata_pushback": (R | STAFF, R),
    "read_masterdata_pushback": (STAFF, NONE),
    "report_masterdata_record": (STAFF, NONE),
}

_n = count()


def _library(database: Database, unit: str) -> str:
    code = f"pb{next(_n)}"
    with acting(database, SYSTEM) as ctx:
        service.define_masterdata_library(
            ctx, LibraryIn(code=code, name="测试库", kind=LibraryKind.PERSON, unit_code=unit)
        )
    return code


def _pushback(database: Database, library_unit: str, target_unit: str) -> tuple[str, int]:
    """A push-back row (no channel: the matrix is about who may ask)."""
    code = _library(database, library_unit)
    with acting(database, SYSTEM) as ctx:
        library = ctx.db.query(MasterdataLibrary).filter_by(code=code).one()
        target = org.unit_id_for_code(ctx, target_unit)
        assert target is not None
        row = MasterdataPushback(
            library_id=library.id,
            name="测试反哺",
            target_unit_id=target,
            division_code="330106",
            street="北山街道",
            columns=["name"],
            conditions=[],
            masking={},
            resource_code="none/000000",
            application_code="MD-PB0",
            created_by="test",
        )
        ctx.db.add(row)
        ctx.db.flush()
        return code, row.id


def _delivered_to(database: Database, unit: str) -> tuple[str, int]:
    return _pushback(database, "R", unit)


def _owned_by(database: Database, unit: str) -> tuple[str, int]:
    return _pushback(database, unit, "S")


def _tolerant(call: Callable[[Ctx, tuple[str, int]], object]) -> Callable[[Ctx, object], object]:
    def run(ctx: Ctx, args: object) -> object:
        try:
            return call(ctx, args)  # type: ignore[arg-type]
        except (Invalid, Conflict):
            return None

    return run


def _define(ctx: Ctx, unit: object) -> object:
    code = str(unit)
    data = PushbackIn(
        name=f"反哺{next(_n)}",
        target_unit_code="S",
        division_code="330106",
        street="北山街道",
        columns=["姓名"],
    )
    return pushback.define_masterdata_pushback(ctx, code, data)


OPERATIONS: dict[str, tuple[Callable[[Database, str], object], Callable[[Ctx, object], object]]] = {
    "define_masterdata_pushback": (_library, _define),
    "refresh_masterdata_pushbacks": (
        _owned_by,
        _tolerant(lambda c, a: pushback_delivery.refresh_masterdata_pushbacks(c, a[0])),
    ),
    "retire_masterdata_pushback": (
        _owned_by,
        lambda c, a: pushback.retire_masterdata_pushback(
            c,
            a[0],  # type: ignore[index]
            a[1],  # type: ignore[index]
            "测试停止反哺的原因说明",
        ),
    ),
    "view_masterdata_pushback": (
        _delivered_to,
        lambda c, a: pushback.get_masterdata_pushback(c, a[0], a[1]),  # type: ignore[index]
    ),
    "read_masterdata_pushback": (
        _delivered_to,
        _tolerant(lambda c, a: pushback_reports.read_masterdata_pushback(c, a[0], a[1])),
    ),
    "report_masterdata_record": (
        _delivered_to,
        _tolerant(
            lambda c, a: pushback_reports.report_masterdata_record(
                c,
                a[0],
                a[1],
                ReportIn(entity_id="P0000000000000001", attribute="姓名", problem="姓名写错了字"),
            )
        ),
    ),
}
