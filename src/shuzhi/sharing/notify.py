"""Outgoing notifications beyond the console (e-mail, SMS, a messaging app): one small seam.

Every console notification is also handed to the database's ``Notifier`` — but only after
the transaction that created it commits, so a decision that rolls back never sends mail.
The default sends nothing; ``LoggingNotifier`` writes one log line per message; a mail
implementation needs only ``send``.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from shuzhi.db.engine import Database
from shuzhi.db.outer import after_outer_commit, after_outer_rollback

log = logging.getLogger("shuzhi.sharing.notify")
OUTBOX = "sharing.outbox"


@dataclass(frozen=True)
class Outgoing:
    """A message for everyone holding one of ``roles`` in ``unit_code`` (None: the region)."""

    kind: str
    unit_code: str | None
    roles: tuple[str, ...]
    subject_zh: str
    subject_en: str
    link: str


class Notifier(Protocol):
    def send(self, message: Outgoing) -> None: ...


class NoopNotifier:
    def send(self, message: Outgoing) -> None:
        return None


class LoggingNotifier:
    def send(self, message: Outgoing) -> None:
        log.info(
            "notify %s unit=%s roles=%s: %s (%s)",
            message.kind,
            message.unit_code or "region",
            ",".join(message.roles),
            message.subject_zh,
            message.link,
        )


_NOTIFIERS: weakref.WeakKeyDictionary[Database, Notifier] = weakref.WeakKeyDictionary()
_NOOP = NoopNotifier()


def use_notifier(database: Database, notifier: Notifier) -> None:
    """Install the notifier for one database (an app or a CLI run)."""
    _NOTIFIERS[database] = notifier


def notifier_for(database: Database) -> Notifier:
    return _NOTIFIERS.get(database, _NOOP)


def queue(session: Session, database: Database, message: Outgoing) -> None:
    """Send ``message`` when (and only if) the session's transaction commits."""
    box: list[Outgoing] | None = session.info.get(OUTBOX)
    if box is None:
        box = session.info[OUTBOX] = []
        notifier = notifier_for(database)

        def deliver(s: Session) -> None:
            pending = list(s.info.get(OUTBOX) or [])
            s.info[OUTBOX] = []
            for m in pending:
                try:
                    notifier.send(m)
                except Exception:  # a mail outage must never undo a committed decision
                    log.exception("notifier failed for %s", m.kind)

        def discard(s: Session) -> None:
            s.info[OUTBOX] = []

        after_outer_commit(session, deliver)
        after_outer_rollback(session, discard)
    box.append(message)
