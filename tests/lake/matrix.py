"""Lake and quality rows of the permission matrix (tests/auth/test_permission_matrix.py)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.lake.schemas import SourceIn
from shuzhi.quality import service as quality
from shuzhi.quality.models import RuleKind
from shuzhi.quality.schemas import RuleIn
from tests.conftest import acting
from tests.lake.helpers import people_rows, published_entry, write_csv
from tests.scratch import Scratch

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
DECIDERS = EXEC | {Role.UNIT_CDO}
NONE: set[Role] = set()

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "ingest": (EXEC | STAFF, EXEC),
    "view_datasets": (R | STAFF, R),
    "view_dataset_rows": (EXEC | STAFF, EXEC),
    "accept_drift": (DECIDERS, EXEC),
    "reject_drift": (DECIDERS, EXEC),
    "override_classification": (DECIDERS, EXEC),
    "define_source": (EXEC | STAFF, EXEC),
    "run_due_sources": (EXEC, EXEC),
    "collect_lake_garbage": (EXEC, EXEC),
    "list_lake_tables": (EXEC, EXEC),
    "view_freshness": (R | STAFF, R | STAFF),
    "define_quality_rule": (EXEC | STAFF, EXEC),
    "update_quality_rule": (EXEC | STAFF, EXEC),
    "delete_quality_rule": (EXEC | STAFF, EXEC),
    "view_quality": (R | STAFF, R | STAFF),
    "mark_issue_fixed": (STAFF, NONE),
    "verify_issue": (DECIDERS, EXEC),
}

_n = count()
_dir = Scratch("shuzhi-matrix-")


def _csv(rows: list[list[str]], header: list[str] | None = None) -> FileSource:
    return FileSource(write_csv(_dir / f"m{next(_n)}.csv", rows, header))


def _entry(database: Database, unit: str) -> str:
    return published_entry(database, unit)


def _loaded(database: Database, unit: str) -> str:
    code = published_entry(database, unit)
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, _csv(people_rows(10)))
    return code


def _pending(database: Database, unit: str) -> str:
    code = _loaded(database, unit)
    rows = [[*r, "x"] for r in people_rows(10, 50)]
    header = ["姓名", "公民身份号码", "联系电话", "出生日期", "年龄", "备注"]
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, _csv(rows, header))
    return code


def _issue(database: Database, unit: str, fixed: bool = False) -> int:
    code = published_entry(database, unit)
    rows = [[*r[:4], ""] for r in people_rows(10)]
    with acting(database, SYSTEM) as ctx:
        quality.define_quality_rule(ctx, code, RuleIn(kind=RuleKind.NOT_NULL, column="年龄"))
        lake.ingest(ctx, code, _csv(rows))
        issue = quality.list_quality_issues(ctx, resource_code=code)[0].id
        if fixed:
            quality.mark_issue_fixed(ctx, issue, "已补录")
    return issue


def _rule(database: Database, unit: str) -> int:
    code = published_entry(database, unit)
    with acting(database, SYSTEM) as ctx:
        return quality.define_quality_rule(
            ctx, code, RuleIn(kind=RuleKind.NOT_NULL, column="年龄")
        ).id


Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "ingest": (_entry, lambda c, code: lake.ingest(c, str(code), _csv(people_rows(3)))),
    "view_datasets": (_loaded, lambda c, code: lake.list_dataset_versions(c, str(code))),
    "view_dataset_rows": (_loaded, lambda c, code: lake.sample_rows(c, str(code), 1)),
    "accept_drift": (_pending, lambda c, code: lake.accept_drift(c, str(code), 2)),
    "reject_drift": (
        _pending,
        lambda c, code: lake.reject_drift(c, str(code), 2, "字段与目录不符"),
    ),
    "override_classification": (
        _loaded,
        lambda c, code: lake.override_classification(c, str(code), "年龄", "none"),
    ),
    "define_source": (
        _entry,
        lambda c, code: lake.define_source(
            c,
            str(code),
            SourceIn(name="库", url="sqlite:///x.db", table="people", schedule="@daily"),
        ),
    ),
    "run_due_sources": (lambda d, u: u, lambda c, u: lake.run_due_sources(c.database, c.actor)),
    "collect_lake_garbage": (lambda d, u: u, lambda c, u: lake.collect_lake_garbage(c)),
    "list_lake_tables": (lambda d, u: u, lambda c, u: lake.published_tables(c)),
    "view_freshness": (lambda d, u: u, lambda c, u: lake.freshness_report(c)),
    "define_quality_rule": (
        _entry,
        lambda c, code: quality.define_quality_rule(
            c, str(code), RuleIn(kind=RuleKind.NOT_NULL, column="姓名")
        ),
    ),
    "update_quality_rule": (
        _rule,
        lambda c, i: quality.update_quality_rule(
            c, int(str(i)), RuleIn(kind=RuleKind.UNIQUE, column="姓名")
        ),
    ),
    "delete_quality_rule": (_rule, lambda c, i: quality.delete_quality_rule(c, int(str(i)))),
    "view_quality": (lambda d, u: u, lambda c, u: quality.list_quality_issues(c)),
    "mark_issue_fixed": (_issue, lambda c, i: quality.mark_issue_fixed(c, int(str(i)))),
    "verify_issue": (
        lambda d, u: _issue(d, u, fixed=True),
        lambda c, i: quality.verify_issue(c, int(str(i))),
    ),
}
