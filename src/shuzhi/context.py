"""Who is acting, on which database session: the first argument of every service function."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from sqlalchemy.orm import Session

from shuzhi.db.engine import Database
from shuzhi.errors import ShuzhiError
from shuzhi.settings import Settings


class Role(StrEnum):
    """The roles of design §2; unit-scoped roles act only on their own unit."""

    CDO = "cdo"
    CDO_EXECUTIVE = "cdo_executive"
    UNIT_CDO = "unit_cdo"
    DATA_LIAISON = "data_liaison"
    CONSUMER = "consumer"
    OPERATOR = "operator"
    AUDITOR = "auditor"


ActorKind = Literal["user", "api_key", "system", "anonymous"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None = None
    name: str = ""
    role: Role | None = None
    unit_id: int | None = None

    @property
    def label(self) -> str:
        """Stable text naming the actor in the audit log, e.g. ``user:alice``."""
        return f"{self.kind}:{self.name}" if self.name else self.kind

    @property
    def is_authenticated(self) -> bool:
        return self.kind in ("user", "api_key", "system")


ANONYMOUS = Actor(kind="anonymous")
SYSTEM = Actor(kind="system", name="shuzhi")


@dataclass
class Ctx:
    db: Session
    actor: Actor
    settings: Settings
    database: Database
    locale: str = "zh-CN"
    client: str | None = None
    # Set when a caller caught a ShuzhiError and carried on (e.g. to re-show a form):
    # the unit of work then rolls back instead of committing, keeping the error's record.
    failures: list[ShuzhiError] = field(default_factory=list)
    # A read unit's session must not write; the writes it needs wait here (see ``write``).
    reading: bool = False
    queued: list[Callable[[Ctx], object]] = field(default_factory=list)

    def fail(self, err: ShuzhiError) -> None:
        self.failures.append(err)

    def write(self, work: Callable[[Ctx], object]) -> None:
        """Do a write a read needs (audit, counters): now, or after a read unit's reads.

        ``work`` gets the Ctx to write with; it must not use objects loaded by the read.
        """
        if self.reading:
            self.queued.append(work)
        else:
            work(self)

    def release_snapshot(self) -> None:
        """In a read unit, end the read transaction so the next read starts a fresh one.

        A long read unit calls this between independent scans: a transaction held open for
        minutes pins the database's old snapshot, and SQLite cannot reset its write-ahead
        log behind it while writers keep appending. Outside a read unit it does nothing.
        """
        if self.reading:
            self.db.commit()


@contextmanager
def unit_of_work(
    database: Database,
    actor: Actor,
    *,
    locale: str = "zh-CN",
    client: str | None = None,
    read: bool = False,
) -> Iterator[Ctx]:
    """One transaction per request or command.

    On success everything commits. On a ``ShuzhiError`` (raised, or caught and passed to
    ``ctx.fail``) everything rolls back; records the error still needs (the audit entry of a
    refusal, a failed-login counter) are then written in a transaction of their own, so
    refusals are audited without keeping half of the work.

    A read unit (``read=True``: safe requests) reads in a transaction that takes no write
    lock (a deferred BEGIN on SQLite) and must not write; the writes it needs, passed to
    ``ctx.write``, are done after the reads in one short write transaction of their own,
    before the unit ends: all of them or none, and never when the reads failed.
    """
    ctx = Ctx(
        db=(database.read_sessions if read else database.sessions)(),
        actor=actor,
        settings=database.settings,
        database=database,
        locale=locale,
        client=client,
        reading=read,
    )
    try:
        yield ctx
        if not ctx.failures:
            ctx.db.commit()
            if ctx.queued:
                _write_queued(ctx)
            return
        ctx.db.rollback()
        _after_rollback(ctx, ctx.failures)
    except ShuzhiError as err:
        ctx.db.rollback()
        _after_rollback(ctx, [*ctx.failures, err])
        raise
    except BaseException:
        ctx.db.rollback()
        raise
    finally:
        ctx.db.close()


def _to_writing(ctx: Ctx) -> None:
    """Leave a read unit's (finished) transaction for a session that may write."""
    if ctx.reading:
        ctx.db.close()
        ctx.db = ctx.database.sessions()
        ctx.reading = False


def _write_queued(ctx: Ctx) -> None:
    _to_writing(ctx)
    work, ctx.queued = ctx.queued, []
    for item in work:
        item(ctx)
    ctx.db.commit()


def _after_rollback(ctx: Ctx, errors: list[ShuzhiError]) -> None:
    ctx.queued = []  # part of the work that failed
    hooks = [e.after_rollback for e in errors if e.after_rollback is not None]
    if not hooks:
        return
    _to_writing(ctx)
    for hook in hooks:
        hook(ctx)
    ctx.db.commit()
