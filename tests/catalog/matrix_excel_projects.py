"""Permission-matrix rows for the compile-template import/export and the IT-project gate."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import cast

from shuzhi.catalog.excel import exporting
from shuzhi.catalog.excel import service as excel_service
from shuzhi.catalog.projects import service as projects
from shuzhi.catalog.projects.models import GateStage
from shuzhi.catalog.projects.schemas import ProjectCreate, ProjectDecision, ProjectUpdate
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.engine import Database
from tests.catalog import matrix
from tests.catalog.excel_helpers import entry_values, item_values, to_bytes, workbook
from tests.conftest import acting

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
LEADERS = {Role.CDO, Role.CDO_EXECUTIVE}
NONE: set[Role] = set()

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "import_workbook": (STAFF, NONE),
    "export_workbook": (R | STAFF, R),
    "view_projects": (R | STAFF, R),
    "create_project": (EXEC | STAFF, EXEC),
    "update_project": (EXEC | STAFF, EXEC),
    "check_project_gate": (LEADERS | STAFF, LEADERS),
    "approve_project": (EXEC, EXEC),
    "accept_project": (EXEC, EXEC),
}

_n = count()


def _file(database: Database, unit: str) -> tuple[str, bytes]:
    n = next(_n)
    code = f"101001/{900000 + n:06d}"
    content = to_bytes(
        workbook(
            [entry_values(code, name=f"导入矩阵{n}", 信息资源提供方代码=unit)],
            [item_values(code, "姓名")],
        )
    )
    return unit, content


def _project(database: Database, unit: str, state: str = "proposed") -> str:
    """A project of ``unit`` producing one published entry, taken to ``state``."""
    entry = matrix._entry(database, unit, "published")
    code = f"XM-{next(_n)}"
    with acting(database, SYSTEM) as ctx:
        data = ProjectCreate(
            code=code,
            name="矩阵项目",
            unit_code=unit,
            datasets=[{"name": "人口数据", "resource_code": entry}],
        )
        projects.create_project(ctx, data)
        if state == "approved":
            projects.approve_project(ctx, code, ProjectDecision())
    return code


Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]


def _import(c: Ctx, args: object) -> object:
    unit, content = cast(tuple[str, bytes], args)
    return excel_service.import_workbook(c, content, unit)


OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "import_workbook": (_file, _import),
    "export_workbook": (lambda d, u: u, lambda c, u: exporting.export_workbook(c, str(u))),
    "view_projects": (_project, lambda c, p: projects.get_project(c, str(p))),
    "create_project": (
        lambda d, u: u,
        lambda c, u: projects.create_project(
            c, ProjectCreate(code=f"XN-{next(_n)}", name="新项目", unit_code=str(u))
        ),
    ),
    "update_project": (
        _project,
        lambda c, p: projects.update_project(c, str(p), ProjectUpdate(name="改名项目")),
    ),
    "check_project_gate": (
        _project,
        lambda c, p: projects.check_project_gate(c, str(p), GateStage.APPROVAL),
    ),
    "approve_project": (
        _project,
        lambda c, p: projects.approve_project(c, str(p), ProjectDecision()),
    ),
    "accept_project": (
        lambda d, u: _project(d, u, "approved"),
        lambda c, p: projects.accept_project(c, str(p), ProjectDecision()),
    ),
}
