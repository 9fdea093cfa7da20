"""Console pages of the org capability."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.org import service
from shuzhi.org.models import FilingStatus, Position, UnitKind
from shuzhi.org.schemas import AppointmentCreate, PersonCreate, UnitCreate, UnitUpdate
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/")
def home(request: Request, ctx: CtxDep) -> Response:
    overview = service.org_overview(ctx)
    names = {u.code: u.name for u in service.all_unit_briefs(ctx)}
    return render(request, "home.html", overview=overview, unit_names=names)


@router.get("/org/units")
def units(request: Request, ctx: CtxDep) -> Response:
    return render(
        request,
        "org/units.html",
        units=service.list_units(ctx),
        can_manage=allowed(ctx, "manage_units"),
    )


def _unit_form(
    request: Request,
    ctx: CtxDep,
    form: dict[str, str],
    errors: list[dict[str, str]],
    code: str | None = None,
) -> Response:
    parents = service.parent_choices(ctx, code)
    unit = service.get_unit(ctx, code) if code else None
    return render(
        request,
        "org/unit_form.html",
        status=422 if errors else 200,
        unit=unit,
        form=form,
        errors=errors,
        parents=parents,
        kinds=list(UnitKind),
    )


@router.get("/org/units/new")
def new_unit_page(request: Request, ctx: CtxDep) -> Response:
    return _unit_form(request, ctx, {"kind": UnitKind.DEPARTMENT}, [])


@router.post("/org/units/new")
def create_unit(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    unit, errors = attempt(ctx, lambda: service.create_unit(ctx, parse(UnitCreate, form)))
    if unit is None:
        return _unit_form(request, ctx, form, errors)
    return _see(f"/org/units/{unit.code}")


@router.get("/org/units/{code}/edit")
def edit_unit_page(request: Request, ctx: CtxDep, code: str) -> Response:
    unit = service.get_unit(ctx, code)
    return _unit_form(request, ctx, unit.model_dump(), [], code)


@router.post("/org/units/{code}/edit")
def update_unit(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    unit, errors = attempt(ctx, lambda: service.update_unit(ctx, code, parse(UnitUpdate, form)))
    if unit is None:
        return _unit_form(request, ctx, form, errors, code)
    return _see(f"/org/units/{code}")


def _unit_page(
    request: Request,
    ctx: CtxDep,
    code: str,
    open_form: str = "",
    form: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    unit = service.get_unit(ctx, code)
    unit_id = service.unit_id_for_code(ctx, code)
    visible = allowed(ctx, "view_people", unit_id)
    return render(
        request,
        "org/unit.html",
        status=422 if errors else 200,
        unit=unit,
        people=service.list_people(ctx, code) if visible else None,
        appointments=service.list_appointments(ctx, unit_code=code) if visible else [],
        can_manage=allowed(ctx, "manage_units"),
        can_edit_people=allowed(ctx, "manage_people", unit_id),
        positions=list(Position),
        open_form=open_form,
        form=form or {},
        errors=errors or [],
    )


@router.get("/org/units/{code}")
def unit_page(request: Request, ctx: CtxDep, code: str) -> Response:
    return _unit_page(request, ctx, code)


@router.post("/org/units/{code}/people")
def create_person(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    person, errors = attempt(
        ctx, lambda: service.create_person(ctx, parse(PersonCreate, {**form, "unit_code": code}))
    )
    if person is None:
        return _unit_page(request, ctx, code, "person", form, errors)
    return _see(f"/org/units/{code}")


@router.post("/org/units/{code}/appointments")
def create_appointment(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    appt, errors = attempt(
        ctx, lambda: service.create_appointment(ctx, parse(AppointmentCreate, form))
    )
    if appt is None:
        return _unit_page(request, ctx, code, "appointment", form, errors)
    return _see(f"/org/appointments/{appt.id}")


@router.get("/org/filings")
def filings(request: Request, ctx: CtxDep, status: str | None = None) -> Response:
    chosen = FilingStatus(status) if status in set(FilingStatus) else None
    return render(
        request,
        "org/filings.html",
        chosen=chosen,
        statuses=list(FilingStatus),
        appointments=service.list_appointments(ctx, status=chosen),
    )


def _appointment_page(
    request: Request, ctx: CtxDep, appointment_id: int, errors: list[dict[str, str]] | None = None
) -> Response:
    appt = service.get_appointment(ctx, appointment_id)
    return render(
        request,
        "org/appointment.html",
        status=422 if errors else 200,
        a=appt,
        actions=service.filing_actions(ctx, appt),
        errors=errors or [],
    )


@router.get("/org/appointments/{appointment_id}")
def appointment_page(request: Request, ctx: CtxDep, appointment_id: int) -> Response:
    return _appointment_page(request, ctx, appointment_id)


@router.post("/org/appointments/{appointment_id}/submit")
def submit_filing(ctx: CtxDep, appointment_id: int) -> Response:
    service.submit_filing(ctx, appointment_id)
    return _see(f"/org/appointments/{appointment_id}")


@router.post("/org/appointments/{appointment_id}/approve")
def approve_filing(ctx: CtxDep, appointment_id: int, form: FormDep) -> Response:
    service.approve_filing(ctx, appointment_id, form.get("note", "").strip())
    return _see(f"/org/appointments/{appointment_id}")


@router.post("/org/appointments/{appointment_id}/return")
def return_filing(request: Request, ctx: CtxDep, appointment_id: int, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.return_filing(ctx, appointment_id, form.get("reason", ""))
    )
    if done is None:
        return _appointment_page(request, ctx, appointment_id, errors)
    return _see(f"/org/appointments/{appointment_id}")


@router.post("/org/appointments/{appointment_id}/end")
def end_appointment(ctx: CtxDep, appointment_id: int, form: FormDep) -> Response:
    service.end_appointment(ctx, appointment_id, form.get("reason", ""))
    return _see(f"/org/appointments/{appointment_id}")


@router.get("/org/roster.xlsx")
def roster(ctx: CtxDep) -> Response:
    return Response(
        service.export_roster(ctx),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="cdo-roster.xlsx"'},
    )
