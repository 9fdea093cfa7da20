"""Notifications leave the platform only after the decision that caused them commits."""

from __future__ import annotations

import logging

import pytest

from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.sharing.notify import LoggingNotifier, Outgoing, use_notifier
from tests.factories import seed_org
from tests.sharing.helpers import application, approve, request, shared_entry


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> None:
        self.sent.append(message)


def test_messages_follow_the_commit(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    app = application(database)
    recorder = Recorder()
    use_notifier(database, recorder)
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, app)
    assert [(m.kind, m.unit_code, m.roles) for m in recorder.sent] == [
        ("request_submitted", "B", ("unit_cdo", "data_liaison"))
    ]
    assert f"/sharing/requests/{out.id}" == recorder.sent[0].link
    with pytest.raises(Invalid):  # refused without a reason: rolled back, nothing sent
        approve(database, seeded, out.id, outcome="refuse")
    assert len(recorder.sent) == 1
    approve(database, seeded, out.id)
    assert [m.kind for m in recorder.sent] == ["request_submitted", "request_decided"]


def test_logging_notifier(database: Database, caplog: pytest.LogCaptureFixture) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    app = application(database)
    use_notifier(database, LoggingNotifier())
    with caplog.at_level(logging.INFO, logger="shuzhi.sharing.notify"):
        request(database, seeded.actor(Role.DATA_LIAISON), entry, app)
    assert "notify request_submitted unit=B" in caplog.text
