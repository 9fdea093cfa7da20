"""Text is stored as typed (trimmed), never rewritten to ASCII punctuation; only comparison
(duplicate names) and search fold full-width forms. And a conditional entry states its basis."""

from __future__ import annotations

import pytest

from shuzhi.catalog import service
from shuzhi.catalog.models import CatalogEntry
from shuzhi.catalog.schemas import EntryFields
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from tests.catalog.helpers import create, item
from tests.catalog.test_lifecycle import publish
from tests.conftest import acting
from tests.factories import Org, seed_org

NAME = "户籍人口信息（常住）"
ABSTRACT = "本区常住人口的基本信息，包括：姓名；公民身份号码（18位）"
CONDITIONS = "仅限依法履职需要，经审核同意后共享；用途：社会救助（核验）"
BASIS = "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）"


@pytest.fixture
def org(database: Database) -> Org:
    return seed_org(database)


def test_names_abstracts_and_conditions_are_stored_as_typed(database: Database, org: Org) -> None:
    data = create(
        name=f"  {NAME} ",
        abstract=ABSTRACT,
        share_type="conditional",
        share_conditions=CONDITIONS,
        not_shared_basis=BASIS,
        items=[item("姓名（中文）", share_type="conditional", description="含曾用名；不含别名")],
    )
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        code = service.create_entry(ctx, data).resource_code
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        out = service.get_entry(ctx, code)
    assert out.name == NAME  # trimmed, nothing else
    assert out.abstract == ABSTRACT and out.share_conditions == CONDITIONS
    assert out.not_shared_basis == BASIS
    assert out.items[0].name == "姓名（中文）" and out.items[0].description == "含曾用名；不含别名"


def test_codes_are_still_normalised() -> None:
    fields = EntryFields.model_validate(
        {
            **create().model_dump(),
            "class_code": "１",
            "subclass_code": "０１",
            "group_code": "００１",
        }
    )
    assert (fields.class_code, fields.subclass_code, fields.group_code) == ("1", "01", "001")


def test_a_name_differing_only_in_punctuation_width_is_a_duplicate(
    database: Database, org: Org
) -> None:
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(name=NAME))
    twin = create(name="户籍人口信息 (常住)", sequence_code="000002")
    with pytest.raises(Invalid) as err, acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, twin)
    assert [e.field for e in err.value.errors] == ["name"]


@pytest.mark.parametrize("query", ["户籍人口信息（常住）", "户籍人口信息(常住)", "常住"])
def test_search_finds_the_entry_with_either_punctuation(
    database: Database, org: Org, query: str
) -> None:
    publish(database, org, name=NAME, abstract=ABSTRACT)
    with acting(database, org.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        found = service.list_entries(ctx, query)
    assert [e.name for e in found.items] == [NAME]


def test_conditional_entry_states_its_basis_on_save_and_publish(
    database: Database, org: Org
) -> None:
    bare = create(share_type="conditional", share_conditions=CONDITIONS)
    with pytest.raises(Invalid) as err, acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, bare)
    (problem,) = err.value.errors
    assert problem.field == "not_shared_basis"
    assert "依据" in problem.message.zh and "basis" in problem.message.en
    # an entry submitted before the rule (basis cleared behind the service's back) is not
    # published without one
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        code = service.create_entry(
            ctx,
            create(share_type="conditional", share_conditions=CONDITIONS, not_shared_basis=BASIS),
        ).resource_code
        service.submit_entry(ctx, code)
    with acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        row = ctx.db.query(CatalogEntry).filter_by(resource_code=code).one()
        row.not_shared_basis = ""
    with pytest.raises(Invalid) as err, acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        service.approve_entry(ctx, code)
    assert [e.field for e in err.value.errors] == ["not_shared_basis"]
