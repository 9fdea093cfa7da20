"""The assessment's charts (a radar of a unit's domain scores, bars, a heat map), drawn on the
server as SVG: they need no script (the Content Security Policy allows none inline), print as
they show, and the same markup goes into the PDF reports. Labels are escaped text."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

MAX_SCORE = 5
_SVG = 'xmlns="http://www.w3.org/2000/svg"'
_INK = 'fill="#333"'


def _n(value: float) -> str:
    """A coordinate as SVG writes it: no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _open(kind: str, width: float, height: float, label: str) -> str:
    w, h = _n(width), _n(height)
    return (
        f'<svg {_SVG} class="{kind}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        f'role="img" aria-label="{escape(label)}">'
    )


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

    def svg(self, label: str) -> Markup:
        """The chart as an ``<svg>`` element; ``label`` names it for screen readers."""
        parts = [_open("assess-radar", self.size, self.size, label)]
        parts += [
            f'<polygon points="{ring}" fill="none" stroke="#c8ccd2" stroke-width="1"/>'
            for ring in self.rings
        ]
        parts += [
            f'<line x1="{_n(a[0])}" y1="{_n(a[1])}" x2="{_n(a[2])}" y2="{_n(a[3])}" '
            'stroke="#c8ccd2" stroke-width="1"/>'
            for a in self.axes
        ]
        parts.append(
            f'<polygon points="{self.shape}" fill="#1f6feb" fill-opacity="0.25" '
            'stroke="#1f6feb" stroke-width="2"/>'
        )
        parts += [
            f'<text x="{_n(t.x)}" y="{_n(t.y)}" text-anchor="{t.anchor}" font-size="12" '
            f"{_INK}>{escape(t.text)}</text>"
            for t in self.labels
        ]
        return Markup("".join([*parts, "</svg>"]))


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


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    x: float
    width: float
    value: str
    value_x: float
    negative: bool


@dataclass(frozen=True)
class Bars:
    """Horizontal bars, one per row; negative values run left of the zero line."""

    width: int
    height: int
    row: int
    label_width: int
    zero: float
    bars: list[Bar]

    def svg(self, label: str) -> Markup:
        parts = [
            _open("assess-bars", self.width, self.height, label),
            f'<line x1="{_n(self.zero)}" y1="0" x2="{_n(self.zero)}" y2="{_n(self.height)}" '
            'stroke="#8a9099" stroke-width="1"/>',
        ]
        for b in self.bars:
            y = _n(b.y + 13)
            parts.append(
                f'<text x="{_n(self.label_width - 6)}" y="{y}" text-anchor="end" '
                f'font-size="12" {_INK}>{escape(b.label)}</text>'
                f'<rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.width)}" '
                f'height="{_n(self.row - 8)}" fill="{"#d1483c" if b.negative else "#1f6feb"}"/>'
                f'<text x="{_n(b.value_x)}" y="{y}" '
                f'text-anchor="{"end" if b.negative else "start"}" font-size="11" {_INK}>'
                f"{escape(b.value)}</text>"
            )
        return Markup("".join([*parts, "</svg>"]))


def bars(rows: list[tuple[str, float]], top: float | None = None, width: int = 560) -> Bars:
    """A bar per (label, value); ``top`` fixes the scale (a score's 5), else the largest."""
    row, label_width, margin = 22, 170, 48
    span = top or max((abs(v) for _, v in rows), default=0.0) or 1.0
    signed = any(v < 0 for _, v in rows)
    plot = width - label_width - margin
    zero = label_width + (plot / 2 if signed else 0)
    scale = (plot / 2 if signed else plot) / span
    out = []
    for n, (label, value) in enumerate(rows):
        length = round(abs(value) * scale, 1)
        x = zero - length if value < 0 else zero
        out.append(
            Bar(
                label=label,
                y=n * row + 4,
                x=round(x, 1),
                width=length,
                value=f"{value:+.2f}" if signed else f"{value:g}",
                value_x=round((x - 4) if value < 0 else (zero + length + 4), 1),
                negative=value < 0,
            )
        )
    return Bars(width, max(1, len(rows)) * row + 8, row, label_width, round(zero, 1), out)


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    fill: str
    text: str
    text_fill: str


@dataclass(frozen=True)
class HeatMap:
    """Units × domains, each cell coloured by the score (0 pale … 5 deep blue)."""

    width: int
    height: int
    cell_width: int
    cell_height: int
    label_width: int
    columns: list[Label]
    rows: list[Label]
    cells: list[Cell]

    def svg(self, label: str) -> Markup:
        parts = [_open("assess-heat", self.width, self.height, label)]
        parts += [
            f'<text x="{_n(c.x)}" y="{_n(c.y)}" text-anchor="middle" font-size="11" {_INK}>'
            f"{escape(c.text)}</text>"
            for c in self.columns
        ]
        parts += [
            f'<text x="{_n(r.x)}" y="{_n(r.y)}" text-anchor="end" font-size="12" {_INK}>'
            f"{escape(r.text)}</text>"
            for r in self.rows
        ]
        parts += [
            f'<rect x="{_n(c.x)}" y="{_n(c.y)}" width="{_n(self.cell_width - 2)}" '
            f'height="{_n(self.cell_height - 2)}" fill="{c.fill}"/>'
            f'<text x="{_n(c.x + self.cell_width / 2 - 1)}" y="{_n(c.y + 15)}" '
            f'text-anchor="middle" font-size="11" fill="{c.text_fill}">{escape(c.text)}</text>'
            for c in self.cells
        ]
        return Markup("".join([*parts, "</svg>"]))


def shade(score: float) -> str:
    share = max(0.0, min(score, MAX_SCORE)) / MAX_SCORE
    pale, deep = (240, 244, 250), (31, 111, 235)
    r, g, b = (round(p + (d - p) * share) for p, d in zip(pale, deep, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heat_map(rows: list[tuple[str, list[float]]], columns: list[str]) -> HeatMap:
    cell_width, cell_height, label_width, head = 64, 22, 170, 40
    cells, row_labels = [], []
    for n, (label, scores) in enumerate(rows):
        y = head + n * cell_height
        row_labels.append(Label(label_width - 6, y + 15, label, "end"))
        for k, score in enumerate(scores):
            cells.append(
                Cell(
                    x=label_width + k * cell_width,
                    y=y,
                    fill=shade(score),
                    text=f"{score:.2f}",
                    text_fill="#ffffff" if score > MAX_SCORE / 2 else "#222222",
                )
            )
    column_labels = [
        Label(label_width + k * cell_width + cell_width / 2, head - 10, text, "middle")
        for k, text in enumerate(columns)
    ]
    return HeatMap(
        width=label_width + len(columns) * cell_width + 8,
        height=head + len(rows) * cell_height + 8,
        cell_width=cell_width,
        cell_height=cell_height,
        label_width=label_width,
        columns=column_labels,
        rows=row_labels,
        cells=cells,
    )
