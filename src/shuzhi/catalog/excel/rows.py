"""The compile template: reading entry and item rows."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shuzhi.catalog.excel.common import ENTRY_SHEET, MAX_ROWS
from shuzhi.catalog.excel.headers import Layout
from shuzhi.catalog.excel.problems import ProblemLog
from shuzhi.catalog.excel.values import (
    BadValue,
    a_date,
    code_list,
    digits,
    integer,
    json_object,
    text,
    typed,
    yes_no,
)
from shuzhi.catalog.excel.vocabulary import Vocabulary
from shuzhi.catalog.models import CodeTable
from shuzhi.validation import text_key


@dataclass
class EntryRow:
    """One entry row as read: ``values`` holds only the fields whose column is in the file."""

    row: int
    resource_code: str
    unit_code: str
    unit_name: str
    publish_date: date | None
    values: dict[str, Any]
    ok: bool = True  # False: the row has problems of its own (already reported)


@dataclass
class ItemRow:
    row: int
    resource_code: str
    resource_name: str
    values: dict[str, Any]
    ok: bool = True


def _blank(row: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _rows(
    ws: Any, layout: Layout, problems: ProblemLog
) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Non-blank data rows below the header with their Excel row numbers.

    A merged range holds its value in its top-left cell only; bureaus merge the entry
    columns over an entry's block of item rows, or a provider column over the whole sheet.
    Every cell of a range below the header reads as that value (down and across). A row
    with nothing but merged cells in it is still a blank row.
    """
    width = max(layout.fields.values()) + 1
    pending = deque(
        sorted(
            (r for r in layout.merges if r[1] > layout.header_row and r[0] <= width),
            key=lambda r: r[1],
        )
    )
    active: list[tuple[tuple[int, int, int, int], object]] = []
    count = 0
    for number, cells in enumerate(
        ws.iter_rows(min_row=layout.header_row + 1, max_col=width, values_only=True),
        start=layout.header_row + 1,
    ):
        row: tuple[object, ...] = cells
        if pending or active:
            active = [(r, v) for r, v in active if r[3] >= number]
            while pending and pending[0][1] <= number:
                span = pending.popleft()
                if span[1] == number:
                    active.append((span, row[span[0] - 1] if span[0] <= len(row) else None))
            if active and not _blank(row):
                filled = list(row)
                for (min_col, _, max_col, _), value in active:
                    for i in range(min_col - 1, min(max_col, len(filled))):
                        if filled[i] is None:
                            filled[i] = value
                row = tuple(filled)
        if _blank(row):
            continue
        count += 1
        if count > MAX_ROWS:
            problems.error(
                layout.sheet,
                number,
                None,
                f"数据行超过 {MAX_ROWS} 行，请拆分文件后导入。",
                f"More than {MAX_ROWS} data rows; split the file.",
            )
            return
        yield number, row


def _cell(layout: Layout, row: tuple[object, ...], key: str) -> object:
    i = layout.fields.get(key)
    if i is None or i >= len(row):
        return None
    return row[i]


class _RowReader:
    """Reads one row's cells, reporting each bad value against its column."""

    def __init__(self, layout: Layout, row: tuple[object, ...], number: int, problems: ProblemLog):
        self.layout, self.row, self.number, self.problems = layout, row, number, problems
        self.ok = True

    def has(self, key: str) -> bool:
        return key in self.layout.fields

    def raw(self, key: str) -> object:
        return _cell(self.layout, self.row, key)

    def fail(self, key: str | None, zh: str, en: str) -> None:
        self.ok = False
        column = self.layout.column(key) if key else None
        self.problems.error(self.layout.sheet, self.number, column, zh, en)

    def convert(self, key: str, parse: Any) -> Any:
        try:
            return parse(self.raw(key))
        except BadValue as bad:
            self.fail(key, bad.zh, bad.en)
            return None

    def code(self, key: str, table: str, what_zh: str, what_en: str, vocab: Vocabulary) -> str:
        value = text(self.raw(key))
        if not value:
            return ""
        found, candidates = vocab.lookup(table, value)
        if found is not None:
            return found
        if candidates:
            labels = "、".join(vocab.label(table, c) for c in candidates)
            self.fail(
                key,
                f"「{value}」可对应多个{what_zh}（{labels}），请写完整。",
                f"'{value}' matches several {what_en} values ({labels}); write it in full.",
            )
        else:
            allowed = "、".join(v.label_zh for v in vocab.values(table))
            self.fail(
                key,
                f"「{value}」不是有效的{what_zh}，可选：{allowed}。",
                f"'{value}' is not a known {what_en}; allowed: {allowed}.",
            )
        return ""


SPLIT = re.compile(r"\s*[/／\-—－|｜:：]\s*")


def _share_method(r: _RowReader, vocab: Vocabulary) -> tuple[str, str | None]:
    """共享方式 as written: 共享平台方式, 接口 (implies the platform), or 共享平台方式/接口."""
    value = text(r.raw("share_method"))
    if not value:
        return "", None
    found, _ = vocab.lookup(CodeTable.SHARE_METHOD, value)
    if found is not None:
        return found, None
    kind, _ = vocab.lookup(CodeTable.SHARE_METHOD_TYPE, value)
    if kind is not None:
        parent = next(
            (v.parent_code for v in vocab.values(CodeTable.SHARE_METHOD_TYPE) if v.code == kind),
            None,
        )
        return parent or "", kind
    parts = SPLIT.split(value, maxsplit=1)
    if len(parts) == 2:
        method, _ = vocab.lookup(CodeTable.SHARE_METHOD, parts[0])
        kind, _ = vocab.lookup(CodeTable.SHARE_METHOD_TYPE, parts[1])
        if method is not None and kind is not None:
            return method, kind
    return r.code("share_method", CodeTable.SHARE_METHOD, "共享方式", "share method", vocab), None


def _read_entries(
    ws: Any,
    layout: Layout,
    vocab: Vocabulary,
    widths: Mapping[str, int],
    problems: ProblemLog,
) -> tuple[list[EntryRow], dict[str, int], dict[str, int]]:
    """Entry rows (kept only while the file is clean) and the codes and names seen."""
    out: list[EntryRow] = []
    codes: dict[str, int] = {}
    names: dict[str, int] = {}  # name's text_key → row; -1 when several units use the name
    seen: dict[tuple[str, str], int] = {}
    for number, row in _rows(ws, layout, problems):
        r = _RowReader(layout, row, number, problems)
        entry = _read_entry(r, vocab, widths)
        code = entry.resource_code
        if code in codes:
            r.fail(
                "resource_code",
                f"信息资源代码 {code} 与第 {codes[code]} 行重复。",
                f"Resource code {code} repeats row {codes[code]}.",
            )
        elif code:
            codes[code] = number
        name = str(entry.values.get("name", ""))
        key = text_key(name)
        if (entry.unit_code, key) in seen:
            first = seen[(entry.unit_code, key)]
            r.fail(
                "name",
                f"信息资源名称「{name}」与第 {first} 行重复。",
                f"Resource name '{name}' repeats row {first}.",
            )
        elif name:
            seen[(entry.unit_code, key)] = number
            names[key] = -1 if key in names else number
        entry.ok = r.ok
        _keep(out, entry, problems)
    return out, codes, names


def _keep(out: list[Any], row: EntryRow | ItemRow, problems: ProblemLog) -> None:
    """Keep rows for the service's checks until the report is full; then keep memory flat."""
    if problems.full:
        out.clear()
    else:
        out.append(row)


def _read_entry(r: _RowReader, vocab: Vocabulary, widths: Mapping[str, int]) -> EntryRow:
    values: dict[str, Any] = {}
    for key in (
        "name",
        "abstract",
        "share_conditions",
        "not_shared_basis",
        "open_conditions",
        "not_open_note",
    ):
        if r.has(key):
            values[key] = typed(r.raw(key))
    if r.has("format_subtype"):
        values["format_subtype"] = text(r.raw("format_subtype"))
    _read_classification(r, vocab, widths, values)
    _read_coded(r, vocab, values)
    publish_date = _read_only_date(r, "publish_date")
    code = text(r.raw("resource_code")).replace(" ", "")
    if code:
        _split_code(r, code, values, widths)
    name = values.get("name", "")
    if not name:
        r.fail("name", "信息资源名称不能为空。", "The resource name is required.")
    return EntryRow(
        row=r.number,
        resource_code=code,
        unit_code=text(r.raw("unit_code")),
        unit_name=text(r.raw("unit_name")),
        publish_date=publish_date,
        values=values,
    )


def _read_only_date(r: _RowReader, key: str) -> date | None:
    """A read-only date column (发布日期): never a fault; what is not a date is noted only."""
    if not r.has(key):
        return None
    try:
        return a_date(r.raw(key))
    except BadValue as bad:
        header = r.layout.column(key)
        r.problems.warn(
            r.layout.sheet,
            r.number,
            header,
            f"「{header}」为只读列，导入时忽略：{bad.zh}",
            f"'{header}' is a read-only column and is ignored on import: {bad.en}",
        )
        return None


def _read_classification(
    r: _RowReader, vocab: Vocabulary, widths: Mapping[str, int], values: dict[str, Any]
) -> None:
    """类/项/目/细目 as digits or labels, and the resource format (with its subtype)."""
    segment_keys = (
        ("class_code", "class"),
        ("subclass_code", "subclass"),
        ("group_code", "group"),
        ("detail_code", "detail_max"),
    )
    for key, width in segment_keys:
        if r.has(key):
            value = r.convert(key, lambda v, w=widths[width]: digits(v, w))
            if value is not None:
                values[key] = value
    if r.has("class_code") and values.get("class_code") is not None:
        # 类 may be written as its label (基础信息资源类) as well as its digit.
        raw = text(r.raw("class_code"))
        if raw and not raw.isdigit():
            values["class_code"] = r.code(
                "class_code", CodeTable.RESOURCE_CLASS, "分类「类」", "class", vocab
            )
    if r.has("subclass_code"):
        raw = text(r.raw("subclass_code"))
        if raw and not raw.isdigit():
            found, _ = vocab.lookup(CodeTable.RESOURCE_SUBCLASS, raw)
            if found is None:
                r.fail(
                    "subclass_code",
                    f"分类「项」「{raw}」不在代码表中。",
                    f"Unknown subclass '{raw}'.",
                )
            else:
                values["subclass_code"] = found[len(found) - widths["subclass"] :]
    if r.has("format_code"):
        raw = text(r.raw("format_code"))
        found, _ = vocab.lookup(CodeTable.FORMAT, raw) if raw else ("", [])
        parts = SPLIT.split(raw, maxsplit=1)
        if found is None and len(parts) == 2:
            found, _ = vocab.lookup(CodeTable.FORMAT, parts[0])
            if found is not None and not values.get("format_subtype"):
                values["format_subtype"] = parts[1]
        values["format_code"] = (
            found
            if found is not None
            else r.code("format_code", CodeTable.FORMAT, "信息资源格式", "resource format", vocab)
        )


def _read_coded(r: _RowReader, vocab: Vocabulary, values: dict[str, Any]) -> None:
    """Values taken from code tables (share and open types, cycle, share method), the related
    codes, the classified flag and the extension object."""
    for key, table, zh, en in (
        ("share_type", CodeTable.SHARE_TYPE, "共享类型", "share type"),
        ("open_type", CodeTable.OPEN_TYPE, "开放类型", "open type"),
        ("not_open_reason", CodeTable.NOT_OPEN_REASON, "不予开放理由", "reason for not opening"),
        ("update_cycle", CodeTable.UPDATE_CYCLE, "更新周期", "update cycle"),
    ):
        if r.has(key):
            values[key] = r.code(key, table, zh, en, vocab)
    if r.has("share_method"):
        method, kind = _share_method(r, vocab)
        values["share_method"] = method
        if kind is not None:
            values["share_method_type"] = kind
    if r.has("share_method_type"):
        written = r.code(
            "share_method_type",
            CodeTable.SHARE_METHOD_TYPE,
            "共享方式类型",
            "share method type",
            vocab,
        )
        if written or "share_method_type" not in values:
            values["share_method_type"] = written
    if r.has("related_codes"):
        values["related_codes"] = code_list(r.raw("related_codes"))
    if r.has("is_classified"):
        flag = r.convert("is_classified", yes_no)
        values["is_classified"] = bool(flag)
    if r.has("extension"):
        extension = r.convert("extension", json_object)
        if extension is not None:
            values["extension"] = extension


def _split_code(
    r: _RowReader, code: str, values: dict[str, Any], widths: Mapping[str, int]
) -> None:
    """信息资源代码 = 分类码/顺序码: fills the segments, or checks them against 类/项/目."""
    classification, slash, sequence = code.partition("/")
    if not slash or not classification.isdigit() or not sequence.isdigit():
        r.fail(
            "resource_code",
            f"信息资源代码「{code}」格式不正确，应为「分类码/顺序码」，如 101001/000001。",
            f"Resource code '{code}' should look like classification/sequence, e.g. 101001/000001.",
        )
        return
    c, s, g = widths["class"], widths["subclass"], widths["group"]
    parts = {
        "class_code": classification[:c],
        "subclass_code": classification[c : c + s],
        "group_code": classification[c + s : c + s + g],
        "detail_code": classification[c + s + g :],
    }
    written = "".join(values.get(k, "") for k in parts)
    if any(k in values for k in parts) and written and written != classification:
        r.fail(
            "resource_code",
            f"信息资源代码 {code} 与「类/项/目/细目」列（{written}）不一致。",
            f"Resource code {code} disagrees with the class columns ({written}).",
        )
        return
    values.update(parts)
    values["sequence_code"] = sequence


def _read_items(
    ws: Any,
    layout: Layout,
    vocab: Vocabulary,
    codes: Mapping[str, int],
    names: Mapping[str, int],
    problems: ProblemLog,
) -> list[ItemRow]:
    out: list[ItemRow] = []
    for number, row in _rows(ws, layout, problems):
        r = _RowReader(layout, row, number, problems)
        values: dict[str, Any] = {"name": typed(r.raw("name"))}
        if not values["name"]:
            r.fail("name", "信息项名称不能为空。", "The data item name is required.")
        if r.has("data_type"):
            if text(r.raw("data_type")):
                values["data_type"] = r.code(
                    "data_type", CodeTable.DATA_TYPE, "数据类型", "data type", vocab
                )
            else:
                r.fail("data_type", "数据类型不能为空。", "The data type is required.")
        if r.has("length"):
            values["length"] = r.convert("length", integer)
        if r.has("share_type") and text(r.raw("share_type")):
            values["share_type"] = r.code(
                "share_type", CodeTable.SHARE_TYPE, "共享类型", "share type", vocab
            )
        if r.has("is_source"):
            values["is_source"] = bool(r.convert("is_source", yes_no))
        if r.has("description"):
            values["description"] = typed(r.raw("description"))
        element = _element(r, vocab)
        if element:
            values["element_code"] = element
        link_code = text(r.raw("resource_code")).replace(" ", "")
        link_name = text(r.raw("resource_name"))
        _check_link(r, link_code, link_name, codes, names)
        _keep(out, ItemRow(number, link_code, link_name, values, r.ok), problems)
    return out


def _check_link(
    r: _RowReader,
    code: str,
    name: str,
    codes: Mapping[str, int],
    names: Mapping[str, int],
) -> None:
    """An item belongs to an entry row of this file, named by code (or by name)."""
    if code:
        if code not in codes:
            r.fail(
                "resource_code",
                f"信息资源代码 {code} 在「{ENTRY_SHEET}」表中没有对应的行。",
                f"Resource code {code} matches no row of the '{ENTRY_SHEET}' sheet.",
            )
        elif name and names.get(text_key(name), -1) not in (-1, codes[code]):
            r.fail(
                "resource_name",
                f"信息资源名称「{name}」与信息资源代码 {code} 不是同一行目录。",
                f"Resource name '{name}' and code {code} belong to different entries.",
            )
    elif name:
        if names.get(text_key(name)) == -1:
            r.fail(
                "resource_name",
                f"有多个目录名为「{name}」，请填写信息资源代码。",
                f"Several entries are named '{name}'; give the resource code.",
            )
        elif text_key(name) not in names:
            r.fail(
                "resource_name",
                f"信息资源名称「{name}」在「{ENTRY_SHEET}」表中没有对应的行。",
                f"Resource name '{name}' matches no row of the '{ENTRY_SHEET}' sheet.",
            )
    else:
        r.fail(
            "resource_code" if r.has("resource_code") else "resource_name",
            "请填写所属目录的信息资源代码或名称。",
            "Give the resource code or name of the item's entry.",
        )


def _element(r: _RowReader, vocab: Vocabulary) -> str:
    code_text = text(r.raw("element_code"))
    name_text = text(r.raw("element_name"))
    chosen = ""
    for key, value in (("element_code", code_text), ("element_name", name_text)):
        if not value:
            continue
        found, candidates = vocab.element(value)
        if found is None:
            r.fail(
                key,
                f"数据元「{value}」不存在" + ("（有多个同义词匹配）。" if candidates else "。"),
                f"Data element '{value}' does not exist"
                + (" (several synonyms match)." if candidates else "."),
            )
            return ""
        if chosen and found != chosen:
            r.fail(
                "element_name",
                f"数据元代码与数据元名称「{value}」不一致。",
                f"The data element code and name '{value}' disagree.",
            )
            return ""
        chosen = found
    return chosen
