"""Trading test data: a registered, listed product of the operator in A (inputs of B, its own
output loaded by the operator) and a buyer (a data merchant) whose organisation is S."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import count

from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.lake.readers import FileSource
from shuzhi.market import service
from shuzhi.market.models import Registration
from shuzhi.market.schemas import PartyIn
from shuzhi.market.trade_schemas import ContractOut, PurchaseIn, SignIn
from tests.conftest import acting, actor
from tests.factories import Org
from tests.lake.helpers import write_csv
from tests.market.helpers import (
    _dir,
    active_agreement,
    compliant_product,
    executive,
    figures_entry,
    form,
    operator_party,
    party_data,
)

PURPOSE = "用于评估供应链上下游企业的经营稳定性，辅助授信决策。"
# The product's result (its own output), unlike its input's rows (行业, 企业数)
OUTPUT = [["制造业", "81.5"], ["批发零售", "73.0"], ["住宿餐饮", "64.2"]]
_n = count(500)


@dataclass
class Listed:
    agreement_id: int
    product_id: int
    number: str
    resource: str  # the product's input
    output: str | None  # the product's own output (None when none was loaded)


def pass_notice(database: Database, number: str) -> None:
    with acting(database, SYSTEM) as ctx:
        row = ctx.db.get(Registration, service.get_registration(ctx, number).id)
        assert row is not None
        row.notice_ends_at = utcnow() - timedelta(minutes=1)


def load_output(database: Database, seeded: Org, product_id: int, rows: list[list[str]]) -> str:
    """The operator loads its product's result as the product's own output."""
    path = write_csv(_dir / f"o{next(_n)}.csv", rows, header=["行业", "健康指数"])
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.load_product_output(ctx, product_id, FileSource(path))
    with acting(database, SYSTEM) as ctx:
        code = service.get_product(ctx, product_id).output_resource_code
    assert code is not None
    return code


def listed_product(
    database: Database,
    seeded: Org,
    share_percent: int = 10,
    register: bool = True,
    output: bool = True,
) -> Listed:
    """Operator of A → agreement over a figures entry of B → compliant product with its own
    output loaded → registered (the notice period over, confirmed)."""
    party = operator_party(database, seeded)
    code = figures_entry(database)
    agreement = active_agreement(
        database, seeded, party.id, [code], revenue_share_percent=share_percent
    )
    product = compliant_product(database, seeded, agreement.id, [code])
    made = load_output(database, seeded, product.id, OUTPUT) if output else None
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        number = service.register_product(ctx, product.id, form()).number
    if register:
        pass_notice(database, number)
        with acting(database, executive(seeded)) as ctx:
            service.confirm_registration(ctx, number)
    return Listed(agreement.id, product.id, number, code, made)


def buyer(database: Database, seeded: Org, unit: str = "S") -> tuple[int, Actor]:
    """An approved data merchant whose organisation is ``unit``, and one of its accounts."""
    with acting(database, executive(seeded)) as ctx:
        party = service.apply_market_party(
            ctx,
            PartyIn.model_validate(
                party_data(
                    kind="merchant",
                    name="某供应链金融服务有限公司",
                    merchant_classes=["supply_demand"],
                    unit_code=unit,
                )
            ),
        )
        party = service.decide_market_party(ctx, party.id, approve=True)
    return party.id, actor(Role.OPERATOR, seeded.unit_ids[unit], name=f"{unit.lower()}.buyer")


def signed(
    database: Database, seeded: Org, listed: Listed, buyer_id: int, who: Actor, days: int = 365
) -> ContractOut:
    with acting(database, who) as ctx:
        applied = service.apply_purchase(
            ctx,
            PurchaseIn(registration_number=listed.number, buyer_party_id=buyer_id, purpose=PURPOSE),
        )
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        return service.sign_contract(
            ctx,
            applied.id,
            SignIn(price_cents=20_000_000, ends_on=utcnow().date() + timedelta(days=days)),
        )
