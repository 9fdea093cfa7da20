"""Console pages of authorisation agreements (授权运营协议): the list the viewer may see, the
form the bureau drafts one with, and one page per agreement with the steps its state allows
(approve, put in force, suspend, terminate, link a grant), each a CSRF-protected form.

Bad input re-shows the form with what was typed and the reasons in both languages; the
service refuses before anything is written, so nothing is half-kept."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed, require
from shuzhi.errors import Invalid
from shuzhi.market import service
from shuzhi.market.models import AgreementStatus, PartyKind, PartyStatus
from shuzhi.market.schemas import AgreementIn, AgreementOut, GrantLink
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = "/market/agreements"
RIGHTS = ("holding", "processing", "operating")
# Where a step's answer may send the reader back to (never an address from the form as such).
BACKS = {"console": "/market", "list": PAGE}
# The form's field for each field an error may name.
LABELS = {
    "title": "mk.agreement_title",
    "operator_id": "mk.operator",
    "resources": "mk.resources",
    "rights": "mk.rights",
    "scenarios": "mk.scenarios",
    "fee_cap_cents": "mk.disc.fee_cap",
    "revenue_share_percent": "mk.revenue_share",
    "security_obligations": "mk.security_obligations",
    "exit_terms": "mk.exit_terms",
    "breach_terms": "mk.breach_terms",
    "starts_on": "mk.disc.starts_on",
    "ends_on": "mk.disc.ends_on",
    "reason": "mk.reason",
    "grant_id": "mk.grant_id",
}
_SPLIT = re.compile(r"[\s,，、;；]+")


async def _lists(request: Request) -> dict[str, list[str]]:
    """Every value of each posted field (check boxes and multiple choices)."""
    form = await request.form()
    return {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}


ListsDep = Annotated[dict[str, list[str]], Depends(_lists)]


def yuan_to_fen(text: str) -> int | str:
    """Yuan as typed (``500000``, ``1,200.50``, full-width digits) in fen, exactly; the text
    as it was when it is not such an amount, so that validation names the field."""
    value = unicodedata.normalize("NFKC", text).replace(",", "").replace("¥", "").strip()
    if not re.fullmatch(r"[0-9]{1,13}(?:\.[0-9]{1,2})?", value):
        return text
    try:
        return int(Decimal(value) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits plain decimals only
        return text


def agreement_form(form: dict[str, str], lists: dict[str, list[str]]) -> dict[str, Any]:
    """The service's input from the posted form: blank fields left out (so that they are
    reported as missing), resources split on commas, spaces or lines, one scenario a line."""
    data: dict[str, Any] = {
        k: form[k].strip()
        for k in (
            "title",
            "operator_id",
            "revenue_share_percent",
            "security_obligations",
            "exit_terms",
            "breach_terms",
            "starts_on",
            "ends_on",
        )
        if form.get(k, "").strip()
    }
    data["resources"] = [c for c in _SPLIT.split(form.get("resources", "")) if c]
    data["rights"] = [r for r in lists.get("rights", []) if r.strip()]
    data["scenarios"] = [s.strip() for s in form.get("scenarios", "").splitlines() if s.strip()]
    if form.get("fee_cap", "").strip():
        data["fee_cap_cents"] = yuan_to_fen(form["fee_cap"])
    return data


def _operators(ctx: CtxDep) -> list[Any]:
    return [
        p
        for p in service.list_market_parties(ctx)
        if p.kind == PartyKind.OPERATOR and p.status == PartyStatus.APPROVED
    ]


def _errors(ctx: CtxDep, err: Invalid) -> list[dict[str, str]]:
    ctx.fail(err)
    return [{"field": e.field, "message": e.message.get(ctx.locale)} for e in err.errors]


@router.get(PAGE)
def agreements(request: Request, ctx: CtxDep, status: str = "") -> Response:
    wanted = AgreementStatus(status) if status in set(AgreementStatus) else None
    return render(
        request,
        "market/agreements.html",
        agreements=service.list_agreements(ctx, wanted),
        chosen=wanted.value if wanted else "",
        statuses=[s.value for s in AgreementStatus],
        may_draft=allowed(ctx, "draft_agreement"),
        may_expire=allowed(ctx, "expire_agreements"),
    )


def _new(
    request: Request,
    ctx: CtxDep,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "market/agreement_form.html",
        status=status,
        operators=_operators(ctx),
        rights=RIGHTS,
        labels=LABELS,
        errors=errors or [],
        form=form or {"rights": ["processing", "operating"]},
    )


@router.get(f"{PAGE}/new")
def new(request: Request, ctx: CtxDep) -> Response:
    require(ctx, "draft_agreement")
    return _new(request, ctx)


@router.post(PAGE)
def draft(request: Request, ctx: CtxDep, form: FormDep, lists: ListsDep) -> Response:
    data = agreement_form(form, lists)
    made, errors = attempt(ctx, lambda: service.draft_agreement(ctx, parse(AgreementIn, data)))
    if errors or made is None:
        kept: dict[str, Any] = dict(form)
        kept["rights"] = lists.get("rights", [])
        return _new(request, ctx, status=422, errors=errors, form=kept)
    return RedirectResponse(f"{PAGE}/{made.id}", status_code=303)


@router.post(f"{PAGE}/expiry")
def expire(ctx: CtxDep) -> Response:
    service.expire_agreements(ctx)
    return RedirectResponse(PAGE, status_code=303)


def _detail(
    request: Request,
    ctx: CtxDep,
    agreement: AgreementOut,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "market/agreement.html",
        status=status,
        a=agreement,
        may_approve=allowed(ctx, "approve_agreement"),
        may_activate=allowed(ctx, "activate_agreement"),
        may_suspend=allowed(ctx, "suspend_agreement"),
        may_terminate=allowed(ctx, "terminate_agreement"),
        may_link=allowed(ctx, "attach_agreement_grant"),
        labels=LABELS,
        errors=errors or [],
        form=form or {},
    )


@router.get(f"{PAGE}/{{agreement_id}}")
def agreement(request: Request, ctx: CtxDep, agreement_id: int) -> Response:
    return _detail(request, ctx, service.get_agreement(ctx, agreement_id))


@router.post(f"{PAGE}/{{agreement_id}}/{{step}}")
def step(request: Request, ctx: CtxDep, agreement_id: int, step: str, form: FormDep) -> Response:
    """One step of the agreement's life; a missing reason or a bad grant number re-shows
    the agreement's page with the reason, anything else refused goes to the error page."""
    reason = form.get("reason", "")
    actions = {
        "approval": lambda: service.approve_agreement(ctx, agreement_id),
        "activation": lambda: service.activate_agreement(ctx, agreement_id),
        "suspension": lambda: service.suspend_agreement(ctx, agreement_id, reason),
        "termination": lambda: service.terminate_agreement(ctx, agreement_id, reason),
        "grants": lambda: service.attach_agreement_grant(
            ctx, agreement_id, parse(GrantLink, {"grant_id": form.get("grant_id", "")}).grant_id
        ),
    }
    action = actions.get(step)
    if action is None:
        return Response(status_code=404)
    try:
        action()
    except Invalid as err:
        errors = _errors(ctx, err)
        current = service.get_agreement(ctx, agreement_id)
        return _detail(request, ctx, current, status=422, errors=errors, form=form)
    back = BACKS.get(form.get("back", ""), f"{PAGE}/{agreement_id}")
    return RedirectResponse(back, status_code=303)
