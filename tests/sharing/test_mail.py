"""Notices leave by e-mail (a real SMTP server on loopback) and by webhook: to the accounts
concerned, after the commit, off the request path, retried when the server refuses, failures
visible to the bureau; sharing decisions, deadlines and cockpit alerts alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from shuzhi.audit.models import AuditEntry
from shuzhi.auth import service as auth
from shuzhi.auth.schemas import UserCreate
from shuzhi.cli import app
from shuzhi.cockpit import service as cockpit
from shuzhi.cockpit.schemas import IndicatorCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.settings import Settings
from shuzhi.sharing import outbox, service
from shuzhi.sharing.calendar import local_day
from shuzhi.sharing.models import Channel, OutboxMessage, OutboxState
from shuzhi.sharing.schemas import NoticeAddressIn, RequestCreate
from tests.conftest import acting
from tests.factories import PASSWORD, Org, seed_org
from tests.sharing.helpers import application, approve, request, shared_entry
from tests.sharing.mailsink import Hook, Sink, eventually, smtp_sink, webhook_receiver
from tests.web.helpers import csrf, login

ADDRESSES = {
    "a.cdo": "a.cdo@jia.example.gov.cn",
    "a.liaison": "a.liaison@jia.example.gov.cn",
    "b.cdo": "b.cdo@yi.example.gov.cn",
    "b.liaison": "b.liaison@yi.example.gov.cn",
    "cdo": "cdo@dsj.example.gov.cn",
}


@dataclass(frozen=True)
class Mailing:
    database: Database  # the test's database with SMTP and the webhook configured
    seeded: Org
    sink: Sink
    hook: Hook


def _mail_settings(settings: Settings, sink: Sink, hook_url: str) -> Settings:
    return settings.with_overrides(
        smtp_host=sink.host,
        smtp_port=sink.port,
        smtp_security="none",
        smtp_user=sink.user,
        smtp_password=sink.password,
        mail_from="shuzhi@dsj.example.gov.cn",
        notice_webhook_url=hook_url,
        console_url="https://shuzhi.example.gov.cn",
    )


@pytest.fixture
def mailing(settings: Settings, database: Database) -> Iterator[Mailing]:
    seeded = seed_org(database)
    with acting(database, SYSTEM) as ctx:
        for username, role in (("b.cdo", Role.UNIT_CDO), ("b.liaison", Role.DATA_LIAISON)):
            auth.create_user(
                ctx,
                UserCreate(
                    username=username,
                    display_name=username,
                    password=PASSWORD,
                    role=role,
                    unit_code="B",
                ),
            )
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        for username, address in ADDRESSES.items():
            service.set_notice_address(ctx, NoticeAddressIn(email=address), username=username)
    # b.liaison turns notice mail off for themselves
    with acting(database, SYSTEM) as ctx:
        liaison = auth.login(ctx, "b.liaison", PASSWORD)
    with acting(database, liaison) as ctx:
        own = service.set_notice_address(
            ctx, NoticeAddressIn(email=ADDRESSES["b.liaison"], mail_off=True)
        )
    assert own.mail_off and own.username == "b.liaison"
    with smtp_sink() as sink, webhook_receiver() as hook:
        mailer = Database(_mail_settings(database.settings, sink, hook.url))
        yield Mailing(mailer, seeded, sink, hook)
        mailer.dispose()


def _outbox(database: Database) -> list[OutboxMessage]:
    with acting(database, SYSTEM) as ctx:
        rows = list(ctx.db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        ctx.db.expunge_all()
        return rows


def _settled(database: Database) -> bool:
    return all(m.state != OutboxState.PENDING or m.attempts > 0 for m in _outbox(database))


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_request_and_its_decision_are_mailed_to_the_accounts_concerned(
    mailing: Mailing,
) -> None:
    database, seeded, sink, hook = mailing.database, mailing.seeded, mailing.sink, mailing.hook
    entry = shared_entry(database, "conditional")
    app = application(database)
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, app)
    # Delivered in the background after the commit: the request did not wait for the server.
    assert eventually(lambda: len(sink.received) == 1 and len(hook.received) == 1)
    ((rcpts, msg),) = sink.received
    assert rcpts == [ADDRESSES["b.cdo"]]  # B's staff; the liaison turned mail off
    assert msg["Subject"] == "【数治】新的共享申请待审批 | A share request awaits your decision"
    assert "shuzhi@dsj.example.gov.cn" in msg["From"]
    text = _text(msg)
    assert "申请共享「" in text and f"(#{out.id}); decide by" in text
    assert f"https://shuzhi.example.gov.cn/sharing/requests/{out.id}" in text
    with pytest.raises(Invalid):  # refused without a reason: rolled back, nothing queued
        approve(database, seeded, out.id, outcome="refuse")
    approve(database, seeded, out.id)
    assert eventually(lambda: len(sink.received) == 3)
    decided = sink.by_address()
    assert set(decided) == {ADDRESSES["b.cdo"], ADDRESSES["a.cdo"], ADDRESSES["a.liaison"]}
    assert "共享申请已有审批结果" in decided[ADDRESSES["a.cdo"]][0]["Subject"]
    assert eventually(lambda: len(hook.received) == 2)
    assert [h["kind"] for h in hook.received] == ["request_submitted", "request_decided"]
    assert hook.received[1]["unit_code"] == "A" and hook.received[1]["title_en"]
    # the sender marks a message sent after the server took it: wait for that commit too
    assert eventually(
        lambda: all(m.state == OutboxState.SENT and m.attempts == 1 for m in _outbox(database))
    )


def test_an_smtp_outage_loses_nothing_and_the_bureau_sees_it(
    mailing: Mailing, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, seeded, sink = mailing.database, mailing.seeded, mailing.sink
    sink.refuse = True
    entry = shared_entry(database, "conditional")
    request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    assert eventually(lambda: _settled(database))
    (mail,) = [m for m in _outbox(database) if m.channel == "email"]
    assert (mail.state, mail.attempts) == (OutboxState.PENDING, 1)
    assert "451" in mail.last_error and sink.received == []
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        shown = service.list_notice_outbox(ctx, OutboxState.PENDING)
        assert [(m.recipient, m.attempts) for m in shown] == [("b.cdo", 1)]
        assert "451" in shown[0].last_error
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.list_notice_outbox(ctx)
    # Not retried before its pause is over; retried afterwards; failed for good at the end.
    assert outbox.deliver_outbox(database) == (0, 0)
    moment = utcnow()
    for _ in range(outbox.ATTEMPTS - 1):
        moment += timedelta(hours=7)
        assert outbox.deliver_outbox(database, moment) == (0, 1)
    (mail,) = [m for m in _outbox(database) if m.channel == "email"]
    assert (mail.state, mail.attempts) == (OutboxState.FAILED, outbox.ATTEMPTS)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        assert service.outbox_counts(ctx)["failed"] == 1
    # A later notice is still delivered once the server takes mail again.
    sink.refuse = False
    request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    assert eventually(lambda: len(sink.received) == 1)


def test_a_wrong_smtp_password_or_a_dead_server_is_recorded(mailing: Mailing) -> None:
    database, seeded = mailing.database, mailing.seeded
    wrong = Database(database.settings.with_overrides(smtp_password="wrong"))
    try:
        entry = shared_entry(wrong, "conditional")
        request(wrong, seeded.actor(Role.DATA_LIAISON), entry, application(wrong))
        assert eventually(lambda: _settled(wrong))
        (mail,) = [m for m in _outbox(wrong) if m.channel == "email"]
        assert mail.state == OutboxState.PENDING and "535" in mail.last_error
    finally:
        wrong.dispose()
    assert mailing.sink.received == []


def test_deadlines_near_and_passed_are_mailed_and_posted(mailing: Mailing) -> None:
    database, seeded, sink, hook = mailing.database, mailing.seeded, mailing.sink, mailing.hook
    entry = shared_entry(database, "conditional")
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    assert out.due_on is not None
    assert eventually(lambda: len(sink.received) == 1)
    day_before = utcnow() + timedelta(days=(out.due_on - local_day(utcnow())).days - 1)
    for _ in range(2):  # reminded once, however often the schedule runs
        with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
            assert service.escalate_overdue(ctx, day_before) == []
    assert eventually(lambda: len(sink.received) == 2)
    soon = sink.received[1][1]
    assert soon["Subject"] == "【数治】共享申请审批期限将至 | A share request's deadline is near"
    assert "明天" in _text(soon) and "tomorrow" in _text(soon)
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        late = service.escalate_overdue(ctx, day_before + timedelta(days=3))
    assert [r.id for r in late] == [out.id]
    # the executive and the region CDO (region level) and B's CDO hear of the escalation
    assert eventually(lambda: len(sink.received) == 4)
    escalated = {r[0] for r, m in sink.received[2:]}
    assert escalated == {ADDRESSES["cdo"], ADDRESSES["b.cdo"]}
    kinds = [h["kind"] for h in hook.received]
    assert eventually(lambda: len(hook.received) == 4)
    kinds = [h["kind"] for h in hook.received]
    assert kinds == ["request_submitted", "request_due_soon", "request_escalated"] * 1 + [
        "request_escalated"
    ]


def test_cockpit_alerts_are_mailed_and_posted(mailing: Mailing) -> None:
    database, seeded, sink, hook = mailing.database, mailing.seeded, mailing.sink, mailing.hook
    code = shared_entry(database, unit="A", loaded=True)
    indicator = IndicatorCreate.model_validate(
        {
            "code": "AGE",
            "name": "年龄均值",
            "resource_code": code,
            "func": "avg",
            "column": "年龄",
            "direction": "above",
            "warn_at": 10,
            "alarm_at": 20,
        }
    )
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        cockpit.define_indicator(ctx, indicator)
        assert len(cockpit.evaluate_indicators(ctx).alerts) == 1
    assert eventually(lambda: len(sink.received) == 3)
    got = sink.by_address()
    assert set(got) == {ADDRESSES["a.cdo"], ADDRESSES["a.liaison"], ADDRESSES["cdo"]}
    alert = got[ADDRESSES["a.cdo"]][0]
    assert alert["Subject"] == "【数治】驾驶舱指标告警 | Cockpit indicator alert"
    assert "年龄均值" in _text(alert) and "is at alarm" in _text(alert)
    assert eventually(lambda: len(hook.received) == 2)
    assert {h["kind"] for h in hook.received} == {"cockpit_alert"}
    # and the console shows it to the unit's staff
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        assert [n.kind for n in service.list_notifications(ctx)] == ["cockpit_alert"]


def test_a_rolled_back_notice_never_leaves(mailing: Mailing) -> None:
    database, seeded, sink, hook = mailing.database, mailing.seeded, mailing.sink, mailing.hook
    entry = shared_entry(database, "conditional")
    app = application(database)
    data = RequestCreate.model_validate(
        {
            "resource_code": entry,
            "application_code": app,
            "purpose": "核验办事群众身份信息",
            "legal_basis": "《政务数据共享条例》",
            "columns": ["姓名"],
        }
    )
    with pytest.raises(RuntimeError), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.submit_share_request(ctx, data)
        assert ctx.db.scalars(select(OutboxMessage)).all()  # queued in this transaction
        raise RuntimeError("the request fails after the notice was made")
    assert _outbox(database) == []
    request(database, seeded.actor(Role.DATA_LIAISON), entry, app)  # the next one does leave
    assert eventually(lambda: len(sink.received) == 1 and len(hook.received) == 1)


def test_without_smtp_or_webhook_nothing_is_queued(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    assert _outbox(database) == []


def test_notice_addresses_are_validated_and_audited(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    for bad in ("no-at-sign", "a@b", "two@@x.cn", "a b@x.cn", "<a@x.cn>"):
        with pytest.raises(Invalid) as caught, acting(database, liaison) as ctx:
            service.set_notice_address(ctx, NoticeAddressIn(email=bad))
        assert caught.value.errors[0].field == "email"
    with acting(database, liaison) as ctx:
        out = service.set_notice_address(ctx, NoticeAddressIn(email=" Li@Jia.Example.GOV.cn "))
        assert out.email == "Li@jia.example.gov.cn"
        assert service.get_notice_address(ctx).email == "Li@jia.example.gov.cn"
    with pytest.raises(Forbidden), acting(database, liaison) as ctx:  # not someone else's
        service.set_notice_address(ctx, NoticeAddressIn(email="x@y.cn"), username="a.cdo")
    with acting(database, SYSTEM) as ctx:
        entries = ctx.db.scalars(
            select(AuditEntry).where(AuditEntry.action == "sharing.notice_address_set")
        ).all()
        assert [e.target_id for e in entries] == ["a.liaison"]


def test_console_sets_ones_address_and_shows_the_bureau_what_did_not_leave(
    client: TestClient, database: Database
) -> None:
    seeded = seed_org(database)
    with acting(database, SYSTEM) as ctx:
        ctx.db.add(
            OutboxMessage(
                channel=Channel.EMAIL,
                kind="request_decided",
                recipient="a.cdo@jia.example.gov.cn",
                username="a.cdo",
                roles="unit_cdo",
                subject_zh="共享申请 #1 审批结果：同意。",
                subject_en="Share request #1: approve.",
                link="/sharing/requests/1",
                state=OutboxState.FAILED,
                attempts=outbox.ATTEMPTS,
                last_error="smtp mail.example:587: 535 authentication failed",
            )
        )
    login(client, "a.liaison", PASSWORD)
    page = client.get("/sharing/notifications").text
    assert 'name="email"' in page and 'id="outbox"' not in page  # staff: own address only
    token = csrf(client, "/sharing/notifications")
    bad = client.post("/sharing/notifications/mail", data={"csrf_token": token, "email": "x@"})
    assert bad.status_code == 422 and "不是有效的电子邮箱地址" in bad.text
    good = client.post(
        "/sharing/notifications/mail",
        data={"csrf_token": token, "email": "li@jia.example.gov.cn", "mail_off": "1"},
        follow_redirects=False,
    )
    assert good.status_code == 303
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert service.get_notice_address(ctx).model_dump() == {
            "username": "a.liaison",
            "email": "li@jia.example.gov.cn",
            "mail_off": True,
        }
    assert client.get("/api/v1/sharing/outbox").status_code == 403
    login(client, "cdo", PASSWORD)
    page = client.get("/sharing/notifications").text
    assert 'id="outbox"' in page and "535 authentication failed" in page
    assert "失败 1" in page
    listed = client.get("/api/v1/sharing/outbox", params={"state": "failed"}).json()
    assert [(m["recipient"], m["attempts"]) for m in listed] == [("a.cdo", outbox.ATTEMPTS)]


def test_deliver_notices_command_retries_what_is_due(mailing: Mailing) -> None:
    database, seeded, sink = mailing.database, mailing.seeded, mailing.sink
    sink.refuse = True
    entry = shared_entry(database, "conditional")
    request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    assert eventually(lambda: _settled(database))
    with acting(database, SYSTEM) as ctx:  # its pause is over
        ctx.db.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    sink.refuse = False
    s = database.settings
    env = {
        "SHUZHI_DATA_DIR": str(s.data_dir),
        "SHUZHI_DATABASE_URL": s.database_url,
        "SHUZHI_SECRET_KEY": "s" * 40,
        "SHUZHI_SMTP_HOST": s.smtp_host,
        "SHUZHI_SMTP_PORT": str(s.smtp_port),
        "SHUZHI_SMTP_SECURITY": "none",
        "SHUZHI_SMTP_USER": s.smtp_user,
        "SHUZHI_SMTP_PASSWORD": s.smtp_password,
        "SHUZHI_MAIL_FROM": s.mail_from,
    }
    result = CliRunner().invoke(app, ["sharing", "deliver-notices"], env=env)
    assert result.exit_code == 0, result.output
    assert "Sent / 已发送: 1" in result.output  # the mail (the webhook took its post at once)
    assert len(sink.received) == 1
    assert all(m.state == OutboxState.SENT for m in _outbox(database))
