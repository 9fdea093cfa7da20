"""Console pages of authorisation agreements (授权运营协议): the list the viewer may see, the
form the bureau drafts one with, and one page per agreement with the steps its state allows
(approve, put in force, suspend, terminate, link a grant), each a CSRF-protected form.

The draft form offers the catalogue entries the service says may be authorised
(``service.authorisable_resources``) as check boxes grouped by unit, each with its name and
code; a filter narrows the list (the server filters when the filter button is pressed, a
small script as it is typed; neither is needed to choose). Bad input re-shows the form with
what was typed and the reasons in both languages; the service refuses before anything is
written, so nothing is half-kept."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed, require
from shuzhi.errors import Invalid
from shuzhi.market import service
from shuzhi.market.models import AgreementStatus, PartyKind, PartyStatus
from shuzhi.market.schemas import AgreementIn, AgreementOut, AuthorisableResource, GrantLink
from shuzhi.validation import parse, text_key
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
# Up to this many resources every unit's group is shown open; beyond, the groups holding a
# chosen resource (or a match of the filter) are open and the others folded.
OPEN_UP_TO = 30


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
    reported as missing), the resources ticked, one scenario a line."""
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
    data["resources"] = [c.strip() for c in lists.get("resources", []) if c.strip()]
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


@dataclass
class ResourceGroup:
    """One unit's authorisable resources as the form shows them."""

    unit_code: str
    unit_name: str
    items: list[AuthorisableResource] = field(default_factory=list)
    open: bool = False


def resource_groups(
    resources: list[AuthorisableResource], chosen: list[str], query: str
) -> list[ResourceGroup]:
    """The resources by unit, narrowed to those matching ``query`` (code, name or unit, as
    ``text_key`` compares) — the chosen ones always stay, so that filtering loses nothing."""
    key = text_key(query)
    groups: dict[str, ResourceGroup] = {}
    for r in resources:
        hit = not key or key in text_key(f"{r.code} {r.name} {r.unit_code} {r.unit_name}")
        if not hit and r.code not in chosen:
            continue
        group = groups.setdefault(r.unit_code, ResourceGroup(r.unit_code, r.unit_name))
        group.items.append(r)
        group.open = group.open or bool(key) or r.code in chosen or len(resources) <= OPEN_UP_TO
    return list(groups.values())


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
    form = form or {"rights": ["processing", "operating"], "resources": []}
    resources = service.authorisable_resources(ctx)
    query = str(form.get("resource_q", "")).strip()
    groups = resource_groups(resources, form.get("resources", []), query)
    return render(
        request,
        "market/agreement_form.html",
        status=status,
        operators=_operators(ctx),
        rights=RIGHTS,
        labels=LABELS,
        errors=errors or [],
        form=form,
        groups=groups,
        shown=sum(len(g.items) for g in groups),
        total=len(resources),
    )


def _kept(form: dict[str, str], lists: dict[str, list[str]]) -> dict[str, Any]:
    """What was typed and ticked, to show the form again."""
    kept: dict[str, Any] = dict(form)
    kept["rights"] = lists.get("rights", [])
    kept["resources"] = [c.strip() for c in lists.get("resources", []) if c.strip()]
    return kept


@router.get(f"{PAGE}/new")
def new(request: Request, ctx: CtxDep, resource_q: str = "") -> Response:
    require(ctx, "draft_agreement")
    form = {"rights": ["processing", "operating"], "resources": [], "resource_q": resource_q}
    return _new(request, ctx, form=form)


@router.post(PAGE)
def draft(request: Request, ctx: CtxDep, form: FormDep, lists: ListsDep) -> Response:
    """Draft the agreement; with the filter button (``find``), show the form again with the
    resource list narrowed and everything typed or ticked kept (nothing is drafted)."""
    if form.get("find"):
        require(ctx, "draft_agreement")
        return _new(request, ctx, form=_kept(form, lists))
    data = agreement_form(form, lists)
    made, errors = attempt(ctx, lambda: service.draft_agreement(ctx, parse(AgreementIn, data)))
    if errors or made is None:
        return _new(request, ctx, status=422, errors=errors, form=_kept(form, lists))
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
