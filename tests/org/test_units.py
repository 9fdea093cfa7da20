"""Unit tree rules: codes, credit codes, parents and cycles; bad input changes nothing."""

from __future__ import annotations

import pytest

from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.org import service as org
from shuzhi.org.models import UnitKind
from shuzhi.org.schemas import UnitCreate, UnitUpdate
from tests.conftest import acting
from tests.factories import seed_org, uscc


def _fields(err: Invalid) -> set[str]:
    return {e.field for e in err.errors}


def test_duplicate_code_and_bad_identifiers_are_all_reported(database: Database) -> None:
    seed_org(database)
    bad = UnitCreate(
        code="A",
        name="重复单位",
        kind=UnitKind.DEPARTMENT,
        parent_code="R",
        uscc="91110000600037341M",
        org_code="60003734-2",
    )
    with pytest.raises(Invalid) as caught, acting(database, SYSTEM) as ctx:
        org.create_unit(ctx, bad)
    assert _fields(caught.value) == {"code", "uscc", "org_code"}
    assert all(e.message.zh and e.message.en for e in caught.value.errors)
    with acting(database, SYSTEM) as ctx:
        assert len(org.list_units(ctx)) == 4


def test_credit_codes_of_letter_authorities_are_accepted(database: Database) -> None:
    seed_org(database)
    with acting(database, SYSTEM) as ctx:
        unit = org.create_unit(
            ctx,
            UnitCreate(
                code="N1",
                name="某村股份经济合作社",
                kind=UnitKind.ENTERPRISE,
                parent_code="S",
                uscc="n2110000ma00000014",
            ),
        )
    assert unit.uscc == "N2110000MA00000014"


def test_credit_code_must_be_unique(database: Database) -> None:
    seed_org(database)
    with pytest.raises(Invalid) as caught, acting(database, SYSTEM) as ctx:
        org.create_unit(
            ctx,
            UnitCreate(
                code="C2", name="另一单位", kind=UnitKind.DEPARTMENT, parent_code="R", uscc=uscc(1)
            ),
        )
    assert _fields(caught.value) == {"uscc"}


def test_full_width_and_spaces_are_normalised() -> None:
    data = UnitCreate.model_validate(
        {"code": " ＡＢ１ ", "name": "  区丙局 ", "kind": "department", "parent_code": "Ｒ"}
    )
    assert (data.code, data.name, data.parent_code) == ("AB1", "区丙局", "R")


@pytest.mark.parametrize(
    ("kind", "parent"),
    [(UnitKind.REGION, "R"), (UnitKind.STREET, None), (UnitKind.DEPARTMENT, "NOPE")],
)
def test_parent_rules(database: Database, kind: UnitKind, parent: str | None) -> None:
    seed_org(database)
    with pytest.raises(Invalid) as caught, acting(database, SYSTEM) as ctx:
        org.create_unit(ctx, UnitCreate(code="Z9", name="新单位", kind=kind, parent_code=parent))
    assert _fields(caught.value) == {"parent_code"}


def test_moving_a_unit_under_its_own_descendant_is_refused(database: Database) -> None:
    seed_org(database)
    with acting(database, SYSTEM) as ctx:
        org.create_unit(
            ctx, UnitCreate(code="S1", name="城南社区", kind=UnitKind.STREET, parent_code="S")
        )
        org.create_unit(
            ctx, UnitCreate(code="S2", name="城南一组", kind=UnitKind.STREET, parent_code="S1")
        )
    for target in ("S", "S2"):
        with pytest.raises(Invalid) as caught, acting(database, SYSTEM) as ctx:
            org.update_unit(ctx, "S", UnitUpdate(name="城南街道", parent_code=target))
        assert _fields(caught.value) == {"parent_code"}
    with acting(database, SYSTEM) as ctx:
        assert org.get_unit(ctx, "S").parent_code == "R"
        # a legal move works and appears in the tree under its new parent
        org.update_unit(ctx, "S2", UnitUpdate(name="城南一组", parent_code="A"))
        tree = {u.code: u for u in org.list_units(ctx)}
    assert tree["S2"].parent_code == "A" and tree["S2"].depth == 2


def test_parent_choices_exclude_the_unit_and_its_subtree(database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, SYSTEM) as ctx:
        org.create_unit(
            ctx, UnitCreate(code="S1", name="城南社区", kind=UnitKind.STREET, parent_code="S")
        )
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        codes = [u.code for u in org.parent_choices(ctx, "S")]
    assert codes == ["R", "A", "B"]
