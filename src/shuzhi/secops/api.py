"""JSON API of security operations (/api/v1/secops)."""

from __future__ import annotations

from fastapi import APIRouter

from shuzhi.secops import service
from shuzhi.secops.schemas import (
    AlertList,
    AlertOut,
    CloseIn,
    ContainmentIn,
    ContainmentOut,
    DrillReportOut,
    EvaluationOut,
    FalsePositiveIn,
    IncidentIn,
    IncidentOut,
    LiftIn,
    NoteIn,
    NotifyIn,
    ThresholdIn,
    ThresholdOut,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/secops", tags=["secops"])


@router.get("/alerts")
def list_alerts(ctx: CtxDep, status: str = "open", limit: int = 100, offset: int = 0) -> AlertList:
    return service.list_alerts(ctx, status if status != "all" else None, limit, offset)


@router.get("/alerts/{alert_id}")
def get_alert(ctx: CtxDep, alert_id: int) -> AlertOut:
    return service.get_alert(ctx, alert_id)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(ctx: CtxDep, alert_id: int) -> AlertOut:
    return service.acknowledge_alert(ctx, alert_id)


@router.post("/alerts/{alert_id}/false-positive")
def mark_false_positive(ctx: CtxDep, alert_id: int, data: FalsePositiveIn) -> AlertOut:
    return service.mark_false_positive(ctx, alert_id, data)


@router.post("/evaluate")
def evaluate(ctx: CtxDep) -> EvaluationOut:
    return service.evaluate(ctx)


@router.get("/thresholds")
def list_thresholds(ctx: CtxDep) -> list[ThresholdOut]:
    return service.list_thresholds(ctx)


@router.put("/thresholds/{rule}/{param}")
def set_threshold(ctx: CtxDep, rule: str, param: str, data: ThresholdIn) -> ThresholdOut:
    return service.set_threshold(ctx, rule, param, data)


@router.get("/containments")
def list_containments(ctx: CtxDep, active: bool = True) -> list[ContainmentOut]:
    return service.list_containments(ctx, active)


@router.post("/containments", status_code=201)
def contain(ctx: CtxDep, data: ContainmentIn) -> ContainmentOut:
    return service.contain(ctx, data)


@router.delete("/containments/{containment_id}")
def lift_containment(
    ctx: CtxDep, containment_id: int, data: LiftIn | None = None
) -> ContainmentOut:
    return service.lift_containment(ctx, containment_id, data or LiftIn())


@router.get("/incidents")
def list_incidents(ctx: CtxDep, status: str | None = None) -> list[IncidentOut]:
    return service.list_incidents(ctx, status)


@router.post("/incidents", status_code=201)
def open_incident(ctx: CtxDep, data: IncidentIn) -> IncidentOut:
    return service.open_incident(ctx, data)


@router.get("/incidents/{incident_id}")
def get_incident(ctx: CtxDep, incident_id: int) -> IncidentOut:
    return service.get_incident(ctx, incident_id)


@router.post("/incidents/{incident_id}/notifications/{notification_id}")
def tick_notification(
    ctx: CtxDep, incident_id: int, notification_id: int, data: NotifyIn
) -> IncidentOut:
    return service.tick_notification(ctx, incident_id, notification_id, data)


@router.get("/incidents/{incident_id}/report")
def drill_report(ctx: CtxDep, incident_id: int) -> DrillReportOut:
    return service.drill_report(ctx, incident_id)


@router.post("/incidents/{incident_id}/notes")
def note_incident(ctx: CtxDep, incident_id: int, data: NoteIn) -> IncidentOut:
    return service.note_incident(ctx, incident_id, data)


@router.post("/incidents/{incident_id}/close")
def close_incident(ctx: CtxDep, incident_id: int, data: CloseIn) -> IncidentOut:
    return service.close_incident(ctx, incident_id, data)
