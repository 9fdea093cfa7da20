"""Work that must wait for a session's outermost transaction to end.

SQLAlchemy reports a released or rolled-back savepoint (``begin_nested``) through the same
``after_commit`` and ``after_rollback`` events as the transaction around it. Work that leaves
the transaction (a message sent, a file written, another connection opened) must wait for the
outer end: the savepoint's rows may still roll back, and on SQLite the outer transaction still
holds the write lock another connection would wait for.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session


def after_outer_commit(
    session: Session, work: Callable[[Session], None], *, once: bool = False
) -> None:
    """Call ``work(session)`` after each commit of the outermost transaction (or the first)."""
    _listen(session, "after_commit", work, once)


def after_outer_rollback(
    session: Session, work: Callable[[Session], None], *, once: bool = False
) -> None:
    """Call ``work(session)`` after each rollback of the outermost transaction (or the first)."""
    _listen(session, "after_rollback", work, once)


def _listen(session: Session, name: str, work: Callable[[Session], None], once: bool) -> None:
    done = False

    def listener(s: Session) -> None:
        nonlocal done
        if s.in_nested_transaction() or (once and done):
            return
        done = True
        work(s)

    event.listen(session, name, listener)
