"""Console pages of the sharing workflow (共享交换)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.lake.query import Op
from shuzhi.org import service as org
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import calendar_service as calendar
from shuzhi.sharing import forms, service
from shuzhi.sharing.calendar import NATIONAL, local_day
from shuzhi.sharing.grants import DeliveryMode
from shuzhi.sharing.models import DayKind, RequestStatus
from shuzhi.sharing.schemas import (
    AppKeyCreated,
    AppKeyIn,
    ApplicationIn,
    CalendarDayIn,
    DecisionIn,
    ExtensionIn,
    NoticeAddressIn,
    PolicyIn,
    ReasonIn,
    RenewalIn,
    RequestCreate,
    RotateIn,
)
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
Errors = list[dict[str, str]]


async def _multi_form(request: Request) -> forms.Multi:
    form = await request.form()
    out: forms.Multi = {}
    for k, v in form.multi_items():
        if isinstance(v, str) and k != "csrf_token":
            out.setdefault(k, []).append(v)
    return out


MultiFormDep = Annotated[forms.Multi, Depends(_multi_form)]


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _page(request: Request, ctx: Ctx, template: str, status: int = 200, **data: Any) -> Response:
    """Every sharing page shows the section tabs with the unread-notification count."""
    return render(
        request,
        template,
        status=status,
        unread=service.unread_count(ctx),
        is_exec=allowed(ctx, "arbitrate_share_request"),
        is_staff=allowed(ctx, "submit_share_request"),
        **data,
    )


# ---------------------------------------------------------------- requests


@router.get("/sharing")
def home() -> Response:
    return _see("/sharing/requests")


@router.get("/sharing/requests")
def my_requests(request: Request, ctx: CtxDep, status: str | None = None) -> Response:
    chosen = RequestStatus(status) if status in set(RequestStatus) else None
    return _page(
        request,
        ctx,
        "sharing/requests.html",
        section="requests",
        chosen=chosen,
        statuses=list(RequestStatus),
        requests=service.list_share_requests(ctx, side="consumer", status=chosen),
    )


def _request_form(
    request: Request,
    ctx: Ctx,
    entry: str,
    form: forms.Multi,
    errors: Errors,
) -> Response:
    return _page(
        request,
        ctx,
        "sharing/request_form.html",
        status=422 if errors else 200,
        section="new",
        f=service.request_form(ctx, entry),
        form=form,
        errors=errors,
        ops=list(Op),
        # Sandbox requests carry column roles: they are filed through the sandbox.
        modes=[m for m in DeliveryMode if m != DeliveryMode.SANDBOX],
        rows=range(forms.CONDITION_ROWS),
    )


@router.get("/sharing/requests/new")
def new_request(request: Request, ctx: CtxDep, entry: str = "", q: str = "") -> Response:
    if entry:
        return _request_form(request, ctx, entry, {"delivery": ["api"]}, [])
    return _page(
        request,
        ctx,
        "sharing/pick_entry.html",
        section="new",
        q=q,
        entries=service.shareable_entries(ctx, q),
    )


@router.post("/sharing/requests/new")
def submit_request(request: Request, ctx: CtxDep, form: MultiFormDep) -> Response:
    out, errors = attempt(
        ctx,
        lambda: service.submit_share_request(
            ctx, parse(RequestCreate, forms.request_data(form)), from_form=True
        ),
    )
    if out is None:
        return _request_form(request, ctx, forms.first(form, "resource_code"), form, errors)
    return _see(f"/sharing/requests/{out.id}")


def _request_page(
    request: Request, ctx: Ctx, request_id: int, errors: Errors | None = None, open_form: str = ""
) -> Response:
    page = service.request_page(ctx, request_id)
    return _page(
        request,
        ctx,
        "sharing/request.html",
        status=422 if errors else 200,
        section="requests",
        p=page,
        r=page.request,
        errors=errors or [],
        open_form=open_form,
        extension_days=ctx.settings.sharing_extension_days,
        form={},
        ops=list(Op),
        rows=range(forms.CONDITION_ROWS),
    )


@router.get("/sharing/requests/{request_id}")
def request_detail(request: Request, ctx: CtxDep, request_id: int) -> Response:
    return _request_page(request, ctx, request_id)


@router.post("/sharing/requests/{request_id}/withdraw")
def withdraw(ctx: CtxDep, request_id: int, form: MultiFormDep) -> Response:
    service.withdraw_share_request(ctx, request_id, forms.first(form, "reason"))
    return _see(f"/sharing/requests/{request_id}")


@router.post("/sharing/requests/{request_id}/decide")
def decide(request: Request, ctx: CtxDep, request_id: int, form: MultiFormDep) -> Response:
    done, errors = attempt(
        ctx,
        lambda: service.decide_share_request(
            ctx, request_id, parse(DecisionIn, forms.decision_data(form)), from_form=True
        ),
    )
    if done is None:
        return _request_page(request, ctx, request_id, errors, "decide")
    return _see(f"/sharing/requests/{request_id}")


@router.post("/sharing/requests/{request_id}/extend")
def extend(request: Request, ctx: CtxDep, request_id: int, form: MultiFormDep) -> Response:
    done, errors = attempt(
        ctx,
        lambda: service.extend_share_request(
            ctx, request_id, parse(ExtensionIn, {"reason": forms.first(form, "reason")})
        ),
    )
    if done is None:
        return _request_page(request, ctx, request_id, errors, "extend")
    return _see(f"/sharing/requests/{request_id}")


@router.post("/sharing/requests/{request_id}/appeal")
def appeal(request: Request, ctx: CtxDep, request_id: int, form: MultiFormDep) -> Response:
    done, errors = attempt(
        ctx,
        lambda: service.appeal_share_request(
            ctx, request_id, parse(ReasonIn, {"reason": forms.first(form, "reason")}).reason
        ),
    )
    if done is None:
        return _request_page(request, ctx, request_id, errors, "appeal")
    return _see(f"/sharing/requests/{request_id}")


@router.post("/sharing/requests/{request_id}/arbitrate")
def arbitrate(request: Request, ctx: CtxDep, request_id: int, form: MultiFormDep) -> Response:
    done, errors = attempt(
        ctx,
        lambda: service.arbitrate_share_request(
            ctx, request_id, parse(DecisionIn, forms.decision_data(form)), from_form=True
        ),
    )
    if done is None:
        return _request_page(request, ctx, request_id, errors, "arbitrate")
    return _see(f"/sharing/requests/{request_id}")


@router.get("/sharing/queue")
def queue(request: Request, ctx: CtxDep) -> Response:
    return _page(
        request,
        ctx,
        "sharing/queue.html",
        section="queue",
        requests=service.decision_queue(ctx),
        executive=False,
    )


@router.get("/sharing/escalations")
def escalations(request: Request, ctx: CtxDep) -> Response:
    return _page(
        request,
        ctx,
        "sharing/queue.html",
        section="escalations",
        requests=service.executive_queue(ctx),
        executive=True,
    )


# ---------------------------------------------------------------- grants


@router.get("/sharing/grants")
def grants(request: Request, ctx: CtxDep, side: str = "consumer", ended: bool = False) -> Response:
    side = side if side in ("consumer", "provider") else "consumer"
    return _page(
        request,
        ctx,
        "sharing/grants.html",
        section="grants" if side == "consumer" else "granted",
        side=side,
        ended=ended,
        grants=service.list_grants(ctx, side=side, include_ended=ended),
    )


def _grant_page(
    request: Request, ctx: Ctx, grant_id: int, errors: Errors | None = None
) -> Response:
    grant = service.get_grant(ctx, grant_id)
    return _page(
        request,
        ctx,
        "sharing/grant.html",
        status=422 if errors else 200,
        section="grants",
        g=grant,
        without_key=service.rows_without_key(ctx, grant_id),
        actions=service.grant_actions(ctx, grant),
        errors=errors or [],
    )


@router.get("/sharing/grants/{grant_id}")
def grant_detail(request: Request, ctx: CtxDep, grant_id: int) -> Response:
    return _grant_page(request, ctx, grant_id)


@router.post("/sharing/grants/{grant_id}/renew")
def renew(request: Request, ctx: CtxDep, grant_id: int, form: MultiFormDep) -> Response:
    out, errors = attempt(
        ctx,
        lambda: service.renew_grant(
            ctx,
            grant_id,
            parse(RenewalIn, {"duration_days": forms.first(form, "duration_days", "365")}),
        ),
    )
    if out is None:
        return _grant_page(request, ctx, grant_id, errors)
    return _see(f"/sharing/requests/{out.id}")


@router.post("/sharing/grants/{grant_id}/revoke")
def revoke(request: Request, ctx: CtxDep, grant_id: int, form: MultiFormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.revoke_grant(ctx, grant_id, forms.first(form, "reason"))
    )
    if done is None:
        return _grant_page(request, ctx, grant_id, errors)
    return _see(f"/sharing/grants/{grant_id}")


# ---------------------------------------------------------------- connected systems


def _apps_page(request: Request, ctx: Ctx, form: forms.Multi, errors: Errors) -> Response:
    return _page(
        request,
        ctx,
        "sharing/applications.html",
        status=422 if errors else 200,
        section="applications",
        applications=apps.list_applications(ctx),
        registry=apps.connected_systems(ctx),
        can_register=allowed(ctx, "register_application", ctx.actor.unit_id),
        form=form,
        errors=errors,
    )


@router.get("/sharing/applications")
def applications(request: Request, ctx: CtxDep) -> Response:
    return _apps_page(request, ctx, {}, [])


@router.post("/sharing/applications")
def register(request: Request, ctx: CtxDep, form: MultiFormDep) -> Response:
    data = {k: forms.first(form, k) for k in ("code", "name", "description", "contact")}
    out, errors = attempt(ctx, lambda: apps.register_application(ctx, parse(ApplicationIn, data)))
    if out is None:
        return _apps_page(request, ctx, form, errors)
    return _see(f"/sharing/applications/{out.code}")


def _app_page(
    request: Request,
    ctx: Ctx,
    code: str,
    created: AppKeyCreated | None = None,
    errors: Errors | None = None,
) -> Response:
    return _page(
        request,
        ctx,
        "sharing/application.html",
        status=422 if errors else 200,
        section="applications",
        p=apps.application_page(ctx, code),
        created=created,
        errors=errors or [],
    )


@router.get("/sharing/applications/{code}")
def application(request: Request, ctx: CtxDep, code: str) -> Response:
    return _app_page(request, ctx, code)


@router.post("/sharing/applications/{code}/keys")
def create_key(request: Request, ctx: CtxDep, code: str, form: MultiFormDep) -> Response:
    data = {
        "label": forms.first(form, "label"),
        "expires_in_days": forms.first(form, "expires_in_days", "365") or "365",
    }
    created, errors = attempt(ctx, lambda: apps.create_app_key(ctx, code, parse(AppKeyIn, data)))
    # The token is shown on this response only (no redirect: it is never stored).
    return _app_page(request, ctx, code, created, errors)


@router.post("/sharing/applications/{code}/keys/{prefix}/rotate")
def rotate_key(
    request: Request, ctx: CtxDep, code: str, prefix: str, form: MultiFormDep
) -> Response:
    data = {"overlap_hours": forms.first(form, "overlap_hours", "24") or "24"}
    created, errors = attempt(
        ctx, lambda: apps.rotate_app_key(ctx, code, prefix, parse(RotateIn, data))
    )
    return _app_page(request, ctx, code, created, errors)


@router.post("/sharing/applications/{code}/keys/{prefix}/revoke")
def revoke_key(ctx: CtxDep, code: str, prefix: str) -> Response:
    apps.revoke_app_key(ctx, code, prefix)
    return _see(f"/sharing/applications/{code}")


@router.post("/sharing/applications/{code}/retire")
def retire(ctx: CtxDep, code: str, form: MultiFormDep) -> Response:
    apps.retire_application(ctx, code, forms.first(form, "reason"))
    return _see(f"/sharing/applications/{code}")


# ---------------------------------------------------------------- notifications


def _notifications_page(
    request: Request, ctx: Ctx, errors: Errors | None = None, email: str | None = None
) -> Response:
    bureau = allowed(ctx, "view_notice_outbox")
    trouble = (
        [m for m in service.list_notice_outbox(ctx, limit=200) if m.last_error][:50]
        if bureau
        else []
    )
    address = service.get_notice_address(ctx) if ctx.actor.role is not None else None
    return _page(
        request,
        ctx,
        "sharing/notifications.html",
        status=422 if errors else 200,
        section="notifications",
        notes=service.list_notifications(ctx),
        address=address,
        email=address.email if email is None and address else (email or ""),
        mail_on=bool(ctx.settings.smtp_host and ctx.settings.mail_from),
        outbox_counts=service.outbox_counts(ctx) if bureau else None,
        trouble=trouble,
        errors=errors or [],
    )


@router.get("/sharing/notifications")
def notifications(request: Request, ctx: CtxDep) -> Response:
    return _notifications_page(request, ctx)


@router.post("/sharing/notifications/mail")
def set_notice_mail(request: Request, ctx: CtxDep, form: MultiFormDep) -> Response:
    email = forms.first(form, "email")
    data = {"email": email, "mail_off": bool(forms.first(form, "mail_off"))}
    done, errors = attempt(
        ctx, lambda: service.set_notice_address(ctx, parse(NoticeAddressIn, data))
    )
    if done is None:
        return _notifications_page(request, ctx, errors, email)
    return _see("/sharing/notifications")


@router.post("/sharing/notifications/read")
def mark_read(ctx: CtxDep) -> Response:
    service.mark_notifications_read(ctx)
    return _see("/sharing/notifications")


@router.get("/sharing/notifications/badge")
def badge(request: Request, ctx: CtxDep) -> Response:
    """A fragment for the main navigation (loaded by htmx where JavaScript runs)."""
    count = service.unread_count(ctx) if ctx.actor.is_authenticated else 0
    if not count:
        return HTMLResponse("")
    return HTMLResponse(f'<span class="badge count" id="nav-unread">{count}</span>')


# ---------------------------------------------------------------- calendar


def _calendar_page(
    request: Request, ctx: Ctx, jurisdiction: str, year: int, errors: Errors | None = None
) -> Response:
    return _page(
        request,
        ctx,
        "sharing/calendar.html",
        status=422 if errors else 200,
        section="calendar",
        cal=calendar.get_calendar(ctx, jurisdiction, year),
        jurisdictions=calendar.jurisdictions(ctx),
        region_names={u.code: u.name for u in org.all_unit_briefs(ctx)},
        can_manage=allowed(ctx, "manage_sharing_calendar"),
        kinds=list(DayKind),
        errors=errors or [],
    )


@router.get("/sharing/calendar")
def calendar_page(
    request: Request, ctx: CtxDep, jurisdiction: str = NATIONAL, year: int | None = None
) -> Response:
    return _calendar_page(request, ctx, jurisdiction, year or local_day(utcnow()).year)


@router.post("/sharing/calendar/{jurisdiction}/days")
def set_day(request: Request, ctx: CtxDep, jurisdiction: str, form: MultiFormDep) -> Response:
    data = {k: forms.first(form, k) for k in ("day", "kind", "name")}
    done, errors = attempt(
        ctx, lambda: calendar.set_calendar_day(ctx, jurisdiction, parse(CalendarDayIn, data))
    )
    year = _year(forms.first(form, "day"))
    if done is None:
        return _calendar_page(request, ctx, jurisdiction, year, errors)
    return _see(f"/sharing/calendar?jurisdiction={jurisdiction}&year={year}")


@router.post("/sharing/calendar/{jurisdiction}/days/{day}/remove")
def remove_day(ctx: CtxDep, jurisdiction: str, day: date) -> Response:
    calendar.remove_calendar_day(ctx, jurisdiction, day)
    return _see(f"/sharing/calendar?jurisdiction={jurisdiction}&year={day.year}")


@router.post("/sharing/calendar/{jurisdiction}/years/{year}")
def set_year(
    request: Request, ctx: CtxDep, jurisdiction: str, year: int, form: MultiFormDep
) -> Response:
    complete = forms.first(form, "complete") == "1"
    done, errors = attempt(
        ctx, lambda: service.set_calendar_year(ctx, jurisdiction, year, complete)
    )
    if done is None:
        return _calendar_page(request, ctx, jurisdiction, year, errors)
    return _see(f"/sharing/calendar?jurisdiction={jurisdiction}&year={year}")


@router.post("/sharing/calendar/{jurisdiction}/policy")
def set_policy(request: Request, ctx: CtxDep, jurisdiction: str, form: MultiFormDep) -> Response:
    data = {k: forms.first(form, k) for k in ("decision_working_days", "rate_limit_per_minute")}
    done, errors = attempt(
        ctx, lambda: calendar.set_sharing_policy(ctx, jurisdiction, parse(PolicyIn, data))
    )
    year = local_day(utcnow()).year
    if done is None:
        return _calendar_page(request, ctx, jurisdiction, year, errors)
    return _see(f"/sharing/calendar?jurisdiction={jurisdiction}")


def _year(text: str) -> int:
    try:
        return date.fromisoformat(text.strip()).year
    except ValueError:
        return local_day(utcnow()).year
