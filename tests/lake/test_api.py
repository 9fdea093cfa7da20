"""Dataset and quality JSON API and console pages: uploads, versions, bad input, issues."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from shuzhi.db.engine import Database
from tests.factories import PASSWORD, seed_org
from tests.lake.helpers import HEADER, people_rows, published_entry
from tests.web.helpers import csrf, login

API = "/api/v1"


def _csv(rows: list[list[str]], encoding: str = "gbk", header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _upload(client: TestClient, code: str, name: str, body: bytes, token: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}/datasets/{code}/uploads",
        files={"file": (name, body, "text/csv")},
        headers={"X-CSRF-Token": token},
    )


def test_upload_and_read_versions(client: TestClient, database: Database) -> None:
    seed_org(database)
    code = published_entry(database)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/")
    assert client.get(f"{API}/datasets/{code}/versions/latest").status_code == 404
    created = _upload(client, code, "people.csv", _csv(people_rows(120)), token)
    assert created.status_code == 201, created.text
    assert created.json()["outcome"] == "created"
    again = _upload(client, code, "people.csv", _csv(people_rows(120)), token)
    assert again.json()["outcome"] == "unchanged"
    latest = client.get(f"{API}/datasets/{code}/versions/latest").json()
    assert {"schema_check", "profile", "classification", "quality_score", "row_count"} <= set(
        latest
    )
    assert latest["row_count"] == 120 and latest["quality_score"] is None  # no rules
    assert latest["quality_score_reason"] == "no_rules"
    assert latest["columns"][1]["name"] == "公民身份号码"
    by_name = {c["name"]: c for c in latest["classification"]}
    assert by_name["公民身份号码"]["category"] == "resident_id"
    versions = client.get(f"{API}/datasets/{code}/versions").json()
    assert [v["number"] for v in versions] == [1]
    rows = client.get(f"{API}/datasets/{code}/versions/1/rows", params={"limit": 3}).json()
    assert len(rows["rows"]) == 3 and "*" in rows["rows"][0][1]
    page = client.get(f"/datasets/{code}/versions/1")
    assert page.status_code == 200 and "公民身份号码" in page.text and "未设置规则" in page.text


BAD = {
    "empty.csv": b"",
    "header.csv": "姓名,公民身份号码\n".encode(),
    "binary.csv": b"\x00\x01\x02PK\x03\x04" * 500,
    "long.csv": b"a,b\n" + b"x" * (3 * 1024 * 1024) + b",1\n",
    "formula.csv": "姓名,金额\n=cmd|' /C calc'!A0,1\n+SUM(A1),2\n".encode(),
    "dates.csv": (
        "姓名,日期\n张三,2024-01-02\n李四,2024/01/02\n王五,20240102\n赵六,2024年1月2日\n"
        "钱七,02/01/2024\n"
    ).encode(),
}


def test_bad_uploads_never_crash(client: TestClient, database: Database) -> None:
    seed_org(database)
    code = published_entry(database)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/")
    for name, body in BAD.items():
        response = _upload(client, code, name, body, token)
        assert response.status_code in (201, 422), (name, response.status_code, response.text)
        if response.status_code == 422:
            problem = response.json()
            assert problem["title"] or problem.get("detail"), name
        else:
            version = response.json()["version"]
            assert version["rejects"]["count"] or version["schema_check"]["extra"], name
    # Loaded versions hold formula cells as text, never evaluated.
    versions = client.get(f"{API}/datasets/{code}/versions").json()
    assert all(v["status"] in ("current", "pending_review") for v in versions)


def test_source_definition_and_due_run(
    client: TestClient, database: Database, tmp_path: Path
) -> None:
    from shuzhi.context import SYSTEM
    from shuzhi.lake import service as lake
    from tests.conftest import acting

    seed_org(database)
    code = published_entry(database)
    db_file = tmp_path / "src.db"
    with sqlite3.connect(db_file) as conn:
        conn.execute(
            "CREATE TABLE people"
            " (姓名 TEXT, 公民身份号码 TEXT, 联系电话 TEXT, 出生日期 TEXT, 年龄 TEXT)"
        )
        conn.executemany("INSERT INTO people VALUES (?,?,?,?,?)", people_rows(40))
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/")
    bad = client.post(
        f"{API}/datasets/{code}/sources",
        json={
            "name": "人口库",
            "url": f"sqlite:///{db_file}",
            "table": "people",
            "schedule": "daily",
        },
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422
    made = client.post(
        f"{API}/datasets/{code}/sources",
        json={
            "name": "人口库",
            "url": f"sqlite:///{db_file}",
            "table": "people",
            "schedule": "every 1m",
        },
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 201, made.text
    from datetime import UTC, datetime, timedelta

    runs = lake.run_due_sources(database, SYSTEM, now=datetime.now(UTC) + timedelta(minutes=5))
    assert [r.outcome for r in runs] == ["created"]
    with acting(database, SYSTEM) as ctx:
        assert lake.get_dataset_version(ctx, code).row_count == 40
        assert lake.list_sources(ctx, code)[0].last_outcome.startswith("created")


def test_password_never_in_audit_or_api(client: TestClient, database: Database) -> None:
    seed_org(database)
    code = published_entry(database)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/")
    url = "postgresql://etl:TopSecret9@db.example:5432/pop"
    made = client.post(
        f"{API}/datasets/{code}/sources",
        json={"name": "人口库", "url": url, "table": "people", "schedule": "0 2 * * *"},
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 201 and "TopSecret9" not in made.text
    login(client, "auditor", PASSWORD)
    assert "TopSecret9" not in client.get("/api/v1/audit/entries").text


def test_reported_hostile_uploads_are_refused_naming_the_limit(
    client: TestClient, database: Database
) -> None:
    # 8,000 identical header cells in 32 KB froze the server 17 s and ended in DuckDB's raw
    # "Out of Memory Error"; a 30 MB line without a newline hung it beyond SIGTERM.
    seed_org(database)
    code = published_entry(database)
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/")
    cases = {
        "wide.csv": (",".join(["abc"] * 8000) + "\n").encode(),
        "line.csv": b"a," * (15 * 1024 * 1024),
    }
    expected = {"wide.csv": "1,000", "line.csv": "256 KiB"}
    for name, body in cases.items():
        response = _upload(client, code, name, body, token)
        assert response.status_code == 422, (name, response.text)
        assert expected[name] in response.text and "Out of Memory" not in response.text
    assert client.get(f"{API}/datasets/{code}/versions").status_code in (200, 404)
