"""Export of the compile template: the live entries of a unit (or the region) as a workbook
that imports back unchanged (see ``service`` for the import policy)."""

from __future__ import annotations

import json

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.catalog import service
from shuzhi.catalog.events import CatalogExported
from shuzhi.catalog.excel import Vocabulary, write_workbook
from shuzhi.catalog.excel.service import vocabulary
from shuzhi.catalog.models import CatalogEntry, CodeTable, EntryStatus
from shuzhi.catalog.schemas import EntryOut
from shuzhi.context import Ctx
from shuzhi.errors import NotFound
from shuzhi.org import service as org

STATUS_ZH = {
    EntryStatus.DRAFT: "草稿",
    EntryStatus.SUBMITTED: "待审核",
    EntryStatus.PUBLISHED: "已发布",
    EntryStatus.WITHDRAWN: "已撤销",
}


def _export_scope(ctx: Ctx, unit_code: str | None) -> int | None:
    """The unit to export (None: every unit); unit staff export their own unit by default."""
    if unit_code:
        unit_id = org.unit_id_for_code(ctx, unit_code.strip())
        if unit_id is None:
            raise NotFound(f"单位 {unit_code} 不存在。", f"Unit {unit_code} does not exist.")
        require(ctx, "export_workbook", unit_id, target=f"unit:{unit_code}")
        return unit_id
    return scope_unit(ctx, "export_workbook")


def export_workbook(ctx: Ctx, unit_code: str | None = None) -> bytes:
    """The unit's (or region's) live entries in the compile template; withdrawn ones left out."""
    unit_id = _export_scope(ctx, unit_code)
    query = select(CatalogEntry.resource_code).where(CatalogEntry.status != EntryStatus.WITHDRAWN)
    if unit_id is not None:
        query = query.where(CatalogEntry.unit_id == unit_id)
    vocab = vocabulary(ctx, active_only=False)
    entries: list[dict[str, object]] = []
    items: list[dict[str, object]] = []
    codes_in_order = list(ctx.db.scalars(query.order_by(CatalogEntry.resource_code)))
    stored = service.get_entries(ctx, codes_in_order) if codes_in_order else {}
    for code in codes_in_order:
        if code not in stored:
            raise NotFound(f"目录 {code} 不存在。", f"Catalogue entry {code} does not exist.")
        out = stored[code]
        entries.append(entry_row(out, vocab))
        items.extend(item_rows(out, vocab))
    record(ctx, CatalogExported(format="xlsx", entries=len(entries)))
    return write_workbook(entries, items)


def entry_row(out: EntryOut, vocab: Vocabulary) -> dict[str, object]:
    """An entry as the template shows it: codes as the labels people write."""
    return {
        "resource_code": out.resource_code,
        "name": out.name,
        "unit_name": out.unit_name,
        "unit_code": out.provider_code,
        "abstract": out.abstract,
        "class_code": out.class_code,
        "subclass_code": out.subclass_code,
        "group_code": out.group_code,
        "detail_code": out.detail_code,
        "format_code": vocab.label(CodeTable.FORMAT, out.format_code),
        "format_subtype": out.format_subtype,
        "share_type": vocab.label(CodeTable.SHARE_TYPE, out.share_type),
        "share_conditions": out.share_conditions,
        "share_method": vocab.label(CodeTable.SHARE_METHOD, out.share_method)
        if out.share_method
        else "",
        "share_method_type": vocab.label(CodeTable.SHARE_METHOD_TYPE, out.share_method_type)
        if out.share_method_type
        else "",
        "not_shared_basis": out.not_shared_basis,
        "open_type": vocab.label(CodeTable.OPEN_TYPE, out.open_type),
        "open_conditions": out.open_conditions,
        "not_open_reason": vocab.label(CodeTable.NOT_OPEN_REASON, out.not_open_reason)
        if out.not_open_reason
        else "",
        "not_open_note": out.not_open_note,
        "update_cycle": vocab.label(CodeTable.UPDATE_CYCLE, out.update_cycle),
        "publish_date": out.publish_date,
        "related_codes": "; ".join(out.related_codes),
        "is_classified": "是" if out.is_classified else "否",
        "extension": json.dumps(out.extension, ensure_ascii=False, sort_keys=True)
        if out.extension
        else "",
        "status": STATUS_ZH.get(out.status, str(out.status)),
    }


def item_rows(out: EntryOut, vocab: Vocabulary) -> list[dict[str, object]]:
    return [
        {
            "resource_code": out.resource_code,
            "resource_name": out.name,
            "name": item.name,
            "data_type": vocab.label(CodeTable.DATA_TYPE, item.data_type),
            "length": item.length,
            "share_type": vocab.label(CodeTable.SHARE_TYPE, item.share_type),
            "element_code": item.element_code or "",
            "element_name": item.element_name or "",
            "is_source": "是" if item.is_source else "否",
            "description": item.description,
        }
        for item in out.items
    ]
