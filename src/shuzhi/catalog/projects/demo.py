"""Demo IT projects: some pass the data gate, some fail it (called after the demo catalogue).

Idempotent: projects whose code exists are left alone. Uses whatever published and draft
entries the demo catalogue gave each unit, so the gate's reasons are real.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from shuzhi.catalog.models import CatalogEntry, EntryStatus
from shuzhi.catalog.projects import service
from shuzhi.catalog.projects.models import GateStage, ItProject
from shuzhi.catalog.projects.schemas import DatasetIn, ProjectCreate, ProjectDecision
from shuzhi.context import Actor, Ctx, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.org import service as org

# unit code → (project name, budget in 万元, what happens)
PLANS = [
    ("RSJ", "社会保障一卡通服务平台", "420.00", "accepted"),
    ("WJW", "全民健康信息平台（二期）", "860.50", "approved"),
    ("SCJ", "市场主体智慧监管系统", "315.00", "undeclared"),
    ("SJGL", "城市运行管理中心数据中台", "1280.00", "draft"),
    ("JD-CX", "城西街道基层治理四平台", "96.80", "none"),
]


def _codes(ctx: Ctx, unit_id: int, published: bool) -> list[str]:
    query = select(CatalogEntry.resource_code).where(
        CatalogEntry.unit_id == unit_id, CatalogEntry.status != EntryStatus.WITHDRAWN
    )
    if published:
        query = query.where(CatalogEntry.published_version.is_not(None))
    else:
        query = query.where(CatalogEntry.published_version.is_(None))
    return list(ctx.db.scalars(query.order_by(CatalogEntry.resource_code).limit(3)))


def build_demo_projects(database: Database, actor: Actor) -> int:
    """Create the demo projects and run their gates; returns how many were created."""
    created = 0
    for n, (unit_code, name, budget, plan) in enumerate(PLANS, start=1):
        code = f"2025-330182-{n:03d}"
        with unit_of_work(database, actor) as ctx:
            unit_id = org.unit_id_for_code(ctx, unit_code)
            exists = ctx.db.scalar(select(ItProject.id).where(ItProject.code == code))
            if unit_id is None or exists is not None:
                continue
            published = _codes(ctx, unit_id, True)
            drafts = _codes(ctx, unit_id, False)
            datasets = [
                DatasetIn(name=f"业务数据{i + 1}", resource_code=c)
                for i, c in enumerate(published[:2])
            ]
            if plan == "undeclared":
                datasets.append(DatasetIn(name="监管执法过程数据", note="系统建成后产生"))
            if plan == "draft":
                datasets.append(
                    DatasetIn(
                        name="城市运行指标", resource_code=drafts[0] if drafts else "399999/999999"
                    )
                )
            if plan == "none":
                datasets = []
            service.create_project(
                ctx,
                ProjectCreate(
                    code=code,
                    name=name,
                    unit_code=unit_code,
                    budget=Decimal(budget),
                    description="演示项目",
                    datasets=datasets,
                ),
            )
            created += 1
        with unit_of_work(database, actor) as ctx:
            result = service.check_project_gate(ctx, code, GateStage.APPROVAL)
        if result.outcome == "failed" or plan not in ("accepted", "approved"):
            continue
        with unit_of_work(database, actor) as ctx:
            service.approve_project(ctx, code, ProjectDecision(on=date(2025, 3, 1)))
            if plan == "accepted":
                service.accept_project(ctx, code, ProjectDecision(on=date(2025, 12, 20)))
    return created
