"""Anchors of the chain head outside the database: when they are written and what they catch."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from shuzhi.audit import anchors
from shuzhi.audit.chain import chain_mac
from shuzhi.audit.service import Pending, check_chain, record, record_batch
from shuzhi.auth.events import LoggedOut
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.audit.test_insider import _rewrite
from tests.conftest import acting


@pytest.fixture
def every3(settings: Settings) -> Iterator[Database]:
    """A database whose head is anchored every third entry (and never by time)."""
    db = Database(settings.with_overrides(audit_anchor_every=3, audit_anchor_seconds=0))
    yield db
    db.dispose()


def _record(database: Database, *names: str) -> None:
    with acting(database, SYSTEM) as ctx:
        for name in names:
            record(ctx, LoggedOut(username=name))


def _seqs(database: Database) -> list[int]:
    return [a.seq for a in anchors.read_anchors(database.settings)]


def _verify(database: Database):  # type: ignore[no-untyped-def]
    with acting(database, SYSTEM) as ctx:
        return check_chain(ctx)


def test_an_anchor_follows_the_commit_that_passes_every_nth_entry(every3: Database) -> None:
    for i in range(7):
        _record(every3, f"u{i}")
    assert _seqs(every3) == [3, 6]
    # A transaction of several entries anchors its own last one, after its commit.
    _record(every3, "a", "b", "c", "d")
    assert _seqs(every3) == [3, 6, 11]
    report = _verify(every3)
    assert report.ok and report.entries == 11 and report.anchors == 3


def test_a_batch_is_anchored_once_after_its_commit(every3: Database) -> None:
    now = datetime.now(UTC)
    items = [Pending(SYSTEM, LoggedOut(username=f"b{i}"), now) for i in range(10)]
    with acting(every3, SYSTEM) as ctx:
        record_batch(ctx, items)
        assert _seqs(every3) == []  # nothing before the commit
    assert _seqs(every3) == [10]
    assert _verify(every3).ok


def test_a_rolled_back_transaction_writes_no_anchor(every3: Database) -> None:
    with pytest.raises(RuntimeError), acting(every3, SYSTEM) as ctx:
        for i in range(4):
            record(ctx, LoggedOut(username=f"x{i}"))
        raise RuntimeError("the change failed")
    assert _seqs(every3) == []
    _record(every3, "kept")
    assert _seqs(every3) == [] and _verify(every3).ok


def test_an_anchor_is_due_after_the_anchor_period(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(settings.with_overrides(audit_anchor_every=0, audit_anchor_seconds=300))
    try:
        _record(db, "early")
        assert _seqs(db) == []
        monkeypatch.setattr(anchors._state, "last_time", time.monotonic() - 301)
        _record(db, "late")
        assert _seqs(db) == [2]
    finally:
        db.dispose()


def test_anchors_go_to_the_application_log(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    _record(database, "a", "b")
    with caplog.at_level(logging.INFO, logger="shuzhi.audit"):
        anchor = anchors.write_anchor(database)
    assert anchor is not None and anchor.seq == 2
    assert f"audit anchor: entry 2 head {anchor.head}" in caplog.text


def test_an_empty_log_is_not_anchored(database: Database) -> None:
    assert anchors.write_anchor(database) is None
    assert not anchors.anchor_path(database.settings).exists()


def test_the_anchor_command_gets_each_line(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "outside" / "anchor.txt"
    out.parent.mkdir()
    script = 'import sys; open(sys.argv[1], "a").write(sys.stdin.read())'
    command = f"{sys.executable} -c '{script}' {out}"
    db = Database(settings.with_overrides(audit_anchor_command=command))
    try:
        _record(db, "a")
        anchors.write_anchor(db)
        anchors.wait_for_hooks()
    finally:
        db.dispose()
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == anchors.anchor_path(settings).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("1\t")


def test_a_failing_anchor_command_is_logged_and_the_anchor_kept(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(settings.with_overrides(audit_anchor_command=f"{sys.executable} -c 'exit(3)'"))
    try:
        _record(db, "a")
        with caplog.at_level(logging.INFO, logger="shuzhi.audit"):
            anchors.write_anchor(db)
            anchors.wait_for_hooks()
    finally:
        db.dispose()
    assert "exited with 3" in caplog.text
    assert _seqs(db) == [1]


def test_a_head_without_its_entry_is_not_anchored(database: Database) -> None:
    _record(database, "a", "b")
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    with pytest.raises(anchors.AnchorRefused, match="does not match"):
        anchors.write_anchor(database)
    assert not anchors.anchor_path(database.settings).exists()


def test_an_insider_holding_the_key_still_meets_the_anchor(database: Database) -> None:
    """Even re-chained with the right key, entries before the last anchor cannot change."""
    _record(database, "a", "b", "c", "d")
    anchors.write_anchor(database)
    mac = chain_mac(database.settings)
    _rewrite(database, 2, lambda row, prev: mac(_Row(row, prev)), details='{"username":"eve"}')
    report = _verify(database)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert report.reason and "rewritten" in report.reason


class _Row:
    def __init__(self, row: dict[str, object], prev: str) -> None:
        self.__dict__.update(row)
        self.prev_hash = prev


def test_an_edited_anchor_line_fails_verification(database: Database) -> None:
    _record(database, "a", "b", "c")
    anchors.write_anchor(database)
    path = anchors.anchor_path(database.settings)
    _seq, head, at, mac = path.read_text(encoding="utf-8").strip().split("\t")
    path.write_text(f"2\t{head}\t{at}\t{mac}\n", encoding="utf-8")
    report = _verify(database)
    assert not report.ok and report.reason and "anchor line 1" in report.reason


def test_anchors_under_another_key_fail_verification(database: Database) -> None:
    _record(database, "a")
    anchors.write_anchor(database)
    other = Database(database.settings.with_overrides(audit_key="another key " * 4))
    try:
        with acting(other, SYSTEM) as ctx:
            report = check_chain(ctx)
    finally:
        other.dispose()
    assert not report.ok and report.reason and "MAC" in report.reason


def test_the_server_anchors_the_head_at_shutdown(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from shuzhi.app import create_app

    db = Database(settings)
    try:
        _record(db, "a", "b")
        with TestClient(create_app(settings, database=db, migrate=False)):
            pass
        assert _seqs(db) == [2]
    finally:
        db.dispose()
