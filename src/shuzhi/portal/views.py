"""Portal pages: the public site under ``/open`` and the providers' console under ``/portal``.

The public site has its own look (``portal/site.html``) and its own applicant session
cookie; staff sessions play no part in it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.context import Ctx
from shuzhi.errors import Invalid, ShuzhiError, TooManyRequests, Unauthenticated
from shuzhi.portal import dcat, service
from shuzhi.portal.api import PortalCtx, base_url
from shuzhi.portal.schemas import (
    FORMATS,
    ApplicantIn,
    ApplicantOut,
    ApplicantPasswordChange,
    ApplicationIn,
    code_of,
)
from shuzhi.settings import Settings
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
APPLICANT_COOKIE = "shuzhi_portal"
PAGE_SIZE = 20
FILTERS = ("unit", "open_type", "update_cycle", "class")


# ---------------------------------------------------------------- applicant session


def _signer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="portal-applicant")


def applicant_of(request: Request, ctx: Ctx) -> ApplicantOut | None:
    raw = request.cookies.get(APPLICANT_COOKIE)
    if not raw:
        return None
    try:
        data = _signer(ctx.settings).loads(raw, max_age=ctx.settings.session_max_age_seconds)
        return service.applicant_for_session(ctx, int(data["a"]), int(data["e"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def _signed_in(ctx: Ctx, response: Response, applicant_id: int, epoch: int) -> Response:
    response.set_cookie(
        APPLICANT_COOKIE,
        _signer(ctx.settings).dumps({"a": applicant_id, "e": epoch}),
        max_age=ctx.settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
        path="/open",
    )
    return response


def _refused(ctx: Ctx, err: ShuzhiError) -> dict[str, str]:
    """Keep a refusal's records; the headers to answer with (Retry-After when throttled)."""
    ctx.fail(err)
    return {"Retry-After": str(err.retry_after)} if isinstance(err, TooManyRequests) else {}


def _page(
    request: Request,
    ctx: Ctx,
    template: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **data: Any,
) -> Response:
    return render(
        request,
        f"portal/{template}",
        status=status,
        headers=headers,
        applicant=applicant_of(request, ctx),
        labels=service.labels(ctx),
        search_words=service.search_words(ctx),
        **data,
    )


# ---------------------------------------------------------------- public pages


@router.get("/open")
def home(request: Request, ctx: PortalCtx) -> Response:
    service.count_visitor(ctx)
    figures = service.home_figures(ctx)
    latest = service.search_open(ctx, "", limit=8, sort="key")
    return _page(request, ctx, "home.html", figures=figures, latest=latest)


@router.get("/open/search")
def search_page(
    request: Request,
    ctx: PortalCtx,
    q: str = "",
    page: int = 1,
) -> Response:
    filters = {name: [v for v in request.query_params.getlist(name) if v][:10] for name in FILTERS}
    page = max(1, min(page, 500))
    found = service.search_open(
        ctx, q[:200], filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return _page(
        request,
        ctx,
        "search.html",
        q=q[:200],
        found=found,
        filters=filters,
        page=page,
        pages=max(1, -(-found.total // PAGE_SIZE)),
    )


@router.get("/open/datasets/{name}")
def dataset_page(request: Request, ctx: PortalCtx, name: str) -> Response:
    found, preview = service.dataset_page(ctx, code_of(name))
    markup = json.dumps(dcat.schema_org(found, base_url(request)), ensure_ascii=False)
    return _page(
        request,
        ctx,
        "dataset.html",
        d=found,
        preview=preview,
        formats=FORMATS,
        markup=markup.replace("</", "<\\/"),
    )


@router.get("/open/developers")
def developers(request: Request, ctx: PortalCtx) -> Response:
    return _page(request, ctx, "developers.html", base=base_url(request))


@router.get("/open/units")
def units_page(request: Request, ctx: PortalCtx) -> Response:
    return _page(request, ctx, "units.html", units=service.open_units(ctx))


@router.get("/open/units/{unit_code}")
def unit_page(request: Request, ctx: PortalCtx, unit_code: str, page: int = 1) -> Response:
    unit = service.open_unit(ctx, unit_code[:40])
    page = max(1, min(page, 500))
    found = service.search_open(
        ctx,
        "",
        filters={"unit": [unit.unit_code]},
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        sort="key",
    )
    return _page(request, ctx, "unit.html", unit=unit, found=found, page=page)


# ---------------------------------------------------------------- applicants


@router.get("/open/account/register")
def register_form(request: Request, ctx: PortalCtx) -> Response:
    return _page(request, ctx, "register.html", errors=[], form={})


@router.post("/open/account/register")
def register(request: Request, ctx: PortalCtx, form: FormDep) -> Response:
    _, errors = attempt(ctx, lambda: service.register_applicant(ctx, parse(ApplicantIn, form)))
    if errors:
        return _page(request, ctx, "register.html", status=422, errors=errors, form=form)
    return RedirectResponse("/open/account/login?registered=1", status_code=303)


@router.get("/open/account/login")
def login_form(request: Request, ctx: PortalCtx, next: str = "/open/account") -> Response:
    return _page(request, ctx, "login.html", error=None, next=_safe_next(next))


def _safe_next(target: str) -> str:
    return target if target.startswith("/open") and "//" not in target else "/open/account"


@router.post("/open/account/login")
def login(request: Request, ctx: PortalCtx, form: FormDep) -> Response:
    try:
        applicant, epoch = service.login_applicant(
            ctx, form.get("email", ""), form.get("password", "")
        )
    except (Unauthenticated, TooManyRequests) as err:
        return _page(
            request,
            ctx,
            "login.html",
            status=err.status,
            headers=_refused(ctx, err),
            error=err.message.get(ctx.locale),
            next=_safe_next(form.get("next", "")),
        )
    response = RedirectResponse(_safe_next(form.get("next", "")), status_code=303)
    return _signed_in(ctx, response, applicant.id, epoch)


@router.post("/open/account/logout")
def logout() -> Response:
    response = RedirectResponse("/open", status_code=303)
    response.delete_cookie(APPLICANT_COOKIE, path="/open")
    return response


@router.get("/open/account")
def account(request: Request, ctx: PortalCtx) -> Response:
    applicant = applicant_of(request, ctx)
    if applicant is None:
        return RedirectResponse("/open/account/login", status_code=303)
    return _page(
        request, ctx, "account.html", mine=service.my_applications(ctx, applicant), issued=None
    )


@router.get("/open/account/password")
def password_form(request: Request, ctx: PortalCtx) -> Response:
    if applicant_of(request, ctx) is None:
        return RedirectResponse("/open/account/login?next=/open/account/password", 303)
    return _page(request, ctx, "password.html", errors=[], error=None)


@router.post("/open/account/password")
def change_password(request: Request, ctx: PortalCtx, form: FormDep) -> Response:
    applicant = applicant_of(request, ctx)
    if applicant is None:
        return RedirectResponse("/open/account/login?next=/open/account/password", 303)
    try:
        data = parse(ApplicantPasswordChange, form)
        epoch = service.change_applicant_password(ctx, applicant, data)
    except Invalid as err:
        ctx.fail(err)
        errors = [{"field": e.field, "message": e.message.get(ctx.locale)} for e in err.errors]
        return _page(request, ctx, "password.html", status=422, errors=errors, error=None)
    except (Unauthenticated, TooManyRequests) as err:
        return _page(
            request,
            ctx,
            "password.html",
            status=err.status,
            headers=_refused(ctx, err),
            errors=[],
            error=err.message.get(ctx.locale),
        )
    response = RedirectResponse("/open/account?password_changed=1", status_code=303)
    return _signed_in(ctx, response, applicant.id, epoch)


@router.post("/open/account/applications/{application_id}/key")
def issue_key(request: Request, ctx: PortalCtx, application_id: int) -> Response:
    applicant = applicant_of(request, ctx)
    if applicant is None:
        return RedirectResponse("/open/account/login", status_code=303)
    issued = service.issue_applicant_key(ctx, applicant, application_id)
    return _page(
        request, ctx, "account.html", mine=service.my_applications(ctx, applicant), issued=issued
    )


@router.get("/open/datasets/{name}/apply")
def apply_form(request: Request, ctx: PortalCtx, name: str) -> Response:
    if applicant_of(request, ctx) is None:
        return RedirectResponse(f"/open/account/login?next=/open/datasets/{name}/apply", 303)
    found = service.get_open_dataset(ctx, code_of(name))
    return _page(request, ctx, "apply.html", d=found, errors=[], form={})


@router.post("/open/datasets/{name}/apply")
def apply(request: Request, ctx: PortalCtx, name: str, form: FormDep) -> Response:
    applicant = applicant_of(request, ctx)
    if applicant is None:
        return RedirectResponse(f"/open/account/login?next=/open/datasets/{name}/apply", 303)
    data = ApplicationIn(
        resource_code=code_of(name)[:64],
        purpose=(form.get("purpose") or "")[:2000],
        accept_agreement=form.get("accept_agreement") == "yes",
    )
    _, errors = attempt(ctx, lambda: service.submit_open_application(ctx, applicant, data))
    if errors:
        found = service.get_open_dataset(ctx, code_of(name))
        return _page(request, ctx, "apply.html", status=422, d=found, errors=errors, form=form)
    return RedirectResponse("/open/account", status_code=303)


# ---------------------------------------------------------------- providers' console


@router.get("/portal")
def manage(request: Request, ctx: CtxDep) -> Response:
    return render(
        request,
        "portal/manage.html",
        publications=service.list_publications(ctx),
        candidates=service.open_candidates(ctx),
        errors=[],
    )


def _manage_again(request: Request, ctx: Ctx, errors: list[dict[str, str]]) -> Response:
    return render(
        request,
        "portal/manage.html",
        status=422,
        publications=service.list_publications(ctx),
        candidates=service.open_candidates(ctx),
        errors=errors,
    )


@router.post("/portal/open")
def open_entry(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    code, confirm = form.get("resource_code", ""), form.get("confirm_deidentified") == "yes"
    _, errors = attempt(ctx, lambda: service.open_dataset(ctx, code, confirm))
    return _manage_again(request, ctx, errors) if errors else RedirectResponse("/portal", 303)


@router.post("/portal/republish")
def republish(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    code, confirm = form.get("resource_code", ""), form.get("confirm_deidentified") == "yes"
    _, errors = attempt(ctx, lambda: service.republish_dataset(ctx, code, confirm))
    return _manage_again(request, ctx, errors) if errors else RedirectResponse("/portal", 303)


@router.post("/portal/close")
def close(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    code, reason = form.get("resource_code", ""), form.get("reason", "")
    _, errors = attempt(ctx, lambda: service.close_dataset(ctx, code, reason))
    return _manage_again(request, ctx, errors) if errors else RedirectResponse("/portal", 303)


@router.get("/portal/applications")
def applications(request: Request, ctx: CtxDep) -> Response:
    return render(
        request,
        "portal/applications.html",
        applications=service.list_open_applications(ctx),
        errors=[],
    )


def _applications_again(request: Request, ctx: Ctx, errors: list[dict[str, str]]) -> Response:
    return render(
        request,
        "portal/applications.html",
        status=422,
        applications=service.list_open_applications(ctx),
        errors=errors,
    )


@router.post("/portal/applications/{application_id}/decide")
def decide(request: Request, ctx: CtxDep, application_id: int, form: FormDep) -> Response:
    approve, note = form.get("outcome") == "approve", form.get("note", "")
    _, errors = attempt(
        ctx, lambda: service.decide_open_application(ctx, application_id, approve, note)
    )
    if errors:
        return _applications_again(request, ctx, errors)
    return RedirectResponse("/portal/applications", 303)


@router.post("/portal/applications/{application_id}/revoke")
def revoke(request: Request, ctx: CtxDep, application_id: int, form: FormDep) -> Response:
    reason = form.get("reason", "")
    _, errors = attempt(ctx, lambda: service.revoke_open_application(ctx, application_id, reason))
    if errors:
        return _applications_again(request, ctx, errors)
    return RedirectResponse("/portal/applications", 303)
