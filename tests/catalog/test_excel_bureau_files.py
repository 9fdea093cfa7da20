"""The compile template as bureaus really send it back: unchanged exports with entries under
review, merged cells, reordered columns, full-width codes, junk in read-only columns, credit
codes as the provider code, and several faults in one file."""

from __future__ import annotations

import io
import random
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.catalog import service
from shuzhi.catalog.excel import exporting
from shuzhi.catalog.excel import service as excel_service
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from tests.catalog.excel_helpers import (
    ENTRY_HEADERS,
    ITEM_HEADERS,
    entry_values,
    item_values,
    read_back,
    to_bytes,
    workbook,
)
from tests.catalog.helpers import create
from tests.conftest import acting
from tests.factories import Org, seed_org, uscc

# Conditional entries state their basis; these tests are about other faults.
BASIS = "《政务数据共享条例》"


def _import(database: Database, actor: Any, content: bytes, unit: str | None = None) -> Any:
    with acting(database, actor) as ctx:
        return excel_service.import_workbook(ctx, content, unit, filename="bureau.xlsx")


def _export(database: Database, actor: Any) -> bytes:
    with acting(database, actor) as ctx:
        return exporting.export_workbook(ctx)


def _stored_codes(database: Database, seeded: Org) -> list[str]:
    from sqlalchemy import select

    from shuzhi.catalog.models import CatalogEntry

    with acting(database, seeded.actor(Role.CDO)) as ctx:
        return sorted(ctx.db.scalars(select(CatalogEntry.resource_code)))


def _cells(report: Any) -> set[tuple[str | None, int | None, str | None]]:
    return {(e.sheet, e.row, e.column) for e in report.errors}


def _column(ws: Any, header: str) -> int:
    return int(next(c.column for c in ws[1] if c.value == header))


# ---------------------------------------------------------------- unchanged round trip


def _draft_and_submitted(database: Database, seeded: Org) -> tuple[str, str]:
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        draft = service.create_entry(ctx, create()).resource_code
        review = service.create_entry(ctx, create(name="出生登记信息")).resource_code
        service.submit_entry(ctx, review)
    return draft, review


def test_unchanged_export_with_an_entry_under_review_imports(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    draft, review = _draft_and_submitted(database, seeded)
    content = _export(database, liaison)
    report = _import(database, liaison, content)
    assert report.ok, report.errors
    assert sorted(report.unchanged) == sorted([draft, review])
    assert not report.updated and not report.created and not report.revised
    with acting(database, liaison) as ctx:
        assert service.get_entry(ctx, review).status == "submitted"
    # Changing the row of the entry under review is still refused, on that row only.
    wb = read_back(content)
    ws = wb["信息资源目录"]
    row = next(c.row for c in ws["A"] if c.value == review)
    ws.cell(row=row, column=_column(ws, "信息资源摘要"), value="审核中又改了摘要。")
    report = _import(database, liaison, to_bytes(wb))
    assert not report.ok
    assert _cells(report) == {("信息资源目录", row, "信息资源代码")}
    assert "审核" in report.errors[0].message_zh and "review" in report.errors[0].message_en
    # An item changed under review is refused as well.
    wb = read_back(content)
    wi = wb["信息项"]
    item_row = next(c.row for c in wi["A"] if c.value == review)
    wi.cell(row=item_row, column=_column(wi, "数据长度"), value=77)
    assert not _import(database, liaison, to_bytes(wb)).ok


# ---------------------------------------------------------------- several faults at once


def _with_columns(
    headers: list[str], rows: list[list[object]], extra: dict[str, list[object]]
) -> tuple[list[str], list[list[object]]]:
    out_headers = [*headers, *extra]
    out_rows = [[*row, *(values[i] for values in extra.values())] for i, row in enumerate(rows)]
    return out_headers, out_rows


def _two_item_faults() -> tuple[bytes, set[tuple[str, int, str]]]:
    # A bad length on an item and missing share conditions on its own entry.
    wb = workbook(
        [entry_values("101001/000001", 共享类型="有条件共享", 不予共享依据=BASIS)],
        [item_values("101001/000001", "姓名", 数据长度="很长", 共享类型="有条件共享")],
    )
    return to_bytes(wb), {("信息项", 2, "数据长度"), ("信息资源目录", 2, "共享条件")}


def _schema_and_rule() -> tuple[bytes, set[tuple[str, int, str]]]:
    # A too-short abstract (schema) and missing share conditions (rule) in one row.
    wb = workbook(
        [
            entry_values(
                "101001/000001", 信息资源摘要="甲", 共享类型="有条件共享", 不予共享依据=BASIS
            )
        ],
        [item_values("101001/000001", "姓名", 共享类型="有条件共享")],
    )
    return to_bytes(wb), {("信息资源目录", 2, "信息资源摘要"), ("信息资源目录", 2, "共享条件")}


def _rule_and_stored() -> tuple[bytes, set[tuple[str, int, str]]]:
    # A rule fault in one row, a related code that exists nowhere in another.
    headers, rows = _with_columns(
        ENTRY_HEADERS,
        [
            entry_values("101001/000001", 共享类型="有条件共享", 不予共享依据=BASIS),
            entry_values("101001/000002", name="流动人口信息"),
        ],
        {"关联资源代码": ["", "109999/999999"]},
    )
    wb = workbook(
        rows,
        [
            item_values("101001/000001", "姓名", 共享类型="有条件共享"),
            item_values("101001/000002", "姓名"),
        ],
        entry_headers=headers,
    )
    return to_bytes(wb), {("信息资源目录", 2, "共享条件"), ("信息资源目录", 3, "关联资源代码")}


def _two_columns_and_a_value() -> tuple[bytes, set[tuple[str, int, str]]]:
    # Two columns mean 更新周期, and a row has an unknown open type.
    headers, rows = _with_columns(
        ENTRY_HEADERS,
        [entry_values("101001/000001", 开放类型="半开放")],
        {"更新频率": ["每日"]},
    )
    wb = workbook(rows, [item_values("101001/000001", "姓名")], entry_headers=headers)
    return to_bytes(wb), {("信息资源目录", 1, "更新频率"), ("信息资源目录", 2, "开放类型")}


@pytest.mark.parametrize(
    "case", [_two_item_faults, _schema_and_rule, _rule_and_stored, _two_columns_and_a_value]
)
def test_every_fault_is_reported_at_once(database: Database, case: Any) -> None:
    seeded = seed_org(database)
    content, expected = case()
    report = _import(database, seeded.actor(Role.DATA_LIAISON), content)
    assert not report.ok
    assert _cells(report) == expected, report.errors
    assert report.error_count == len(expected)
    assert all(e.message_zh and e.message_en for e in report.errors)
    assert _stored_codes(database, seeded) == []


# ---------------------------------------------------------------- merged cells


def test_merged_cells_are_filled_down_and_across(database: Database) -> None:
    seeded = seed_org(database)
    entries = [
        entry_values("101001/000001", 信息资源提供方代码="A"),
        entry_values("101001/000002", name="流动人口信息"),
        entry_values("101001/000003", name="暂住人口信息"),
    ]
    blocks = {"101001/000001": 3, "101001/000002": 2, "101001/000003": 4}
    # 信息资源名称 added to the item sheet, merged with the code over each entry's block.
    item_headers = ["信息资源代码", "信息资源名称", *ITEM_HEADERS[1:]]
    names = {"101001/000001": "户籍人口信息", "101001/000002": "流动人口信息"}
    names["101001/000003"] = "暂住人口信息"
    rows: list[list[object]] = []
    for code, count in blocks.items():
        for i in range(count):
            rows.append(
                [
                    code if i == 0 else None,
                    names[code] if i == 0 else None,
                    *item_values(code, f"信息项{i + 1}")[1:],
                ]
            )
    wb = workbook(entries, rows, item_headers=item_headers)
    ws, wi = wb["信息资源目录"], wb["信息项"]
    # Entry sheet: the provider code and the update cycle merged down every row.
    provider = _column(ws, "信息资源提供方代码")
    ws.merge_cells(start_row=2, end_row=4, start_column=provider, end_column=provider)
    cycle = _column(ws, "更新周期")
    ws.merge_cells(start_row=2, end_row=4, start_column=cycle, end_column=cycle)
    start = 2
    for count in blocks.values():
        if count > 1:
            for column in (1, 2):
                wi.merge_cells(
                    start_row=start,
                    end_row=start + count - 1,
                    start_column=column,
                    end_column=column,
                )
        start += count
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(wb))
    assert report.ok, report.errors[:5]
    assert sorted(report.created) == sorted(blocks)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        for code, count in blocks.items():
            out = service.get_entry(ctx, code)
            assert [i.name for i in out.items] == [f"信息项{n + 1}" for n in range(count)]
            assert out.update_cycle == "2"


def test_merged_cells_across_columns(database: Database) -> None:
    seeded = seed_org(database)
    # 共享条件 and 开放条件 side by side, one sentence written once over both.
    values = entry_values(
        "101001/000001",
        共享类型="有条件共享",
        不予共享依据=BASIS,
        开放类型="有条件开放",
        不予开放理由="",
        共享条件="仅限依法履职使用",
    )
    kept = [(h, v) for h, v in zip(ENTRY_HEADERS, values, strict=True) if h != "开放条件"]
    headers = [h for h, _ in kept]
    rows = [[v for _, v in kept]]
    at = headers.index("共享条件") + 1
    headers.insert(at, "开放条件")
    rows[0].insert(at, None)
    wb = workbook(
        rows, [item_values("101001/000001", "姓名", 共享类型="有条件共享")], entry_headers=headers
    )
    wb["信息资源目录"].merge_cells(start_row=2, end_row=2, start_column=at, end_column=at + 1)
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(wb))
    assert report.ok, report.errors
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        out = service.get_entry(ctx, "101001/000001")
    assert out.share_conditions == out.open_conditions == "仅限依法履职使用"


# ---------------------------------------------------------------- read-only columns


def test_junk_in_read_only_columns_is_only_a_warning(database: Database) -> None:
    seeded = seed_org(database)
    headers, rows = _with_columns(
        ENTRY_HEADERS,
        [entry_values("101001/000001"), entry_values("101001/000002", name="流动人口信息")],
        {"发布日期": ["2024年3月", "下周"], "状态": ["不知道", None], "信息资源提供方": ["甲", 5]},
    )
    wb = workbook(
        rows,
        [item_values("101001/000001", "姓名"), item_values("101001/000002", "姓名")],
        entry_headers=headers,
    )
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(wb))
    assert report.ok, report.errors
    assert sorted(report.created) == ["101001/000001", "101001/000002"]
    noted = {(w.row, w.column) for w in report.warnings}
    assert noted == {(2, "发布日期"), (3, "发布日期")}
    assert all("只读" in w.message_zh and "read-only" in w.message_en for w in report.warnings)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        out = service.get_entry(ctx, "101001/000001")
    assert out.publish_date is None and out.status == "draft"


# ---------------------------------------------------------------- reordered, full-width


def _wide(text: str) -> str:
    """Half-width digits and letters as their full-width forms."""
    return "".join(
        chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ("／" if ch == "/" else ch)
        for ch in text
    )


def test_reordered_columns_and_full_width_codes(database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(name="既有目录", sequence_code="000050"))
    assert unicodedata.normalize("NFKC", _wide("101001/000001")) == "101001/000001"
    entry_headers = [*ENTRY_HEADERS, "关联资源代码"]
    entries = [
        [
            *entry_values(
                _wide("101001/000001"),
                信息资源提供方代码=_wide("A"),
                类=_wide("1"),
                项=_wide("01"),
                目=_wide("001"),
            ),
            _wide("101001/000050"),
        ],
        [*entry_values("101001/000002", name="流动人口信息", 信息资源提供方代码=uscc(1)), ""],
    ]
    items = [
        item_values(_wide("101001/000001"), "姓名"),
        item_values(
            _wide("101001/000001"), "公民身份号码", 数据长度=18, 数据元代码=_wide("DE0001")
        ),
        item_values("101001/000002", "姓名"),
    ]
    rng = random.Random(3)
    entry_order = list(range(len(entry_headers)))
    item_order = list(range(len(ITEM_HEADERS)))
    rng.shuffle(entry_order)
    rng.shuffle(item_order)
    assert entry_order != sorted(entry_order) and item_order != sorted(item_order)
    wb = workbook(
        [[row[i] for i in entry_order] for row in entries],
        [[row[i] for i in item_order] for row in items],
        entry_headers=[entry_headers[i] for i in entry_order],
        item_headers=[ITEM_HEADERS[i] for i in item_order],
    )
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(wb))
    assert report.ok, report.errors
    assert report.created == ["101001/000001", "101001/000002"]
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        out = service.get_entry(ctx, "101001/000001")
    assert out.group_code == "001" and out.related_codes == ["101001/000050"]
    assert [i.name for i in out.items] == ["姓名", "公民身份号码"]
    assert out.items[1].element_code == "DE0001" and out.unit_code == "A"


# ---------------------------------------------------------------- provider code


def test_provider_code_is_the_credit_code_and_either_is_accepted(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        code = service.create_entry(ctx, create()).resource_code
    with acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        other = service.create_entry(ctx, create(group_code="002")).resource_code
    content = _export(database, SYSTEM)
    ws = read_back(content)["信息资源目录"]
    provider = _column(ws, "信息资源提供方代码")
    by_code = {row[0].value: row[provider - 1].value for row in ws.iter_rows(min_row=2)}
    assert by_code == {code: uscc(1), other: uscc(2)}
    with acting(database, liaison) as ctx:
        assert service.get_entry(ctx, code).provider_code == uscc(1)  # as the API and DCAT say
    # The unit's own export, the region's (each row's credit code names its unit), and an
    # older file with the internal unit code all import unchanged.
    assert _import(database, liaison, _export(database, liaison)).ok
    report = _import(database, SYSTEM, content)
    assert report.ok, report.errors
    assert sorted(report.unchanged) == sorted([code, other])
    wb = read_back(content)
    wb["信息资源目录"].cell(row=2, column=provider, value="A")
    wb["信息资源目录"].cell(row=3, column=provider, value=_wide(uscc(2).lower()))
    report = _import(database, SYSTEM, to_bytes(wb))
    assert report.ok, report.errors
    # Another unit's credit code is still another unit.
    wb = read_back(content)
    report = _import(database, liaison, to_bytes(wb))
    assert not report.ok
    assert {(e.row, e.column) for e in report.errors} == {(3, "信息资源提供方代码")}
    # And a code that is no unit's is refused by name.
    wb["信息资源目录"].cell(row=2, column=provider, value="91330100MA2XXXXXXX")
    report = _import(database, SYSTEM, to_bytes(wb))
    assert not report.ok and "91330100MA2XXXXXXX" in report.errors[0].message_zh


# ---------------------------------------------------------------- property: merged ranges


@st.composite
def _merged_sheets(draw: st.DrawFn) -> tuple[list[list[object]], list[tuple[int, int, int, int]]]:
    """A data grid (below one header row) and non-overlapping merged ranges over it."""
    rows, cols = draw(st.integers(1, 7)), draw(st.integers(1, 4))
    grid: list[list[object]] = [
        [draw(st.one_of(st.none(), st.sampled_from(["甲", "乙", "7"]))) for _ in range(cols)]
        for _ in range(rows)
    ]
    spans: list[tuple[int, int, int, int]] = []  # (min_col, min_row, max_col, max_row)
    taken: set[tuple[int, int]] = set()
    for _ in range(draw(st.integers(0, 4))):
        c0, r0 = draw(st.integers(1, cols)), draw(st.integers(2, rows + 1))
        c1, r1 = draw(st.integers(c0, cols)), draw(st.integers(r0, rows + 1))
        cells = {(c, r) for c in range(c0, c1 + 1) for r in range(r0, r1 + 1)}
        if len(cells) > 1 and not cells & taken:
            taken |= cells
            spans.append((c0, r0, c1, r1))
    return grid, spans


@settings(max_examples=60, deadline=None)
@given(sheet=_merged_sheets())
def test_merged_ranges_read_as_their_value_in_every_cell(
    sheet: tuple[list[list[object]], list[tuple[int, int, int, int]]],
) -> None:
    from openpyxl import Workbook, load_workbook

    from shuzhi.catalog.excel import Layout, ProblemLog, merged_ranges
    from shuzhi.catalog.excel.rows import _rows

    grid, spans = sheet
    cols = len(grid[0])
    headers = ["信息项名称", "数据类型", "数据长度", "信息项描述"][:cols]
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in grid:
        ws.append(row)
    for c0, r0, c1, r1 in spans:
        ws.merge_cells(start_row=r0, end_row=r1, start_column=c0, end_column=c1)
    # What a reader should see: each covered cell holds the range's top-left value.
    kept = [
        [ws.cell(row=r, column=c).value for c in range(1, cols + 1)]
        for r in range(2, 2 + len(grid))
    ]
    expected: list[tuple[int, list[object]]] = []
    for number, row in enumerate(kept, start=2):
        if all(v is None for v in row):
            continue  # nothing of its own: a blank row
        filled = list(row)
        for c0, r0, c1, r1 in spans:
            if r0 <= number <= r1:
                for c in range(c0, c1 + 1):
                    filled[c - 1] = kept[r0 - 2][c0 - 1]
        if any(v is not None for v in filled):
            expected.append((number, filled))
    read = load_workbook(io.BytesIO(to_bytes(wb)), read_only=True)
    sheet_ = read.worksheets[0]
    layout = Layout(
        sheet_.title,
        1,
        {f"c{i}": i for i in range(cols)},
        {f"c{i}": h for i, h in enumerate(headers)},
        merges=merged_ranges(sheet_),
    )
    got = [(n, list(r) + [None] * (cols - len(r))) for n, r in _rows(sheet_, layout, ProblemLog())]
    read.close()
    assert got == expected
