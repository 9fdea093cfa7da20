"""Daily bar charts of the call statistics, drawn on the server as SVG geometry.

Each chart has a value axis with round ticks (0, 10, 20 … or 0, 2.5, 5 …) that the bars
share, and dates (MM-DD) along the bottom, so a reader sees both the day and the size.
"""

from __future__ import annotations

import math
from typing import Any

from shuzhi.gateway.schemas import CallStats

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 10, 24  # room for the value labels and the dates
MAX_INTERVALS = 5
MAX_DATES = 7


def nice_ticks(top: float, *, whole: bool = False) -> list[float]:
    """0 up to at least ``top`` in at most five equal, round steps (1, 2, 2.5 or 5 × 10ⁿ)."""
    top = max(top, 1.0 if whole else 1e-3)
    exponent = math.floor(math.log10(top / MAX_INTERVALS))
    step = 10.0 ** (exponent + 1)
    for mantissa in (1, 2, 2.5, 5, 10):
        candidate = mantissa * 10.0**exponent
        if candidate * MAX_INTERVALS >= top and not (whole and candidate < 1):
            if whole and mantissa == 2.5 and candidate < 10:
                continue  # 2.5 calls is not a count
            step = candidate
            break
    step = max(step, 1.0) if whole else step
    intervals = max(1, math.ceil(top / step - 1e-9))
    return [round(i * step, 10) for i in range(intervals + 1)]


def _label(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _date_positions(n: int) -> list[int]:
    every = max(1, math.ceil(n / MAX_DATES))
    positions = list(range(0, n, every))
    if positions[-1] != n - 1:
        if n - 1 - positions[-1] < every / 2 and len(positions) > 1:
            positions[-1] = n - 1  # the last day replaces a label too close to it
        else:
            positions.append(n - 1)
    return positions


def daily_chart(stats: CallStats, attribute: str, unit: str = "") -> dict[str, Any]:
    """Bars of one daily series with its axes: ``bars``, ``y_ticks``, ``x_ticks`` and the
    plot's edges (``left``, ``right``, ``top``, ``bottom``) in a WIDTH × HEIGHT box."""
    values = [float(getattr(d, attribute) or 0) for d in stats.days]
    whole = attribute != "p99_ms"
    ticks = nice_ticks(max(values, default=0.0), whole=whole)
    scale_top = ticks[-1]
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    plot_height = bottom - TOP

    def y_of(value: float) -> float:
        return round(bottom - value / scale_top * plot_height, 1)

    slot = (right - LEFT) / max(1, len(values))
    bars = [
        {
            "x": round(LEFT + i * slot + 1, 1),
            "width": round(max(1.0, slot - 2), 1),
            "y": y_of(v),
            "height": round(bottom - y_of(v), 1),
            "value": v,
            "day": d.day.isoformat(),
        }
        for i, (d, v) in enumerate(zip(stats.days, values, strict=True))
    ]
    y_ticks = [{"y": y_of(t), "label": _label(t) + unit} for t in ticks]
    x_ticks = [
        {"x": round(LEFT + (i + 0.5) * slot, 1), "label": stats.days[i].day.strftime("%m-%d")}
        for i in (_date_positions(len(values)) if values else [])
    ]
    return {
        "bars": bars,
        "y_ticks": y_ticks,
        "x_ticks": x_ticks,
        "left": LEFT,
        "right": right,
        "top": TOP,
        "bottom": bottom,
        "width": WIDTH,
        "height": HEIGHT,
        "unit": unit,
    }
