"""Code tables and resource-code segment lengths: data the CDO executive maintains.

Rows the validation rules depend on (share and open types, formats, data types, the three
classes) are ``locked``: their labels can change but they cannot be deactivated or moved.
"""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.catalog.events import CodeChanged, SettingChanged
from shuzhi.catalog.memo import forget, remembered
from shuzhi.catalog.models import Code, CodeTable, Setting
from shuzhi.catalog.rules import CodeBook
from shuzhi.catalog.schemas import CodeIn, CodeOut, SegmentLengths
from shuzhi.catalog.seeds import DEFAULT_SEGMENT_LENGTHS, SEGMENT_LENGTHS_KEY
from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector, Invalid, NotFound

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
# Tables whose rows hang under a row of another table.
PARENT_TABLE = {
    CodeTable.RESOURCE_SUBCLASS: CodeTable.RESOURCE_CLASS,
    CodeTable.FORMAT_SUBTYPE: CodeTable.FORMAT,
    CodeTable.SHARE_METHOD_TYPE: CodeTable.SHARE_METHOD,
}


def code_book(ctx: Ctx) -> CodeBook:
    """Active values of every code table, for the validation rules."""

    def load() -> CodeBook:
        tables: dict[str, dict[str, str | None]] = {}
        for table, code, parent in ctx.db.execute(
            select(Code.table_name, Code.code, Code.parent_code).where(Code.active.is_(True))
        ):
            tables.setdefault(table, {})[code] = parent
        return CodeBook(tables)

    return remembered(ctx, "code_book", load)


def segment_lengths(ctx: Ctx) -> SegmentLengths:
    def load() -> SegmentLengths:
        stored = ctx.db.get(Setting, SEGMENT_LENGTHS_KEY)
        value = json.loads(stored.value) if stored else DEFAULT_SEGMENT_LENGTHS
        return SegmentLengths.model_validate(value)

    return remembered(ctx, "segment_lengths", load)


def _out(row: Code) -> CodeOut:
    return CodeOut(
        table=row.table_name,
        code=row.code,
        label_zh=row.label_zh,
        label_en=row.label_en,
        parent_code=row.parent_code,
        national_code=row.national_code,
        sort_order=row.sort_order,
        active=row.active,
        locked=row.locked,
    )


def list_code_tables(ctx: Ctx, *, active_only: bool = False) -> dict[str, list[CodeOut]]:
    """Every code table with its values in display order."""
    require(ctx, "view_code_tables")
    query = select(Code).order_by(Code.table_name, Code.sort_order, Code.code)
    if active_only:
        query = query.where(Code.active.is_(True))
    out: dict[str, list[CodeOut]] = {t.value: [] for t in CodeTable}
    for row in ctx.db.scalars(query):
        out.setdefault(row.table_name, []).append(_out(row))
    return out


def code_labels(ctx: Ctx, locale: str) -> dict[str, dict[str, str]]:
    """table → code → label in the given language (for rendering stored codes)."""
    english = locale == "en"

    def load() -> dict[str, dict[str, str]]:
        labels: dict[str, dict[str, str]] = {}
        for row in ctx.db.scalars(select(Code)):
            text = row.label_en if english and row.label_en else row.label_zh
            labels.setdefault(row.table_name, {})[row.code] = text
        return labels

    return remembered(ctx, "labels.en" if english else "labels.zh-CN", load)


def _table(name: str) -> CodeTable:
    try:
        return CodeTable(name)
    except ValueError:
        raise NotFound(f"代码表 {name} 不存在。", f"Code table {name} does not exist.") from None


def save_code(ctx: Ctx, table: str, code: str, data: CodeIn) -> CodeOut:
    """Add a value to a code table or change one; locked values keep their place and stay on."""
    require(ctx, "manage_code_tables", target=f"{table}:{code}")
    kind = _table(table)
    code = code.strip()
    errors = ErrorCollector()
    if not CODE_PATTERN.match(code):
        errors.add(
            "code",
            "代码只能由字母、数字、点、下划线和连字符组成（最多 40 位）。",
            "Codes use letters, digits, dot, underscore and hyphen (at most 40).",
        )
    parent_table = PARENT_TABLE.get(kind)
    if parent_table is None and data.parent_code:
        errors.add("parent_code", "该代码表没有上级代码。", "This table has no parent codes.")
    if parent_table is not None:
        parent = ctx.db.scalar(
            select(Code.id).where(Code.table_name == parent_table, Code.code == data.parent_code)
        )
        if parent is None:
            errors.add(
                "parent_code",
                f"上级代码 {data.parent_code} 不在代码表 {parent_table} 中。",
                f"Parent code {data.parent_code} is not in table {parent_table}.",
            )
    row = ctx.db.scalar(select(Code).where(Code.table_name == kind, Code.code == code))
    if row is not None and row.locked:
        if not data.active:
            errors.add(
                "active",
                "该代码是校验规则所依赖的标准值，不能停用。",
                "This standard value is used by the validation rules and cannot be disabled.",
            )
        if data.parent_code != row.parent_code:
            errors.add("parent_code", "标准值不能改变上级代码。", "A standard value stays put.")
    errors.raise_if_any()
    new = data.model_dump()
    changes: dict[str, list[object]] = {}
    if row is None:
        row = Code(table_name=kind, code=code, locked=False, **new)
        ctx.db.add(row)
        changes = {k: [None, v] for k, v in new.items()}
    else:
        for field, value in new.items():
            if getattr(row, field) != value:
                changes[field] = [getattr(row, field), value]
                setattr(row, field, value)
    ctx.db.flush()
    forget(ctx)
    if changes:
        record(ctx, CodeChanged(table=kind, code=code, changes=changes))
    return _out(row)


def get_segment_lengths(ctx: Ctx) -> SegmentLengths:
    require(ctx, "view_code_tables")
    return segment_lengths(ctx)


def set_segment_lengths(ctx: Ctx, data: SegmentLengths) -> SegmentLengths:
    """Change the coding rule for new entries; existing resource codes are never rewritten."""
    require(ctx, "manage_code_tables", target=SEGMENT_LENGTHS_KEY)
    value = data.model_dump(by_alias=True)
    if sum(value[k] for k in ("class", "subclass", "group")) + value["detail_max"] > 40:
        raise Invalid.field(
            "detail_max", "分类码总长度不能超过 40 位。", "The classification code is at most 40."
        )
    stored = ctx.db.get(Setting, SEGMENT_LENGTHS_KEY)
    text = json.dumps(value, sort_keys=True)
    if stored is None:
        ctx.db.add(Setting(key=SEGMENT_LENGTHS_KEY, value=text))
    else:
        stored.value = text
    ctx.db.flush()
    forget(ctx)
    record(ctx, SettingChanged(key=SEGMENT_LENGTHS_KEY, value=value))
    return data
