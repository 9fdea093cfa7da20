"""A data product built from an approved sandbox release (to a data product): the release's
figures become its sample; a release that is not approved, meant for a download or asked by
another unit is refused, and so is one whose resources are not all inputs."""

from __future__ import annotations

import pytest

from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.lake import service as lake
from shuzhi.market import service
from shuzhi.market.models import Product
from shuzhi.market.schemas import ProductIn
from shuzhi.sandbox import releases
from shuzhi.sandbox.schemas import QueryIn, ReleaseDecisionIn, ReleaseIn
from tests.conftest import acting, actor
from tests.factories import Org, seed_org
from tests.market.helpers import active_agreement, operator_party, product_data
from tests.sandbox.helpers import Sandbox, sandbox


def _release(sb: Sandbox, target: str, approve: bool = True) -> int:
    sql = (
        f'SELECT h.社区, COUNT(*) AS n FROM "{sb.health}" h JOIN "{sb.population}" p'
        " ON h.身份证号 = p.身份证号 WHERE p.独居 = '是' GROUP BY h.社区 ORDER BY h.社区"
    )
    with acting(sb.database, sb.analyst) as ctx:
        answer = releases.answer_query(ctx, QueryIn(sql=sql))
        release = releases.request_release(
            ctx, ReleaseIn(query_id=answer.id, purpose="社区独居老人健康指数", target=target)
        )
    if approve:
        for unit in ("B", "S"):
            cdo = actor(Role.UNIT_CDO, sb.seeded.unit_ids[unit], name=f"{unit.lower()}.cdo")
            with acting(sb.database, cdo) as ctx:
                releases.decide_release(ctx, release.id, ReleaseDecisionIn(approve=True))
    return release.id


def _confirm_personal(database: Database, seeded: Org, code: str, unit: str) -> None:
    with acting(database, SYSTEM) as ctx:
        current = lake.current_version(ctx, code)
        assert current is not None
        columns = [(c.name, c.category) for c in current[0].classification if c.personal]
    cdo = actor(Role.UNIT_CDO, seeded.unit_ids[unit], name=f"{unit.lower()}.cdo")
    with acting(database, cdo) as ctx:
        for name, category in columns:
            lake.override_classification(ctx, code, name, category, "已核对")


def _create(database: Database, seeded: Org, agreement_id: int, inputs: list[str], release: int):  # type: ignore[no-untyped-def]
    data = product_data(agreement_id, inputs, sample=[], sandbox_release_id=release)
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        return service.create_product(ctx, ProductIn.model_validate(data))


def test_a_product_from_an_approved_sandbox_release(database: Database) -> None:
    seeded = seed_org(database)
    sb = sandbox(database, seeded)  # the analyst's unit is A, the operator's unit too
    _confirm_personal(database, seeded, sb.health, "B")
    _confirm_personal(database, seeded, sb.population, "S")
    party = operator_party(database, seeded)
    agreement = active_agreement(database, seeded, party.id, [sb.health, sb.population])
    approved = _release(sb, "data_product")
    made = _create(database, seeded, agreement.id, [sb.health, sb.population], approved)
    assert made.sandbox_release_id == approved
    assert made.sample and set(made.sample[0]) == {"社区", "n"}
    # a release for a download, a pending one, one whose inputs are not all listed
    download = _release(sb, "download")
    pending = _release(sb, "data_product", approve=False)
    for release, inputs, field in (
        (download, [sb.health, sb.population], "sandbox_release_id"),
        (pending, [sb.health, sb.population], "sandbox_release_id"),
        (approved, [sb.health], "inputs"),
    ):
        with pytest.raises(Invalid) as caught:
            _create(database, seeded, agreement.id, inputs, release)
        assert field in {e.field for e in caught.value.errors}
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.query(Product).count() == 1
