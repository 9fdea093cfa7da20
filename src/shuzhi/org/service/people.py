"""Org: people."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.context import Ctx
from shuzhi.org.events import (
    PersonCreated,
)
from shuzhi.org.models import (
    Person,
    Unit,
)
from shuzhi.org.schemas import (
    PersonCreate,
    PersonOut,
)
from shuzhi.org.service.common import _unit


def _person_out(person: Person, unit_code: str) -> PersonOut:
    return PersonOut(
        id=person.id,
        unit_code=unit_code,
        name=person.name,
        title=person.title,
        phone=person.phone,
        email=person.email,
    )


def list_people(ctx: Ctx, unit_code: str | None = None) -> list[PersonOut]:
    scope = scope_unit(ctx, "view_people")
    query = select(Person, Unit.code).join(Unit, Unit.id == Person.unit_id)
    if unit_code:
        unit = _unit(ctx, unit_code)
        require(ctx, "view_people", unit.id, target=unit_code)
        query = query.where(Person.unit_id == unit.id)
    elif scope is not None:
        query = query.where(Person.unit_id == scope)
    rows = ctx.db.execute(query.order_by(Unit.code, Person.name)).all()
    return [_person_out(p, code) for p, code in rows]


def create_person(ctx: Ctx, data: PersonCreate) -> PersonOut:
    unit = _unit(ctx, data.unit_code)
    require(ctx, "manage_people", unit.id, target=data.unit_code)
    person = Person(
        unit_id=unit.id, name=data.name, title=data.title, phone=data.phone, email=data.email
    )
    ctx.db.add(person)
    ctx.db.flush()
    record(ctx, PersonCreated(person_id=person.id, unit=unit.id, name=person.name))
    return _person_out(person, unit.code)
