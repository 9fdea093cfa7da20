"""The grade of a loaded version: its reasons, the sample it was classified from, the
individuals it holds (distinct IDs, else rows), minors, and 重要数据 at scale."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.lake import analysis
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.security.categories import Category
from shuzhi.security.grading import GradingPolicy, NationalLevel, grade_dataset
from shuzhi.settings import Settings
from tests.catalog.helpers import item
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv
from tests.web.helpers import login

C = Category


def test_personal_data_of_a_million_individuals_is_important_data() -> None:
    categories = [C.PERSON_NAME, C.MOBILE_PHONE]
    below = grade_dataset(categories, 999_999, counted_by="身份证号")
    assert below.level is NationalLevel.GENERAL_3 and not below.important_candidate
    grade = grade_dataset(categories, 1_000_000, counted_by="身份证号")
    assert grade.level is NationalLevel.IMPORTANT and grade.important_candidate
    assert any("1,000,000 individuals" in r and "重要数据" in r for r in grade.reasons)
    # Without personal information, size alone changes nothing.
    assert grade_dataset([C.USCC], 5_000_000).level is NationalLevel.GENERAL_1


def test_individuals_are_distinct_ids_not_rows(database: Database, tmp_path: Path) -> None:
    liaison = seed_org(database).actor(Role.DATA_LIAISON)
    code = published_entry(database)
    rows = people_rows(10) * 3  # each person three times (a transaction log)
    for i, row in enumerate(rows):
        row[2] = f"139{i:08d}"
    with acting(database, liaison) as ctx:
        out = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p.csv", rows)))
    grade = out.version.grade
    assert grade is not None
    assert (grade.individuals, grade.counted_by, grade.sample_rows) == (10, "公民身份号码", 30)
    classification = out.version.classification
    strict = analysis.grade(
        classification,
        10,
        "gbt43697",
        counted_by="公民身份号码",
        policy=GradingPolicy(personal_rows=10),
    )
    assert strict.national_level == "important" and strict.important_candidate


def test_without_an_id_column_rows_count(database: Database, tmp_path: Path) -> None:
    liaison = seed_org(database).actor(Role.DATA_LIAISON)
    code = published_entry(database, items=[item("姓名"), item("联系电话")])
    rows = [[r[0], r[2]] for r in people_rows(25)]
    with acting(database, liaison) as ctx:
        out = lake.ingest(
            ctx, code, FileSource(write_csv(tmp_path / "p.csv", rows, ["姓名", "联系电话"]))
        )
    assert out.version.grade is not None
    assert (out.version.grade.individuals, out.version.grade.counted_by) == (25, None)


def test_a_childrens_register_loads_as_sensitive(database: Database, tmp_path: Path) -> None:
    liaison = seed_org(database).actor(Role.DATA_LIAISON)
    header = ["幼儿姓名", "出生日期", "监护人姓名", "监护人电话"]
    code = published_entry(database, items=[item(h) for h in header])
    year = dt.date.today().year
    rows = [
        [r[0], f"{year - 3 - i % 9}-0{1 + i % 9}-1{i % 9}", r[0][0] + "国强", r[2]]
        for i, r in enumerate(people_rows(40))
    ]
    with acting(database, liaison) as ctx:
        out = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "c.csv", rows, header)))
    grade = out.version.grade
    assert grade is not None
    assert grade.national_level == "general_4" and grade.sensitive_personal
    assert any("under 14" in r and "出生日期" in r for r in grade.reasons), grade.reasons


def test_ingest_prints_the_grade_its_reasons_and_the_sample(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    seed_org(database)
    code = published_entry(database)
    env = {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }
    source = write_csv(tmp_path / "p.csv", people_rows(40))
    result = CliRunner().invoke(app, ["ingest", str(source), "--entry", code], env=env)
    assert result.exit_code == 0, result.output
    assert "一般数据4级" in result.output
    assert "classified from the first 40 of 40 rows" in result.output
    assert "sensitive personal information: resident_id" in result.output
    assert "individuals / 个人数: 40 (distinct 公民身份号码)" in result.output
    assert "important data / 重要数据: no" in result.output


def test_console_states_the_sample_and_the_reasons(
    client: TestClient, database: Database, tmp_path: Path
) -> None:
    liaison = seed_org(database).actor(Role.DATA_LIAISON)
    code = published_entry(database)
    rows = people_rows(1200)
    with acting(database, liaison) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p.csv", rows)))
    login(client, "a.liaison", PASSWORD)
    page = client.get(f"/datasets/{code}/versions/1")
    assert page.status_code == 200
    assert "按前 1,000 行样本分类（共 1,200 行）" in page.text
    # The stored English reason is shown in the page's language, with category names.
    assert "敏感个人信息：居民身份证号码" in page.text
