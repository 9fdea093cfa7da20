"""Periodic grant review: old grants enter the provider's queue; a confirmation (audited)
keeps them for another review period; an unconfirmed one is suspended after the grace
period through a containment (the gateway refuses it), which the bureau may lift."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi.audit.models import AuditEntry
from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.secops import reports, review, service
from shuzhi.secops.runtime import Evaluator
from shuzhi.secops.schemas import LiftIn
from shuzhi.settings import InvalidSetting, load_settings
from shuzhi.sharing import service as sharing
from shuzhi.sharing.models import Grant
from tests.conftest import acting
from tests.factories import PASSWORD
from tests.gateway.helpers import fresh_app, gateway, share
from tests.sharing.helpers import provider_account, provider_cdo
from tests.web.helpers import csrf, login

DAYS = timedelta(days=1)


def _grant_id(database: Database) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(Grant.id).order_by(Grant.id.desc())) or 0)


def _actions(database: Database, prefix: str) -> list[str]:
    with database.sessions() as session:
        return [
            a
            for a in session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))
            if a.startswith(prefix)
        ]


def _sweep(database: Database, days_ahead: float) -> review.SweepResult:
    with acting(database, SYSTEM) as ctx:
        return review.sweep_grant_reviews(ctx, utcnow() + timedelta(days=days_ahead))


def test_a_young_grant_waits_and_a_confirmed_one_is_kept(database: Database) -> None:
    shared = share(database)
    grant_id = _grant_id(database)
    assert _sweep(database, 179) == review.SweepResult()  # younger than 180 days
    assert _sweep(database, 181).requested == 1
    assert _sweep(database, 181.5).requested == 0  # one open review per grant
    provider = provider_cdo(shared.seeded)
    with acting(database, provider) as ctx:
        (queued,) = review.list_grant_reviews(ctx)
    assert queued.grant_id == grant_id and queued.status == "pending"
    assert queued.due_at - queued.requested_at == timedelta(days=14)
    # The consumer's CDO neither sees nor confirms the provider's queue.
    consumer = shared.seeded.actor(Role.UNIT_CDO)
    with acting(database, consumer) as ctx:
        assert review.list_grant_reviews(ctx) == []
    with pytest.raises(Forbidden), acting(database, consumer) as ctx:
        review.confirm_grant_review(ctx, queued.id, review.ConfirmIn(note="业务仍在使用该数据"))
    with pytest.raises(Invalid), acting(database, provider) as ctx:  # a real reason
        review.confirm_grant_review(ctx, queued.id, review.ConfirmIn(note="要"))
    with acting(database, provider) as ctx:
        done = review.confirm_grant_review(
            ctx, queued.id, review.ConfirmIn(note="低保复核业务仍在使用，用途未变")
        )
    assert done.status == "confirmed" and done.decided_by == provider.label
    with pytest.raises(Conflict), acting(database, provider) as ctx:
        review.confirm_grant_review(ctx, queued.id, review.ConfirmIn(note="再次确认仍需要使用"))
    # Past the grace period nothing happens to a confirmed grant; the next review comes
    # 180 days after this one began.
    assert _sweep(database, 200) == review.SweepResult()
    assert _sweep(database, 181 + 181).requested == 1
    assert _actions(database, "secops.grant_review") == [
        "secops.grant_review_requested",
        "secops.grant_review_confirmed",
        "secops.grant_review_requested",
    ]


def test_an_unconfirmed_grant_is_suspended_and_the_gateway_refuses_it(
    database: Database,
) -> None:
    shared = share(database)
    grant_id = _grant_id(database)
    url = f"/api/v1/share/{shared.code}/records?limit=1"
    assert _sweep(database, 181).requested == 1
    assert _sweep(database, 181 + 13).lapsed == 0  # still within the grace period
    result = _sweep(database, 181 + 15)
    assert result.lapsed == 1
    with acting(database, SYSTEM) as ctx:
        (lapsed,) = review.list_grant_reviews(ctx, "suspended")
        held = next(c for c in service.list_containments(ctx) if c.id == lapsed.containment_id)
        grant = next(g for g in sharing.list_grants(ctx) if g.id == grant_id)
    assert held.kind == "grant" and held.subject_id == grant_id and "review" in held.reason
    assert grant.status == "active"  # suspended, not revoked
    with gateway(fresh_app(database)) as client:
        assert client.get(url, headers=shared.auth).status_code == 403
        # Lifting is the bureau's ordinary containment lift.
        with acting(database, shared.seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
            service.lift_containment(ctx, held.id, LiftIn(reason="提供单位已补充确认材料"))
        assert _sweep(database, 181 + 16).requested == 1  # and it is reviewed again
    assert _actions(database, "secops.") == [
        "secops.grant_review_requested",
        "secops.contained",
        "secops.grant_review_lapsed",
        "secops.containment_lifted",
        "secops.grant_review_requested",
    ]


def test_a_review_ends_with_its_grant(database: Database) -> None:
    shared = share(database)
    grant_id = _grant_id(database)
    _sweep(database, 181)
    with acting(database, shared.seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        sharing.revoke_grant(ctx, grant_id, "合作协议到期，停止共享")
    result = _sweep(database, 181 + 20)
    assert (result.ended, result.lapsed) == (1, 0)
    with acting(database, SYSTEM) as ctx:
        assert review.list_grant_reviews(ctx) == []
        assert len(review.list_grant_reviews(ctx, "ended")) == 1
        assert service.list_containments(ctx) == []


def test_no_reviews_when_turned_off(database: Database) -> None:
    share(database)
    with acting(database, SYSTEM) as ctx:
        ctx.settings = dataclasses.replace(ctx.settings, grant_review_days=0)
        assert review.sweep_grant_reviews(ctx, utcnow() + 1000 * DAYS) == review.SweepResult()
    assert load_settings({"SHUZHI_GRANT_REVIEW_DAYS": "0"}).grant_review_days == 0
    with pytest.raises(InvalidSetting):
        load_settings({"SHUZHI_GRANT_REVIEW_GRACE_DAYS": "0"})


def test_the_queue_page_confirms(database: Database) -> None:
    share(database)
    _sweep(database, 181)
    with acting(database, SYSTEM) as ctx:
        (queued,) = review.list_grant_reviews(ctx)
    with TestClient(fresh_app(database)) as client:
        login(client, provider_account(database), PASSWORD)
        page = client.get("/secops/grant-reviews")
        assert page.status_code == 200 and "授权定期复核" in page.text
        assert "Periodic grant review" in client.get("/secops/grant-reviews?lang=en").text
        action = f"/secops/grant-reviews/{queued.id}/confirm"
        assert action in page.text
        token = csrf(client, "/secops/grant-reviews")
        assert client.post(action, data={"note": "业务仍在使用，用途未变"}).status_code == 403
        bad = client.post(action, data={"note": "要", "csrf_token": token})
        assert bad.status_code == 200 and "理由" in bad.text
        ok = client.post(
            action,
            data={"note": "业务仍在使用，用途未变", "csrf_token": token},
            follow_redirects=False,
        )
        assert ok.status_code == 303
    with acting(database, SYSTEM) as ctx:
        assert review.list_grant_reviews(ctx, "confirmed")[0].note == "业务仍在使用，用途未变"


def test_the_servers_evaluator_runs_the_review(database: Database) -> None:
    share(database)
    with database.sessions.begin() as session:  # the grant started 200 days ago
        grant = session.get(Grant, _grant_id(database))
        assert grant is not None
        grant.starts_at = utcnow() - 200 * DAYS
    Evaluator(database, 30).run_once()
    with acting(database, SYSTEM) as ctx:
        (queued,) = review.list_grant_reviews(ctx)
    assert queued.grant_id == _grant_id(database)


def test_the_json_api_lists_confirms_and_reports(database: Database) -> None:
    share(database)
    _sweep(database, 181)
    with acting(database, SYSTEM) as ctx:
        token = auth.create_api_key(
            ctx, ApiKeyCreate(name="b-cdo", role=Role.UNIT_CDO, unit_code="B")
        ).token
        other = auth.create_api_key(
            ctx, ApiKeyCreate(name="a-cdo", role=Role.UNIT_CDO, unit_code="A")
        ).token
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(fresh_app(database)) as client:
        (queued,) = client.get("/api/v1/secops/grant-reviews", headers=headers).json()
        url = f"/api/v1/secops/grant-reviews/{queued['id']}"
        denied = client.post(
            f"{url}/confirm",
            json={"note": "业务仍在使用，用途未变"},
            headers={"Authorization": f"Bearer {other}"},
        )
        assert denied.status_code == 403
        assert (
            client.post(f"{url}/confirm", json={"note": "要"}, headers=headers).status_code == 422
        )
        done = client.post(
            f"{url}/confirm", json={"note": "业务仍在使用，用途未变"}, headers=headers
        )
        assert done.status_code == 200 and done.json()["status"] == "confirmed"
        month = utcnow().astimezone(reports.BEIJING).strftime("%Y-%m")
        report = client.get(f"/api/v1/secops/reports/B/{month}", headers=headers)
        assert report.status_code == 200 and report.json()["reviews_confirmed"] == 1
        assert client.get("/api/v1/secops/reports/B/2026-13", headers=headers).status_code == 422
