"""The compile template through the CLI, the JSON API and the console import page."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shuzhi.catalog import service
from shuzhi.cli import app as cli
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.catalog.excel_helpers import entry_values, item_values, read_back, to_bytes, workbook
from tests.catalog.helpers import create
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import csrf, login

GOOD = to_bytes(workbook([entry_values("101001/000001")], [item_values("101001/000001", "姓名")]))
BAD = to_bytes(
    workbook(
        [entry_values("101001/000001", 共享类型="有条件共享")],
        [item_values("101001/000001", "姓名"), item_values("101001/000404", "孤儿")],
    )
)


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
    }


def test_cli_import_and_export(env: dict[str, str], database: Database, tmp_path: Path) -> None:
    seed_org(database)
    runner = CliRunner()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(BAD)
    result = runner.invoke(cli, ["catalog", "import", str(bad), "--unit", "A"], env=env)
    assert result.exit_code == 1
    assert "共享条件" in result.output and "孤儿" not in result.output  # row report, not data
    assert "信息项" in result.output and "nothing imported" in result.output
    good = tmp_path / "good.xlsx"
    good.write_bytes(GOOD)
    result = runner.invoke(cli, ["catalog", "import", str(good), "--unit", "A"], env=env)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out.xlsx"
    result = runner.invoke(cli, ["catalog", "export", str(out), "--unit", "A"], env=env)
    assert result.exit_code == 0, result.output
    sheet = read_back(out.read_bytes())["信息资源目录"]
    assert sheet["A2"].value == "101001/000001"
    missing = runner.invoke(cli, ["catalog", "import", str(tmp_path / "none.xlsx")], env=env)
    assert missing.exit_code == 2


def test_api_import_and_export(client: TestClient, database: Database) -> None:
    seed_org(database)
    anonymous = client.post(
        "/api/v1/catalog/import",
        files={"file": ("a.xlsx", GOOD)},
        headers={"Authorization": "Bearer not-a-key"},
    )
    assert anonymous.status_code == 401
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/catalog/import")
    headers = {"X-CSRF-Token": token}
    refused = client.post(
        "/api/v1/catalog/import", files={"file": ("bad.xlsx", BAD)}, headers=headers
    )
    assert refused.status_code == 422
    body = refused.json()
    assert body["ok"] is False and body["policy"] == "all_or_nothing"
    assert {(e["sheet"], e["row"], e["column"]) for e in body["errors"]} >= {
        ("信息资源目录", 2, "共享条件"),
        ("信息项", 3, "信息资源代码"),
    }
    done = client.post(
        "/api/v1/catalog/import", files={"file": ("good.xlsx", GOOD)}, headers=headers
    )
    assert done.status_code == 200 and done.json()["created"] == ["101001/000001"]
    export = client.get("/api/v1/catalog/export.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"


def test_console_import_page(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(name="既有目录", group_code="002"))
    login(client, "a.liaison", PASSWORD)
    page = client.get("/catalog/import")
    assert page.status_code == 200 and "/catalog/export.xlsx" in page.text
    token = csrf(client, "/catalog/import")
    refused = client.post(
        "/catalog/import", data={"csrf_token": token}, files={"file": ("bad.xlsx", BAD)}
    )
    assert refused.status_code == 422 and 'id="problems"' in refused.text
    assert "共享条件" in refused.text
    done = client.post(
        "/catalog/import", data={"csrf_token": token}, files={"file": ("good.xlsx", GOOD)}
    )
    assert done.status_code == 200 and "新建 1 条" in done.text
    download = client.get("/catalog/export.xlsx")
    names = [c.value for c in read_back(download.content)["信息资源目录"]["B"]]
    assert "既有目录" in names and "户籍人口信息" in names
