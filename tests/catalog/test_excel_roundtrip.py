"""Existing entries on import, and export → import round trips (property-based)."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuzhi.catalog import service
from shuzhi.catalog.excel import exporting
from shuzhi.catalog.excel import service as excel_service
from shuzhi.catalog.schemas import EntryCreate, EntryOut, EntryUpdate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from tests.catalog.helpers import create, entry_data, item
from tests.conftest import acting
from tests.factories import Org, seed_org


def _export(database: Database, actor: Any, unit: str | None = None) -> bytes:
    with acting(database, actor) as ctx:
        return exporting.export_workbook(ctx, unit)


def _import(database: Database, actor: Any, content: bytes, unit: str | None = None) -> Any:
    with acting(database, actor) as ctx:
        return excel_service.import_workbook(ctx, content, unit, filename="rt.xlsx")


def _entry(database: Database, actor: Any, code: str) -> EntryOut:
    with acting(database, actor) as ctx:
        return service.get_entry(ctx, code)


def _publish(database: Database, seeded: Org, code: str) -> None:
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.submit_entry(ctx, code)
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.approve_entry(ctx, code)


def _edit_cell(content: bytes, sheet: str, header: str, row: int, value: object) -> bytes:
    from tests.catalog.excel_helpers import read_back, to_bytes

    wb = read_back(content)
    ws = wb[sheet]
    column = next(c.column for c in ws[1] if c.value == header)
    ws.cell(row=row, column=column, value=value)
    return to_bytes(wb)


def test_reimporting_an_export_changes_nothing(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        code = service.create_entry(ctx, create()).resource_code
    report = _import(database, liaison, _export(database, liaison))
    assert report.ok and report.unchanged == [code] and not report.updated


def test_draft_is_updated_and_published_entry_is_revised(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        draft = service.create_entry(ctx, create()).resource_code
        published = service.create_entry(ctx, create(name="出生登记信息")).resource_code
    _publish(database, seeded, published)
    content = _export(database, liaison)
    content = _edit_cell(content, "信息资源目录", "信息资源摘要", 2, "新的摘要内容。")
    content = _edit_cell(content, "信息资源目录", "信息资源摘要", 3, "修订后的摘要。")
    report = _import(database, liaison, content)
    assert report.ok, report.errors
    assert report.updated == [draft] and report.revised == [published]
    assert _entry(database, liaison, draft).abstract == "新的摘要内容。"
    revised = _entry(database, liaison, published)
    assert revised.status == "draft" and revised.version == 2 and revised.published_version == 1
    # The published version stays what others read.
    other = seeded.other_unit_actor(Role.DATA_LIAISON)
    assert _entry(database, other, published).abstract != "修订后的摘要。"


def test_submitted_and_other_units_entries_are_refused(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        code = service.create_entry(ctx, create()).resource_code
        service.submit_entry(ctx, code)
    content = _edit_cell(_export(database, liaison), "信息资源目录", "信息资源摘要", 2, "改一下。")
    report = _import(database, liaison, content)
    assert not report.ok and report.errors[0].row == 2 and "审核" in report.errors[0].message_zh
    # Department B cannot load department A's rows, whatever the unit column says.
    other = seeded.other_unit_actor(Role.DATA_LIAISON)
    report = _import(database, other, content)
    assert not report.ok
    assert report.errors[0].column == "信息资源提供方代码"
    blank_unit = _edit_cell(content, "信息资源目录", "信息资源提供方代码", 2, None)
    report = _import(database, other, blank_unit)
    assert not report.ok and "其他单位" in report.errors[0].message_zh
    assert _entry(database, liaison, code).status == "submitted"


def test_cli_round_trip_for_the_whole_region(database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create())
    with acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        service.create_entry(ctx, create(group_code="002"))
    content = _export(database, SYSTEM)
    # Region-wide import by the administrator: each row's provider code names its unit.
    report = _import(database, SYSTEM, content)
    assert report.ok and len(report.unchanged) == 2


# ---------------------------------------------------------------- property: export → import

TEXT = (
    st.text(
        alphabet=st.sampled_from("人口户籍登记法人社保数据信息资源目录企业服务 ABCabc0123-（）_、"),
        min_size=2,
        max_size=30,
    )
    .map(str.strip)
    .filter(lambda s: len(s) >= 2)
)
ITEM_NAMES = st.lists(
    st.text(
        alphabet=st.sampled_from("姓名号码地址日期类型状态金额编号" + string.ascii_letters),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool),
    min_size=1,
    max_size=6,
    unique=True,
)


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    share = draw(st.sampled_from(["unconditional", "conditional", "not_shared"]))
    open_type = (
        "not_open"
        if share == "not_shared"
        else draw(st.sampled_from(["unconditional", "conditional", "not_open"]))
    )
    classified = draw(st.booleans()) if open_type == "not_open" else False
    names = draw(ITEM_NAMES)
    items = []
    for n in names:
        item_share = (
            share
            if share != "conditional"
            else draw(st.sampled_from(["unconditional", "conditional", "not_shared"]))
        )
        items.append(
            item(
                n,
                data_type=draw(st.sampled_from(list("CNYDTLMGBIF"))),
                length=draw(st.integers(1, 4000)),
                share_type=item_share,
                description=draw(st.one_of(st.just(""), TEXT)),
            )
        )
    method = draw(
        st.sampled_from(
            [("platform", "interface"), ("platform", "file"), ("email", ""), ("medium", "")]
        )
    )
    data = entry_data(
        name=draw(TEXT),
        abstract=draw(TEXT),
        subclass_code=draw(st.sampled_from(["01", "02", "03"])),
        group_code=draw(st.sampled_from(["001", "002", "010"])),
        detail_code=draw(st.sampled_from(["", "01", "0002"])),
        sequence_code=f"{draw(st.integers(1, 999_999)):06d}",
        format_code=draw(st.sampled_from(["2", "3"])),
        format_subtype="",
        share_type=share,
        share_conditions=draw(TEXT) if share == "conditional" else "",
        not_shared_basis=draw(TEXT.filter(lambda s: len(s) >= 4))
        if share != "unconditional"
        else "",
        share_method=method[0] if share != "not_shared" else "",
        share_method_type=method[1] if share != "not_shared" else "",
        open_type=open_type,
        open_conditions=draw(TEXT) if open_type == "conditional" else "",
        not_open_reason=draw(st.sampled_from(["law", "policy", "sensitive"]))
        if open_type == "not_open"
        else "",
        update_cycle=draw(st.sampled_from([str(i) for i in range(1, 9)])),
        is_classified=classified,
        extension=draw(
            st.dictionaries(
                st.sampled_from(["联系人", "所属系统", "级别"]),
                st.one_of(TEXT, st.integers(-5, 10**6), st.booleans()),
                max_size=2,
            )
        ),
        items=items,
    )
    return data


@pytest.mark.slow
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(entries(), min_size=1, max_size=4))
def test_export_import_round_trips(database: Database, batch: list[dict[str, Any]]) -> None:
    seeded = _seeded(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    codes: list[str] = []
    with acting(database, SYSTEM) as ctx:
        _clear(ctx)
    with acting(database, liaison) as ctx:
        seen_names: set[str] = set()
        seen_codes: set[tuple[str, str]] = set()
        for data in batch:
            key = (
                data["subclass_code"] + data["group_code"] + data["detail_code"],
                data["sequence_code"],
            )
            if data["name"] in seen_names or key in seen_codes:
                continue
            seen_names.add(data["name"])
            seen_codes.add(key)
            codes.append(service.create_entry(ctx, EntryCreate.model_validate(data)).resource_code)
        # Relate the first entry to the others (written in the file before they exist).
        if len(codes) > 1:
            first = service.get_entry(ctx, codes[0])
            fields = EntryUpdate.model_validate(first.model_dump(mode="json"))
            service.update_entry(
                ctx, codes[0], fields.model_copy(update={"related_codes": codes[1:]})
            )
    before = {c: _entry(database, liaison, c) for c in codes}
    content = _export(database, liaison)
    with acting(database, SYSTEM) as ctx:
        _clear(ctx)
    report = _import(database, liaison, content)
    assert report.ok, report.errors
    assert sorted(report.created) == sorted(codes)
    for code, old in before.items():
        new = _entry(database, liaison, code)
        assert _comparable(new) == _comparable(old)
    # And importing the same file again changes nothing.
    again = _import(database, liaison, content)
    assert again.ok and sorted(again.unchanged) == sorted(codes)


_SEEDED: dict[int, Org] = {}


def _seeded(database: Database) -> Org:
    """One organisation per test database (hypothesis reuses the function-scoped fixture)."""
    key = id(database)
    if key not in _SEEDED:
        _SEEDED.clear()
        _SEEDED[key] = seed_org(database)
    return _SEEDED[key]


def _clear(ctx: Any) -> None:
    from sqlalchemy import delete

    from shuzhi.catalog.models import CatalogEntry, DataItem, EntryEvent

    ctx.db.execute(delete(DataItem))
    ctx.db.execute(delete(EntryEvent))
    ctx.db.execute(delete(CatalogEntry))


def _comparable(out: EntryOut) -> dict[str, Any]:
    data = out.model_dump(mode="json")
    for key in ("history", "submitted_at", "decided_at"):
        data.pop(key, None)
    return data
