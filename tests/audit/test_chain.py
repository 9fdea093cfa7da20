"""The audit log detects altered, deleted and reordered entries, on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shuzhi.audit.service import check_chain, record
from shuzhi.auth.events import LoggedOut
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from tests.conftest import acting


def _write(database: Database, n: int) -> None:
    with acting(database, SYSTEM) as ctx:
        for i in range(n):
            record(ctx, LoggedOut(username=f"user{i}"))


def _tamper(database: Database, sql: str) -> None:
    with database.engine.begin() as conn:
        for statement in sql.split(";"):
            conn.execute(text(statement))


def test_untouched_chain_verifies(database: Database) -> None:
    _write(database, 5)
    with acting(database, SYSTEM) as ctx:
        report = check_chain(ctx)
    assert report.ok and report.entries == 5


@pytest.mark.parametrize(
    ("sql", "bad"),
    [
        ('UPDATE audit_entry SET details = \'{"username":"mallory"}\' WHERE seq = 3', 3),
        ("UPDATE audit_entry SET actor = 'user:someone' WHERE seq = 2", 2),
        ("DELETE FROM audit_entry WHERE seq = 4", 4),
        # swap two entries' positions: their hashes no longer link up
        (
            "UPDATE audit_entry SET seq = -2 WHERE seq = 2; UPDATE audit_entry SET seq = 2 "
            "WHERE seq = 3; UPDATE audit_entry SET seq = 3 WHERE seq = -2",
            2,
        ),
        ("DELETE FROM audit_entry WHERE seq = 5", 5),
    ],
    ids=["altered-details", "altered-actor", "deleted-middle", "reordered", "deleted-last"],
)
def test_tampering_is_detected_at_the_first_bad_entry(
    database: Database, sql: str, bad: int
) -> None:
    _write(database, 5)
    _tamper(database, sql)
    with acting(database, SYSTEM) as ctx:
        report = check_chain(ctx)
    assert not report.ok
    assert report.first_bad_seq == bad
    assert report.reason


def test_entries_roll_back_with_the_change_they_describe(database: Database) -> None:
    with pytest.raises(RuntimeError), acting(database, SYSTEM) as ctx:
        record(ctx, LoggedOut(username="ghost"))
        raise RuntimeError("the business change failed")
    with acting(database, SYSTEM) as ctx:
        report = check_chain(ctx)
    assert report.ok and report.entries == 0


def test_a_rolled_back_savepoint_leaves_no_gap(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        record(ctx, LoggedOut(username="kept1"))
        with pytest.raises(RuntimeError), ctx.db.begin_nested():
            record(ctx, LoggedOut(username="undone1"))
            record(ctx, LoggedOut(username="undone2"))
            raise RuntimeError("this part failed")
        record(ctx, LoggedOut(username="kept2"))
        record(ctx, LoggedOut(username="kept3"))
    with acting(database, SYSTEM) as ctx:
        report = check_chain(ctx)
        names = ctx.db.execute(text("SELECT details FROM audit_entry ORDER BY seq")).scalars()
        assert [n for n in names] == [
            '{"username":"kept1"}',
            '{"username":"kept2"}',
            '{"username":"kept3"}',
        ]
    assert report.ok and report.entries == 3


def test_entries_after_a_rollback_in_the_same_session_follow_the_stored_head(
    database: Database,
) -> None:
    _write(database, 2)
    with acting(database, SYSTEM) as ctx:
        record(ctx, LoggedOut(username="undone"))
        ctx.db.rollback()
        record(ctx, LoggedOut(username="after"))
    with acting(database, SYSTEM) as ctx:
        report = check_chain(ctx)
    assert report.ok and report.entries == 3
