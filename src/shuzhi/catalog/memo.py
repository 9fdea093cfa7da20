"""Reference data read once per transaction: code tables, segment lengths, elements, units.

Bulk compiles (an import, the demo) check thousands of entries against the same reference
data, so each piece is read on first use and kept on the session. It is dropped whenever
that data changes (every function writing it calls ``forget``), whenever a savepoint or the
transaction rolls back (the rollback may undo a change the memo has seen) and when the
transaction ends (the next one may see other writers' commits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from shuzhi.context import Ctx
from shuzhi.errors import NotFound
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitBrief

T = TypeVar("T")
_KEY = "catalog.memo"


def _drop(session: Session, *_: Any) -> None:
    session.info.pop(_KEY, None)


def _drop_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        _drop(session)


def _memo(session: Session) -> dict[str, object]:
    memo = session.info.get(_KEY)
    if isinstance(memo, dict):
        return memo
    if not session.info.get("catalog.memo_listening"):
        event.listen(session, "after_soft_rollback", _drop)
        event.listen(session, "after_transaction_end", _drop_at_end)
        session.info["catalog.memo_listening"] = True
    memo = {}
    session.info[_KEY] = memo
    return memo


def remembered(ctx: Ctx, name: str, load: Callable[[], T]) -> T:
    """``load()``'s result, computed once per transaction until ``forget`` is called."""
    memo = _memo(ctx.db)
    if name not in memo:
        memo[name] = load()
    return cast(T, memo[name])


def forget(ctx: Ctx) -> None:
    """Drop everything remembered: called by every function that changes reference data."""
    _drop(ctx.db)


def unit(ctx: Ctx, unit_id: int) -> UnitBrief:
    """A unit's code and name."""
    known: dict[int, UnitBrief] = remembered(ctx, "units", dict)
    if unit_id not in known:
        brief = org.unit_brief(ctx, unit_id)
        if brief is None:
            raise NotFound("单位不存在。", "No such unit.")
        known[unit_id] = brief
    return known[unit_id]


def unit_id(ctx: Ctx, code: str) -> int | None:
    """The unit with this code (unit codes never change)."""
    known: dict[str, int] = remembered(ctx, "unit_ids", dict)
    code = code.strip()
    if code not in known:
        found = org.unit_id_for_code(ctx, code)
        if found is None:
            return None
        known[code] = found
    return known[code]
