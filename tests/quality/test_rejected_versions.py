"""A rejected version's quality findings never stay on its unit's list of open issues."""

from __future__ import annotations

from pathlib import Path

from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.models import VersionStatus
from shuzhi.lake.readers import FileSource
from shuzhi.quality import service as quality
from shuzhi.quality.models import IssueStatus, RuleKind
from shuzhi.quality.schemas import RuleIn
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv

DRIFTED = ["姓名", "公民身份号码", "联系电话", "出生日期", "年龄", "备注"]


def _drifted(rows: list[list[str]], bad_ages: int) -> list[list[str]]:
    out = [[*r, "x"] for r in rows]
    for row in out[:bad_ages]:
        row[4] = "200"
    out[0][0] = ""  # a missing name
    return out


def test_rejecting_a_version_withdraws_its_issues(database: Database, tmp_path: Path) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    liaison, cdo = seeded.actor(Role.DATA_LIAISON), seeded.actor(Role.UNIT_CDO)
    first = people_rows(20)
    first[3][4] = "150"  # the current version already fails the range rule once
    with acting(database, liaison) as ctx:
        quality.define_quality_rule(ctx, code, RuleIn(kind=RuleKind.NOT_NULL, column="姓名"))
        quality.define_quality_rule(
            ctx, code, RuleIn(kind=RuleKind.RANGE, column="年龄", params={"min": 0, "max": 120})
        )
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", first)))
        rows = _drifted(people_rows(20, 100), bad_ages=5)
        second = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "b.csv", rows, DRIFTED)))
        assert second.version.status is VersionStatus.PENDING_REVIEW
        before = quality.list_quality_issues(ctx, resource_code=code)
    assert {(i.kind, i.version_number, i.failing) for i in before} == {
        (RuleKind.NOT_NULL, 2, 1),
        (RuleKind.RANGE, 2, 5),
    }
    with acting(database, cdo) as ctx:
        lake.reject_drift(ctx, code, 2, "字段与目录不符")
    with acting(database, liaison) as ctx:
        after = quality.list_quality_issues(ctx, resource_code=code, status=IssueStatus.OPEN)
        board = quality.quality_scores(ctx)
    # The issue the rejected version raised is gone; the one it had updated is the current
    # version's again, with the current version's figures.
    assert [(i.kind, i.version_number, i.failing) for i in after] == [(RuleKind.RANGE, 1, 1)]
    assert "1 of 20" in after[0].summary
    unit = next(u for u in board.units if u.unit_code == "A")
    assert unit.open_issues == 1


def test_an_accepted_version_keeps_its_issues(database: Database, tmp_path: Path) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    liaison, cdo = seeded.actor(Role.DATA_LIAISON), seeded.actor(Role.UNIT_CDO)
    with acting(database, liaison) as ctx:
        quality.define_quality_rule(ctx, code, RuleIn(kind=RuleKind.NOT_NULL, column="姓名"))
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(20))))
        rows = _drifted(people_rows(20, 100), bad_ages=0)
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "b.csv", rows, DRIFTED)))
    with acting(database, cdo) as ctx:
        lake.accept_drift(ctx, code, 2, "新字段")
        issues = quality.list_quality_issues(ctx, resource_code=code)
    assert [(i.kind, i.version_number) for i in issues] == [(RuleKind.NOT_NULL, 2)]
