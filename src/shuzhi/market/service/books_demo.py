"""The demo's books: a data resource of the demo operator recorded for its balance sheet
with a year's cost items, and that year's annual disclosure published. Called by the demo
district after its market story (agreements, products) is in place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from shuzhi.context import Ctx
from shuzhi.market.books_models import AssetOrigin, AssetUse, CostCategory, CostItem
from shuzhi.market.books_schemas import AssetIn, CostItemIn
from shuzhi.market.service.balance import declare_data_asset, record_cost_item
from shuzhi.market.service.common import today
from shuzhi.market.service.disclosure import get_disclosure, publish_disclosure

# (category, month, day, yuan, allocation basis)
DEMO_COSTS: tuple[tuple[CostCategory, int, int, str, str], ...] = (
    (CostCategory.COLLECTION, 1, 15, "86000.00", "按接口调用量分摊至本数据资源（62%）"),
    (CostCategory.CLEANING, 2, 10, "42500.00", "清洗作业工时，按处理记录数分摊"),
    (CostCategory.DESENSITISATION, 2, 28, "18800.00", "脱敏规则配置与执行，按字段数分摊"),
    (CostCategory.QUALITY, 3, 20, "12000.00", "第三方质量评估合同，全额归属"),
    (CostCategory.REGISTRATION, 4, 8, "3000.00", "数据产品登记费，全额归属"),
    (CostCategory.COMPLIANCE, 4, 25, "25000.00", "律师事务所合规审查意见，全额归属"),
    (CostCategory.LABOUR, 5, 31, "96300.50", "数据工程师 3 人×2 月，按工时表分摊"),
)
USEFUL_LIFE_MONTHS = 36


@dataclass(frozen=True)
class SeededBooks:
    asset_id: int
    cost_items: int
    cost: str  # yuan
    disclosure_year: int
    disclosure_sha256: str | None


def seed_books(ctx: Ctx, operator_uscc: str, resource_code: str, year: int = 2026) -> SeededBooks:
    """Record the operator's resource as an intangible asset ready on 30 June of ``year``
    (or today, if earlier) with seven cost items, and publish ``year``'s disclosure (unless
    it is published already). Run again, it records no cost twice. ``ctx`` acts for the
    system (the demo builder)."""
    on = today()
    ready = min(date(year, 6, 30), on)
    asset = declare_data_asset(
        ctx,
        operator_uscc,
        AssetIn(
            resource_code=resource_code,
            name="企业经营数据资源（授权运营加工）",
            use=AssetUse.OWN_USE,
            origin=AssetOrigin.DEVELOPED,
            useful_life_months=USEFUL_LIFE_MONTHS,
            ready_on=ready,
        ),
    )
    recorded = 0
    already = ctx.db.scalar(select(func.count(CostItem.id)).where(CostItem.asset_id == asset.id))
    for category, month, day, amount, basis in () if already else DEMO_COSTS:
        incurred = min(date(year, month, day), ready)
        record_cost_item(
            ctx,
            operator_uscc,
            resource_code,
            CostItemIn(category=category, incurred_on=incurred, amount=amount, basis=basis),
        )
        recorded += 1
    existing = get_disclosure(ctx, year)
    published = existing if existing.published else publish_disclosure(ctx, year)
    cost = sum((Decimal(c[3]) for c in DEMO_COSTS), Decimal("0.00"))
    return SeededBooks(
        asset_id=asset.id,
        cost_items=recorded,
        cost=str(cost),
        disclosure_year=year,
        disclosure_sha256=published.sha256,
    )
