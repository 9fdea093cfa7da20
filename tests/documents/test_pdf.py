"""The shared PDF documents: valid files whose text (Chinese included) reads back as typed,
tables that continue over pages with their header, charts from SVG, footer and page numbers."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from shuzhi.documents import pdf

FOOTER = "自评估结果，非认证 / self-assessment, not a certification"


def _pages(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _flat(text: str) -> str:
    return "".join(text.split())


def test_a_document_reads_back_with_its_footer_and_page_numbers() -> None:
    rows: list[list[pdf.Cell]] = [[f"民政局{n}", n, n / 4, None] for n in range(120)]
    data = pdf.render(
        pdf.Document(
            title="2026 年度数据管理能力自评估",
            meta=["评估模型 dcmm-2025"],
            blocks=[
                pdf.Heading("单位排名"),
                pdf.Paragraph("第一行\n第二行"),
                pdf.Table(["单位", "名次", "得分", "上一轮"], rows),
                pdf.Heading("差距", level=2),
                pdf.Table(["能力项", "指标"], [], empty="没有差距。"),
            ],
            footer=FOOTER,
        )
    )
    pages = _pages(data)
    assert len(pages) >= 3
    for n, text in enumerate(pages, start=1):
        flat = _flat(text)
        assert f"{n}/{len(pages)}" in flat and _flat(FOOTER) in flat
        # The header row repeats on every page the table runs over.
        if n < len(pages):
            assert "单位名次得分上一轮" in flat
    whole = _flat("".join(pages))
    assert "2026年度数据管理能力自评估" in whole and "评估模型dcmm-2025" in whole
    assert all(f"民政局{n}" in whole for n in range(120))
    assert "29.75" in whole and "没有差距。" in whole
    # Pages after the first repeat the title at their top.
    assert _flat("2026 年度数据管理能力自评估") in _flat(pages[1])


def test_text_is_never_markup() -> None:
    name = '=HYPERLINK("x")<b>&amp; </para><font size="40">'
    data = pdf.render(
        pdf.Document(
            title=name,
            meta=[name],
            blocks=[pdf.Heading(name), pdf.Paragraph(name), pdf.Table([name], [[name]])],
            footer=name,
        )
    )
    text = _pages(data)[0]
    assert text.count('=HYPERLINK("x")<b>&amp;') >= 5


def test_a_row_taller_than_a_page_is_split_and_odd_characters_print() -> None:
    huge = "很长的佐证说明" * 900 + "结尾"
    data = pdf.render(
        pdf.Document(
            title="t",
            blocks=[pdf.Table(["指标", "说明"], [["a", huge], ["b", "😀 \x00\x1b 中"]])],
        )
    )
    whole = _flat("".join(_pages(data)))
    assert len(_pages(data)) >= 2 and "结尾" in whole and "\ufffd中" in whole


def test_charts_come_from_svg_with_their_labels_as_text() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2000 3000" width="2000" '
        'height="3000"><rect x="0" y="0" width="2000" height="3000" fill="#1f6feb"/>'
        '<text x="10" y="40" font-size="30">数据战略 &lt;b&gt;</text></svg>'
    )
    data = pdf.render(pdf.Document(title="t", blocks=[pdf.Chart(svg, caption="雷达图")]))
    pages = _pages(data)
    # Scaled down to one page.
    assert len(pages) == 1 and "数据战略 <b>" in pages[0] and "雷达图" in pages[0]
    with pytest.raises(ValueError):
        pdf.render(pdf.Document(title="t", blocks=[pdf.Chart("not svg")]))
    with pytest.raises(ValueError):
        empty = '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"></svg>'
        pdf.render(pdf.Document(title="t", blocks=[pdf.Chart(empty)]))


def test_shaded_cells_and_malformed_tables() -> None:
    data = pdf.render(
        pdf.Document(
            title="t",
            blocks=[pdf.Table(["单位", "治理"], [["A", pdf.Shade("4.50", "#1f6feb")]])],
        )
    )
    assert "4.50" in _pages(data)[0]
    with pytest.raises(ValueError):
        pdf.Shade("1", "blue")
    with pytest.raises(ValueError):
        pdf.Table(["a", "b"], [["only one"]])
    with pytest.raises(ValueError):
        pdf.Table(["a"], [], widths=[0])


# Letters the font has, markup characters and spaces (no control characters: those are
# dropped on purpose).
_TEXT = st.text(
    alphabet=st.sampled_from(list("数据治理民政局安全 abcXYZ019<>&\"'=/;#%()·")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())


@settings(max_examples=25, deadline=None)
@given(title=_TEXT, cells=st.lists(_TEXT, min_size=1, max_size=6))
def test_any_text_prints_as_given(title: str, cells: list[str]) -> None:
    data = pdf.render(pdf.Document(title=title, blocks=[pdf.Table(["列"], [[c] for c in cells])]))
    whole = _flat("".join(_pages(data)))
    # The middle dot prints as the font's own (U+30FB).
    for text in (title, *cells):
        assert _flat(text.replace("·", "・")) in whole
