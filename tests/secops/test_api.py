"""The JSON API (/api/v1/secops) and ``shuzhi secops evaluate``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shuzhi.app import create_app
from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.cli import app as cli
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.secops.helpers import HOUR, lookups, replay


def _headers(database: Database, role: Role, unit: str = "R") -> dict[str, str]:
    with acting(database, SYSTEM) as ctx:
        token = auth.create_api_key(ctx, ApiKeyCreate(name=f"k-{role}", role=role, unit_code=unit))
    return {"Authorization": f"Bearer {token.token}"}


@pytest.fixture
def api(database: Database) -> Iterator[tuple[TestClient, Org]]:
    seeded = seed_org(database)
    with TestClient(create_app(database.settings, database=database, migrate=False)) as client:
        yield client, seeded


def test_evaluate_then_list_acknowledge_and_false_positive(
    api: tuple[TestClient, Org], database: Database
) -> None:
    client, seeded = api
    now = utcnow()
    b = seeded.unit_ids["B"]
    replay(
        database,
        lookups(600, now - HOUR / 2, now, (f"d{i}" for i in range(600)), provider_unit_id=b),
    )
    executive = _headers(database, Role.CDO_EXECUTIVE)
    ran = client.post("/api/v1/secops/evaluate", headers=executive)
    assert ran.status_code == 200, ran.text
    assert [a["rule"] for a in ran.json()["new"]] == ["enumeration"]
    listed = client.get("/api/v1/secops/alerts?status=open", headers=executive).json()
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert set(item) == {"id", "rule", "severity", "subject", "first_seen", "last_seen", "count"}
    assert (item["rule"], item["severity"], item["count"]) == ("enumeration", "high", 600)
    # B's CDO owns it; A's CDO does not see it; a consumer may not look.
    b_cdo = _headers(database, Role.UNIT_CDO, "B")
    a_cdo = _headers(database, Role.UNIT_CDO, "A")
    assert client.get("/api/v1/secops/alerts", headers=b_cdo).json()["total"] == 1
    assert client.get("/api/v1/secops/alerts", headers=a_cdo).json()["total"] == 0
    consumer = _headers(database, Role.CONSUMER, "A")
    assert client.get("/api/v1/secops/alerts", headers=consumer).status_code == 403
    assert client.get("/api/v1/secops/alerts").status_code == 401
    detail = client.get(f"/api/v1/secops/alerts/{item['id']}", headers=b_cdo).json()
    assert detail["owners"][0].startswith(f"unit {b} CDO") and len(detail["evidence"]) == 10
    assert (
        client.post(f"/api/v1/secops/alerts/{item['id']}/acknowledge", headers=b_cdo).json()[
            "status"
        ]
        == "acknowledged"
    )
    answer = client.post(
        f"/api/v1/secops/alerts/{item['id']}/false-positive", json={"reason": "x"}, headers=b_cdo
    )
    assert answer.status_code == 422
    answer = client.post(
        f"/api/v1/secops/alerts/{item['id']}/false-positive",
        json={"reason": "乙局核对系统的月度例行全量核验任务"},
        headers=b_cdo,
    )
    assert answer.json()["status"] == "false_positive"
    assert client.get("/api/v1/secops/alerts?status=open", headers=executive).json()["total"] == 0


def test_thresholds_over_the_api(api: tuple[TestClient, Org], database: Database) -> None:
    client, _ = api
    executive = _headers(database, Role.CDO_EXECUTIVE)
    url = "/api/v1/secops/thresholds/refusal_burst/refusals"
    refused = client.put(url, json={"value": 1}, headers=executive)
    assert refused.status_code == 422
    assert "every ordinary call" in refused.text and "每次调用都告警" in refused.text
    assert client.put(url, json={"value": 50}, headers=executive).json()["value"] == 50
    assert (
        client.put(url, json={"value": 50}, headers=_headers(database, Role.CDO)).status_code == 403
    )
    assert (
        client.put(
            "/api/v1/secops/thresholds/nope/x", json={"value": 50}, headers=executive
        ).status_code
        == 404
    )
    shown = client.get("/api/v1/secops/thresholds", headers=executive).json()
    assert {"rule": "refusal_burst", "param": "refusals", "value": 50.0}.items() <= next(
        t for t in shown if t["param"] == "refusals"
    ).items()


def test_containment_requests_are_validated(
    api: tuple[TestClient, Org], database: Database
) -> None:
    client, _ = api
    executive = _headers(database, Role.CDO_EXECUTIVE)
    bad = client.post(
        "/api/v1/secops/containments",
        json={"kind": "dataset", "id": 1, "reason": "疑似枚举攻击，先行暂停"},
        headers=executive,
    )
    assert bad.status_code == 422
    missing = client.post(
        "/api/v1/secops/containments",
        json={"kind": "application_key", "id": 999, "reason": "疑似枚举攻击，先行暂停"},
        headers=executive,
    )
    assert missing.status_code == 404
    assert client.delete("/api/v1/secops/containments/999", headers=executive).status_code == 404


def test_the_cli_prints_new_alerts(database: Database) -> None:
    now = utcnow()
    replay(database, lookups(600, now - HOUR / 2, now, (f"d{i}" for i in range(600))))
    env = {
        "SHUZHI_DATA_DIR": str(database.settings.data_dir),
        "SHUZHI_DATABASE_URL": database.settings.database_url,
        "SHUZHI_SECRET_KEY": database.settings.secret_key,
        "SHUZHI_CREDENTIALS_KEY": database.settings.credentials_key,
    }
    result = CliRunner().invoke(cli, ["secops", "evaluate"], env=env)
    assert result.exit_code == 0, result.output
    assert "enumeration key:1 count=600" in result.output
    assert "New alerts / 新告警: 1" in result.output
    again = CliRunner().invoke(cli, ["secops", "evaluate"], env=env)
    assert "New alerts / 新告警: 0" in again.output
