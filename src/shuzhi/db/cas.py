"""Conditional updates: the one way a status (or any claimed field) changes when two people
could act at once.

``compare_and_set`` updates a row only while the given conditions still hold and tells the
caller whether it won; the loser raises its own ``Conflict`` with the row as it now is.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, inspect, update
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session

from shuzhi.db.base import Base


def affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (``rowcount`` of its cursor result)."""
    return int(cast(CursorResult[Any], result).rowcount)


def compare_and_set(
    session: Session, row: Base, *conditions: ColumnElement[bool], **values: object
) -> bool:
    """``UPDATE`` ``row`` to ``values`` only while ``conditions`` hold; True if it did.

    Either way ``row`` then holds the stored state: the winner's new row comes back with the
    update (``RETURNING``), a loser's is read again, so it can say what beat it.
    """
    model = type(row)
    mapper = inspect(model)
    key = [
        column == getattr(row, mapper.get_property_by_column(column).key)
        for column in mapper.primary_key
    ]
    moved = session.scalars(
        update(model)
        .where(*key, *conditions)
        .values(**values)
        .returning(model)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).all()
    if len(moved) == 1:
        return True
    session.refresh(row)
    return False
