"""Closed vocabularies are stored as text and come back as enum members; anything outside the
vocabulary is refused on the way in (both backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from shuzhi.org.models import Unit, UnitKind
from shuzhi.org.schemas import UnitCreate
from tests.conftest import acting


def test_a_vocabulary_column_reads_members_and_stores_values(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        org.create_unit(ctx, UnitCreate(code="QX", name="试点区", kind=UnitKind.REGION))
    with acting(database, SYSTEM) as ctx:
        kind = ctx.db.scalar(select(Unit.kind).where(Unit.code == "QX"))
        stored = ctx.db.execute(text("SELECT kind FROM org_unit WHERE code = 'QX'")).scalar()
        found = ctx.db.scalar(select(Unit.code).where(Unit.kind == "region"))
    assert kind is UnitKind.REGION and stored == "region" and found == "QX"


def test_a_value_outside_the_vocabulary_is_refused(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        org.create_unit(ctx, UnitCreate(code="QX", name="试点区", kind=UnitKind.REGION))
    refused = pytest.raises(StatementError, match="is not a valid UnitKind")
    with refused, acting(database, SYSTEM) as ctx:
        unit = ctx.db.scalar(select(Unit).where(Unit.code == "QX"))
        assert unit is not None
        unit.kind = "county"  # type: ignore[assignment]
        ctx.db.flush()
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(Unit.kind).where(Unit.code == "QX")) is UnitKind.REGION


def test_stored_text_outside_the_vocabulary_is_refused_on_the_way_out(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        org.create_unit(ctx, UnitCreate(code="QX", name="试点区", kind=UnitKind.REGION))
        ctx.db.execute(text("UPDATE org_unit SET kind = 'county' WHERE code = 'QX'"))
    with (
        pytest.raises(ValueError, match="is not a valid UnitKind"),
        acting(database, SYSTEM) as ctx,
    ):
        ctx.db.scalar(select(Unit.kind).where(Unit.code == "QX"))
