"""Security monitoring reads one application key's calls of the last hour (an alert's
evidence, what an open alert grew by). On a busy gateway the day holds millions of calls:
those reads go through the (key, time) index instead of scanning the day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.gateway import monitoring
from shuzhi.gateway.meter import CallRecord, write_calls
from tests.conftest import make_settings

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _call(n: int, key_id: int) -> CallRecord:
    return CallRecord(
        f"k{n:08d}",
        NOW - timedelta(minutes=n % 50),
        "lookup",
        "R/1",
        1,
        2,
        3,
        "APP",
        key_id,
        5,
        (("身份证号", "eq", f"33018219900101{n:04d}"),),
        b"k" * 32,
        1,
        900,
        200,
        "ok",
        "10.0.0.7",
    )


def _plans(database: Database, read: Any) -> list[str]:
    """SQLite's query plan of every statement ``read`` runs."""
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    engine = database.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with database.sessions() as session:
            read(session)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    plans = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            plans.append(" | ".join(str(r[-1]) for r in rows))
    return plans


def test_one_keys_calls_are_read_through_its_index(tmp_path: Path) -> None:
    database = Database(make_settings(tmp_path, f"sqlite:///{tmp_path / 'shuzhi.db'}"))
    try:
        upgrade(database)
        write_calls(database, [_call(n, key_id=1 + n % 3) for n in range(300)])
        since = NOW - timedelta(hours=1)
        samples = _plans(
            database, lambda s: monitoring.samples(s, since, NOW + timedelta(seconds=1), key_id=2)
        )
        counts = _plans(
            database,
            lambda s: monitoring.count_calls(s, since, NOW + timedelta(seconds=1), key_id=2),
        )
        with database.sessions() as session:
            found = monitoring.samples(session, since, NOW + timedelta(seconds=1), key_id=2)
            counted = monitoring.count_calls(session, since, NOW + timedelta(seconds=1), key_id=2)
    finally:
        database.dispose()
    assert samples and counts
    assert [p for p in samples + counts if "ix_gateway_call_key_at" not in p] == []
    assert len(found) == 20 and counted == 100
    assert [s.at for s in found] == sorted((s.at for s in found), reverse=True)


def test_the_hours_aggregates_visit_the_hours_calls_only(tmp_path: Path) -> None:
    """Not the whole day's through the day indexes (in latency or consumer order)."""
    database = Database(make_settings(tmp_path, f"sqlite:///{tmp_path / 'shuzhi.db'}"))
    since, until = NOW - timedelta(hours=1), NOW + timedelta(seconds=1)
    try:
        upgrade(database)
        write_calls(database, [_call(n, key_id=1 + n % 3) for n in range(300)])
        plans = _plans(
            database,
            lambda s: (
                monitoring.activity(s, since, until),
                monitoring.exports(s, since, until),
                monitoring.refusals_without_key(s, since, until),
            ),
        )
        with database.sessions() as session:
            keys = monitoring.activity(session, since, until)
    finally:
        database.dispose()
    assert len(plans) == 4  # the key activity reads twice: its sums, then its lookups
    # Each read seeks the range on the time index (the keyless refusals on (key, time), the
    # key being NULL).
    assert [p for p in plans if "at>? AND at<?)" not in p] == []
    assert "USING INDEX ix_gateway_call_at (at>? AND at<?)" in plans[0]
    assert sorted((k.key_id, k.calls, k.distinct_lookups) for k in keys) == [
        (1, 100, 100),
        (2, 100, 100),
        (3, 100, 100),
    ]
