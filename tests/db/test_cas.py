"""compare_and_set: of two transactions changing the same row from the same state, one wins
and the other learns the state that beat it; on both backends."""

from __future__ import annotations

from sqlalchemy import select, update

from shuzhi.context import SYSTEM
from shuzhi.db.cas import compare_and_set
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from shuzhi.org.models import Unit, UnitKind
from shuzhi.org.schemas import UnitCreate
from tests.conftest import acting


def _unit(database: Database) -> int:
    with acting(database, SYSTEM) as ctx:
        org.create_unit(ctx, UnitCreate(code="QX", name="试点区", kind=UnitKind.REGION))
        unit_id = org.unit_id_for_code(ctx, "QX")
    assert unit_id is not None
    return unit_id


def test_the_first_change_wins_and_the_second_sees_it(database: Database) -> None:
    unit_id = _unit(database)
    with acting(database, SYSTEM) as ctx:
        mine = ctx.db.get(Unit, unit_id)
        assert mine is not None and mine.name == "试点区"
        # Someone else saves first, behind this session's back.
        ctx.db.execute(
            update(Unit)
            .where(Unit.id == unit_id)
            .values(name="甲")
            .execution_options(synchronize_session=False)
        )
        assert mine.name == "试点区"  # what this session read before
        won = compare_and_set(ctx.db, mine, Unit.name == "试点区", name="乙")
        assert won is False and mine.name == "甲"  # told what beat it
        assert compare_and_set(ctx.db, mine, Unit.name == "甲", name="乙")
        assert mine.name == "乙"
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(Unit.name).where(Unit.id == unit_id)) == "乙"


def test_only_the_given_row_changes(database: Database) -> None:
    unit_id = _unit(database)
    with acting(database, SYSTEM) as ctx:
        org.create_unit(ctx, UnitCreate(code="QY", name="试点区", kind=UnitKind.REGION))
    with acting(database, SYSTEM) as ctx:
        row = ctx.db.get(Unit, unit_id)
        assert row is not None
        assert compare_and_set(ctx.db, row, Unit.name == "试点区", name="丙")
    with acting(database, SYSTEM) as ctx:
        names = {code: name for code, name in ctx.db.execute(select(Unit.code, Unit.name))}
    assert names == {"QX": "丙", "QY": "试点区"}
