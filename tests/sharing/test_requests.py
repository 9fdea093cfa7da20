"""Requests and decisions: routing by share type, partial approval, refusal, appeal,
arbitration, withdrawal, escalation, renewal, revocation; all audited and notified."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid, ShuzhiError
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing import service
from shuzhi.sharing.calendar import local_day
from shuzhi.sharing.calendar_service import work_calendar
from shuzhi.sharing.schemas import DecisionIn, RenewalIn
from tests.catalog.helpers import item
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.sharing.helpers import application, approve, provider_cdo, request, shared_entry


def _liaison(seeded: Org):  # type: ignore[no-untyped-def]
    return seeded.actor(Role.DATA_LIAISON)


def _decide(database: Database, actor, request_id: int, **data: object):  # type: ignore[no-untyped-def]
    with acting(database, actor) as ctx:
        return service.decide_share_request(ctx, request_id, DecisionIn.model_validate(data))


def _actions(database: Database) -> list[str]:
    with acting(database, SYSTEM) as ctx:
        page = audit.view_audit(ctx, limit=500)
    return [e.action for e in page.items]


def test_conditional_request_waits_for_the_provider_cdo(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional", loaded=True)
    app = application(database)
    out = request(database, _liaison(seeded), entry, app, ["姓名", "公民身份号码", "联系电话"])
    assert out.status == "pending" and out.grant_id is None
    assert out.share_type == "conditional" and out.decision_days == 10
    with acting(database, SYSTEM) as ctx:
        cal = work_calendar(ctx, out.jurisdiction)
    today = local_day(out.requested_at)
    assert out.due_on == cal.add_working_days(today, 10)
    now = local_day(utcnow())
    assert out.working_days_left == cal.working_days(now + timedelta(days=1), out.due_on)
    if now == today:
        assert out.working_days_left == 10
    # the provider's staff were told; the requester's unit was not
    with acting(database, provider_cdo(seeded)) as ctx:
        notes = service.list_notifications(ctx)
        assert [n.kind for n in notes] == ["request_submitted"]
        assert service.unread_count(ctx) == 1
        assert [r.id for r in service.decision_queue(ctx)] == [out.id]
    with acting(database, _liaison(seeded)) as ctx:
        assert service.list_notifications(ctx) == []
    decided = approve(database, seeded, out.id, reason="同意")
    assert decided.status == "approved" and decided.grant_id is not None
    with acting(database, _liaison(seeded)) as ctx:
        grant = service.get_grant(ctx, decided.grant_id)
        assert [n.kind for n in service.list_notifications(ctx)] == ["request_decided"]
        assert service.mark_notifications_read(ctx) == 1
        assert service.unread_count(ctx) == 0
    assert grant.columns == ["姓名", "公民身份号码", "联系电话"]
    masks = {m.column: (m.category, m.level) for m in grant.masking}
    assert masks["公民身份号码"] == ("resident_id", MaskLevel.PARTIAL)
    assert masks["联系电话"] == ("mobile_phone", MaskLevel.PARTIAL)
    actions = _actions(database)
    for action in ("sharing.request_submitted", "sharing.request_decided", "sharing.grant_issued"):
        assert action in actions


def test_partial_approval_narrows_and_only_narrows(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional", loaded=True)
    app = application(database)
    out = request(
        database,
        _liaison(seeded),
        entry,
        app,
        ["姓名", "公民身份号码", "年龄"],
        duration_days=200,
        delivery=["api", "bulk"],
    )
    cdo = provider_cdo(seeded)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"outcome": "approve", "columns": ["姓名"]}, "outcome"),
        ({"outcome": "partly_approve", "reason": "只给姓名", "columns": ["联系电话"]}, "columns"),
        (
            {"outcome": "partly_approve", "reason": "x" * 3, "masking": {"公民身份号码": "none"}},
            "masking",
        ),
        ({"outcome": "partly_approve", "reason": "缩短", "duration_days": 300}, "duration_days"),
        (
            {
                "outcome": "partly_approve",
                "reason": "限行",
                "row_filter": [{"column": "年龄", "op": "ge", "value": 30}],
            },
            "row_filter.0.value",
        ),
        ({"outcome": "partly_approve", "reason": ""}, "reason"),
        ({"outcome": "refuse", "reason": ""}, "reason"),
    ]
    for data, field in bad:
        with pytest.raises(Invalid) as err:
            _decide(database, cdo, out.id, **data)
        assert field in [e.field for e in err.value.errors], data
    decided = _decide(
        database,
        cdo,
        out.id,
        outcome="partly_approve",
        reason="不提供身份号码明文，期限缩短",
        columns=["姓名", "公民身份号码"],
        masking={"姓名": "redact"},
        duration_days=30,
        delivery=["api"],
        rate_limit_per_minute=60,
        row_filter=[{"column": "姓名", "op": "like_prefix", "value": "王"}],
    )
    assert decided.status == "partly_approved"
    assert decided.grant_id is not None
    with acting(database, _liaison(seeded)) as ctx:
        grant = service.get_grant(ctx, decided.grant_id)
    assert grant.columns == ["姓名", "公民身份号码"]
    assert {m.column: m.level for m in grant.masking} == {
        "姓名": MaskLevel.REDACT,
        "公民身份号码": MaskLevel.PARTIAL,
    }
    assert [c.text for c in grant.row_filter] == ["姓名 like_prefix 王"]
    assert grant.delivery == ["api"] and grant.rate_limit_per_minute == 60
    assert timedelta(days=29) < grant.expires_at - grant.starts_at <= timedelta(days=30)


def test_not_shared_items_can_never_be_requested_or_granted(database: Database) -> None:
    seeded = seed_org(database)
    items = [item("姓名", share_type="conditional"), item("病史", share_type="not_shared")]
    entry = shared_entry(database, "conditional", items=items)
    app = application(database)
    with pytest.raises(Invalid) as err:
        request(database, _liaison(seeded), entry, app, ["姓名", "病史"])
    assert err.value.errors[0].field == "columns"
    assert "病史" in err.value.errors[0].message.zh
    with pytest.raises(Invalid):
        request(database, _liaison(seeded), entry, app, ["不存在的列"])
    ok = request(database, _liaison(seeded), entry, app, ["姓名"])
    assert ok.status == "pending"


def test_not_shared_entry_is_refused_with_its_basis_then_appealed(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "not_shared")
    app = application(database)
    out = request(database, _liaison(seeded), entry, app, ["姓名"])
    assert out.status == "refused" and out.outcome == "refuse"
    assert "个人信息保护法" in out.decision_reason
    with acting(database, _liaison(seeded)) as ctx:
        appealed = service.appeal_share_request(ctx, out.id, "为核发补贴确需核验身份")
    assert appealed.status == "appealed"
    executive = seeded.actor(Role.CDO_EXECUTIVE)
    with acting(database, executive) as ctx:
        assert [r.id for r in service.executive_queue(ctx)] == [out.id]
        assert [n.kind for n in service.list_notifications(ctx)] == ["request_appealed"]
    with pytest.raises(Conflict), acting(database, executive) as ctx:
        service.arbitrate_share_request(ctx, out.id, DecisionIn(outcome="approve"))
    with acting(database, executive) as ctx:
        final = service.arbitrate_share_request(
            ctx, out.id, DecisionIn(outcome="refuse", reason="维持：目录登记为不予共享")
        )
    assert final.status == "refused" and final.arbitrated_by == "user:exec"
    with pytest.raises(Conflict), acting(database, _liaison(seeded)) as ctx:
        service.appeal_share_request(ctx, out.id, "再次申诉：补贴核发确需核验身份")


def test_appeal_of_a_refusal_can_be_granted_by_arbitration(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    app = application(database)
    out = request(database, _liaison(seeded), entry, app)
    _decide(
        database,
        provider_cdo(seeded),
        out.id,
        outcome="refuse",
        reason="用途不明，未说明为何需要身份号码",
        basis="目录共享条件：仅限依法履职需要",
    )
    with acting(database, _liaison(seeded)) as ctx:
        service.appeal_share_request(ctx, out.id, "用途已在申请中写明，请予仲裁")
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        done = service.arbitrate_share_request(
            ctx, out.id, DecisionIn(outcome="approve", reason="支持")
        )
    assert done.status == "approved" and done.grant_id is not None
    assert done.decided_by == "user:b.unit_cdo" and done.arbitrated_by == "user:cdo"


def test_nobody_decides_or_arbitrates_their_own_case(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    app = application(database, unit="S")
    executive = seeded.actor(Role.CDO_EXECUTIVE)
    out = request(database, SYSTEM, entry, app, unit_code="S")
    # the executive may not take a pending request from the provider's CDO
    with pytest.raises(Forbidden), acting(database, executive) as ctx:
        service.decide_share_request(ctx, out.id, DecisionIn(outcome="approve"))
    # the requesting unit's staff cannot decide for the provider
    with pytest.raises(Forbidden), acting(database, _liaison(seeded)) as ctx:
        service.decide_share_request(ctx, out.id, DecisionIn(outcome="approve"))
    with acting(database, SYSTEM) as ctx:
        service.escalate_overdue(ctx, utcnow() + timedelta(days=40))
    _decide(
        database,
        executive,
        out.id,
        outcome="refuse",
        reason="超期未决，依职权拒绝",
        basis="《政务数据共享条例》",
    )
    with acting(database, SYSTEM) as ctx:
        service.appeal_share_request(ctx, out.id, "申诉：用途已在申请中写明")
    with pytest.raises(Forbidden), acting(database, executive) as ctx:
        service.arbitrate_share_request(ctx, out.id, DecisionIn(outcome="approve"))
    denied = [e for e in _actions(database) if e == "operation.denied"]
    assert len(denied) == 3


def test_withdrawal_before_decision_only(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    app = application(database)
    first = request(database, _liaison(seeded), entry, app)
    with pytest.raises(Conflict):  # one request in progress per application and entry
        request(database, _liaison(seeded), entry, app)
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        out = service.withdraw_share_request(ctx, first.id, "需求变更")
    assert out.status == "withdrawn"
    with pytest.raises(Conflict):
        approve(database, seeded, first.id)
    second = request(database, _liaison(seeded), entry, app)
    approve(database, seeded, second.id)
    with pytest.raises(Conflict), acting(database, _liaison(seeded)) as ctx:
        service.withdraw_share_request(ctx, second.id)


def test_bad_requests_are_refused_clearly(database: Database) -> None:
    seeded = seed_org(database)
    own = shared_entry(database, "conditional", unit="A")
    entry = shared_entry(database, "conditional")
    mine, theirs = application(database), application(database, unit="B")
    with pytest.raises(Invalid) as err:
        request(database, _liaison(seeded), own, mine)
    assert err.value.errors[0].field == "resource_code"
    with pytest.raises(Invalid) as err:
        request(database, _liaison(seeded), entry, theirs)
    assert err.value.errors[0].field == "application_code"
    with pytest.raises(Invalid) as err:
        request(database, _liaison(seeded), "9999/000001", mine)
    assert err.value.errors[0].field == "resource_code"
    with pytest.raises(Invalid) as err:
        request(
            database,
            _liaison(seeded),
            entry,
            mine,
            row_filter=[{"column": "联系电话", "op": "eq", "value": "1"}],  # not requested
        )
    assert err.value.errors[0].field == "row_filter.0.column"


def test_escalation_after_the_deadline(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    app = application(database)
    out = request(database, _liaison(seeded), entry, app)
    assert out.due_on is not None
    with acting(database, SYSTEM) as ctx:
        on_time = service.escalate_overdue(ctx, utcnow())
    assert on_time == []
    late = utcnow() + timedelta(days=(out.due_on - local_day(utcnow())).days + 1)
    with acting(database, provider_cdo(seeded)) as ctx:
        queue = service.decision_queue(ctx, late)  # viewing the queue applies the deadline
    assert [(r.id, r.status, r.overdue) for r in queue] == [(out.id, "escalated", True)]
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        assert [r.id for r in service.executive_queue(ctx)] == [out.id]
        assert "request_escalated" in [n.kind for n in service.list_notifications(ctx)]
        assert service.escalate_overdue(ctx, late) == []  # already done
    events = [e for e in _actions(database) if e == "sharing.request_escalated"]
    assert len(events) == 1
    # the provider's CDO may still decide, late
    assert approve(database, seeded, out.id).status == "approved"


def test_renewal_replaces_the_grant_and_revocation_ends_it(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    app = application(database)
    out = request(database, _liaison(seeded), entry, app, duration_days=30)
    granted = _decide(
        database,
        provider_cdo(seeded),
        out.id,
        outcome="partly_approve",
        reason="姓名隐藏",
        masking={"姓名": "redact"},
    )
    assert granted.grant_id is not None
    with acting(database, _liaison(seeded)) as ctx:
        renewal = service.renew_grant(ctx, granted.grant_id, RenewalIn(duration_days=60))
        with pytest.raises(Conflict):
            service.renew_grant(ctx, granted.grant_id, RenewalIn(duration_days=60))
    assert renewal.kind == "renewal" and renewal.status == "pending"
    renewed = approve(database, seeded, renewal.id)
    assert renewed.grant_id is not None
    with acting(database, _liaison(seeded)) as ctx:
        old = service.get_grant(ctx, granted.grant_id)
        new = service.get_grant(ctx, renewed.grant_id)
    assert old.status == "superseded" and new.replaces_grant_id == old.id
    assert new.expires_at - old.expires_at == timedelta(days=60)
    assert {m.column: m.level for m in new.masking}["姓名"] == MaskLevel.REDACT
    with pytest.raises(Forbidden), acting(database, _liaison(seeded)) as ctx:
        service.revoke_grant(ctx, new.id, "不需要了")
    with acting(database, provider_cdo(seeded)) as ctx:
        revoked = service.revoke_grant(ctx, new.id, "数据用途超出申请范围，停止共享")
    assert revoked.status == "revoked"
    with pytest.raises(Conflict), acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.revoke_grant(ctx, new.id, "再次撤销：数据用途超出范围")
    with pytest.raises(Conflict), acting(database, _liaison(seeded)) as ctx:
        service.renew_grant(ctx, new.id, RenewalIn())
    with acting(database, _liaison(seeded)) as ctx:
        assert "grant_revoked" in [n.kind for n in service.list_notifications(ctx)]


def test_unconditional_renewal_is_immediate(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "unconditional")
    app = application(database)
    out = request(database, _liaison(seeded), entry, app, duration_days=10)
    assert out.grant_id is not None
    with acting(database, _liaison(seeded)) as ctx:
        renewal = service.renew_grant(ctx, out.grant_id, RenewalIn(duration_days=20))
        assert renewal.status == "approved" and renewal.decided_by == "system:shuzhi"
        assert len(service.list_grants(ctx, side="consumer")) == 1


def test_racing_decisions_have_one_winner(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    app = application(database)
    out = request(database, _liaison(seeded), entry, app)
    cdo = provider_cdo(seeded)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(data: DecisionIn) -> None:
        barrier.wait()
        try:
            with acting(database, cdo) as ctx:
                service.decide_share_request(ctx, out.id, data)
            outcomes.append(data.outcome)
        except ShuzhiError as err:
            outcomes.append(type(err).__name__)

    threads = [
        threading.Thread(target=decide, args=(DecisionIn(outcome="approve"),)),
        threading.Thread(
            target=decide,
            args=(
                DecisionIn(outcome="refuse", reason="用途与所列信息项不相符", basis="目录共享条件"),
            ),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[0] == "Conflict" and len(outcomes) == 2
    winner = next(o for o in outcomes if o != "Conflict")
    with acting(database, cdo) as ctx:
        final = service.get_share_request(ctx, out.id)
        grants = service.list_grants(ctx, side="provider")
    assert final.outcome == winner
    assert len(grants) == (1 if winner == "approve" else 0)


def test_racing_revocations_have_one_winner(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "unconditional")
    out = request(database, _liaison(seeded), entry, application(database))
    assert out.grant_id is not None
    grant_id = out.grant_id
    results: list[str] = []
    barrier = threading.Barrier(2)

    def revoke(actor) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            with acting(database, actor) as ctx:
                service.revoke_grant(ctx, grant_id, "停止共享：业务系统已下线")
            results.append("ok")
        except Conflict:
            results.append("conflict")

    actors = [provider_cdo(seeded), seeded.actor(Role.CDO_EXECUTIVE)]
    threads = [threading.Thread(target=revoke, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    assert [e for e in _actions(database) if e == "sharing.grant_revoked"] == [
        "sharing.grant_revoked"
    ]
