"""Subjects that name a client address: no answer, page, report or record shows (or keeps)
the whole address; the network part and a keyed digest tell addresses apart, so an open
alert still grows and a false positive still tunes its own address; alerts and tunings
stored when subjects named the whole address are rewritten and go on working."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import insert, select

from shuzhi.app import create_app
from shuzhi.audit.models import AuditEntry
from shuzhi.auth import service as auth
from shuzhi.auth.models import LoginFailure
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.secops import reports, service
from shuzhi.secops.models import Alert, AlertStatus, Incident, Severity, Tuning
from shuzhi.secops.schemas import FalsePositiveIn, IncidentIn
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.secops.helpers import HOUR, WORK_NOW, evaluate, replay, rules_of, spread
from tests.web.helpers import login

NEW_ADDRESS = "203.0.113.77"
SPRAYER = "198.51.100.44"


def _failures(database: Database, client: str, accounts: int, at: datetime) -> None:
    with database.sessions.begin() as session:
        session.execute(
            insert(LoginFailure),
            [
                {"username": f"staff:user{i}", "client": client, "at": at - timedelta(minutes=i)}
                for i in range(accounts)
            ],
        )


def _headers(database: Database, role: Role, unit: str) -> dict[str, str]:
    with acting(database, SYSTEM) as ctx:
        made = auth.create_api_key(
            ctx, ApiKeyCreate(name=f"k-{role}-{unit}", role=role, unit_code=unit)
        )
    return {"Authorization": f"Bearer {made.token}"}


def _stored(database: Database) -> str:
    """Everything the security tables and the audit log keep, as text."""
    with database.sessions() as session:
        rows: list[object] = [
            (a.subject, a.open_key, a.summary_zh, a.summary_en, a.evidence)
            for a in session.scalars(select(Alert))
        ]
        rows += [(t.subject,) for t in session.scalars(select(Tuning))]
        rows += [(i.title,) for i in session.scalars(select(Incident))]
        rows += [(e.target_id, e.details) for e in session.scalars(select(AuditEntry))]
    return repr(rows)


def test_no_answer_page_report_or_record_shows_a_whole_client_address(
    database: Database,
) -> None:
    seeded = seed_org(database)
    unit_a = seeded.unit_ids["A"]
    now = utcnow()
    # Key 7 (provider A) has a week of calls from one address, then calls from a new one;
    # another address fails to log in to a dozen accounts.
    history = spread(300, now - timedelta(days=6), now - 2 * HOUR, client="10.1.1.1")
    recent = spread(5, now - HOUR / 2, now, client=NEW_ADDRESS)
    replay(database, [{**c, "key_id": 7, "provider_unit_id": unit_a} for c in history + recent])
    _failures(database, SPRAYER, 12, now - timedelta(minutes=5))
    month = f"{now.astimezone(reports.BEIJING):%Y-%m}"
    with TestClient(create_app(database.settings, database=database, migrate=False)) as client:
        ran = client.post(
            "/api/v1/secops/evaluate", headers=_headers(database, Role.CDO_EXECUTIVE, "R")
        )
        assert {a["rule"] for a in ran.json()["new"]} >= {"new_client", "login_spray"}
        answers = [ran.text]
        subjects = {a["subject"] for a in ran.json()["new"]}
        assert "key:7@203.0.*.*#" in " ".join(subjects)
        assert any(s.startswith("client:198.51.*.*#") for s in subjects)
        for role, unit in ((Role.AUDITOR, "R"), (Role.UNIT_CDO, "A")):
            headers = _headers(database, role, unit)
            listed = client.get("/api/v1/secops/alerts?status=open", headers=headers)
            assert listed.json()["items"]
            answers.append(listed.text)
            for item in listed.json()["items"]:
                answers.append(
                    client.get(f"/api/v1/secops/alerts/{item['id']}", headers=headers).text
                )
            answers.append(client.get(f"/api/v1/secops/reports/A/{month}", headers=headers).text)
        assert "new_client" in answers[-1]  # the unit's report lists the alert
        for username in ("auditor", "a.cdo", "exec"):
            login(client, username, PASSWORD)
            ids = [i["id"] for i in client.get("/api/v1/secops/alerts").json()["items"]]
            pages = ["/secops/alerts", *(f"/secops/alerts/{i}" for i in ids)]
            pages.append(f"/secops/reports?unit=A&month={month}")
            answers += [client.get(page).text for page in pages]
            pdf = client.get(f"/secops/reports/A/{month}.pdf")
            assert pdf.status_code == 200
            answers.append(
                "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
            )
            client.cookies.clear()
        audit = _headers(database, Role.AUDITOR, "R")
        answers.append(client.get("/api/v1/audit/entries?limit=200", headers=audit).text)
    shown = "\n".join(answers)
    assert "203.0.*.*" in shown and "198.51.*.*" in shown
    for address in (NEW_ADDRESS, SPRAYER):
        assert address not in shown
        assert address not in _stored(database)


def test_an_open_alert_on_an_address_grows_and_another_address_is_its_own_subject(
    database: Database,
) -> None:
    _failures(database, SPRAYER, 6, WORK_NOW - timedelta(minutes=20))
    (first,) = evaluate(database, WORK_NOW - timedelta(minutes=10)).new
    _failures(database, SPRAYER, 8, WORK_NOW - timedelta(minutes=2))
    again = evaluate(database, WORK_NOW)
    assert again.new == [] and again.grown == 1
    # Another address of the same network: the same network part, another subject.
    _failures(database, "198.51.7.7", 6, WORK_NOW)
    (other,) = evaluate(database, WORK_NOW + timedelta(minutes=1)).new
    assert other.subject.split("#")[0] == first.subject.split("#")[0] == "client:198.51.*.*"
    assert other.subject != first.subject
    with database.sessions() as session:
        assert session.scalar(select(Alert.count).where(Alert.id == first.id)) == first.count + 2


def test_a_false_positive_tunes_its_own_address_only(database: Database) -> None:
    _failures(database, SPRAYER, 6, WORK_NOW - timedelta(minutes=20))
    (alert,) = evaluate(database, WORK_NOW - timedelta(minutes=10)).new
    with acting(database, SYSTEM) as ctx:
        service.mark_false_positive(ctx, alert.id, FalsePositiveIn(reason="办公网出口地址误报"))
    _failures(database, SPRAYER, 8, WORK_NOW - timedelta(minutes=2))
    _failures(database, "198.51.7.7", 8, WORK_NOW - timedelta(minutes=2))
    (fired,) = evaluate(database, WORK_NOW).new
    assert fired.subject.startswith("client:198.51.*.*#") and fired.subject != alert.subject


def test_alerts_and_tunings_stored_with_a_whole_address_go_on_working(
    database: Database,
) -> None:
    # As stored before subjects carried a digest: an open login-spray alert on one address,
    # an incident opened from it, a tuned other address, an open new-client alert of a key.
    then = WORK_NOW - 2 * HOUR
    with database.sessions.begin() as session:
        sprayed = Alert(
            rule="login_spray",
            severity=Severity.HIGH,
            subject=f"client:{SPRAYER}",
            open_key=f"login_spray|client:{SPRAYER}",
            status=AlertStatus.OPEN,
            first_seen=then,
            last_seen=then,
            count=6,
            measure=6,
            threshold=5,
            evidence=[],
        )
        moved = Alert(
            rule="new_client",
            severity=Severity.LOW,
            subject=f"key:1@{NEW_ADDRESS}",
            open_key=f"new_client|key:1@{NEW_ADDRESS}",
            status=AlertStatus.ACKNOWLEDGED,
            first_seen=then,
            last_seen=then,
            count=1,
            measure=1,
            threshold=1,
            evidence=[],
        )
        session.add_all([sprayed, moved])
        session.add(Tuning(rule="login_spray", subject="client:192.0.2.9", factor=4.0))
        session.flush()
        sprayed_id, moved_id = sprayed.id, moved.id
    with acting(database, SYSTEM) as ctx:
        # Shown cut to the network part before any evaluation rewrote them.
        listed = {i.id: i.subject for i in service.list_alerts(ctx, status=None).items}
        assert listed == {sprayed_id: "client:198.51.*.*", moved_id: "key:1@203.0.*.*"}
        opened = service.open_incident(ctx, IncidentIn(alert_id=sprayed_id))
        assert SPRAYER not in opened.title and "198.51.*.*" in opened.title
    with database.sessions.begin() as session:  # an incident titled as before
        session.add(
            Incident(
                title=f"登录喷洒：client:{SPRAYER}",
                alert_id=sprayed_id,
                window_start=then,
                opened_by="user:exec",
            )
        )
    _failures(database, SPRAYER, 7, WORK_NOW - timedelta(minutes=5))
    _failures(database, "192.0.2.9", 7, WORK_NOW - timedelta(minutes=5))  # tuned: 20 needed
    replay(database, spread(200, WORK_NOW - timedelta(days=3), WORK_NOW - 3 * HOUR))
    replay(database, spread(2, WORK_NOW - HOUR, WORK_NOW, client=NEW_ADDRESS))
    found = evaluate(database, WORK_NOW)
    assert rules_of(found) == set() and found.grown == 2
    with database.sessions() as session:
        grown = session.get(Alert, sprayed_id)
        assert grown is not None and grown.count == 7 and grown.last_seen > then
        assert grown.subject.startswith("client:198.51.*.*#")
        assert grown.open_key == f"login_spray|{grown.subject}"
        (tuned,) = session.scalars(select(Tuning))
        assert tuned.subject.startswith("client:192.0.*.*#") and tuned.factor == 4.0
    for address in (SPRAYER, NEW_ADDRESS, "192.0.2.9"):
        assert address not in _stored(database)
