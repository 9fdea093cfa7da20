"""Audit entries as a CSV or XLSX file for people to open in a spreadsheet.

Every text cell goes through ``shuzhi.security.cells``: an actor name, a target id or a detail
someone typed (``=HYPERLINK(…)``) stays text and can never run as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

from openpyxl import Workbook

from shuzhi.audit.schemas import AuditEntryOut
from shuzhi.audit.chain import canonical
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


def _name(texts: Mapping[str, tuple[str, str]], key: str, code: str, locale: str) -> str:
    pair = texts.get(key)
    if pair is None:
        return code
    return pair[1] if locale == "en" else pair[0]


def _row(
    e: AuditEntryOut,
    unit_names: Mapping[int, tuple[str, str]],
    locale: str,
    texts: Mapping[str, tuple[str, str]],
) -> list[object]:
    code, name = unit_names.get(e.unit_id, ("", "")) if e.unit_id is not None else ("", "")
    return [
        e.seq,
        e.at.strftime("%Y-%m-%d %H:%M:%S"),
        e.actor,
        e.actor_role or "",
        code,
        name,
        e.action,
        _name(texts, f"audit.act.{e.action}", e.action, locale),
        _name(texts, f"audit.target_type.{e.target_type}", e.target_type, locale),
        e.target_id,
        _name(texts, f"audit.outcome.{e.outcome}", e.outcome, locale),
        canonical(e.details),
        e.hash,
    ]


def write(
    entries: Iterable[AuditEntryOut],
    file_format: str,
    unit_names: Mapping[int, tuple[str, str]],
    locale: str,
    texts: Mapping[str, tuple[str, str]],
) -> bytes:
    """The entries as ``csv`` (UTF-8 with BOM, for spreadsheets) or ``xlsx`` bytes."""
    headers = [en if locale == "en" else zh for zh, en in HEADERS]
    if file_format == "csv":
        text = io.StringIO()
        writer = csv_writer(text)
        writer.writerow(headers)
        for e in entries:
            writer.writerow(_row(e, unit_names, locale, texts))
        return ("\ufeff" + text.getvalue()).encode("utf-8")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计日志" if locale != "en" else "Audit log")
    sheet.append(xlsx_row(sheet, headers, bold=True))
    for e in entries:
        sheet.append(xlsx_row(sheet, _row(e, unit_names, locale, texts)))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
