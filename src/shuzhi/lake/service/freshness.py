"""Lake: freshness of datasets against their catalogue update cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Text, case, func, select, type_coerce

from shuzhi.auth.permissions import scope_unit
from shuzhi.catalog import codes as catalog_codes
from shuzhi.catalog import service as catalog
from shuzhi.context import Ctx
from shuzhi.lake.models import Dataset, DatasetVersion
from shuzhi.lake.models import VersionStatus as S
from shuzhi.lake.schemas import (
    FreshnessReport,
    FreshnessRow,
    FreshnessState,
    UnitFreshness,
)
from shuzhi.lake.service.common import CYCLE_PERIODS, GRACE
from shuzhi.org import service as org


def cycle_period(code: str) -> timedelta | None:
    return CYCLE_PERIODS.get(code)


def freshness_report(
    ctx: Ctx,
    *,
    overdue_only: bool = False,
    state: FreshnessState | None = None,
    now: datetime | None = None,
) -> FreshnessReport:
    """Datasets against their entry's update cycle: loaded on time, overdue, or published
    with a deadline-bearing cycle and never loaded (``overdue_only``: the last two)."""
    scope = scope_unit(ctx, "view_freshness")
    now = now or datetime.now(UTC)
    labels = catalog_codes.code_labels(ctx, ctx.locale).get("update_cycle", {})
    latest = (
        select(DatasetVersion.dataset_id, func.max(DatasetVersion.created_at).label("at"))
        .where(DatasetVersion.status == S.CURRENT)
        .group_by(DatasetVersion.dataset_id)
        .subquery()
    )
    query = select(Dataset, latest.c.at).outerjoin(latest, latest.c.dataset_id == Dataset.id)
    if scope is not None:
        query = query.where(Dataset.unit_id == scope)
    # (resource code, name, unit id, update cycle, newest current load)
    found: dict[str, tuple[str, int, str, datetime | None]] = {
        d.resource_code: (d.name, d.unit_id, d.update_cycle, at)
        for d, at in ctx.db.execute(query).all()
    }
    for code, name, unit_id, cycle in catalog.published_cycles(ctx, scope):
        loaded = found[code][3] if code in found else None
        if code in found or cycle_period(cycle) is not None:
            found[code] = (name, unit_id, cycle, loaded)  # the catalogue's promise holds
    units = {u.id: u for u in org.all_unit_briefs(ctx)}
    rows: list[FreshnessRow] = []
    per_unit: dict[int, list[FreshnessState]] = {}
    for code in sorted(found):
        name, unit_id, cycle, loaded = found[code]
        period = cycle_period(cycle)
        loaded_at = loaded.replace(tzinfo=UTC) if loaded and loaded.tzinfo is None else loaded
        due = loaded_at + period + GRACE if (loaded_at and period) else None
        if loaded_at is None and period is not None:
            row_state = FreshnessState.NEVER_LOADED
        elif due is not None and due < now:
            row_state = FreshnessState.OVERDUE
        else:
            row_state = FreshnessState.FRESH
        per_unit.setdefault(unit_id, []).append(row_state)
        if state is not None and row_state is not state:
            continue
        if overdue_only and row_state is FreshnessState.FRESH:
            continue
        unit = units.get(unit_id)
        rows.append(
            FreshnessRow(
                resource_code=code,
                name=name,
                unit_code=unit.code if unit else "",
                unit_name=unit.name if unit else "",
                update_cycle=cycle,
                update_cycle_label=labels.get(cycle, cycle),
                state=row_state,
                last_loaded_at=loaded_at,
                due_by=due,
                overdue=row_state is FreshnessState.OVERDUE,
                never_loaded=row_state is FreshnessState.NEVER_LOADED,
                days_overdue=(now - due).days
                if (due and row_state is FreshnessState.OVERDUE)
                else 0,
            )
        )
    summary = [
        UnitFreshness(
            unit_code=units[u].code if u in units else "",
            unit_name=units[u].name if u in units else "",
            entries=len(states),
            overdue=states.count(FreshnessState.OVERDUE),
            never_loaded=states.count(FreshnessState.NEVER_LOADED),
        )
        for u, states in sorted(per_unit.items())
    ]
    return FreshnessReport(rows=rows, units=summary)


def dataset_figures(ctx: Ctx) -> dict[int, tuple[int, int, int]]:
    """For the cockpit: per unit, (datasets with a current version, their records, how many
    of them are graded), limited to the actor's unit when it sees only its own."""
    scope = scope_unit(ctx, "view_datasets")
    graded = func.sum(
        case((type_coerce(DatasetVersion.grade_json, Text).not_in(["", "{}"]), 1), else_=0)
    )
    query = (
        select(Dataset.unit_id, func.count(), func.coalesce(func.sum(DatasetVersion.row_count), 0))
        .add_columns(graded)
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .where(DatasetVersion.status == S.CURRENT)
        .group_by(Dataset.unit_id)
    )
    if scope is not None:
        query = query.where(Dataset.unit_id == scope)
    return {int(u): (int(n), int(r), int(g or 0)) for u, n, r, g in ctx.db.execute(query).all()}
