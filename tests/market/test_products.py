"""Data products: inputs only from an agreement in force, no core data, no unconfirmed
personal information, scenario on the whitelist; the bureau's compliance review."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.lake import service as lake
from shuzhi.market import service
from shuzhi.market.schemas import ProductIn
from shuzhi.market.service.samples import unmasked_columns
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.lake.helpers import resident_id
from tests.market.helpers import (
    active_agreement,
    compliant_product,
    executive,
    failing_review,
    figures_entry,
    mark_core,
    operator_party,
    passing_review,
    product_data,
)
from tests.sharing.helpers import shared_entry


def _create(database: Database, seeded: Org, agreement_id: int, inputs: list[str], **over: object):  # type: ignore[no-untyped-def]
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        return service.create_product(
            ctx, ProductIn.model_validate(product_data(agreement_id, inputs, **over))
        )


def _nothing_stored(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        assert service.list_products(ctx) == []
        refusals = audit.view_audit(ctx, action="market.refused").items
    assert refusals and refusals[0].details["operation"] == "create_product"


def _setup(database: Database) -> tuple[Org, int, str]:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, party.id, [code])
    return seeded, agreement.id, code


def test_a_resource_outside_the_agreement_is_refused(database: Database) -> None:
    seeded, agreement_id, code = _setup(database)
    outside = figures_entry(database)
    with pytest.raises(Invalid) as caught:
        _create(database, seeded, agreement_id, [code, outside])
    (error,) = caught.value.errors
    assert error.field == "inputs"
    assert outside in error.message.zh and "授权范围" in error.message.zh
    assert "outside agreement" in error.message.en
    _nothing_stored(database)


def test_a_resource_after_the_agreement_ended_is_refused(database: Database) -> None:
    seeded, agreement_id, code = _setup(database)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.terminate_agreement(ctx, agreement_id, "运营机构申请退出，协议终止")
    with pytest.raises(Invalid) as caught:
        _create(database, seeded, agreement_id, [code])
    assert "terminated" in caught.value.errors[0].message.en
    _nothing_stored(database)


def test_core_data_is_never_an_input(database: Database) -> None:
    seeded, agreement_id, code = _setup(database)
    mark_core(database, code)
    with pytest.raises(Invalid) as caught:
        _create(database, seeded, agreement_id, [code])
    assert "核心数据" in caught.value.errors[0].message.zh
    assert "core data" in caught.value.errors[0].message.en
    _nothing_stored(database)


def test_unconfirmed_personal_information_is_refused_until_confirmed(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    people = shared_entry(database, unit="B", loaded=True)
    agreement = active_agreement(database, seeded, party.id, [people])
    with pytest.raises(Invalid) as caught:
        _create(database, seeded, agreement.id, [people])
    assert "未经确认的个人信息" in caught.value.errors[0].message.zh
    _nothing_stored(database)
    # The source unit's CDO confirms every personal column's classification.
    with acting(database, SYSTEM) as ctx:
        current = lake.current_version(ctx, people)
        assert current is not None
        columns = [(c.name, c.category) for c in current[0].classification if c.personal]
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        for name, category in columns:
            lake.override_classification(ctx, people, name, category, "已核对")
    made = _create(database, seeded, agreement.id, [people])
    assert made.status == "draft" and made.inputs == [people]


def test_scenario_rights_price_and_sample_are_checked_together(database: Database) -> None:
    seeded, agreement_id, code = _setup(database)
    with pytest.raises(Invalid) as caught:
        _create(
            database,
            seeded,
            agreement_id,
            [code],
            scenario="精准营销",
            price_cents=60_000_000,
            sample=[{"手机": "13800138000"}],
        )
    assert {e.field for e in caught.value.errors} == {"scenario", "price_cents", "sample"}
    _nothing_stored(database)


def test_other_operators_cannot_build_under_an_agreement(database: Database) -> None:
    seeded = seed_org(database)
    theirs = operator_party(database, seeded, unit="B", name="乙方运营有限公司")
    code = figures_entry(database)
    agreement = active_agreement(database, seeded, theirs.id, [code])
    with pytest.raises(Forbidden):
        _create(database, seeded, agreement.id, [code])


def test_compliance_review(database: Database) -> None:
    seeded, agreement_id, code = _setup(database)
    failed = compliant_product(database, seeded, agreement_id, [code], passed=False)
    assert failed.status == "failed"
    assert failed.compliance["security_assessment"]["passed"] is False
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        assert service.submit_product(ctx, failed.id).status == "in_review"
    with acting(database, executive(seeded)) as ctx:
        bare = failing_review().model_copy(deep=True)
        bare.security_assessment.note = ""
        with pytest.raises(Invalid):
            service.review_product_compliance(ctx, failed.id, bare)
    with acting(database, executive(seeded)) as ctx:
        passed = service.review_product_compliance(ctx, failed.id, passing_review())
        assert passed.status == "compliant"
        with pytest.raises(Conflict):
            service.review_product_compliance(ctx, failed.id, passing_review())


def test_review_cannot_pass_an_authorisation_chain_that_broke(database: Database) -> None:
    seeded, agreement_id, code = _setup(database)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        made = service.create_product(
            ctx, ProductIn.model_validate(product_data(agreement_id, [code]))
        )
        service.submit_product(ctx, made.id)
    with acting(database, executive(seeded)) as ctx:
        service.suspend_agreement(ctx, agreement_id, "运营机构未履行安全义务")
    with pytest.raises(Invalid), acting(database, executive(seeded)) as ctx:
        service.review_product_compliance(ctx, made.id, passing_review())
    with acting(database, SYSTEM) as ctx:
        assert service.get_product(ctx, made.id).status == "in_review"


LETTERS = st.text(alphabet=st.characters(categories=["L", "Zs", "P"]), max_size=8)


@given(st.integers(min_value=0, max_value=99), LETTERS, LETTERS)
def test_unmasked_identifiers_are_found_wherever_they_sit(n: int, before: str, after: str) -> None:
    """The sample check finds a resident ID or mobile number inside any text, and passes
    its masked form."""
    value = resident_id(n, "19800101")
    mobile = f"139{n:08d}"
    for raw in (value, mobile):
        assert [c for c, _ in unmasked_columns([{"备注": before + raw + after}], {})] == ["备注"]
    for masked in (value[:6] + "********" + value[-4:], mobile[:3] + "****" + mobile[-4:]):
        assert unmasked_columns([{"备注": before + masked + after}], {}) == []
