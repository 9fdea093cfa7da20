"""Console workspace of the sandbox: granted datasets with column roles (no rows), a query
editor, results with the count of suppressed groups."""

from __future__ import annotations

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from shuzhi.errors import ShuzhiError
from shuzhi.sandbox import releases, service
from shuzhi.sandbox.schemas import QueryIn, QueryOut
from shuzhi.web.deps import CtxDep
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/sandbox")
def workspace(request: Request, ctx: CtxDep) -> Response:
    grants = service.list_sandbox_grants(ctx)
    return render(request, "sandbox/workspace.html", grants=grants, sql="", result=None, error=None)


@router.post("/sandbox")
def run(request: Request, ctx: CtxDep, sql: str = Form("")) -> Response:
    grants = service.list_sandbox_grants(ctx)
    result: QueryOut | None = None
    error: ShuzhiError | None = None
    try:
        result = releases.answer_query(ctx, QueryIn(sql=sql or " "))
    except ShuzhiError as err:
        ctx.fail(err)  # rolled back; the refusal is still recorded and audited
        error = err
    return render(
        request,
        "sandbox/workspace.html",
        status=200 if error is None else 422,
        grants=grants,
        sql=sql,
        result=result,
        error=error,
    )
