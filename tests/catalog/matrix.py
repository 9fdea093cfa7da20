"""Catalog rows of the permission matrix (tests/auth/test_permission_matrix.py).

Each operation: the roles allowed on their own unit and on another unit, and how to
prepare a target in a unit and call the operation on it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import count

from shuzhi.catalog import service
from shuzhi.catalog.schemas import (
    CodeIn,
    ConflictResolve,
    DutyIn,
    ElementIn,
    EntryCreate,
    EntryUpdate,
)
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, NotFound
from tests.catalog.helpers import entry_data, item
from tests.conftest import acting

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
READERS = R | STAFF | {Role.CONSUMER}
NONE: set[Role] = set()

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "view_catalog": (READERS, READERS),
    "view_entry_drafts": (R | STAFF, R),
    "create_entry": (STAFF, NONE),
    "update_entry": (STAFF, NONE),
    "submit_entry": (STAFF, NONE),
    "approve_entry": ({Role.UNIT_CDO}, NONE),
    "return_entry": ({Role.UNIT_CDO}, NONE),
    "revise_entry": (STAFF, NONE),
    "withdraw_entry": ({Role.UNIT_CDO}, NONE),
    "set_publish_date": (NONE, NONE),
    "export_catalog": (READERS, READERS),
    "view_code_tables": (READERS, READERS),
    "manage_code_tables": (EXEC, EXEC),
    "manage_data_elements": (EXEC, EXEC),
    "view_source_conflicts": (R | STAFF, R | STAFF),
    "resolve_source_conflict": (EXEC, EXEC),
    "view_function_list": (R | STAFF, R),
    "manage_function_list": (EXEC | STAFF, EXEC),
    "view_compile_rate": (R | STAFF, R | STAFF),
}

_n = count()


def _entry(database: Database, unit: str, state: str) -> str:
    """An entry of ``unit`` taken to ``state`` by the system; returns its resource code."""
    with acting(database, SYSTEM) as ctx:
        data = EntryCreate.model_validate(entry_data(name=f"矩阵目录{next(_n)}", unit_code=unit))
        code = service.create_entry(ctx, data).resource_code
        if state in ("submitted", "published"):
            service.submit_entry(ctx, code)
        if state == "published":
            service.approve_entry(ctx, code)
    return code


def _conflict(database: Database, unit: str) -> int:
    """A fresh element whose source is another unit, claimed by ``unit``: one open conflict."""
    n = next(_n)
    element = f"TX{n}"
    other = "B" if unit != "B" else "A"
    with acting(database, SYSTEM) as ctx:
        service.save_element(ctx, ElementIn(code=element, name=f"测试数据元{n}", data_type="C"))
    for owner in (other, unit):
        with acting(database, SYSTEM) as ctx:
            items = [item(f"测试项{n}", element_code=element, is_source=True)]
            data = entry_data(name=f"冲突目录{next(_n)}", unit_code=owner, items=items)
            code = service.create_entry(ctx, EntryCreate.model_validate(data)).resource_code
            service.submit_entry(ctx, code)
            service.approve_entry(ctx, code)
    with acting(database, SYSTEM) as ctx:
        return service.list_conflicts(ctx)[0].id


Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]


def _hidden_is_denied(call: Callable[[Ctx, str], object]) -> Call:
    """An unpublished entry the actor may not see reads as not found, for reading and writing
    alike (nothing tells it exists); the matrix counts that as denied."""

    def counted(ctx: Ctx, code: object) -> object:
        try:
            return call(ctx, str(code))
        except NotFound:
            raise Forbidden() from None

    return counted


def _fresh_code(ctx: Ctx, _u: object) -> object:
    return service.save_code(ctx, "update_cycle", f"X{next(_n)}", CodeIn(label_zh="测试周期"))


OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "view_catalog": (lambda d, u: u, lambda c, u: service.list_entries(c, "人口")),
    "view_entry_drafts": (lambda d, u: _entry(d, u, "draft"), _hidden_is_denied(service.get_entry)),
    "create_entry": (
        lambda d, u: u,
        lambda c, u: service.create_entry(
            c, EntryCreate.model_validate(entry_data(name=f"新目录{next(_n)}", unit_code=u))
        ),
    ),
    "update_entry": (
        lambda d, u: _entry(d, u, "draft"),
        _hidden_is_denied(
            lambda c, e: service.update_entry(
                c, e, EntryUpdate.model_validate(entry_data(name=f"改名{next(_n)}"))
            )
        ),
    ),
    "submit_entry": (
        lambda d, u: _entry(d, u, "draft"),
        _hidden_is_denied(service.submit_entry),
    ),
    "approve_entry": (
        lambda d, u: _entry(d, u, "submitted"),
        _hidden_is_denied(service.approve_entry),
    ),
    "return_entry": (
        lambda d, u: _entry(d, u, "submitted"),
        _hidden_is_denied(lambda c, e: service.return_entry(c, e, "请补充信息项说明")),
    ),
    "revise_entry": (
        lambda d, u: _entry(d, u, "published"),
        lambda c, e: service.revise_entry(c, str(e)),
    ),
    "withdraw_entry": (
        lambda d, u: _entry(d, u, "published"),
        lambda c, e: service.withdraw_entry(c, str(e), "该资源已停止采集"),
    ),
    "set_publish_date": (
        lambda d, u: _entry(d, u, "published"),
        lambda c, e: service.set_publish_date(c, str(e), date(2024, 5, 1)),
    ),
    "export_catalog": (lambda d, u: u, lambda c, u: service.export_dcat(c)),
    "view_code_tables": (lambda d, u: u, lambda c, u: service.list_code_tables(c)),
    "manage_code_tables": (lambda d, u: u, _fresh_code),
    "manage_data_elements": (
        lambda d, u: u,
        lambda c, u: service.save_element(
            c, ElementIn(code=f"NE{next(_n)}", name=f"新数据元{next(_n)}", data_type="C")
        ),
    ),
    "view_source_conflicts": (lambda d, u: u, lambda c, u: service.list_conflicts(c)),
    "resolve_source_conflict": (
        _conflict,
        lambda c, k: service.resolve_source_conflict(
            c, int(str(k)), ConflictResolve(source_unit_code="A")
        ),
    ),
    "view_function_list": (lambda d, u: u, lambda c, u: service.list_tasks(c, str(u))),
    "manage_function_list": (
        lambda d, u: u,
        lambda c, u: service.create_duty(
            c, DutyIn(unit_code=str(u), code=f"ZN{next(_n)}", name="测试职能")
        ),
    ),
    "view_compile_rate": (lambda d, u: u, lambda c, u: service.compile_rate(c)),
}
