"""How the cockpit's trend charts are scaled and labelled (the script only draws them).

Rates (0..1) are shown as percentages on an axis at least ten points tall with round
ends, so a change of a tenth of a point stays a small step instead of filling the chart;
counts start at zero for the same reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

# Trend metrics holding a ratio between 0 and 1.
PERCENT_METRICS = frozenset({"compile_rate", "classification_coverage"})
MIN_PERCENT_SPAN = 0.1


def percent_axis(values: Iterable[float | None]) -> tuple[float, float]:
    """Axis ends for ratios: whole tens of percent, at least ten points apart, within 0..1."""
    present = [v for v in values if v is not None]
    if not present:
        return 0.0, 1.0
    low, high = min(present), max(present)
    top = min(1.0, math.floor(high * 10 + 1e-9) / 10 + MIN_PERCENT_SPAN)
    top = max(top, high)
    bottom = max(0.0, min(math.floor(low * 10 + 1e-9) / 10, top - MIN_PERCENT_SPAN))
    return round(bottom, 4), round(top, 4)
