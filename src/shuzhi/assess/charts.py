"""A radar chart of a unit's domain scores, drawn on the server as SVG geometry: it needs no
script (the Content Security Policy allows none inline) and prints as it shows."""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_SCORE = 5


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str


@dataclass(frozen=True)
class Radar:
    size: int
    rings: list[str]
    axes: list[tuple[float, float, float, float]]
    labels: list[Label]
    shape: str


def _point(cx: float, cy: float, radius: float, index: int, n: int) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * index / n
    return round(cx + radius * math.cos(angle), 1), round(cy + radius * math.sin(angle), 1)


def radar(scores: list[tuple[str, float]], size: int = 360) -> Radar:
    """Rings at every level, one axis per domain, the unit's scores as a polygon."""
    n = max(len(scores), 3)
    cx = cy = size / 2
    radius = size / 2 - 70
    rings = [
        " ".join(
            f"{x},{y}"
            for x, y in (_point(cx, cy, radius * level / MAX_SCORE, i, n) for i in range(n))
        )
        for level in range(1, MAX_SCORE + 1)
    ]
    axes = [(cx, cy, *_point(cx, cy, radius, i, n)) for i in range(len(scores))]
    labels = []
    for i, (text, _score) in enumerate(scores):
        x, y = _point(cx, cy, radius + 14, i, n)
        anchor = "middle" if abs(x - cx) < 5 else ("start" if x > cx else "end")
        labels.append(Label(x, y + 4, text, anchor))
    shape = " ".join(
        f"{x},{y}"
        for x, y in (
            _point(cx, cy, radius * max(0.0, min(s, MAX_SCORE)) / MAX_SCORE, i, n)
            for i, (_t, s) in enumerate(scores)
        )
    )
    return Radar(size, rings, axes, labels, shape)
