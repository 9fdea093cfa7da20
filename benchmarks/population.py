"""The benchmarks' district: a region, its departments and the published population entry
whose data items are the generated file's columns (``gen_csv``)."""

from __future__ import annotations

from collections.abc import Sequence

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import Ctx
from shuzhi.org import service as org
from shuzhi.org.models import UnitKind
from shuzhi.org.schemas import UnitCreate
from shuzhi.standards.identifiers import uscc_from_parts

DEPARTMENTS = {"GAJ": "区公安分局", "MZJ": "区民政局"}


def population_entry(
    ctx: Ctx,
    columns: Sequence[str],
    *,
    departments: Sequence[str] = ("GAJ",),
    dates: Sequence[str] = (),
) -> str:
    """Create the units and publish the entry (owned by GAJ); returns its resource code."""
    _units(ctx, departments)
    return another_entry(ctx, columns, "户籍人口信息（基准）", dates=dates)


def _units(ctx: Ctx, departments: Sequence[str]) -> None:
    org.create_unit(ctx, UnitCreate(code="R", name="基准区", kind=UnitKind.REGION))
    for i, code in enumerate(departments):
        org.create_unit(
            ctx,
            UnitCreate(
                code=code,
                name=DEPARTMENTS[code],
                kind=UnitKind.DEPARTMENT,
                parent_code="R",
                uscc=uscc_from_parts("1", "1", "510105", f"{i + 1:08d}"),
            ),
        )


def another_entry(ctx: Ctx, columns: Sequence[str], name: str, *, dates: Sequence[str] = ()) -> str:
    """Publish one more entry of GAJ with these columns (the units exist)."""
    items = [
        {
            "name": c,
            "data_type": "D" if c in dates else "C",
            "length": 200,
            "share_type": "conditional",
        }
        for c in columns
    ]
    entry = EntryCreate.model_validate(
        {
            "name": name,
            "abstract": "基准测试用的人口数据。",
            "unit_code": "GAJ",
            "class_code": "1",
            "subclass_code": "01",
            "group_code": "001",
            "format_code": "3",
            "format_subtype": "MySQL",
            "share_type": "conditional",
            "share_conditions": "依法履职",
            "not_shared_basis": "《政务数据共享条例》",
            "share_method": "platform",
            "share_method_type": "interface",
            "open_type": "not_open",
            "not_open_reason": "sensitive",
            "update_cycle": "2",
            "items": items,
        }
    )
    return published_entry(ctx, entry)


def published_entry(ctx: Ctx, entry: EntryCreate) -> str:
    """Create, submit and approve a catalogue entry; returns its resource code."""
    code = catalog.create_entry(ctx, entry).resource_code
    catalog.submit_entry(ctx, code)
    catalog.approve_entry(ctx, code)
    return code
