"""Who is acting, on which database session: the first argument of every service function."""

from __future__ import annotations

from collections.abc import Iterator
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

    def fail(self, err: ShuzhiError) -> None:
        self.failures.append(err)


@contextmanager
def unit_of_work(
    database: Database, actor: Actor, *, locale: str = "zh-CN", client: str | None = None
) -> Iterator[Ctx]:
    """One transaction per request or command.

    On success everything commits. On a ``ShuzhiError`` (raised, or caught and passed to
    ``ctx.fail``) everything rolls back; records the error still needs (the audit entry of a
    refusal, a failed-login counter) are then written in a transaction of their own, so
    refusals are audited without keeping half of the work.
    """
    session = database.sessions()
    ctx = Ctx(
        db=session,
        actor=actor,
        settings=database.settings,
        database=database,
        locale=locale,
        client=client,
    )
    try:
        yield ctx
        if not ctx.failures:
            session.commit()
            return
        session.rollback()
        _after_rollback(session, ctx, ctx.failures)
    except ShuzhiError as err:
        session.rollback()
        _after_rollback(session, ctx, [*ctx.failures, err])
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _after_rollback(session: Session, ctx: Ctx, errors: list[ShuzhiError]) -> None:
    hooks = [e.after_rollback for e in errors if e.after_rollback is not None]
    if not hooks:
        return
    for hook in hooks:
        hook(ctx)
    session.commit()
