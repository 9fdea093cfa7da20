"""PDF documents from a small document model: a title with meta lines, then headings,
paragraphs, tables and SVG charts, a footer note and page numbers on every page.

Chinese needs no font file: the text is set in Adobe's ``STSong-Light`` CID font, which
every PDF reader supplies itself (the file names it and carries no glyphs), so the text
stays extractable and searchable and a report of fifty pages stays small. Charts are the
platform's own SVG, turned into PDF drawings (svglib), their labels set in the same font.

Everything given as text is text: ``<b>``, ``&amp;`` or ``=HYPERLINK(…)`` in a unit's name
print as typed, never as markup. Control characters are dropped and characters outside the
Basic Multilingual Plane (which the font's encoding cannot hold) print as ``\ufffd``; the
middle dot ``·`` and the bullet print as ``・``, which the font has. Other characters outside
the GB 18030 repertoire of the font may print as empty boxes (they still extract as typed).

    data = pdf.render(pdf.Document(
        title="2026 年度评估报告",
        meta=["单位：民政局"],
        blocks=[pdf.Heading("能力域"), pdf.Table(["能力域", "得分"], [["数据战略", 2.5]])],
        footer="自评估结果，非认证 / self-assessment, not a certification",
    ))
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, SimpleDocTemplate, Spacer
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable
from reportlab.platypus import TableStyle as RLTableStyle
from svglib.svglib import svg2rlg

FONT = "STSong-Light"
MEDIA_TYPE = "application/pdf"

_INK = colors.HexColor("#222222")
_MUTED = colors.HexColor("#5f6670")
_RULE = colors.HexColor("#c8ccd2")
_HEAD_FILL = colors.HexColor("#eef1f5")
_MARGIN_X = 16 * mm
_MARGIN_TOP = 20 * mm
_MARGIN_BOTTOM = 18 * mm
# Control characters (except tab and newlines) and characters beyond U+FFFF.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ASTRAL = re.compile(r"[^\u0000-\uffff]")
_HEX = re.compile(r"#[0-9a-fA-F]{6}")
# Characters the font's Unicode map lacks, printed as the nearest one it has.
_NEAREST = str.maketrans({"\u00b7": "\u30fb", "\u2022": "\u30fb"})


@dataclass(frozen=True)
class Heading:
    """A section heading (``level`` 1) or a sub-heading (2)."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """Running text; line breaks in ``text`` are kept. ``note`` sets it small and grey."""

    text: str
    note: bool = False


@dataclass(frozen=True)
class Shade:
    """A table cell with a background colour (``#rrggbb``); its text turns white on a dark
    one. Heat maps are tables of shaded cells."""

    text: str
    fill: str

    def __post_init__(self) -> None:
        if not _HEX.fullmatch(self.fill):
            raise ValueError(f"a fill is #rrggbb, not {self.fill!r}")


Cell = str | int | float | Shade | None


@dataclass(frozen=True)
class Table:
    """A header row and data rows. Long text wraps inside its cell, a table longer than a
    page continues on the next with the header repeated, numbers are right-aligned, an
    empty cell (``None``) shows ``—``. ``widths`` are the columns' shares of the page
    width (equal by default); ``empty`` is the one row shown when there are no rows."""

    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    widths: Sequence[float] | None = None
    empty: str = "—"

    def __post_init__(self) -> None:
        if not self.header:
            raise ValueError("a table has at least one column")
        if self.widths is not None and (
            len(self.widths) != len(self.header) or any(w <= 0 for w in self.widths)
        ):
            raise ValueError("one positive width per column")
        for n, row in enumerate(self.rows):
            if len(row) != len(self.header):
                raise ValueError(f"row {n} has {len(row)} cells, the header {len(self.header)}")


@dataclass(frozen=True)
class Chart:
    """An SVG chart (the markup the console shows), scaled down to fit the page if it is
    larger, never up. ``caption`` is printed under it."""

    svg: str
    caption: str = ""


Block = Heading | Paragraph | Table | Chart


@dataclass(frozen=True)
class Document:
    """A document: the title and meta lines (round, unit, date…) open the first page; the
    footer note and ``page / pages`` close every page; pages after the first repeat the
    title at their top. ``wide`` turns the pages to landscape."""

    title: str
    blocks: Sequence[Block] = ()
    meta: Sequence[str] = ()
    footer: str = ""
    author: str = "Shuzhi"
    wide: bool = False


def clean(text: str) -> str:
    """``text`` as it will print: without control characters, astral characters replaced."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _ASTRAL.sub("\ufffd", _CONTROL.sub("", text)).translate(_NEAREST)


def _markup(text: str) -> str:
    """Text for a reportlab paragraph, which reads a little markup: escaped, so that none
    is read; line breaks become ``<br/>``."""
    return "<br/>".join(escape(line) for line in clean(text).split("\n"))


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@dataclass(frozen=True)
class _Styles:
    title: ParagraphStyle
    meta: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    number: ParagraphStyle
    head: ParagraphStyle
    on_dark: ParagraphStyle


def _styles() -> _Styles:
    font = _font()

    def style(name: str, size: float, **extra: Any) -> ParagraphStyle:
        base: dict[str, Any] = {
            "fontName": font,
            "fontSize": size,
            "leading": size * 1.4,
            "textColor": _INK,
            "wordWrap": "CJK",
        }
        return ParagraphStyle(name, **(base | extra))

    return _Styles(
        title=style("title", 17, leading=24, spaceAfter=4),
        meta=style("meta", 9, textColor=_MUTED),
        h1=style("h1", 13, spaceBefore=12, spaceAfter=6),
        h2=style("h2", 11, spaceBefore=8, spaceAfter=4),
        body=style("body", 9.5, spaceAfter=4),
        note=style("note", 8, textColor=_MUTED, spaceAfter=4),
        cell=style("cell", 8.5),
        number=style("number", 8.5, alignment=TA_RIGHT),
        head=style("head", 8.5, textColor=_MUTED),
        on_dark=style("on_dark", 8.5, alignment=TA_RIGHT, textColor=colors.white),
    )


def _cell_text(value: Cell) -> str:
    if value is None:
        return "—"
    if isinstance(value, Shade):
        return value.text
    if isinstance(value, float):
        return format(value, ".10g")
    return str(value)


def _dark(fill: str) -> bool:
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def _table(t: Table, width: float, s: _Styles) -> RLTable:
    shares = list(t.widths) if t.widths is not None else [1.0] * len(t.header)
    total = sum(shares)
    widths = [width * w / total for w in shares]
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), _HEAD_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, _RULE),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, _RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    data: list[list[Any]] = [[RLParagraph(_markup(h), s.head) for h in t.header]]
    for r, row in enumerate(t.rows, start=1):
        line = []
        for c, value in enumerate(row):
            style = s.number if isinstance(value, int | float) else s.cell
            if isinstance(value, Shade):
                commands.append(("BACKGROUND", (c, r), (c, r), colors.HexColor(value.fill)))
                style = s.on_dark if _dark(value.fill) else s.number
            line.append(RLParagraph(_markup(_cell_text(value)), style))
        data.append(line)
    if not t.rows:
        data.append([RLParagraph(_markup(t.empty), s.cell), *[""] * (len(t.header) - 1)])
        commands.append(("SPAN", (0, 1), (-1, 1)))
    # A row taller than the page (a very long text) is split across pages too.
    return RLTable(
        data,
        colWidths=widths,
        repeatRows=1,
        splitInRow=1,
        style=RLTableStyle(commands),
        hAlign="LEFT",
    )


def _retype(node: Any, font: str) -> None:
    """Every label of an SVG drawing in the CJK font, its text cleaned."""
    for child in getattr(node, "contents", ()):
        if isinstance(child, String):
            child.fontName = font
            child.text = clean(child.text)
        elif isinstance(child, Group):
            _retype(child, font)


def _chart(chart: Chart, width: float, height: float) -> Drawing:
    drawing = svg2rlg(io.BytesIO(chart.svg.encode("utf-8")))
    if drawing is None or drawing.width <= 0 or drawing.height <= 0:
        raise ValueError("the chart is not SVG with a size")
    _retype(drawing, _font())
    scale = min(1.0, width / drawing.width, height / drawing.height)
    if scale < 1.0:
        drawing.scale(scale, scale)
        drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
    drawing.hAlign = "CENTER"
    return drawing


def _fit(text: str, room: float, size: float = 7.5) -> str:
    """One line of ``text`` no wider than ``room``, cut with an ellipsis if it must be."""
    line = clean(text).replace("\n", " ")
    if pdfmetrics.stringWidth(line, FONT, size) <= room:
        return line
    while line and pdfmetrics.stringWidth(line + "…", FONT, size) > room:
        line = line[:-1]
    return line + "…"


class _Paged(Canvas):  # type: ignore[misc]
    """A canvas that holds its pages back until the end, so that each can say how many
    there are, then draws the footer (and the title, after the first page) on each."""

    def __init__(self, *args: Any, document: Document, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._document = document
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self._furnish(total)
            super().showPage()
        super().save()

    def _furnish(self, total: int) -> None:
        page_width, _height = self._pagesize
        number = self.getPageNumber()
        self.saveState()
        self.setFont(FONT, 7.5)
        self.setFillColor(_MUTED)
        self.setStrokeColor(_RULE)
        self.setLineWidth(0.5)
        y = _MARGIN_BOTTOM - 8 * mm
        self.line(_MARGIN_X, y + 10, page_width - _MARGIN_X, y + 10)
        self.drawRightString(page_width - _MARGIN_X, y, f"{number} / {total}")
        room = page_width - 2 * _MARGIN_X - 40
        self.drawString(_MARGIN_X, y, _fit(self._document.footer, room))
        if number > 1:
            top = self._pagesize[1] - _MARGIN_TOP + 8 * mm
            self.drawString(_MARGIN_X, top, _fit(self._document.title, room))
        self.restoreState()


def render(document: Document) -> bytes:
    """The document as PDF bytes."""
    s = _styles()
    size = landscape(A4) if document.wide else A4
    out = io.BytesIO()
    frame = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=_MARGIN_X,
        rightMargin=_MARGIN_X,
        topMargin=_MARGIN_TOP,
        bottomMargin=_MARGIN_BOTTOM,
        title=clean(document.title),
        author=clean(document.author),
        creator="Shuzhi",
        subject=clean(document.footer),
    )
    width, height = frame.width, frame.height
    story: list[Flowable] = [RLParagraph(_markup(document.title), s.title)]
    story += [RLParagraph(_markup(line), s.meta) for line in document.meta]
    story.append(Spacer(1, 6))
    blocks = list(document.blocks)
    n = 0
    while n < len(blocks):
        block = blocks[n]
        n += 1
        if isinstance(block, Heading):
            heading = _flowables(block, s, width, height)[0]
            following = blocks[n] if n < len(blocks) else None
            if isinstance(following, Paragraph | Chart):
                # A heading stays on the page of what it heads: text and charts whole…
                story.append(KeepTogether([heading, *_flowables(following, s, width, height)]))
                n += 1
            else:
                # …a table at least with its header and first rows.
                story += [CondPageBreak(30 * mm), heading]
        else:
            story += _flowables(block, s, width, height)
    frame.build(story, canvasmaker=partial(_Paged, document=document))
    return out.getvalue()


def _flowables(block: Block, s: _Styles, width: float, height: float) -> list[Flowable]:
    if isinstance(block, Heading):
        return [RLParagraph(_markup(block.text), s.h1 if block.level <= 1 else s.h2)]
    if isinstance(block, Paragraph):
        return [RLParagraph(_markup(block.text), s.note if block.note else s.body)]
    if isinstance(block, Table):
        return [_table(block, width, s), Spacer(1, 6)]
    shown: list[Flowable] = [_chart(block, width, height * 0.85)]
    if block.caption:
        shown.append(RLParagraph(_markup(block.caption), s.note))
    return [*shown, Spacer(1, 6)]
