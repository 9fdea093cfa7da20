"""Audit entries as a CSV or XLSX file for people to open in a spreadsheet.

Every text cell goes through ``shuzhi.security.cells``: an actor name, a target id or a detail
someone typed (``=HYPERLINK(…)``) stays text and can never run as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl import Workbook

from shuzhi.security.cells import csv_writer, xlsx_row

HEADERS = (
    ("序号", "Seq"),
    ("时间（UTC）", "Time (UTC)"),
    ("操作者", "Actor"),
    ("角色", "Role"),
    ("单位代码", "Unit code"),
    ("单位", "Unit"),
    ("动作代码", "Action code"),
    ("动作", "Action"),
    ("对象类型", "Target type"),
    ("对象", "Target"),
    ("结果", "Outcome"),
    ("详情", "Details"),
    ("哈希", "Hash"),
)


class _Names:
    """Names of codes in one language, looked up once per code."""

    def __init__(self, texts: Mapping[str, tuple[str, str]], locale: str) -> None:
        self._texts = texts
        self._en = locale == "en"
        self._seen: dict[str, str] = {}

    def __call__(self, key: str, code: str) -> str:
        found = self._seen.get(key)
        if found is None:
            pair = self._texts.get(key)
            found = self._seen[key] = code if pair is None else pair[1 if self._en else 0]
        return found


def _row(e: Any, unit_names: Mapping[int, tuple[str, str]], name: _Names) -> list[object]:
    code, unit = unit_names.get(e.unit_id, ("", "")) if e.unit_id is not None else ("", "")
    return [
        e.seq,
        e.at.isoformat(sep=" ", timespec="seconds")[:19],
        e.actor,
        e.actor_role or "",
        code,
        unit,
        e.action,
        name("audit.act." + e.action, e.action),
        name("audit.target_type." + e.target_type, e.target_type),
        e.target_id,
        name("audit.outcome." + e.outcome, e.outcome),
        e.details,  # stored as canonical JSON
        e.hash,
    ]


def write(
    entries: Iterable[Any],
    file_format: str,
    unit_names: Mapping[int, tuple[str, str]],
    locale: str,
    texts: Mapping[str, tuple[str, str]],
) -> bytes:
    """The entries (rows of ``audit_entry``) as ``csv`` (UTF-8 with BOM, for spreadsheets)
    or ``xlsx`` bytes."""
    headers = [en if locale == "en" else zh for zh, en in HEADERS]
    name = _Names(texts, locale)
    if file_format == "csv":
        text = io.StringIO()
        writer = csv_writer(text)
        writer.writerow(headers)
        for e in entries:
            writer.writerow(_row(e, unit_names, name))
        return ("\ufeff" + text.getvalue()).encode("utf-8")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计日志" if locale != "en" else "Audit log")
    sheet.append(xlsx_row(sheet, headers, bold=True))
    for e in entries:
        sheet.append(xlsx_row(sheet, _row(e, unit_names, name)))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
