"""Console page of the gateway: call statistics with server-drawn charts (no script)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from shuzhi.gateway import service
from shuzhi.gateway.schemas import CallStats
from shuzhi.web.deps import CtxDep
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
CHART_WIDTH, CHART_HEIGHT = 720, 160


def bars(stats: CallStats, attribute: str) -> list[dict[str, object]]:
    """Bar geometry of one daily series for the SVG chart."""
    values = [float(getattr(d, attribute) or 0) for d in stats.days]
    top = max(values, default=0) or 1.0
    width = CHART_WIDTH / max(1, len(values))
    return [
        {
            "x": round(i * width, 1),
            "width": round(max(1.0, width - 2), 1),
            "height": round(v / top * (CHART_HEIGHT - 20), 1),
            "y": round(CHART_HEIGHT - v / top * (CHART_HEIGHT - 20), 1),
            "value": v,
            "day": d.day.isoformat(),
        }
        for i, (d, v) in enumerate(zip(stats.days, values, strict=True))
    ]


@router.get("/gateway/stats")
def stats_page(
    request: Request,
    ctx: CtxDep,
    days: int = 30,
    until: date | None = None,
    resource_code: str | None = None,
) -> Response:
    stats = service.call_stats(ctx, days, until, resource_code or None)
    return render(
        request,
        "gateway/stats.html",
        stats=stats,
        call_bars=bars(stats, "calls"),
        error_bars=bars(stats, "errors"),
        p99_bars=bars(stats, "p99_ms"),
        chart_width=CHART_WIDTH,
        chart_height=CHART_HEIGHT,
        resource_code=resource_code or "",
        days=days,
    )
