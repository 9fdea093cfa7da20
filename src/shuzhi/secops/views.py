"""Console pages of security operations: alerts (acknowledge, false positive, contain the
key, open an incident) and incidents (containment in one click, lift, notes, review)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.context import Ctx
from shuzhi.secops import service
from shuzhi.secops.schemas import (
    CloseIn,
    ContainmentIn,
    FalsePositiveIn,
    IncidentIn,
    LiftIn,
    NoteIn,
    NotifyIn,
)
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
STATUSES = ("open", "acknowledged", "false_positive", "resolved")


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/secops/alerts")
def alerts_page(request: Request, ctx: CtxDep, status: str = "open") -> Response:
    listed = service.list_alerts(ctx, status if status in STATUSES else None, 200)
    return render(request, "secops/alerts.html", listed=listed, shown=status, statuses=STATUSES)


def _alert_page(
    request: Request, ctx: CtxDep, alert_id: int, errors: list[dict[str, str]] | None = None
) -> Response:
    alert = service.get_alert(ctx, alert_id)
    return render(
        request,
        "secops/alert.html",
        alert=alert,
        key_id=alert.subject[4:].split("@")[0] if alert.subject.startswith("key:") else "",
        can_handle=allowed(ctx, "handle_security_alert", alert.unit_id),
        can_contain=allowed(ctx, "contain_subject", None),
        errors=errors or [],
    )


@router.get("/secops/alerts/{alert_id}")
def alert_page(request: Request, ctx: CtxDep, alert_id: int) -> Response:
    return _alert_page(request, ctx, alert_id)


@router.post("/secops/alerts/{alert_id}/acknowledge")
def acknowledge(ctx: CtxDep, alert_id: int) -> Response:
    service.acknowledge_alert(ctx, alert_id)
    return _see(f"/secops/alerts/{alert_id}")


@router.post("/secops/alerts/{alert_id}/false-positive")
def false_positive(request: Request, ctx: CtxDep, alert_id: int, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.mark_false_positive(ctx, alert_id, parse(FalsePositiveIn, form))
    )
    if done is None:
        return _alert_page(request, ctx, alert_id, errors)
    return _see(f"/secops/alerts/{alert_id}")


@router.post("/secops/alerts/{alert_id}/incident")
def incident_from_alert(ctx: CtxDep, alert_id: int, form: FormDep) -> Response:
    made = service.open_incident(
        ctx, IncidentIn(alert_id=alert_id, drill=form.get("drill") == "on")
    )
    return _see(f"/secops/incidents/{made.id}")


@router.get("/secops/incidents")
def incidents_page(request: Request, ctx: CtxDep) -> Response:
    return render(
        request,
        "secops/incidents.html",
        incidents=service.list_incidents(ctx),
        can_manage=allowed(ctx, "manage_incidents", ctx.actor.unit_id),
        form={},
        errors=[],
    )


@router.post("/secops/incidents")
def open_incident(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data = {
        "title": form.get("title", ""),
        "drill": form.get("drill") == "on",
        "severity": form.get("severity", "medium"),
    }
    made, errors = attempt(ctx, lambda: service.open_incident(ctx, parse(IncidentIn, data)))
    if made is None:
        return render(
            request,
            "secops/incidents.html",
            incidents=service.list_incidents(ctx),
            can_manage=True,
            form=form,
            errors=errors,
        )
    return _see(f"/secops/incidents/{made.id}")


def _incident_page(
    request: Request,
    ctx: CtxDep,
    incident_id: int,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    incident = service.get_incident(ctx, incident_id)
    return render(
        request,
        "secops/incident.html",
        incident=incident,
        can_manage=allowed(ctx, "manage_incidents", incident.unit_id),
        can_contain=allowed(ctx, "contain_subject", None),
        can_lift=allowed(ctx, "lift_containment", None),
        kinds=("application_key", "grant", "publication", "sandbox_grant", "agreement"),
        form=form or {},
        errors=errors or [],
    )


@router.get("/secops/incidents/{incident_id}")
def incident_page(request: Request, ctx: CtxDep, incident_id: int) -> Response:
    return _incident_page(request, ctx, incident_id)


@router.post("/secops/incidents/{incident_id}/containments")
def contain(request: Request, ctx: CtxDep, incident_id: int, form: FormDep) -> Response:
    data = {
        "kind": form.get("kind", ""),
        "id": form.get("id", ""),
        "reason": form.get("reason", ""),
        "incident_id": incident_id,
    }
    done, errors = attempt(ctx, lambda: service.contain(ctx, parse(ContainmentIn, data)))
    if done is None:
        return _incident_page(request, ctx, incident_id, errors, form)
    return _see(f"/secops/incidents/{incident_id}")


def _on_incident(
    request: Request, ctx: Ctx, incident_id: int, action: Callable[[], object]
) -> Response:
    """Run one action on an incident: back to its page, or the page with the errors."""
    done, errors = attempt(ctx, action)
    if done is None:
        return _incident_page(request, ctx, incident_id, errors)
    return _see(f"/secops/incidents/{incident_id}")


@router.post("/secops/incidents/{incident_id}/containments/{containment_id}/lift")
def lift(
    request: Request, ctx: CtxDep, incident_id: int, containment_id: int, form: FormDep
) -> Response:
    return _on_incident(
        request,
        ctx,
        incident_id,
        lambda: service.lift_containment(ctx, containment_id, parse(LiftIn, form)),
    )


@router.post("/secops/incidents/{incident_id}/notifications/{notification_id}")
def notified(
    request: Request, ctx: CtxDep, incident_id: int, notification_id: int, form: FormDep
) -> Response:
    return _on_incident(
        request,
        ctx,
        incident_id,
        lambda: service.tick_notification(ctx, incident_id, notification_id, parse(NotifyIn, form)),
    )


@router.get("/secops/incidents/{incident_id}/report")
def drill_report(request: Request, ctx: CtxDep, incident_id: int) -> Response:
    return render(
        request, "secops/drill_report.html", report=service.drill_report(ctx, incident_id)
    )


@router.post("/secops/incidents/{incident_id}/notes")
def note(request: Request, ctx: CtxDep, incident_id: int, form: FormDep) -> Response:
    return _on_incident(
        request,
        ctx,
        incident_id,
        lambda: service.note_incident(ctx, incident_id, parse(NoteIn, form)),
    )


@router.post("/secops/incidents/{incident_id}/close")
def close(request: Request, ctx: CtxDep, incident_id: int, form: FormDep) -> Response:
    return _on_incident(
        request,
        ctx,
        incident_id,
        lambda: service.close_incident(ctx, incident_id, parse(CloseIn, form)),
    )
