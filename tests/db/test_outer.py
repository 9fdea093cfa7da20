"""Work waiting for the outer transaction: a released savepoint is not a commit."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from shuzhi.db.engine import Database
from shuzhi.db.outer import after_outer_commit, after_outer_rollback


def _session(database: Database) -> Session:
    session = database.sessions()
    session.execute(text("SELECT 1"))
    return session


def test_a_released_savepoint_does_not_count_as_the_commit(database: Database) -> None:
    session = _session(database)
    seen: list[str] = []
    after_outer_commit(session, lambda s: seen.append("commit"))
    after_outer_rollback(session, lambda s: seen.append("rollback"))
    with session.begin_nested():
        session.execute(text("SELECT 1"))
    with pytest.raises(ValueError), session.begin_nested():
        raise ValueError
    assert seen == []
    session.commit()
    assert seen == ["commit"]
    session.execute(text("SELECT 1"))
    session.rollback()
    assert seen == ["commit", "rollback"]
    session.close()


def test_once_waits_for_the_first_outer_commit(database: Database) -> None:
    session = _session(database)
    seen: list[int] = []
    after_outer_commit(session, lambda s: seen.append(1), once=True)
    with session.begin_nested():
        session.execute(text("SELECT 1"))
    session.commit()
    session.execute(text("SELECT 1"))
    session.commit()
    assert seen == [1]
    session.close()
