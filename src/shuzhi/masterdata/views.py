"""Console pages of the base libraries: the list, the form defining a library, a library's
definition with its member form and run history with a run button, the clerical review
queue and one pair side by side, an entity's golden record. Thin: every change, read and
decision goes through ``service`` (checked, masked, audited)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed, require
from shuzhi.context import Ctx
from shuzhi.errors import Conflict, Invalid, NotFound, ShuzhiError
from shuzhi.masterdata import pushback, service
from shuzhi.masterdata.models import LibraryKind, ReviewDecision, ReviewStatus
from shuzhi.masterdata.schemas import ELEMENTS, LibraryIn, MemberIn, ReviewDecisionIn
from shuzhi.org import service as org
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
MAP_PREFIX = "map."  # member form: one column field per data element, "map.<field>"


def _attempt(
    ctx: Ctx, action: Callable[[], T], shown: tuple[type[ShuzhiError], str] | None = None
) -> tuple[T | None, list[dict[str, str]]]:
    """Run a service call; on invalid input (or an error of the kind ``shown`` names, such
    as a library code already taken, on the field it names) return the errors for the form,
    the whole message when no field is named. The transaction is marked failed: nothing is
    kept. Other errors go to the error page."""
    try:
        return action(), []
    except Invalid as err:
        ctx.fail(err)
        errors = [{"field": e.field, "message": e.message.get(ctx.locale)} for e in err.errors]
        return None, errors or [{"field": "", "message": err.message.get(ctx.locale)}]
    except ShuzhiError as err:
        if shown is None or not isinstance(err, shown[0]):
            raise
        ctx.fail(err)
        return None, [{"field": shown[1], "message": err.message.get(ctx.locale)}]


@router.get("/masterdata")
def libraries_page(request: Request, ctx: CtxDep) -> Response:
    return render(
        request,
        "masterdata/libraries.html",
        libraries=service.list_masterdata_libraries(ctx),
        delivered=pushback.delivered_pushbacks(ctx),
    )


def _new_form(
    request: Request, ctx: Ctx, form: dict[str, str], errors: list[dict[str, str]]
) -> Response:
    units = [u for u in org.all_unit_briefs(ctx) if allowed(ctx, "define_masterdata_library", u.id)]
    return render(
        request,
        "masterdata/new.html",
        status=422 if errors else 200,
        form=form,
        errors=errors,
        units=units,
        kinds=list(LibraryKind),
    )


@router.get("/masterdata/new")
def new_library_page(request: Request, ctx: CtxDep) -> Response:
    require(ctx, "define_masterdata_library")  # only those who may define see the form
    own = org.unit_brief(ctx, ctx.actor.unit_id) if ctx.actor.unit_id else None
    defaults = {"kind": LibraryKind.PERSON.value, "threshold": "0.99"}
    return _new_form(request, ctx, {**defaults, "unit_code": own.code if own else ""}, [])


@router.post("/masterdata/new")
def define_library(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    fields = {k: v.strip() for k, v in form.items() if k in LibraryIn.model_fields}
    if not fields.get("threshold"):
        fields.pop("threshold", None)
    library, errors = _attempt(
        ctx,
        lambda: service.define_masterdata_library(ctx, parse(LibraryIn, fields)),
        (Conflict, "code"),
    )
    if library is None:
        return _new_form(request, ctx, form, errors)
    return RedirectResponse(f"/masterdata/{library.code}#members", status_code=303)


def _library_page(
    request: Request,
    ctx: Ctx,
    code: str,
    form: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    library = service.get_masterdata_library(ctx, code)
    runs = service.list_masterdata_runs(ctx, code)
    return render(
        request,
        "masterdata/library.html",
        status=422 if errors else 200,
        library=library,
        runs=runs,
        pushbacks=pushback.list_masterdata_pushbacks(ctx, code),
        elements=ELEMENTS[library.kind],
        form=form or {},
        errors=errors or [],
    )


@router.get("/masterdata/{code}")
def library_page(request: Request, ctx: CtxDep, code: str) -> Response:
    return _library_page(request, ctx, code)


def _member(form: dict[str, str]) -> MemberIn:
    mapping = {
        key.removeprefix(MAP_PREFIX): value.strip()
        for key, value in form.items()
        if key.startswith(MAP_PREFIX) and value.strip()
    }
    data: dict[str, object] = {"resource_code": form.get("resource_code", "").strip()}
    if form.get("rank", "").strip():
        data["rank"] = form["rank"].strip()
    if mapping:
        data["mapping"] = mapping
    return parse(MemberIn, data)


@router.post("/masterdata/{code}/members")
def add_member(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    # An unknown dataset is shown on the form; an unknown library is a 404 all the same (the
    # page shown with the errors reads it again).
    added, errors = _attempt(
        ctx,
        lambda: service.add_masterdata_member(ctx, code, _member(form)),
        (NotFound, "resource_code"),
    )
    if added is None:
        return _library_page(request, ctx, code, form, errors)
    return RedirectResponse(f"/masterdata/{code}#members", status_code=303)


@router.post("/masterdata/{code}/members/remove")
def remove_member(ctx: CtxDep, code: str, form: FormDep) -> Response:
    service.remove_masterdata_member(ctx, code, form.get("resource_code", "")[:64])
    return RedirectResponse(f"/masterdata/{code}#members", status_code=303)


@router.post("/masterdata/{code}/run")
def run(ctx: CtxDep, code: str, form: FormDep) -> Response:
    service.run_masterdata_library(ctx, code, incremental=form.get("mode") == "incremental")
    return RedirectResponse(f"/masterdata/{code}#runs", status_code=303)


@router.get("/masterdata/{code}/lookup")
def lookup(ctx: CtxDep, code: str, key: str = "") -> Response:
    key = key.strip()[:40]
    found = service.lookup_masterdata_entity(
        ctx,
        code,
        **({"uscc": key} if len(key) == 18 and not key[:17].isdigit() else {"resident_id": key}),
    )
    return RedirectResponse(f"/masterdata/{code}/entities/{found.entity_id}", status_code=303)


@router.get("/masterdata/{code}/entities/{entity_id}")
def entity_page(request: Request, ctx: CtxDep, code: str, entity_id: str) -> Response:
    entity = service.view_masterdata_entity(ctx, code, entity_id)
    return render(request, "masterdata/entity.html", entity=entity)


@router.get("/masterdata/{code}/review")
def review_page(
    request: Request, ctx: CtxDep, code: str, status: ReviewStatus = ReviewStatus.OPEN
) -> Response:
    library = service.get_masterdata_library(ctx, code)
    pairs = service.list_masterdata_review(ctx, code, status)
    return render(request, "masterdata/review.html", library=library, pairs=pairs, shown=status)


@router.get("/masterdata/{code}/review/{pair_id}")
def pair_page(request: Request, ctx: CtxDep, code: str, pair_id: int) -> Response:
    pair = service.view_masterdata_review_pair(ctx, code, pair_id)
    return render(request, "masterdata/pair.html", pair=pair, errors=[])


@router.post("/masterdata/{code}/review/{pair_id}")
def decide(request: Request, ctx: CtxDep, code: str, pair_id: int, form: FormDep) -> Response:
    def act() -> object:
        try:
            decision = ReviewDecision(form.get("decision", ""))
        except ValueError:
            raise Invalid.field(
                "decision", "请选择“是同一对象”或“不是同一对象”。", "Choose match or not a match."
            ) from None
        data = ReviewDecisionIn(decision=decision, note=form.get("note", "")[:2000])
        return service.decide_masterdata_review_pair(ctx, code, pair_id, data)

    done, errors = attempt(ctx, act)
    if done is None:
        pair = service.view_masterdata_review_pair(ctx, code, pair_id)
        return render(request, "masterdata/pair.html", status=422, pair=pair, errors=errors)
    return RedirectResponse(f"/masterdata/{code}/review", status_code=303)
