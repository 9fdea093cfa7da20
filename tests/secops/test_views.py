"""Console pages: alert list and detail (acknowledge, false positive with a bad reason
re-shown), incident from an alert with one-click containment and lift, in both languages;
forms without the CSRF token are refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi.app import create_app
from shuzhi.cockpit import service as cockpit
from shuzhi.context import Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.sharing.models import AppKey
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.gateway.helpers import share
from tests.secops.helpers import HOUR, evaluate, lookups, replay
from tests.web.helpers import csrf, login


def test_alert_to_incident_to_containment_and_lift_in_the_console(database: Database) -> None:
    shared = share(database)
    with database.sessions() as session:
        key_id = session.scalar(
            select(AppKey.id).where(AppKey.prefix == shared.token.split("_")[1])
        )
    now = utcnow()
    replay(
        database, lookups(600, now - HOUR / 2, now, (f"d{i}" for i in range(600)), key_id=key_id)
    )
    (alert,) = [a for a in evaluate(database, now).new if a.rule == "enumeration"]
    with TestClient(create_app(database.settings, database=database, migrate=False)) as client:
        login(client, "exec", PASSWORD)
        listed = client.get("/secops/alerts")
        assert (
            listed.status_code == 200
            and f"key:{key_id}" in listed.text
            and "安全告警" in listed.text
        )
        assert "Security alerts" in client.get("/secops/alerts?lang=en").text
        page = f"/secops/alerts/{alert.id}"
        token = csrf(client, page)
        assert client.post(f"{page}/acknowledge", follow_redirects=False).status_code == 403
        done = client.post(
            f"{page}/acknowledge", data={"csrf_token": token}, follow_redirects=False
        )
        assert done.status_code == 303
        shown = client.get(page)
        assert "已确认" in shown.text and "10.0.*.*" in shown.text
        bad = client.post(f"{page}/false-positive", data={"csrf_token": token, "reason": "误"})
        assert bad.status_code == 200 and "理由" in bad.text
        opened = client.post(f"{page}/incident", data={"csrf_token": token}, follow_redirects=False)
        incident = opened.headers["location"]
        contained = client.post(
            f"{incident}/containments",
            data={
                "csrf_token": token,
                "kind": "application_key",
                "id": str(key_id),
                "reason": "枚举攻击进行中，暂停该密钥",
            },
            follow_redirects=False,
        )
        assert contained.status_code == 303, contained.text
        detail = client.get(incident)
        assert "生效中" in detail.text and "影响评估" in detail.text
        containment_id = client.get("/api/v1/secops/containments").json()[0]["id"]
        lifted = client.post(
            f"{incident}/containments/{containment_id}/lift",
            data={"csrf_token": token, "reason": "已更换密钥"},
            follow_redirects=False,
        )
        assert lifted.status_code == 303
        assert "已解除" in client.get(incident).text


def test_the_cockpit_shows_open_alerts_by_severity(database: Database) -> None:
    seeded = seed_org(database)
    now = utcnow()
    replay(
        database,
        lookups(
            600,
            now - HOUR / 2,
            now,
            (f"d{i}" for i in range(600)),
            provider_unit_id=seeded.unit_ids["A"],
        ),
    )
    evaluate(database, now)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        region = cockpit.cockpit_summary(ctx)
    assert region.security_alerts == {"low": 0, "medium": 0, "high": 1, "critical": 0}
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:  # A's CDO: A's alert
        assert cockpit.cockpit_summary(ctx).security_alerts == region.security_alerts
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:  # may not see alerts
        assert cockpit.cockpit_summary(ctx).security_alerts is None
    with TestClient(create_app(database.settings, database=database, migrate=False)) as client:
        login(client, "cdo", PASSWORD)
        page = client.get("/cockpit")
        assert 'id="security-alerts"' in page.text and "高 1" in page.text
