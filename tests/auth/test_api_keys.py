"""API keys: shown once, stored hashed, refused when expired, revoked or wrong."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shuzhi.auth import service as auth
from shuzhi.auth.models import ApiKey
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from tests.conftest import acting
from tests.factories import Org, seed_org


def _issue(database: Database, role: Role = Role.CDO) -> tuple[Org, str]:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        key = auth.create_api_key(ctx, ApiKeyCreate(name="接口", role=role, unit_code="R"))
    return seeded, key.token


def _get(client: TestClient, token: str) -> int:
    return client.get("/api/v1/org/units", headers={"Authorization": f"Bearer {token}"}).status_code


def test_key_works_and_only_its_hash_is_stored(client: TestClient, database: Database) -> None:
    _, token = _issue(database)
    assert _get(client, token) == 200
    with database.engine.connect() as conn:
        stored = conn.execute(select(ApiKey.key_hash, ApiKey.prefix)).one()
    assert token not in stored.key_hash and token.split("_", 2)[2] not in stored.key_hash
    assert token.split("_")[1] == stored.prefix


def test_wrong_expired_and_revoked_keys_are_refused(client: TestClient, database: Database) -> None:
    seeded, token = _issue(database)
    prefix = token.split("_")[1]
    assert _get(client, token[:-2] + "xx") == 401
    assert _get(client, "not-a-key") == 401
    with database.engine.begin() as conn:
        conn.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get("/api/v1/org/units", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json()["detail_en"]
    with database.engine.begin() as conn:
        conn.execute(update(ApiKey).values(expires_at=None))
    assert _get(client, token) == 200
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        auth.revoke_api_key(ctx, prefix)
    response = client.get("/api/v1/org/units", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "revoked" in response.json()["detail_en"]


def test_key_role_limits_what_it_can_do(client: TestClient, database: Database) -> None:
    _, token = _issue(database, Role.CONSUMER)
    assert _get(client, token) == 403
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/org/units", headers=headers, json={}).status_code in (403, 422)
