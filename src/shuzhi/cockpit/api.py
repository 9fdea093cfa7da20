"""JSON API of the cockpit (/api/v1/cockpit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from shuzhi.cockpit import service
from shuzhi.cockpit.schemas import (
    AlertAck,
    AlertOut,
    CockpitSummary,
    Evaluation,
    IndicatorCreate,
    IndicatorOut,
    MilestoneDone,
    ScenarioCancel,
    ScenarioCreate,
    ScenarioOut,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/cockpit", tags=["cockpit"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/summary")
def summary(ctx: CtxDep, unit: str | None = None, days: int = 30) -> CockpitSummary:
    return service.cockpit_summary(ctx, unit or None, days)


@router.get("/export.xlsx")
def export(ctx: CtxDep, unit: str | None = None, days: int = 30) -> Response:
    return Response(service.export_cockpit(ctx, unit or None, days), media_type=XLSX)


@router.get("/scenarios")
def list_scenarios(
    ctx: CtxDep, unit: str | None = None, year: int | None = None
) -> list[ScenarioOut]:
    return service.list_scenarios(ctx, unit or None, year)


@router.post("/scenarios", status_code=201)
def register_scenario(ctx: CtxDep, data: ScenarioCreate) -> ScenarioOut:
    return service.register_scenario(ctx, data)


@router.get("/scenarios/{scenario_id}")
def get_scenario(ctx: CtxDep, scenario_id: int) -> ScenarioOut:
    return service.get_scenario(ctx, scenario_id)


@router.post("/scenarios/{scenario_id}/milestones/{milestone_id}/reach")
def reach_milestone(
    ctx: CtxDep, scenario_id: int, milestone_id: int, data: MilestoneDone
) -> ScenarioOut:
    return service.reach_milestone(ctx, scenario_id, milestone_id, data)


@router.post("/scenarios/{scenario_id}/cancel")
def cancel_scenario(ctx: CtxDep, scenario_id: int, data: ScenarioCancel) -> ScenarioOut:
    return service.cancel_scenario(ctx, scenario_id, data)


@router.get("/indicators")
def list_indicators(ctx: CtxDep) -> list[IndicatorOut]:
    return service.list_indicators(ctx, history=service.HISTORY_ON_PAGE)


@router.post("/indicators", status_code=201)
def define_indicator(ctx: CtxDep, data: IndicatorCreate) -> IndicatorOut:
    return service.define_indicator(ctx, data)


@router.put("/indicators/{code}")
def update_indicator(ctx: CtxDep, code: str, data: IndicatorCreate) -> IndicatorOut:
    return service.update_indicator(ctx, code, data)


@router.get("/indicators/{code}")
def get_indicator(ctx: CtxDep, code: str) -> IndicatorOut:
    return service.get_indicator(ctx, code)


@router.post("/indicators/evaluate")
def evaluate_indicators(
    ctx: CtxDep, code: Annotated[list[str] | None, Query()] = None
) -> Evaluation:
    return service.evaluate_indicators(ctx, code)


@router.get("/alerts")
def list_alerts(ctx: CtxDep, open_only: bool = True) -> list[AlertOut]:
    return service.list_alerts(ctx, open_only=open_only)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(ctx: CtxDep, alert_id: int, data: AlertAck) -> AlertOut:
    return service.acknowledge_alert(ctx, alert_id, data)
