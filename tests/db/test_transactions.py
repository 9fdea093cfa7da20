"""A unit of work is all-or-nothing on every backend, savepoints included."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from shuzhi.org.models import UnitKind
from shuzhi.org.schemas import UnitCreate
from tests.conftest import acting


def test_released_savepoint_does_not_commit_a_failed_unit_of_work(database: Database) -> None:
    with pytest.raises(RuntimeError), acting(database, SYSTEM) as ctx:
        with ctx.db.begin_nested():  # the first statement of the transaction is a SAVEPOINT
            org.create_unit(ctx, UnitCreate(code="QX", name="试点区", kind=UnitKind.REGION))
        raise RuntimeError("a later step failed")
    with acting(database, SYSTEM) as ctx:
        assert org.unit_id_for_code(ctx, "QX") is None


def test_rolled_back_savepoint_keeps_the_outer_work(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        org.create_unit(ctx, UnitCreate(code="QX", name="试点区", kind=UnitKind.REGION))
        savepoint = ctx.db.begin_nested()
        org.create_unit(
            ctx, UnitCreate(code="QX1", name="甲局", kind=UnitKind.DEPARTMENT, parent_code="QX")
        )
        savepoint.rollback()
    with acting(database, SYSTEM) as ctx:
        assert org.unit_id_for_code(ctx, "QX") is not None
        assert org.unit_id_for_code(ctx, "QX1") is None


def test_a_failed_statement_does_not_quote_its_parameters(database: Database) -> None:
    value = "110101199001011234"
    with pytest.raises(DBAPIError) as caught, database.engine.connect() as conn:
        conn.execute(text("SELECT :v FROM no_such_table"), {"v": value})
    assert value not in str(caught.value) and "hidden" in str(caught.value)
