"""Market revenue: signed contracts' prices counted per product, operator and resource,
with the share owed back under each agreement."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.auth.permissions import require, scope_unit
from shuzhi.catalog import service as catalog
from shuzhi.context import Ctx
from shuzhi.errors import Invalid, ShuzhiError
from shuzhi.market.models import Agreement, Contract, ContractStatus, Product
from shuzhi.market.service.contracts import _as_platform, _code
from shuzhi.market.service.listing import _operator_name
from shuzhi.market.trade_schemas import Revenue, RevenueLine
from shuzhi.org import service as org

CS = ContractStatus


def _line(key: str, name: str, n: int, cents: int, owed: int) -> RevenueLine:
    return RevenueLine(key=key, name=name, contracts=n, revenue_cents=cents, share_owed_cents=owed)


def market_revenue(ctx: Ctx, year: int | None = None, unit_code: str | None = None) -> Revenue:
    """Signed contracts' prices per product, operator and resource (a product's price split
    evenly over its inputs, the remainder to the first), with the share owed back under
    each agreement (``revenue_share_percent``, rounded down to the fen). An operator sees
    its own unit's; ``unit_code`` narrows the figures to one operator's unit."""
    unit = scope_unit(ctx, "view_market_revenue")
    if unit_code is not None:
        unit = org.unit_id_for_code(ctx, unit_code.strip())
        if unit is None:
            raise Invalid.field(
                "unit_code", f"单位 {unit_code} 不存在。", f"Unit {unit_code} does not exist."
            )
        require(ctx, "view_market_revenue", unit, target=f"unit:{unit_code}")
    query = (
        select(Contract, Product, Agreement)
        .join(Product, Product.id == Contract.product_id)
        .join(Agreement, Agreement.id == Product.agreement_id)
        .where(Contract.status.in_([CS.ACTIVE, CS.ENDED]), Contract.price_cents.is_not(None))
        .order_by(Contract.id)
    )
    if unit is not None:
        query = query.where(Contract.operator_unit_id == unit)
    products: dict[int, list[int]] = {}
    operators: dict[int, list[int]] = {}
    resources: dict[str, list[int]] = {}
    names: dict[int, str] = {}
    total = owed_total = 0
    for contract, product, agreement in ctx.db.execute(query).all():
        if year is not None and (contract.starts_on is None or contract.starts_on.year != year):
            continue
        cents = contract.price_cents or 0
        owed = cents * agreement.revenue_share_percent // 100
        total += cents
        owed_total += owed
        names[product.id] = product.name
        for bucket, key in ((products, product.id), (operators, product.operator_unit_id)):
            line = bucket.setdefault(key, [0, 0, 0])
            line[0] += 1
            line[1] += cents
            line[2] += owed
        inputs = list(product.inputs) or ["-"]
        share, rest = divmod(cents, len(inputs))
        owed_share, owed_rest = divmod(owed, len(inputs))
        for i, code in enumerate(inputs):
            line = resources.setdefault(code, [0, 0, 0])
            line[0] += 1
            line[1] += share + (rest if i == 0 else 0)
            line[2] += owed_share + (owed_rest if i == 0 else 0)
    return Revenue(
        total_cents=total,
        share_owed_cents=owed_total,
        products=[_line(str(k), names[k], *v) for k, v in products.items()],
        operators=[_line(_code(ctx, k), _operator_name(ctx, k), *v) for k, v in operators.items()],
        resources=[_line(k, _resource_name(ctx, k), *v) for k, v in sorted(resources.items())],
    )


def _resource_name(ctx: Ctx, code: str) -> str:
    with _as_platform(ctx):
        try:
            return catalog.get_entry(ctx, code).name
        except ShuzhiError:
            return code


__all__ = ["market_revenue"]
