"""SQLite's write-ahead log stays bounded under steady reads and writes, and long read units
do not pin an old snapshot."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shuzhi.audit.events import OperationDenied
from shuzhi.audit.models import AuditEntry
from shuzhi.audit.service import check_chain, record
from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.engine import Database
from tests.conftest import acting


def _file(database: Database) -> str:
    return str(database.engine.url.database)


def _wal(database: Database) -> Path:
    return Path(f"{_file(database)}-wal")


def _grow(database: Database, entries: int) -> None:
    with acting(database, SYSTEM) as ctx:
        for n in range(entries):
            record(ctx, OperationDenied(operation="grow", target="x" * 200 + str(n)))


def _entries(database: Database) -> int:
    with acting(database, SYSTEM) as ctx:
        return int(ctx.db.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_a_grown_log_is_truncated_and_nothing_is_lost(database: Database) -> None:
    if database.capabilities.name != "sqlite":
        assert database.trim_wal(0) is False  # PostgreSQL: nothing to do
        return
    before = _entries(database)
    _grow(database, 300)
    size = _wal(database).stat().st_size
    assert size > 0
    assert database.trim_wal(max_bytes=size) is False  # not past the limit: left alone
    assert database.trim_wal(max_bytes=1024) is True
    assert _wal(database).stat().st_size == 0
    assert _entries(database) == before + 300
    with acting(database, SYSTEM) as ctx:
        assert check_chain(ctx).ok


def test_an_old_reader_keeps_the_log_and_a_later_call_truncates_it(
    database: Database,
) -> None:
    if database.capabilities.name != "sqlite":
        assert database.trim_wal(0, wait_ms=100) is False  # PostgreSQL: nothing to do
        return
    before = _entries(database) + 50
    _grow(database, 50)
    reader = sqlite3.connect(_file(database))
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM audit_entry").fetchone()[0] == before
        _grow(database, 50)  # written after the reader's snapshot
        assert database.trim_wal(max_bytes=0, wait_ms=100) is False
        assert _wal(database).stat().st_size > 0
        # The reader still sees its own snapshot, untouched by the attempt.
        assert reader.execute("SELECT count(*) FROM audit_entry").fetchone()[0] == before
        reader.execute("COMMIT")
    finally:
        reader.close()
    assert database.trim_wal(max_bytes=0) is False  # not tried again at once
    database._trim_after = 0.0  # as when the pause after a kept log has passed
    assert database.trim_wal(max_bytes=0) is True
    assert _wal(database).stat().st_size == 0
    assert _entries(database) == before + 50


def test_release_snapshot_lets_a_read_unit_see_later_commits(database: Database) -> None:
    """Between the scans of a long read unit, a released snapshot is replaced by a fresh one
    (what the security evaluator does between its families of rules)."""
    before = _entries(database)
    _grow(database, 3)
    with unit_of_work(database, SYSTEM, read=True) as ctx:
        first = ctx.db.scalar(select(func.count()).select_from(AuditEntry))
        _grow(database, 2)  # committed by another unit meanwhile
        same = ctx.db.scalar(select(func.count()).select_from(AuditEntry))
        ctx.release_snapshot()
        fresh = ctx.db.scalar(select(func.count()).select_from(AuditEntry))
    if database.capabilities.name == "sqlite":
        assert same == first  # one snapshot until released (PostgreSQL reads committed)
    assert (first, fresh) == (before + 3, before + 5)


def test_release_snapshot_outside_a_read_unit_keeps_the_transaction(
    database: Database,
) -> None:
    before = _entries(database)
    with pytest.raises(RuntimeError), unit_of_work(database, SYSTEM) as ctx:
        record(ctx, OperationDenied(operation="kept", target="t"))
        ctx.release_snapshot()  # a writing unit: nothing happens, nothing commits
        raise RuntimeError("roll back")
    assert _entries(database) == before
