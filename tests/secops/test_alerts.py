"""Alerts: one alert per running attack (count and last_seen grow), acknowledgement,
false positives that raise the subject's threshold, thresholds as validated data, who sees
what, and delivery by mail and webhook through the outbox (kept and retried while the SMTP
server is down)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.secops import service
from shuzhi.secops.models import Alert
from shuzhi.secops.schemas import FalsePositiveIn, ThresholdIn
from shuzhi.sharing import outbox
from shuzhi.sharing import service as sharing
from shuzhi.sharing.models import OutboxMessage, OutboxState
from shuzhi.sharing.schemas import NoticeAddressIn
from tests.conftest import acting
from tests.factories import seed_org
from tests.secops.helpers import HOUR, WORK_NOW, evaluate, lookups, replay, rules_of
from tests.sharing.mailsink import eventually, smtp_sink, webhook_receiver

NOW = WORK_NOW


def _alerts(database: Database) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Alert)) or 0)


def test_an_alert_storm_of_100000_calls_stays_one_growing_alert(database: Database) -> None:
    start = NOW - HOUR
    replay(
        database, lookups(100_000, start, NOW - 2 * HOUR / 60, (f"k{i}" for i in range(100_000)))
    )
    began = time.monotonic()
    first = evaluate(database, NOW - HOUR / 60)
    assert time.monotonic() - began < 60  # bounded: aggregate queries, not a call-by-call walk
    # One alert per rule about the key (the storm is enumeration and a volume spike too).
    assert sorted(a.rule for a in first.new) == ["enumeration", "volume_spike"]
    alert = next(a for a in first.new if a.rule == "enumeration")
    assert alert.count == 100_000 and alert.measure == 100_000
    assert len(alert.evidence) == 10  # the latest calls, not all of them
    # The attack goes on: the same alert grows, no second one.
    replay(database, lookups(500, NOW - HOUR / 60, NOW, (f"x{i}" for i in range(500))))
    again = evaluate(database, NOW)
    assert again.new == [] and again.grown == 2
    assert _alerts(database) == 2
    with acting(database, SYSTEM) as ctx:
        grown = service.get_alert(ctx, alert.id)
    assert grown.count == 100_500 and grown.last_seen > alert.last_seen
    assert grown.first_seen == alert.first_seen
    # Nothing new: evaluating again changes nothing.
    assert evaluate(database, NOW).grown == 0


def test_an_acknowledged_alert_keeps_collecting_the_attack(database: Database) -> None:
    seeded = seed_org(database)
    replay(database, lookups(600, NOW - HOUR, NOW - HOUR / 2, (f"d{i}" for i in range(600))))
    (alert,) = evaluate(database, NOW - HOUR / 2).new
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        acked = service.acknowledge_alert(ctx, alert.id)
    assert acked.status == "acknowledged" and acked.acknowledged_by == "user:exec"
    with pytest.raises(Conflict), acting(database, seeded.actor(Role.CDO)) as ctx:
        service.acknowledge_alert(ctx, alert.id)
    replay(database, lookups(10, NOW - HOUR / 4, NOW, (f"e{i}" for i in range(10))))
    assert evaluate(database, NOW).grown == 1 and _alerts(database) == 1


def test_a_false_positive_raises_the_subjects_threshold(database: Database) -> None:
    seeded = seed_org(database)
    replay(database, lookups(600, NOW - HOUR, NOW, (f"d{i}" for i in range(600))))
    (alert,) = evaluate(database, NOW).new
    with pytest.raises(Invalid), acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.mark_false_positive(ctx, alert.id, FalsePositiveIn(reason="误报"))
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        marked = service.mark_false_positive(
            ctx, alert.id, FalsePositiveIn(reason="核对后为该系统每月例行的批量核验任务")
        )
    assert marked.status == "false_positive"
    # The same behaviour an hour later: no alert for this key; another key still alerts.
    later = NOW + HOUR
    replay(database, lookups(700, later - HOUR, later, (f"f{i}" for i in range(700))))
    replay(database, lookups(700, later - HOUR, later, (f"g{i}" for i in range(700)), key_id=5))
    assert rules_of(evaluate(database, later)) == {("enumeration", "key:5")}
    # Far beyond what was judged normal: alerts again.
    latest = later + HOUR
    replay(database, lookups(3000, latest - HOUR, latest, (f"h{i}" for i in range(3000))))
    assert ("enumeration", "key:1") in rules_of(evaluate(database, latest))


def test_thresholds_are_data_edited_by_the_bureau_and_validated(database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        listed = {(t.rule, t.param): t for t in service.list_thresholds(ctx)}
        assert listed[("enumeration", "distinct_keys")].value == 500
        with pytest.raises(Invalid) as refused:
            service.set_threshold(ctx, "enumeration", "distinct_keys", ThresholdIn(value=1))
    (error,) = refused.value.errors
    assert "every ordinary call" in error.message.en and "每次调用都告警" in error.message.zh
    for bad in (float("nan"), -5.0, 1.0):
        with pytest.raises(Invalid), acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
            service.set_threshold(ctx, "login_spray", "accounts", ThresholdIn(value=bad))
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.set_threshold(ctx, "enumeration", "distinct_keys", ThresholdIn(value=100))
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.set_threshold(ctx, "enumeration", "distinct_keys", ThresholdIn(value=100))
    replay(database, lookups(150, NOW - HOUR, NOW, (f"d{i}" for i in range(150))))
    assert ("enumeration", "key:1") in rules_of(evaluate(database, NOW))


def test_alerts_are_listed_for_the_bureau_and_the_owning_units_cdo(database: Database) -> None:
    seeded = seed_org(database)
    a, b = seeded.unit_ids["A"], seeded.unit_ids["B"]
    keys = (f"d{i}" for i in range(600))
    replay(database, lookups(600, NOW - HOUR, NOW, keys, provider_unit_id=b, key_id=1))
    replay(
        database,
        lookups(600, NOW - HOUR, NOW, (f"e{i}" for i in range(600)), provider_unit_id=a, key_id=2),
    )
    assert len(evaluate(database, NOW).new) == 2
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        listed = service.list_alerts(ctx, "open")
    assert listed.total == 2
    assert set(listed.items[0].model_dump()) == {
        "id",
        "rule",
        "severity",
        "subject",
        "first_seen",
        "last_seen",
        "count",
    }
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:  # A's CDO: A's alert only
        mine = service.list_alerts(ctx, "open")
        assert [i.subject for i in mine.items] == ["key:2"]
        other = next(i for i in listed.items if i.subject == "key:1")
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.get_alert(ctx, other.id)
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.list_alerts(ctx, "open")
    with pytest.raises(Invalid), acting(database, seeded.actor(Role.CDO)) as ctx:
        service.list_alerts(ctx, "whatever")


def test_alerts_are_mailed_and_posted_and_kept_while_smtp_is_down(database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        sharing.set_notice_address(
            ctx, NoticeAddressIn(email="exec@dsj.example.gov.cn"), username="exec"
        )
    with smtp_sink() as sink, webhook_receiver() as hook:
        mailer = Database(
            database.settings.with_overrides(
                smtp_host=sink.host,
                smtp_port=sink.port,
                smtp_security="none",
                smtp_user=sink.user,
                smtp_password=sink.password,
                mail_from="shuzhi@dsj.example.gov.cn",
                notice_webhook_url=hook.url,
            )
        )
        try:
            sink.refuse = True
            replay(mailer, lookups(600, NOW - HOUR, NOW, (f"d{i}" for i in range(600))))
            (alert,) = evaluate(mailer, NOW).new

            def mails() -> list[OutboxMessage]:
                with mailer.sessions() as session:
                    rows = list(
                        session.scalars(
                            select(OutboxMessage).where(OutboxMessage.kind == "secops_alert")
                        )
                    )
                    session.expunge_all()
                    return rows

            assert eventually(lambda: all(m.attempts > 0 for m in mails()))
            (mail,) = [m for m in mails() if m.channel == "email"]
            assert (mail.state, mail.recipient) == (OutboxState.PENDING, "exec@dsj.example.gov.cn")
            assert "451" in mail.last_error and sink.received == []
            assert eventually(lambda: len(hook.received) == 1)
            assert "enumeration" in str(hook.received[0]) or "枚举" in str(hook.received[0])
            # The server takes mail again: the kept message leaves on the next run.
            sink.refuse = False
            assert outbox.deliver_outbox(mailer, utcnow() + timedelta(days=1))[0] >= 1
            assert eventually(lambda: len(sink.received) == 1)
            subject = str(sink.received[0][1]["Subject"])
            assert "数据安全告警" in subject or "Data security alert" in subject
            assert alert.id >= 1
        finally:
            mailer.dispose()
