"""Console pages of the base libraries: the list, a library's definition and run history
with a run button, the clerical review queue and one pair side by side, an entity's golden
record. Thin: every read and decision goes through ``service`` (checked, masked, audited)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.errors import Invalid
from shuzhi.masterdata import pushback, service
from shuzhi.masterdata.models import ReviewDecision, ReviewStatus
from shuzhi.masterdata.schemas import ReviewDecisionIn
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/masterdata")
def libraries_page(request: Request, ctx: CtxDep) -> Response:
    return render(
        request,
        "masterdata/libraries.html",
        libraries=service.list_masterdata_libraries(ctx),
        delivered=pushback.delivered_pushbacks(ctx),
    )


@router.get("/masterdata/{code}")
def library_page(request: Request, ctx: CtxDep, code: str) -> Response:
    library = service.get_masterdata_library(ctx, code)
    runs = service.list_masterdata_runs(ctx, code)
    pushbacks = pushback.list_masterdata_pushbacks(ctx, code)
    return render(
        request, "masterdata/library.html", library=library, runs=runs, pushbacks=pushbacks
    )


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
