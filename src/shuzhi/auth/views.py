"""Console pages for logging in and out, language, accounts and API keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal
from urllib.parse import urlparse

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth import service
from shuzhi.auth.schemas import (
    ApiKeyCreate,
    PasswordChange,
    PasswordReset,
    TotpConfirm,
    TotpDisable,
    TotpStart,
    UserCreate,
)
from shuzhi.context import Actor, Role
from shuzhi.errors import (
    Conflict,
    Invalid,
    Message,
    ShuzhiError,
    TooManyRequests,
    Unauthenticated,
)
from shuzhi.org import service as org
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.i18n import LOCALE_COOKIE, LOCALES
from shuzhi.web.session import clear_session, write_session
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths may follow a login (no open redirects)."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


DEVICE_COOKIE = "shuzhi_device"


def _refused(ctx: CtxDep, err: ShuzhiError) -> tuple[Message, dict[str, str]]:
    """Keep a refusal's records, and say it on the page (with Retry-After when throttled)."""
    ctx.fail(err)
    headers = {"Retry-After": str(err.retry_after)} if isinstance(err, TooManyRequests) else {}
    return err.message, headers


def _signed_in(ctx: CtxDep, actor: Actor, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    assert actor.id is not None
    write_session(ctx.settings, response, actor.id, service.session_epoch(ctx, actor.id))
    response.set_cookie(
        DEVICE_COOKIE,
        service.device_token(ctx, actor),
        max_age=service.DEVICE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
        path="/login",
    )
    return response


def _login_outcome(
    request: Request, ctx: CtxDep, outcome: Actor | service.PendingLogin, target: str
) -> Response:
    if isinstance(outcome, service.PendingLogin):
        return render(
            request, "login_step.html", step=outcome, next=target, message=None, errors=[]
        )
    return _signed_in(ctx, outcome, target)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe_next(next), username="", message=None)


@router.post("/login")
def login(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    username = form.get("username", "")
    target = _safe_next(form.get("next"))
    try:
        outcome = service.authenticate(
            ctx,
            username,
            form.get("password", ""),
            device_token=request.cookies.get(DEVICE_COOKIE),
        )
    except ShuzhiError as err:
        message, headers = _refused(ctx, err)
        return render(
            request,
            "login.html",
            status=err.status,
            headers=headers,
            next=target,
            username=username,
            message=message,
        )
    return _login_outcome(request, ctx, outcome, target)


@router.post("/login/step")
def login_step(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    """The second step of a login: the second-factor code or the new password."""
    target = _safe_next(form.get("next"))
    token = form.get("token", "")
    stage: Literal["second_factor", "new_password"] = (
        "new_password" if form.get("stage") == "new_password" else "second_factor"
    )
    try:
        outcome = service.continue_login(
            ctx,
            token,
            code=form.get("code", ""),
            new_password=form.get("new_password", ""),
            device_token=request.cookies.get(DEVICE_COOKIE),
        )
    except Invalid as err:
        ctx.fail(err)
        errors = [{"field": e.field, "message": e.message.get(ctx.locale)} for e in err.errors]
        step = service.PendingLogin(stage=stage, token=token, username=form.get("username", ""))
        return render(
            request,
            "login_step.html",
            status=err.status,
            step=step,
            next=target,
            message=None,
            errors=errors,
        )
    except ShuzhiError as err:
        message, headers = _refused(ctx, err)
        if (
            isinstance(err, Unauthenticated)
            and not isinstance(err, service.LoginStepExpired)
            and stage == "second_factor"
        ):
            # a wrong code: the same step again (the login has not expired)
            step = service.PendingLogin(
                stage="second_factor", token=token, username=form.get("username", "")
            )
            return render(
                request,
                "login_step.html",
                status=err.status,
                step=step,
                next=target,
                message=message,
                errors=[],
            )
        return render(
            request,
            "login.html",
            status=err.status,
            headers=headers,
            next=target,
            username=form.get("username", ""),
            message=message,
        )
    return _login_outcome(request, ctx, outcome, target)


@router.post("/logout")
def logout(ctx: CtxDep) -> Response:
    service.logout(ctx)
    response = RedirectResponse("/login", status_code=303)
    clear_session(response)
    return response


@router.get("/lang/{locale}")
def switch_language(locale: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response


def _users_page(
    request: Request,
    ctx: CtxDep,
    form: dict[str, str],
    errors: list[dict[str, str]],
    reset: object = None,
) -> Response:
    return render(
        request,
        "auth/users.html",
        status=422 if errors else 200,
        users=service.list_users(ctx),
        roles=list(Role),
        units=org.all_unit_briefs(ctx),
        form=form,
        errors=errors,
        reset=reset,
    )


@router.get("/auth/users")
def users_page(request: Request, ctx: CtxDep) -> Response:
    return _users_page(request, ctx, {}, [])


@router.post("/auth/users")
def create_user(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data = {**form, "unit_code": form.get("unit_code") or None}
    user, errors = attempt(ctx, lambda: service.create_user(ctx, parse(UserCreate, data)))
    if user is None:
        return _users_page(request, ctx, form, errors)
    return RedirectResponse("/auth/users", status_code=303)


def _keys_page(
    request: Request,
    ctx: CtxDep,
    created: object = None,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    return render(
        request,
        "auth/api_keys.html",
        status=422 if errors else 200,
        keys=service.list_api_keys(ctx),
        roles=list(Role),
        units=org.all_unit_briefs(ctx),
        created=created,
        errors=errors or [],
    )


@router.get("/auth/api-keys")
def api_keys_page(request: Request, ctx: CtxDep) -> Response:
    return _keys_page(request, ctx)


@router.post("/auth/api-keys")
def create_api_key(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data = {**form, "unit_code": form.get("unit_code") or None}
    created, errors = attempt(ctx, lambda: service.create_api_key(ctx, parse(ApiKeyCreate, data)))
    # The new key is shown on this response only; it is never stored or shown again.
    return _keys_page(request, ctx, created, errors)


@router.post("/auth/api-keys/{prefix}/revoke")
def revoke_api_key(ctx: CtxDep, prefix: str) -> Response:
    service.revoke_api_key(ctx, prefix)
    return RedirectResponse("/auth/api-keys", status_code=303)


# ---------------------------------------------------------------- own account


# Refusals shown on the account forms; others (forbidden…) go to the error page.
FORM_ERRORS = (Invalid, Unauthenticated, TooManyRequests, Conflict)


def _form_errors(ctx: CtxDep, err: ShuzhiError) -> list[dict[str, str]]:
    """A refusal on an account form, shown on the form (a wrong current password included)."""
    ctx.fail(err)
    if isinstance(err, Invalid):
        return [{"field": e.field, "message": e.message.get(ctx.locale)} for e in err.errors]
    return [{"field": "", "message": err.message.get(ctx.locale)}]


def _account_page(
    request: Request,
    ctx: CtxDep,
    *,
    errors: list[dict[str, str]] | None = None,
    notice: str | None = None,
    enrolment: object = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "auth/account.html",
        status=status,
        account=service.account_security(ctx),
        errors=errors or [],
        notice=notice,
        enrolment=enrolment,
    )


def _keep_session(ctx: CtxDep, response: Response) -> Response:
    """The account's other sessions ended; this one goes on with a fresh cookie."""
    assert ctx.actor.id is not None
    write_session(ctx.settings, response, ctx.actor.id, service.session_epoch(ctx, ctx.actor.id))
    return response


@router.get("/account")
def account_page(request: Request, ctx: CtxDep, done: str = "") -> Response:
    notice = done if done in ("password", "totp_on", "totp_off") else None
    return _account_page(request, ctx, notice=notice)


def _account_step(
    request: Request,
    ctx: CtxDep,
    step: Callable[[], object],
    done: str,
    *,
    new_session: bool,
) -> Response:
    """Run one account form's service call: its errors are shown on the account page; on
    success, back to the page with ``done`` (with a fresh cookie when other sessions ended)."""
    try:
        step()
    except FORM_ERRORS as err:
        return _account_page(request, ctx, errors=_form_errors(ctx, err), status=err.status)
    response = RedirectResponse(f"/account?done={done}", status_code=303)
    return _keep_session(ctx, response) if new_session else response


@router.post("/account/password")
def change_password(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    def step() -> None:
        service.change_password(ctx, parse(PasswordChange, form))

    return _account_step(request, ctx, step, "password", new_session=True)


@router.post("/account/totp/start")
def start_totp(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    try:
        enrolment = service.start_totp(ctx, parse(TotpStart, form))
    except FORM_ERRORS as err:
        return _account_page(request, ctx, errors=_form_errors(ctx, err), status=err.status)
    # The secret is shown on this response only.
    return _account_page(request, ctx, enrolment=enrolment)


@router.post("/account/totp/confirm")
def confirm_totp(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    def step() -> None:
        service.confirm_totp(ctx, parse(TotpConfirm, form))

    return _account_step(request, ctx, step, "totp_on", new_session=True)


@router.post("/account/totp/disable")
def disable_totp(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    def step() -> None:
        service.disable_totp(ctx, parse(TotpDisable, form))

    return _account_step(request, ctx, step, "totp_off", new_session=False)


@router.post("/auth/users/reset")
def reset_password(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    username = form.get("username", "")
    data = {
        "new_password": form.get("new_password") or None,
        "require_change": form.get("require_change") == "on",
        "remove_second_factor": form.get("remove_second_factor") == "on",
    }
    reset, errors = attempt(
        ctx, lambda: service.reset_password(ctx, username, parse(PasswordReset, data))
    )
    # A generated password is shown on this response only.
    return _users_page(request, ctx, {}, errors, reset=reset)
