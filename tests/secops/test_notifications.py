"""The notification checklist (who must be told, by when, from the incident's severity and
opening time; ticked off with who and when; overdue shown) and the drill report page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shuzhi.app import create_app
from shuzhi.audit.models import AuditEntry
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden
from shuzhi.secops import service
from shuzhi.secops.models import Notification
from shuzhi.secops.schemas import CloseIn, IncidentIn, NotifyIn
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import csrf, login


def test_a_critical_incident_lists_every_party_with_its_deadline(database: Database) -> None:
    seeded = seed_org(database)
    unit = seeded.unit_ids["B"]
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        made = service.open_incident(
            ctx, IncidentIn(title="人口库疑似批量外泄", unit_id=unit, severity="critical")
        )
        incident = service.get_incident(ctx, made.id)
    due = {n.party: n.due_at - incident.opened_at for n in incident.notifications}
    assert due == {
        "unit_cdo": timedelta(hours=1),
        "security_officer": timedelta(hours=1),
        "cyberspace_dept": timedelta(hours=1),
        "affected_persons": timedelta(hours=72),
    }
    assert incident.severity == "critical"
    assert not any(n.overdue or n.done_at for n in incident.notifications)


def test_a_low_incident_without_a_unit_tells_the_bureau_only(database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        made = service.open_incident(ctx, IncidentIn(title="新地址访问核查", severity="low"))
        incident = service.get_incident(ctx, made.id)
    assert [(n.party, n.due_at - incident.opened_at) for n in incident.notifications] == [
        ("security_officer", timedelta(hours=24))
    ]


def test_ticking_off_records_who_and_when_and_late_ones_show(database: Database) -> None:
    seeded = seed_org(database)
    unit = seeded.unit_ids["B"]
    executive = seeded.actor(Role.CDO_EXECUTIVE)
    with acting(database, executive) as ctx:
        made = service.open_incident(
            ctx, IncidentIn(title="接口密钥泄露", unit_id=unit, severity="high")
        )
    # The cyberspace department's deadline has passed (moved back, as if hours went by).
    with database.sessions.begin() as session:
        session.execute(
            update(Notification)
            .where(Notification.incident_id == made.id, Notification.party == "cyberspace_dept")
            .values(due_at=made.opened_at - timedelta(minutes=5))
        )
    with acting(database, executive) as ctx:
        shown = service.get_incident(ctx, made.id)
    by_party = {n.party: n for n in shown.notifications}
    assert by_party["cyberspace_dept"].overdue and not by_party["unit_cdo"].overdue
    with acting(database, executive) as ctx:
        after = service.tick_notification(
            ctx, made.id, by_party["unit_cdo"].id, NotifyIn(note="电话通知张处长")
        )
        late = service.tick_notification(
            ctx, made.id, by_party["cyberspace_dept"].id, NotifyIn(note="报送市网信办")
        )
    told = {n.party: n for n in late.notifications}
    assert told["unit_cdo"].done_by == "user:exec" and not told["unit_cdo"].late
    assert told["cyberspace_dept"].late and not told["cyberspace_dept"].overdue
    assert after.timeline[-1].kind == "notified"
    with pytest.raises(Conflict), acting(database, executive) as ctx:
        service.tick_notification(ctx, made.id, by_party["unit_cdo"].id, NotifyIn())
    # Another unit's CDO may not tick this unit's incident.
    other = seeded.actor(Role.UNIT_CDO)
    assert other.unit_id != unit
    with pytest.raises(Forbidden), acting(database, other) as ctx:
        service.tick_notification(ctx, made.id, by_party["affected_persons"].id, NotifyIn())
    with database.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert actions.count("secops.incident_notified") == 2


def test_a_drill_has_a_printable_report_a_real_incident_does_not(database: Database) -> None:
    seeded = seed_org(database)
    executive = seeded.actor(Role.CDO_EXECUTIVE)
    with acting(database, executive) as ctx:
        drill = service.open_incident(
            ctx, IncidentIn(title="枚举攻击演练", severity="high", drill=True)
        )
        real = service.open_incident(ctx, IncidentIn(title="真实事件", severity="low"))
        item = service.get_incident(ctx, drill.id).notifications[0]
        service.tick_notification(ctx, drill.id, item.id, NotifyIn(note="演练通报"))
        service.close_incident(ctx, drill.id, CloseIn(review="演练按预案完成，通报及时。"))
        report = service.drill_report(ctx, drill.id)
    # High, no unit: the bureau, the cyberspace department, the affected persons.
    assert report.notified_in_time == 1 and report.not_notified == 2
    assert report.minutes_to_contain is None
    with pytest.raises(Conflict), acting(database, executive) as ctx:
        service.drill_report(ctx, real.id)
    with TestClient(create_app(database.settings, database=database, migrate=False)) as client:
        login(client, "exec", PASSWORD)
        page = client.get(f"/secops/incidents/{drill.id}/report")
        assert page.status_code == 200
        assert "演练报告" in page.text and "枚举攻击演练" in page.text and "data-print" in page.text
        assert "按时 1 项" in page.text
        en = client.get(f"/secops/incidents/{drill.id}/report?lang=en")
        assert "Drill report" in en.text and "1 in time" in en.text
        assert client.get(f"/secops/incidents/{real.id}/report").status_code == 409
        incident = f"/secops/incidents/{real.id}"
        shown = client.get(incident)
        assert "通报清单" in shown.text and "数据局安全负责人" in shown.text
        token = csrf(client, incident)
        (n,) = service_notifications(database, real.id)
        done = client.post(
            f"{incident}/notifications/{n}",
            data={"csrf_token": token, "note": "当面告知"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert "当面告知" in client.get(incident).text


def service_notifications(database: Database, incident_id: int) -> list[int]:
    with database.sessions() as session:
        return list(
            session.scalars(select(Notification.id).where(Notification.incident_id == incident_id))
        )
