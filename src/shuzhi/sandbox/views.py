"""Console pages of the sandbox: the analyst's workspace (granted datasets with column roles,
no rows; a point-and-click builder and a query editor; results with the count of suppressed
groups; asking for a release), the releases page (the unit's requests and the provider's
review queue) and the provider's view of every query run on its data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.errors import Invalid, ShuzhiError
from shuzhi.sandbox import builder, releases, service
from shuzhi.sandbox.schemas import QueryIn, QueryOut, ReleaseDecisionIn, ReleaseIn
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


def _choice(request: Request) -> builder.BuilderChoice:
    q = request.query_params
    measure = q.get("measure", "count")
    filters = [
        (q.get(f"f{i}", ""), q.get(f"v{i}", "").strip())
        for i in range(1, builder.MAX_FILTERS + 1)
        if q.get(f"f{i}") and q.get(f"v{i}", "").strip()
    ]
    return builder.BuilderChoice(
        dataset=q.get("dataset", ""),
        group=[g for g in q.getlist("group") if g],
        measure=builder.Measure(measure)
        if measure in set(builder.Measure)
        else builder.Measure.COUNT,
        column=q.get("column", ""),
        filters=filters,
    )


def _workspace(
    request: Request,
    ctx: CtxDep,
    *,
    sql: str = "",
    result: QueryOut | None = None,
    error: ShuzhiError | None = None,
    status: int = 200,
    choice: builder.BuilderChoice | None = None,
    builder_errors: list[dict[str, str]] | None = None,
    epsilon: str = "",
) -> Response:
    grants = service.list_sandbox_grants(ctx)
    return render(
        request,
        "sandbox/workspace.html",
        status=status,
        grants=grants,
        budgets=service.sandbox_budget(ctx),
        epsilon=epsilon,
        sql=sql,
        result=result,
        error=error,
        choice=choice or builder.BuilderChoice(),
        builder_errors=builder_errors or [],
        measures=list(builder.Measure),
        max_filters=builder.MAX_FILTERS,
        targets=["download", "portal", "data_product"],
    )


@router.get("/sandbox")
def workspace(request: Request, ctx: CtxDep) -> Response:
    if "build" not in request.query_params:
        return _workspace(request, ctx)
    choice = _choice(request)
    grants = service.list_sandbox_grants(ctx)
    sql, errors = attempt(ctx, lambda: builder.build_sql(grants, choice))
    return _workspace(
        request,
        ctx,
        sql=sql or "",
        choice=choice,
        builder_errors=errors,
        status=200 if sql is not None else 422,
    )


@router.post("/sandbox")
def run(request: Request, ctx: CtxDep, sql: str = Form(""), epsilon: str = Form("")) -> Response:
    result: QueryOut | None = None
    error: ShuzhiError | None = None
    try:
        data = parse(QueryIn, {"sql": sql or " ", "epsilon": epsilon.strip() or None})
        result = releases.answer_query(ctx, data)
    except ShuzhiError as err:
        ctx.fail(err)  # rolled back; the refusal is still recorded and audited
        error = err
    return _workspace(
        request,
        ctx,
        sql=sql,
        result=result,
        error=error,
        status=200 if error is None else 422,
        epsilon=epsilon,
    )


def _releases_page(
    request: Request, ctx: CtxDep, errors: list[dict[str, str]] | None = None, status: int = 200
) -> Response:
    listed = releases.list_releases(ctx)
    unit = ctx.actor.unit_id
    can_decide = allowed(ctx, "decide_sandbox_release", unit)
    rows: list[dict[str, Any]] = []
    for r in listed:
        mine = next((v for v in r.reviews if v.provider_unit_id == unit), None)
        rows.append(
            {
                "release": r,
                "review": mine,
                "decide": can_decide
                and mine is not None
                and mine.status == "pending"
                and r.status == "pending"
                and r.requested_by != ctx.actor.label,
                "download": r.status == "approved" and r.unit_id == unit,
            }
        )
    return render(request, "sandbox/releases.html", status=status, rows=rows, errors=errors or [])


@router.get("/sandbox/releases")
def releases_page(request: Request, ctx: CtxDep) -> Response:
    return _releases_page(request, ctx)


@router.post("/sandbox/releases")
def ask_release(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    done, errors = attempt(
        ctx,
        lambda: releases.request_release(
            ctx,
            parse(
                ReleaseIn,
                {
                    "query_id": form.get("query_id", ""),
                    "purpose": form.get("purpose", "").strip(),
                    "target": form.get("target", "download"),
                },
            ),
        ),
    )
    if done is None:
        return _releases_page(request, ctx, errors, 422)
    return RedirectResponse("/sandbox/releases", status_code=303)


@router.post("/sandbox/releases/{release_id}/decision")
def decide(request: Request, ctx: CtxDep, release_id: int, form: FormDep) -> Response:
    verdict = form.get("verdict", "")

    def act() -> object:
        if verdict not in ("approve", "refuse"):
            raise Invalid.field("verdict", "请选择批准或拒绝。", "Choose approve or refuse.")
        data = ReleaseDecisionIn(approve=verdict == "approve", reason=form.get("reason", ""))
        return releases.decide_release(ctx, release_id, data)

    done, errors = attempt(ctx, act)
    if done is None:
        return _releases_page(request, ctx, errors, 422)
    return RedirectResponse("/sandbox/releases", status_code=303)


@router.get("/sandbox/provider")
def provider(request: Request, ctx: CtxDep) -> Response:
    """Every query run on the unit's data (the provider's view)."""
    return render(request, "sandbox/provider.html", queries=service.list_queries(ctx))
