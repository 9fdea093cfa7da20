"""Signed checkpoints: the quick check starts from the newest one; the full check reads all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text

from shuzhi.audit import anchors
from shuzhi.audit.service import check_chain, record
from shuzhi.auth.events import LoggedOut
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.db.migrate import alembic_config, upgrade
from shuzhi.settings import Settings
from tests.audit.test_cli import cli_env  # noqa: F401  (fixture)
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.test_cli import run
from tests.web.helpers import csrf, login


@pytest.fixture
def every5(settings: Settings) -> Iterator[Database]:
    """A database whose head is anchored and checkpointed every fifth entry."""
    db = Database(settings.with_overrides(audit_anchor_every=5, audit_anchor_seconds=0))
    yield db
    db.dispose()


def _write(database: Database, n: int) -> None:
    with acting(database, SYSTEM) as ctx:
        for i in range(n):
            record(ctx, LoggedOut(username=f"u{i}"))
            ctx.db.commit()


def _verify(database: Database, *, full: bool):  # type: ignore[no-untyped-def]
    with acting(database, SYSTEM) as ctx:
        return check_chain(ctx, full=full)


def test_the_quick_check_starts_after_the_newest_checkpoint(every5: Database) -> None:
    _write(every5, 12)
    with every5.engine.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM audit_checkpoint ORDER BY seq")).scalars().all()
    assert seqs == [5, 10]
    assert [a.seq for a in anchors.read_anchors(every5.settings)] == [5, 10]
    quick = _verify(every5, full=False)
    assert quick.ok and quick.entries == 12 and quick.from_checkpoint == 10 and quick.checked == 2
    assert quick.anchors == 2
    full = _verify(every5, full=True)
    assert full.ok and full.entries == 12 and full.checked == 12 and full.from_checkpoint is None


def test_altering_an_entry_before_the_checkpoint_needs_the_full_check(every5: Database) -> None:
    _write(every5, 12)
    with every5.engine.begin() as conn:
        conn.execute(text('UPDATE audit_entry SET details = \'{"username":"eve"}\' WHERE seq = 3'))
    assert _verify(every5, full=False).ok  # by design: entries 1..10 are vouched for
    full = _verify(every5, full=True)
    assert not full.ok and full.first_bad_seq == 3 and full.reason and "MAC" in full.reason


def test_altering_an_entry_after_the_checkpoint_fails_the_quick_check(every5: Database) -> None:
    _write(every5, 12)
    with every5.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 11"))
    quick = _verify(every5, full=False)
    assert not quick.ok and quick.first_bad_seq == 11


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE audit_checkpoint SET seq = 5, count = 5 WHERE seq = 10",
        "UPDATE audit_checkpoint SET hash = (SELECT hash FROM audit_entry WHERE seq = 12)"
        " WHERE seq = 10",
        "UPDATE audit_checkpoint SET at = '2000-01-01T00:00:00+00:00' WHERE seq = 10",
    ],
)
def test_a_tampered_checkpoint_fails_both_checks(every5: Database, change: str) -> None:
    _write(every5, 12)
    with every5.engine.begin() as conn:
        conn.execute(text(change))
    for full in (False, True):
        report = _verify(every5, full=full)
        assert not report.ok and report.reason and "checkpoint" in report.reason


def test_a_checkpoint_without_its_anchor_line_fails_the_quick_check(every5: Database) -> None:
    """A row with a valid MAC (e.g. copied from a copy of the database) but no anchor line."""
    _write(every5, 12)
    with every5.engine.begin() as conn:
        head = conn.execute(text("SELECT hash FROM audit_entry WHERE seq = 12")).scalar_one()
        at = "2026-01-01T00:00:00+00:00"
        mac = anchors.checkpoint_mac(every5.settings, 12, head, 12, at)
        conn.execute(
            text(
                "INSERT INTO audit_checkpoint (seq, hash, count, at, mac)"
                " VALUES (12, :h, 12, :at, :m)"
            ),
            {"h": head, "at": at, "m": mac},
        )
    quick = _verify(every5, full=False)
    assert not quick.ok and quick.first_bad_seq == 12 and "anchors file" in (quick.reason or "")


def test_cutting_entries_and_checkpoints_is_caught_by_the_anchors(every5: Database) -> None:
    _write(every5, 12)
    with every5.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_checkpoint WHERE seq = 10"))
        conn.execute(text("DELETE FROM audit_entry WHERE seq > 7"))
        last = conn.execute(text("SELECT hash FROM audit_entry WHERE seq = 7")).scalar_one()
        conn.execute(text("UPDATE audit_head SET seq = 7, last_hash = :h"), {"h": last})
    quick = _verify(every5, full=False)
    assert not quick.ok and quick.first_bad_seq == 8 and "anchor" in (quick.reason or "")


def test_verify_full_on_the_command_line(
    cli_env: dict[str, str],  # noqa: F811
    database: Database,
) -> None:
    _write(database, 4)
    assert run(cli_env, "audit", "anchor")[0] == 0
    _write(database, 2)
    code, out = run(cli_env, "audit", "verify")
    assert code == 0 and "checkpoint at entry 4" in out
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 2"))
    assert run(cli_env, "audit", "verify")[0] == 0
    code, out = run(cli_env, "audit", "verify", "--full")
    assert code == 1 and "BROKEN at entry 2" in out


def test_a_log_from_before_checkpoints_verifies_and_gets_them(database: Database) -> None:
    """Entries and anchors written under audit_0001 verify unchanged after the upgrade; the
    quick check reads them all until the first checkpoint, then compares the old anchors
    with their entries."""
    command.downgrade(alembic_config(database), "audit@-2")  # before archives and checkpoints
    _write(database, 4)
    anchors.write_anchor(database)  # the line is written; the checkpoint table is not there
    _write(database, 3)
    upgrade(database)
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_checkpoint")).scalar_one() == 0
    quick = _verify(database, full=False)
    assert quick.ok and quick.entries == 7 and quick.checked == 7 and quick.anchors == 1
    assert quick.from_checkpoint is None
    anchors.write_anchor(database)
    quick = _verify(database, full=False)
    assert quick.ok and quick.from_checkpoint == 7 and quick.checked == 0 and quick.anchors == 2
    with database.engine.begin() as conn:  # entry 4 no longer what its old anchor recorded
        conn.execute(text("UPDATE audit_entry SET hash = :h WHERE seq = 4"), {"h": "f" * 64})
    quick = _verify(database, full=False)
    assert not quick.ok and quick.first_bad_seq == 4 and "anchor" in (quick.reason or "")


def test_a_released_savepoint_anchors_nothing_before_its_transaction_commits(
    every5: Database,
) -> None:
    # Entries appended inside a savepoint may still roll back with the outer transaction, and
    # on SQLite that transaction holds the write lock a checkpoint would wait for.
    with acting(every5, SYSTEM) as ctx:
        with ctx.db.begin_nested():
            for i in range(6):
                record(ctx, LoggedOut(username=f"u{i}"))
        assert anchors.read_anchors(every5.settings) == []
    assert [a.seq for a in anchors.read_anchors(every5.settings)] == [6]
    with every5.engine.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM audit_checkpoint")).scalars().all()
    assert seqs == [6]
    assert _verify(every5, full=False).ok


def test_the_api_and_the_console_check_quickly_unless_asked_for_everything(
    client: TestClient,
) -> None:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    seed_org(database)
    _write(database, 3)
    assert anchors.write_anchor(database) is not None
    _write(database, 2)
    login(client, "auditor", PASSWORD)
    headers = {"X-CSRF-Token": csrf(client, "/audit")}
    quick = client.post("/api/v1/audit/verify", headers=headers).json()
    assert quick["ok"] and quick["from_checkpoint"] is not None
    assert quick["checked"] < quick["entries"]
    full = client.post("/api/v1/audit/verify?full=true", headers=headers).json()
    assert full["ok"] and full["from_checkpoint"] is None and full["checked"] == full["entries"]
    assert full["entries"] > quick["entries"]  # the first check was itself recorded
    page = client.post(
        "/audit/verify", data={"csrf_token": csrf(client, "/audit"), "scope": "full"}
    )
    assert page.status_code == 200 and "逐条校验了全部" in page.text
    page = client.post(
        "/audit/verify", data={"csrf_token": csrf(client, "/audit"), "scope": "quick"}
    )
    assert page.status_code == 200 and "签名检查点起逐条校验了" in page.text
