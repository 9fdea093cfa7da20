"""JSON API of the org capability (/api/v1/org)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from shuzhi.org import service
from shuzhi.org.models import FilingStatus
from shuzhi.org.schemas import (
    AppointmentCreate,
    AppointmentOut,
    FilingDecision,
    FilingReturn,
    OrgOverview,
    PersonCreate,
    PersonOut,
    UnitCreate,
    UnitOut,
    UnitUpdate,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/org", tags=["org"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/overview")
def overview(ctx: CtxDep) -> OrgOverview:
    return service.org_overview(ctx)


@router.get("/units")
def list_units(ctx: CtxDep) -> list[UnitOut]:
    return service.list_units(ctx)


@router.post("/units", status_code=201)
def create_unit(ctx: CtxDep, data: UnitCreate) -> UnitOut:
    return service.create_unit(ctx, data)


@router.get("/units/{code}")
def get_unit(ctx: CtxDep, code: str) -> UnitOut:
    return service.get_unit(ctx, code)


@router.put("/units/{code}")
def update_unit(ctx: CtxDep, code: str, data: UnitUpdate) -> UnitOut:
    return service.update_unit(ctx, code, data)


@router.get("/people")
def list_people(ctx: CtxDep, unit: str | None = None) -> list[PersonOut]:
    return service.list_people(ctx, unit)


@router.post("/people", status_code=201)
def create_person(ctx: CtxDep, data: PersonCreate) -> PersonOut:
    return service.create_person(ctx, data)


@router.get("/appointments")
def list_appointments(
    ctx: CtxDep, status: FilingStatus | None = None, unit: str | None = None
) -> list[AppointmentOut]:
    return service.list_appointments(ctx, status=status, unit_code=unit)


@router.post("/appointments", status_code=201)
def create_appointment(ctx: CtxDep, data: AppointmentCreate) -> AppointmentOut:
    return service.create_appointment(ctx, data)


@router.get("/appointments/{appointment_id}")
def get_appointment(ctx: CtxDep, appointment_id: int) -> AppointmentOut:
    return service.get_appointment(ctx, appointment_id)


@router.post("/appointments/{appointment_id}/submit")
def submit_filing(ctx: CtxDep, appointment_id: int) -> AppointmentOut:
    return service.submit_filing(ctx, appointment_id)


@router.post("/appointments/{appointment_id}/approve")
def approve_filing(
    ctx: CtxDep, appointment_id: int, data: FilingDecision | None = None
) -> AppointmentOut:
    return service.approve_filing(ctx, appointment_id, data.note if data else "")


@router.post("/appointments/{appointment_id}/return")
def return_filing(ctx: CtxDep, appointment_id: int, data: FilingReturn) -> AppointmentOut:
    return service.return_filing(ctx, appointment_id, data.reason)


@router.post("/appointments/{appointment_id}/end")
def end_appointment(ctx: CtxDep, appointment_id: int, data: FilingReturn) -> AppointmentOut:
    return service.end_appointment(ctx, appointment_id, data.reason)


@router.get(
    "/roster.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "CDO roster workbook"}},
)
def export_roster(ctx: CtxDep) -> Response:
    return Response(
        service.export_roster(ctx),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="cdo-roster.xlsx"'},
    )
