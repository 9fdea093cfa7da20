"""The monthly security report of a unit: what happened in the month (Beijing time) on its
data, on the page and in a server-generated PDF read back with pypdf; scoped and audited."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from shuzhi.audit.models import AuditEntry
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.secops import reports, review, service
from shuzhi.secops.models import Alert, AlertStatus, Severity
from shuzhi.secops.schemas import CloseIn, ContainmentIn, IncidentIn
from shuzhi.sharing import service as sharing
from shuzhi.sharing.models import Grant
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.gateway.helpers import fresh_app, share
from tests.sharing.helpers import provider_account, provider_cdo
from tests.web.helpers import login


def test_months_are_beijing_calendar_months() -> None:
    start, end = reports.month_range("2026-03")
    assert start == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 16, tzinfo=UTC)
    assert reports.month_range("2026-12")[1] == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert reports.last_month(date(2026, 1, 15)) == "2025-12"
    for bad in ("2026-13", "2026-3", "march", ""):
        with pytest.raises(Invalid):
            reports.month_range(bad)


def _alert(database: Database, unit_id: int, at: datetime, **over: object) -> None:
    with database.sessions.begin() as session:
        session.add(
            Alert(
                rule=str(over.get("rule", "enumeration")),
                severity=over.get("severity", Severity.HIGH),
                subject=f"key:{at.timestamp()}",
                unit_id=unit_id,
                status=over.get("status", AlertStatus.OPEN),
                first_seen=at,
                last_seen=at,
                count=3,
                evidence=[],
            )
        )


def _month(at: datetime) -> str:
    local = at.astimezone(reports.BEIJING)
    return f"{local.year:04d}-{local.month:02d}"


def test_a_units_month_on_the_page_and_in_the_pdf(database: Database) -> None:
    shared = share(database)
    now = utcnow()
    month = _month(now)
    start, _ = reports.month_range(month)
    with database.sessions() as session:
        grant = session.scalars(select(Grant).order_by(Grant.id.desc())).first()
        assert grant is not None
        unit_b, grant_id = grant.provider_unit_id, grant.id
    _alert(database, unit_b, start + timedelta(minutes=5))
    _alert(
        database,
        unit_b,
        start + timedelta(minutes=6),
        rule="off_hours_bulk",
        severity=Severity.MEDIUM,
        status=AlertStatus.FALSE_POSITIVE,
    )
    _alert(database, unit_b, start - timedelta(minutes=5))  # the month before: not counted
    executive = shared.seeded.actor(Role.CDO_EXECUTIVE)
    with acting(database, executive) as ctx:
        incident = service.open_incident(ctx, IncidentIn(title="批量导出核查", unit_id=unit_b))
        service.contain(
            ctx,
            ContainmentIn(
                kind="grant", id=grant_id, reason="夜间批量导出，先行暂停", incident_id=incident.id
            ),
        )
        service.close_incident(ctx, incident.id, CloseIn(review="确认为合规的年度核对，已恢复"))
        service.open_incident(ctx, IncidentIn(title="季度应急演练", unit_id=unit_b, drill=True))
    with acting(database, executive) as ctx:
        rep = reports.monthly_report(ctx, "B", month)
    assert rep.alerts_total == 2 and rep.false_positives == 1
    assert rep.alerts_by_severity == {"critical": 0, "high": 1, "medium": 1, "low": 0}
    assert rep.alerts_by_rule == {"enumeration": 1, "off_hours_bulk": 1}
    assert [i.drill for i in rep.incidents] == [False, True] and rep.drills == 1
    assert len(rep.containments) == 1
    # Unit A's month has none of B's.
    with acting(database, executive) as ctx:
        assert reports.monthly_report(ctx, "A", month).alerts_total == 0

    with acting(database, executive) as ctx:
        data = reports.report_pdf(ctx, "B", month)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "月度安全报告" in text and month in text
    assert "批量导出核查" in text and "确认为合规的年度核对" in text and "季度应急演练" in text
    with acting(database, executive) as ctx:
        ctx.locale = "en"
        english = reports.report_pdf(ctx, "B", month)
    text_en = "".join(p.extract_text() for p in PdfReader(io.BytesIO(english)).pages)
    assert "Monthly security operations report" in text_en
    with database.sessions() as session:
        viewed = list(
            session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == "secops.report_viewed")
            )
        )
    assert len(viewed) == 4 and sum('"pdf"' in d for d in viewed) == 2


def test_the_risk_registers_changes_of_the_month_are_in_the_report(database: Database) -> None:
    share(database)
    month = _month(utcnow())
    with acting(database, SYSTEM) as ctx:
        service.reassess_due(ctx)
        grant_id = ctx.db.scalar(select(Grant.id).order_by(Grant.id.desc()))
        assert grant_id is not None
        sharing.revoke_grant(ctx, grant_id, "测试撤销该共享授权的理由")
        service.reassess_due(ctx)
        untouched = service.reassess_due(ctx)  # nothing changed: no line added
        rep = reports.monthly_report(ctx, "A", month)
        data = reports.report_pdf(ctx, "A", month)
    assert untouched.assessed == 0
    dataset = [r for r in rep.risk_changes if "→" in r.change]
    # the dataset's first assessment, then the revocation lowering its score
    assert len(dataset) >= 1 and all(r.risk for r in rep.risk_changes)
    before, after = dataset[0].change.split(" → ")
    assert int(after.split("(")[1].rstrip(")")) < int(before.split("(")[1].rstrip(")"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert dataset[0].risk in text
    # another unit's month lists none of A's risks
    with acting(database, SYSTEM) as ctx:
        other = reports.monthly_report(ctx, "B", month).risk_changes
    assert not {r.risk for r in other} & {r.risk for r in dataset}


def test_grant_reviews_in_the_report_and_who_may_read_it(database: Database) -> None:
    shared = share(database)
    with acting(database, SYSTEM) as ctx:
        review.sweep_grant_reviews(ctx, utcnow() + timedelta(days=181))
        (queued,) = review.list_grant_reviews(ctx)
    with acting(database, provider_cdo(shared.seeded)) as ctx:
        review.confirm_grant_review(ctx, queued.id, review.ConfirmIn(note="业务仍在使用，用途未变"))
        rep = reports.monthly_report(ctx, "B", _month(utcnow()))
    assert rep.reviews_confirmed == 1 and rep.reviews[0].note == "业务仍在使用，用途未变"
    # A unit's CDO reads its own unit's report only.
    with pytest.raises(Forbidden), acting(database, shared.seeded.actor(Role.UNIT_CDO)) as ctx:
        reports.monthly_report(ctx, "B", _month(utcnow()))


def test_the_report_page_and_pdf_download(database: Database) -> None:
    share(database)
    month = _month(utcnow())
    with TestClient(fresh_app(database)) as client:
        login(client, provider_account(database), PASSWORD)
        page = client.get(f"/secops/reports?month={month}")
        assert page.status_code == 200 and "月度安全报告" in page.text
        assert f"/secops/reports/B/{month}.pdf" in page.text
        assert (
            "Monthly security report" in client.get(f"/secops/reports?month={month}&lang=en").text
        )
        got = client.get(f"/secops/reports/B/{month}.pdf")
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        assert PdfReader(io.BytesIO(got.content)).pages
        assert client.get(f"/secops/reports/A/{month}.pdf").status_code == 403
        assert client.get("/secops/reports?month=2026-13").status_code in (400, 422)


def test_the_report_page_refuses_those_without_a_report(database: Database) -> None:
    seed_org(database)
    with TestClient(fresh_app(database)) as client:
        login(client, "a.liaison", PASSWORD)
        assert client.get("/secops/reports").status_code == 403
