"""Console page of the gateway: call statistics with server-drawn charts (no script)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from shuzhi.gateway import stats as gateway_stats
from shuzhi.gateway.charts import daily_chart
from shuzhi.web.deps import CtxDep
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/gateway/stats")
def stats_page(
    request: Request,
    ctx: CtxDep,
    days: int = 30,
    until: date | None = None,
    resource_code: str | None = None,
) -> Response:
    stats = gateway_stats.call_stats(ctx, days, until, resource_code or None)
    return render(
        request,
        "gateway/stats.html",
        stats=stats,
        calls_chart=daily_chart(stats, "calls"),
        errors_chart=daily_chart(stats, "errors"),
        p99_chart=daily_chart(stats, "p99_ms", " ms"),
        resource_code=resource_code or "",
        days=days,
    )
