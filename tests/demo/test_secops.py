"""The demo's security story: weeks of traced traffic with an enumeration attack, a night
export and a false positive; the alerts raised by the rules; the enumeration contained and
closed with a review; a drill; the story built once; the unit's monthly report shows it."""

from __future__ import annotations

from datetime import timedelta

from shuzhi.context import SYSTEM
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.demo.district import DEMO_ACTOR
from shuzhi.demo.secops import DRILL_TITLE, INCIDENT_TITLE, build_secops
from shuzhi.gateway import monitoring
from shuzhi.org import service as org
from shuzhi.secops import reports, service
from tests.conftest import acting


def test_the_demo_security_story(demo_database: Database) -> None:
    with acting(demo_database, SYSTEM) as ctx:
        alerts = {a.rule: a for a in service.list_alerts(ctx, None, 50).items}
        incidents = {i.title: i for i in service.list_incidents(ctx)}
        held = service.list_containments(ctx)
        full = {a.rule: service.get_alert(ctx, a.id) for a in alerts.values()}
        statuses = {rule: a.status for rule, a in full.items()}
        incident = service.get_incident(ctx, incidents[INCIDENT_TITLE].id)
        calls = monitoring.count_calls(
            ctx.db, utcnow() - timedelta(days=30), utcnow(), key_id=held[0].subject_id
        )
    assert set(alerts) == {"enumeration", "sequential_ids", "off_hours_bulk", "new_client"}
    assert statuses == {
        "enumeration": "acknowledged",
        "sequential_ids": "acknowledged",
        "off_hours_bulk": "acknowledged",
        "new_client": "false_positive",
    }
    assert alerts["enumeration"].count >= 500 and alerts["enumeration"].severity == "high"
    assert incident.status == "closed" and incident.review and not incident.drill
    assert [c.kind for c in incident.containments] == ["application_key"]
    assert incident.impact is not None and incident.impact.calls >= 600
    assert incidents[DRILL_TITLE].drill and incidents[DRILL_TITLE].status == "closed"
    assert len(held) == 1 and held[0].incident_id == incident.id
    assert 600 <= calls <= 3000  # a few weeks of one system plus the attack, not millions
    # Built once: a second run writes nothing.
    assert build_secops(demo_database, DEMO_ACTOR) == 0
    # The provider's monthly report has the month's part of the story.
    unit = full["enumeration"].unit_id
    assert unit is not None
    with acting(demo_database, SYSTEM) as ctx:
        brief = org.unit_brief(ctx, unit)
        assert brief is not None
        month = alerts["enumeration"].first_seen.astimezone(reports.BEIJING).strftime("%Y-%m")
        rep = reports.monthly_report(ctx, brief.code, month)
    assert rep.alerts_by_rule.get("enumeration") == 1
