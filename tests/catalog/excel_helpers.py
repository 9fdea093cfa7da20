"""Build compile-template workbooks for tests, messy ones included."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook

from shuzhi.catalog.excel import ENTRY_SHEET, ITEM_SHEET

ENTRY_HEADERS = [
    "信息资源代码",
    "信息资源名称",
    "信息资源提供方代码",
    "信息资源摘要",
    "类",
    "项",
    "目",
    "信息资源格式",
    "信息资源格式类型",
    "共享类型",
    "共享条件",
    "共享方式",
    "不予共享依据",
    "开放类型",
    "开放条件",
    "不予开放理由",
    "更新周期",
    "涉密属性",
]
ITEM_HEADERS = [
    "信息资源代码",
    "信息项名称",
    "数据类型",
    "数据长度",
    "共享类型",
    "数据元代码",
    "是否权威来源",
]


def entry_values(code: str = "", name: str = "户籍人口信息", **over: object) -> list[object]:
    row: dict[str, object] = {
        "信息资源代码": code,
        "信息资源名称": name,
        "信息资源提供方代码": "",
        "信息资源摘要": "本区户籍人口的基本信息。",
        "类": "1",
        "项": "01",
        "目": "001",
        "信息资源格式": "数据库",
        "信息资源格式类型": "MySQL",
        "共享类型": "无条件共享",
        "共享条件": "",
        "共享方式": "共享平台方式/接口",
        "不予共享依据": "",
        "开放类型": "不予开放",
        "开放条件": "",
        "不予开放理由": "涉及敏感信息",
        "更新周期": "每日",
        "涉密属性": "否",
    }
    row.update(over)
    return [row[h] for h in ENTRY_HEADERS]


def item_values(code: str, name: str, **over: object) -> list[object]:
    row: dict[str, object] = {
        "信息资源代码": code,
        "信息项名称": name,
        "数据类型": "字符型",
        "数据长度": 50,
        "共享类型": "",
        "数据元代码": "",
        "是否权威来源": "否",
    }
    row.update(over)
    return [row[h] for h in ITEM_HEADERS]


def workbook(
    entries: Sequence[Sequence[object]],
    items: Sequence[Sequence[object]] = (),
    *,
    entry_headers: Sequence[object] = ENTRY_HEADERS,
    item_headers: Sequence[object] | None = ITEM_HEADERS,
    title_rows: int = 0,
) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = ENTRY_SHEET
    for i in range(title_rows):
        ws.append([f"某某区政务数据资源目录（第 {i + 1} 行标题）"])
    ws.append(list(entry_headers))
    for row in entries:
        ws.append(list(row))
    if item_headers is not None:
        wi = wb.create_sheet(ITEM_SHEET)
        wi.append(list(item_headers))
        for row in items:
            wi.append(list(row))
    return wb


def to_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_back(content: bytes) -> Workbook:
    return load_workbook(io.BytesIO(content))
