"""The compile template: writing the workbook."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from openpyxl import Workbook

from shuzhi.catalog.excel.common import ENTRY_COLUMNS, ENTRY_SHEET, ITEM_COLUMNS, ITEM_SHEET
from shuzhi.security.cells import xlsx_row


def write_workbook(
    entries: Sequence[Mapping[str, object]],
    items: Sequence[Mapping[str, object]],
) -> bytes:
    """The compile template filled with rows (keys are column keys; missing keys stay blank)."""
    wb = Workbook(write_only=True)
    for title, columns, rows in (
        (ENTRY_SHEET, ENTRY_COLUMNS, entries),
        (ITEM_SHEET, ITEM_COLUMNS, items),
    ):
        ws = wb.create_sheet(title)
        shown = [c for c in columns if c.export]
        ws.append(xlsx_row(ws, [c.header for c in shown], bold=True))
        for row in rows:
            ws.append(xlsx_row(ws, [row.get(c.key) for c in shown]))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
