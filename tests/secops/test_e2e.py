"""End to end against a running server (``shuzhi serve`` in a process of its own): an
enumeration attack through the gateway with a real application key is seen by the server's
own evaluator, shows up in the alert API, is contained in one step, and the next call with
the key is refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from shuzhi.sharing.models import AppKey
from tests.conftest import acting
from tests.gateway.helpers import ids, share
from tests.nodes import start_node, wait_for

pytestmark = pytest.mark.slow

ATTACK = 600  # distinct resident IDs, above the default threshold of 500 an hour


def test_an_enumeration_attack_is_alerted_contained_and_refused(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    shared = share(database, rows=ATTACK, request_over={"rate_limit_per_minute": 100_000})
    with acting(database, SYSTEM) as ctx:
        token = auth.create_api_key(
            ctx, ApiKeyCreate(name="soc", role=Role.CDO_EXECUTIVE, unit_code="R")
        ).token
    officer = {"Authorization": f"Bearer {token}"}
    with database.sessions() as session:
        key_id = session.scalar(
            select(AppKey.id).where(AppKey.prefix == shared.token.split("_")[1])
        )
    node = start_node(
        settings,
        tmp_path,
        "secops",
        SHUZHI_SECOPS_EVALUATE_SECONDS="2",
        SHUZHI_GATEWAY_FLUSH_SECONDS="0.5",
    )
    try:
        with node.client() as client:
            url = f"/api/v1/share/{shared.code}/records/"
            began = time.monotonic()
            crossed = began
            for n, resident in enumerate(ids(ATTACK), 1):
                assert client.get(url + resident, headers=shared.auth).status_code == 200
                if n == 500:
                    crossed = time.monotonic()
            attack_seconds = time.monotonic() - began

            def alerted() -> bool:
                listed = client.get("/api/v1/secops/alerts?status=open", headers=officer).json()
                return any(
                    i["rule"] == "enumeration" and i["subject"] == f"key:{key_id}"
                    for i in listed["items"]
                )

            wait_for(alerted, 60, step=0.2)
            to_alert = time.monotonic() - began
            print(
                f"\nattack of {ATTACK} lookups: {attack_seconds:.1f} s; first call → alert"
                f" {to_alert:.1f} s; threshold crossed → alert {time.monotonic() - crossed:.1f} s"
            )
            assert to_alert <= 60
            listed = client.get("/api/v1/secops/alerts?status=open", headers=officer).json()
            alert = next(i for i in listed["items"] if i["rule"] == "enumeration")
            assert alert["count"] >= 500 and alert["severity"] == "high"
            held = client.post(
                "/api/v1/secops/containments",
                json={
                    "kind": "application_key",
                    "id": key_id,
                    "reason": "枚举攻击进行中，暂停该密钥",
                },
                headers=officer,
            )
            assert held.status_code == 201, held.text
            stopped = wait_for(
                lambda: client.get(url + ids(1)[0], headers=shared.auth).status_code == 401, 30
            )
            assert stopped <= 5.0
            # Lifting restores the key exactly as it was.
            lifted = client.request(
                "DELETE",
                f"/api/v1/secops/containments/{held.json()['id']}",
                json={"reason": "密钥已更换，恢复旧密钥以便对账"},
                headers=officer,
            )
            assert lifted.status_code == 200, lifted.text
            wait_for(
                lambda: client.get(url + ids(1)[0], headers=shared.auth).status_code == 200, 30
            )
    finally:
        node.stop()
