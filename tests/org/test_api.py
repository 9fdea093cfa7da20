"""The org JSON API, driven with API keys like a system would."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import Role
from shuzhi.db.engine import Database
from tests.conftest import acting
from tests.factories import Org, seed_org


def _headers(database: Database, seeded: Org, role: Role, unit: str) -> dict[str, str]:
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        token = auth.create_api_key(
            ctx, ApiKeyCreate(name=f"{role}", role=role, unit_code=unit)
        ).token
    return {"Authorization": f"Bearer {token}"}


def test_filing_through_the_api(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    liaison = _headers(database, seeded, Role.DATA_LIAISON, "A")
    executive = _headers(database, seeded, Role.CDO_EXECUTIVE, "R")
    person = client.post(
        "/api/v1/org/people",
        headers=liaison,
        json={"unit_code": "A", "name": "冯晓东", "title": "副局长"},
    )
    assert person.status_code == 201, person.text
    appt = client.post(
        "/api/v1/org/appointments",
        headers=liaison,
        json={
            "person_id": person.json()["id"],
            "position": "unit_cdo",
            "appointed_on": "2026-10-01",
        },
    )
    assert appt.status_code == 201 and appt.json()["status"] == "draft"
    appt_id = appt.json()["id"]
    assert (
        client.post(f"/api/v1/org/appointments/{appt_id}/submit", headers=liaison).json()["status"]
        == "submitted"
    )
    returned = client.post(
        f"/api/v1/org/appointments/{appt_id}/return", headers=executive, json={"reason": ""}
    )
    assert returned.status_code == 422
    approved = client.post(
        f"/api/v1/org/appointments/{appt_id}/approve", headers=executive, json={"note": "同意"}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "filed"
    again = client.post(f"/api/v1/org/appointments/{appt_id}/approve", headers=executive)
    assert again.status_code == 409 and again.json()["type"] == "urn:shuzhi:problem:conflict"
    overview = client.get("/api/v1/org/overview", headers=executive).json()
    assert overview["cdos"] == 1 and overview["units"] == 4
    own = client.get("/api/v1/org/overview", headers=liaison).json()
    assert own["scope"] == "A" and own["units"] == 1
    roster = client.get("/api/v1/org/roster.xlsx", headers=executive)
    assert roster.status_code == 200 and roster.content[:2] == b"PK"


def test_malformed_bodies_and_unknown_ids(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    executive = _headers(database, seeded, Role.CDO_EXECUTIVE, "R")
    bad_json = client.post(
        "/api/v1/org/units",
        headers={**executive, "content-type": "application/json"},
        content=b"{not json",
    )
    assert bad_json.status_code == 422 and bad_json.json()["errors"]
    assert client.get("/api/v1/org/units/NOPE", headers=executive).status_code == 404
    assert client.get("/api/v1/org/appointments/999999", headers=executive).status_code == 404
    assert client.get("/api/v1/org/appointments/abc", headers=executive).status_code == 422
    cycle = client.put(
        "/api/v1/org/units/R", headers=executive, json={"name": "测试区", "parent_code": "A"}
    )
    assert cycle.status_code == 422
