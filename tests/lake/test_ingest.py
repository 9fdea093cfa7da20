"""Ingest through the service: versions, idempotency, failures, schema drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from shuzhi.audit import service as audit
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.lake import service as lake
from shuzhi.lake.models import VersionStatus
from shuzhi.lake.readers import DatabaseSource, FileSource
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv


def _files(directory: Path) -> set[str]:
    return {p.name for p in directory.rglob("*") if p.is_file() and p.name != ".lock"}


def test_ingest_creates_current_version_with_analysis(database: Database, tmp_path: Path) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    source = write_csv(tmp_path / "people.csv", people_rows(300), encoding="gbk")
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        result = lake.ingest(ctx, code, FileSource(source))
    v = result.version
    assert result.outcome == "created"
    assert v.status is VersionStatus.CURRENT and v.number == 1 and v.row_count == 300
    assert not v.schema_check.drift and v.schema_check.checked
    assert v.source["encoding"] in ("gbk", "gb18030")
    categories = {c.name: c.category for c in v.classification}
    assert categories["公民身份号码"] == "resident_id"
    assert categories["联系电话"] == "mobile_phone"
    assert categories["姓名"] == "person_name"
    assert v.grade is not None and v.grade.sensitive_personal and v.grade.level == "general_4"
    ids = v.profile.columns[1]
    assert ids.masked and ids.min is not None and "*" in ids.min
    assert v.quality_score is None and v.quality_score_reason == "no_rules"  # no rules
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        assert audit.view_audit(ctx, action="lake.version_ingested").total == 1


def test_same_content_is_unchanged(database: Database, tmp_path: Path) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    source = write_csv(tmp_path / "p.csv", people_rows(50))
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        lake.ingest(ctx, code, FileSource(source))
    before = _files(database.settings.data_dir / "datasets")
    with acting(database, liaison) as ctx:
        again = lake.ingest(ctx, code, FileSource(source))
    assert again.outcome == "unchanged" and again.version.number == 1
    assert _files(database.settings.data_dir / "datasets") == before
    with acting(database, liaison) as ctx:
        changed = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "q.csv", people_rows(60))))
        versions = lake.list_dataset_versions(ctx, code)
    assert changed.version.number == 2
    assert [(v.number, v.status) for v in versions] == [
        (2, VersionStatus.CURRENT),
        (1, VersionStatus.SUPERSEDED),
    ]


BAD_INPUTS = {
    "empty.csv": b"",
    "header_only.csv": "姓名,公民身份号码\n".encode(),
    "binary.csv": bytes(range(256)) * 64,
    "ragged.csv": ("姓名,公民身份号码,联系电话\n" + "张三,1,2,3,4\n李四\n" * 50).encode(),
    "mixed.csv": "姓名,地址\n张三,杭州\n".encode() + "李四,上海\n".encode("gbk") * 30,
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_files_fail_cleanly_and_keep_the_current_version(
    database: Database, tmp_path: Path, name: str
) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "ok.csv", people_rows(20))))
    before = _files(database.settings.data_dir / "datasets")
    bad = tmp_path / name
    bad.write_bytes(BAD_INPUTS[name])
    outcome = None
    try:
        with acting(database, liaison) as ctx:
            outcome = lake.ingest(ctx, code, FileSource(bad))
    except Invalid as err:
        assert err.message.zh and err.message.en
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        failed = audit.view_audit(ctx, action="lake.ingest_failed").total
    with acting(database, liaison) as ctx:
        latest = lake.get_dataset_version(ctx, code)
    if outcome is None:
        assert failed == 1
        assert _files(database.settings.data_dir / "datasets") == before
        assert latest.number == 1 and latest.status is VersionStatus.CURRENT
    else:  # loaded with clearly reported rejects, or as a (drifting) version for review
        assert outcome.version.rejects.count > 0 or outcome.version.schema_check.drift


def test_unreachable_database_is_a_clear_error(database: Database) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    url = "postgresql://user:s3cret@127.0.0.1:1/nowhere"
    with pytest.raises(Invalid) as caught, acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        lake.ingest(ctx, code, DatabaseSource(url, table="people"))
    assert "s3cret" not in caught.value.message.en
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        page = audit.view_audit(ctx, action="lake.ingest_failed")
    assert page.total == 1
    assert "s3cret" not in str(page.items[0].details)


def test_drift_waits_for_the_unit_cdo(database: Database, tmp_path: Path) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    liaison, cdo = seeded.actor(Role.DATA_LIAISON), seeded.actor(Role.UNIT_CDO)
    with acting(database, liaison) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(20))))
    rows = [[r[0], r[1], r[2], "不详", r[4], "x"] for r in people_rows(20, 100)]
    header = ["姓名", "公民身份号码", "电话", "出生日期", "年龄", "备注"]
    with acting(database, liaison) as ctx:
        drifted = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "b.csv", rows, header)))
    check = drifted.version.schema_check
    assert drifted.version.status is VersionStatus.PENDING_REVIEW
    assert check.missing == ["联系电话"] and set(check.extra) == {"电话", "备注"}
    assert [c.name for c in check.type_changed] == ["出生日期"]
    with acting(database, liaison) as ctx:
        assert lake.get_dataset_version(ctx, code).number == 1  # still the current one
    with pytest.raises(Forbidden), acting(database, liaison) as ctx:
        lake.accept_drift(ctx, code, 2)
    with acting(database, cdo) as ctx:
        lake.accept_drift(ctx, code, 2, "新系统字段")
        assert lake.get_dataset_version(ctx, code).number == 2
    with pytest.raises(Conflict), acting(database, cdo) as ctx:
        lake.reject_drift(ctx, code, 2, "again, still wrong")
    with acting(database, liaison) as ctx:
        third = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "c.csv", rows[:5], header)))
    with acting(database, cdo) as ctx:
        rejected = lake.reject_drift(ctx, code, third.version.number, "字段与目录不符")
        assert rejected.status is VersionStatus.REJECTED
        assert lake.get_dataset_version(ctx, code).number == 2


def test_override_survives_later_loads(database: Database, tmp_path: Path) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    liaison, cdo = seeded.actor(Role.DATA_LIAISON), seeded.actor(Role.UNIT_CDO)
    with acting(database, liaison) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(30))))
    with pytest.raises(Forbidden), acting(database, liaison) as ctx:
        lake.override_classification(ctx, code, "年龄", "health")
    with acting(database, cdo) as ctx:
        out = lake.override_classification(ctx, code, "年龄", "health", "病历年龄")
    age = next(c for c in out.classification if c.name == "年龄")
    assert age.category == "health" and age.overridden and age.detected == "none"
    assert next(c for c in out.profile.columns if c.name == "年龄").masked
    with acting(database, liaison) as ctx:
        later = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "b.csv", people_rows(31))))
    assert next(c for c in later.version.classification if c.name == "年龄").category == "health"


def test_other_unit_cannot_ingest(database: Database, tmp_path: Path) -> None:
    seeded = seed_org(database)
    code = published_entry(database, unit="B")
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "a.csv", people_rows(5))))
