"""Importing the compile template: every row checked, all or nothing, messy files tolerated."""

from __future__ import annotations

from shuzhi.catalog import service
from shuzhi.catalog.excel import service as excel_service
from shuzhi.context import Role
from shuzhi.db.engine import Database
from tests.catalog.excel_helpers import entry_values, item_values, to_bytes, workbook
from tests.conftest import acting
from tests.factories import seed_org


def test_import_creates_entries_with_items(database: Database) -> None:
    seeded = seed_org(database)
    content = to_bytes(
        workbook(
            [entry_values("101001/000001"), entry_values("101001/000002", name="流动人口信息")],
            [
                item_values("101001/000001", "姓名"),
                item_values(
                    "101001/000001",
                    "公民身份号码",
                    数据长度=18,
                    数据元代码="DE0001",
                    是否权威来源="是",
                ),
                item_values("101001/000002", "姓名"),
            ],
        )
    )
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        report = excel_service.import_workbook(ctx, content, filename="t.xlsx")
    assert report.ok, report.errors
    assert report.created == ["101001/000001", "101001/000002"]
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        out = service.get_entry(ctx, "101001/000001")
    assert [i.name for i in out.items] == ["姓名", "公民身份号码"]
    assert out.items[1].element_code == "DE0001" and out.items[1].is_source
    assert out.share_method == "platform" and out.share_method_type == "interface"
    assert out.update_cycle == "2" and out.not_open_reason == "sensitive"


def _import(database: Database, actor, content: bytes, unit: str | None = None):  # type: ignore[no-untyped-def]
    with acting(database, actor) as ctx:
        return excel_service.import_workbook(ctx, content, unit, filename="t.xlsx")


def _codes(database: Database, seeded) -> list[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from shuzhi.catalog.models import CatalogEntry

    with acting(database, seeded.actor(Role.CDO)) as ctx:
        return sorted(ctx.db.scalars(select(CatalogEntry.resource_code)))


def test_messy_file_is_tolerated(database: Database) -> None:
    seeded = seed_org(database)
    headers = [
        "信息资源代码（必填）",
        " 信息资源名称* ",
        "信息资源摘要",
        "类",
        "项",
        "目",
        "信息资源格式",
        "信息资源格式类型",
        "共享类型",
        "共享方式",
        "开放类型",
        "不予开放理由",
        "更新周期",
        "备用列",
    ]
    wb = workbook(
        [
            [
                "１０１００１/０００００３",
                "  户籍人口信息 ",
                "本区户籍人口。",
                1,
                1,
                1,
                "数据库类",
                "mysql",
                "无条件",
                "接口",
                "不予开放",
                "涉及敏感信息",
                "每日",
                "随便写",
            ],
            [None] * 14,
            [
                "101001/000004",
                "出生登记信息",
                "出生登记。",
                "1",
                "01",
                "001",
                "3",
                "MySQL",
                "1",
                "共享平台方式-库表",
                "不予开放",
                "法律法规",
                "2",
                "",
            ],
        ],
        [
            item_values("101001/000003", "姓名"),
            [None] * 7,
            item_values("101001/000004", "出生日期", 数据类型="D", 数据长度=8.0),
        ],
        entry_headers=headers,
        title_rows=2,
    )
    # A vertically merged header (two header rows, the value in the top-left cell).
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(wb))
    assert report.ok, report.errors
    assert report.created == ["101001/000003", "101001/000004"]
    assert [w.column for w in report.warnings] == ["备用列"]
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        first = service.get_entry(ctx, "101001/000003")
        second = service.get_entry(ctx, "101001/000004")
    assert first.name == "户籍人口信息" and first.format_code == "3"
    assert first.share_type == "unconditional" and first.share_method_type == "interface"
    assert second.share_method_type == "table" and second.not_open_reason == "law"
    assert second.items[0].data_type == "D" and second.items[0].length == 8


def test_merged_header_cells(database: Database) -> None:
    seeded = seed_org(database)
    wb = workbook([], item_headers=ITEM_HEADERS_ONLY)
    ws = wb.worksheets[0]
    ws.delete_rows(1)
    # Row 1: group headers, 信息资源名称 merged down over rows 1-2; row 2: sub-headers.
    ws.append(
        [
            "信息资源代码",
            "信息资源名称",
            "信息资源摘要",
            "资源分类",
            None,
            None,
            "共享属性",
            None,
            "开放类型",
            "不予开放理由",
            "更新周期",
            "信息资源格式",
        ]
    )
    ws.append([None, None, None, "类", "项", "目", "共享类型", "共享方式", None, None, None, None])
    ws.append(
        [
            "101001/000009",
            "婚姻登记信息",
            "婚姻登记。",
            "1",
            "01",
            "001",
            "有条件共享",
            "共享平台方式/文件",
            "不予开放",
            "法律法规",
            "每月",
            "电子表格",
        ]
    )
    for rng in ("A1:A2", "B1:B2", "C1:C2", "D1:F1", "G1:H1", "I1:I2", "J1:J2", "K1:K2", "L1:L2"):
        ws.merge_cells(rng)
    content = to_bytes(wb)
    report = _import(database, seeded.actor(Role.DATA_LIAISON), content)
    # Conditional sharing without conditions is reported against its column, row 3.
    assert not report.ok
    assert {(e.row, e.column) for e in report.errors} >= {(3, "共享条件")}
    assert _codes(database, seeded) == []


ITEM_HEADERS_ONLY = ["信息资源代码", "信息项名称", "数据类型", "数据长度"]


def test_not_a_workbook(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    for content in (
        "信息资源名称,信息资源摘要\n户籍,摘要\n".encode(),
        bytes(range(256)) * 40,
        b"PK\x03\x04 not really a zip",
        b"",
    ):
        report = _import(database, liaison, content)
        assert not report.ok and report.error_count == 1
        assert report.errors[0].row is None and "xlsx" in report.errors[0].message_zh
    assert _codes(database, seeded) == []


def test_zip_that_is_not_a_workbook(database: Database) -> None:
    import io
    import zipfile

    seeded = seed_org(database)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    report = _import(database, seeded.actor(Role.DATA_LIAISON), buffer.getvalue())
    assert not report.ok and "损坏" in report.errors[0].message_zh


def test_wrong_sheets(database: Database) -> None:
    seeded = seed_org(database)
    wb = workbook([], item_headers=None)
    ws = wb.worksheets[0]
    ws.title = "Sheet1"
    ws.delete_rows(1)
    ws.append(["姓名", "年龄", "住址"])
    ws.append(["张三", 30, "某街道"])
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(wb))
    assert not report.ok
    assert "信息资源目录" in report.errors[0].message_zh and "Sheet1" in report.errors[0].message_zh


def test_all_or_nothing_and_every_problem_reported(database: Database) -> None:
    seeded = seed_org(database)
    wb = workbook(
        [
            entry_values("101001/000001"),
            entry_values("101001/000002", name="流动人口信息", 共享类型="有条件共享"),
            entry_values("101001/000003", name="暂住人口信息", 更新周期="每两周"),
            entry_values("101001/000001", name="重复代码信息"),
        ],
        [
            item_values("101001/000001", "姓名"),
            item_values("101001/000002", "姓名", 数据类型="日期"),
            item_values("101001/000003", "姓名", 数据长度="很长"),
            item_values("109999/000001", "孤儿信息项"),
        ],
    )
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(wb))
    assert not report.ok
    found = {(e.sheet, e.row, e.column) for e in report.errors}
    assert ("信息资源目录", 4, "更新周期") in found
    assert ("信息资源目录", 5, "信息资源代码") in found  # duplicate resource code
    assert ("信息项", 3, "数据类型") in found  # 日期 could be 日期型 or 日期时间型
    assert ("信息项", 4, "数据长度") in found
    assert ("信息项", 5, "信息资源代码") in found  # no such entry row
    ambiguous = next(e for e in report.errors if e.column == "数据类型")
    assert "日期型" in ambiguous.message_zh and "日期时间型" in ambiguous.message_zh
    assert all(e.message_en for e in report.errors)
    assert _codes(database, seeded) == []


def test_service_rules_are_reported_per_row_and_nothing_is_kept(database: Database) -> None:
    seeded = seed_org(database)
    wb = workbook(
        [
            entry_values("101001/000001"),
            entry_values("101001/000002", name="流动人口信息", 共享类型="有条件共享"),
        ],
        [item_values("101001/000001", "姓名"), item_values("101001/000002", "姓名", 数据长度=None)],
    )
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(wb))
    assert not report.ok
    found = {(e.sheet, e.row, e.column) for e in report.errors}
    assert found == {
        ("信息资源目录", 3, "共享条件"),
        ("信息资源目录", 3, "不予共享依据"),  # conditional sharing states its basis too
        ("信息项", 3, "数据长度"),
    }
    assert report.created == []
    assert _codes(database, seeded) == []  # the first, valid row was rolled back too
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        from shuzhi.audit import service as audit

        page = audit.view_audit(ctx, action="catalog.workbook_rejected")
    assert page.total == 1 and page.items[0].outcome == "rejected"


def test_ambiguous_columns_are_rejected(database: Database) -> None:
    seeded = seed_org(database)
    headers = ["信息资源名称", "资源名称", "信息资源摘要", "类", "项", "目"]
    wb = workbook([["甲", "乙", "摘要", "1", "01", "001"]], entry_headers=headers)
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(wb))
    assert not report.ok
    assert report.errors[0].column == "资源名称" and report.errors[0].row == 1


def test_formulas_use_cached_values_and_dates_in_any_form(database: Database) -> None:
    from datetime import date

    from shuzhi.catalog.excel import a_date

    assert a_date(date(2024, 3, 1)) == date(2024, 3, 1)
    assert a_date(45352) == date(2024, 3, 1)
    assert a_date("2024年3月1日") == a_date("2024/3/1") == a_date("20240301") == date(2024, 3, 1)
    seeded = seed_org(database)
    # A formula cell whose cached value is 每日 (as Excel saves it).
    content = _with_formula(
        to_bytes(workbook([entry_values("101001/000001")], [item_values("101001/000001", "姓名")]))
    )
    report = _import(database, seeded.actor(Role.DATA_LIAISON), content)
    assert report.ok, report.errors
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert service.get_entry(ctx, "101001/000001").update_cycle == "2"


def _with_formula(content: bytes) -> bytes:
    """Rewrite the 更新周期 cell of row 2 as a formula with a cached string value."""
    import io
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text, n = re.subn(
                    r'<c r="Q2"[^>]*?(/>|>.*?</c>)',
                    '<c r="Q2" t="str"><f>"每"&amp;"日"</f><v>每日</v></c>',
                    text,
                )
                assert n == 1
                data = text.encode()
            target.writestr(info, data)
    return out.getvalue()


def test_garbage_rows_give_a_capped_report(database: Database) -> None:
    import random

    seeded = seed_org(database)
    rng = random.Random(7)
    rows = [[rng.choice(["", "x", 3.5, "？？"]) for _ in range(18)] for _ in range(3000)]
    for row in rows:
        row[1] = f"垃圾{rng.random()}"
    report = _import(database, seeded.actor(Role.DATA_LIAISON), to_bytes(workbook(rows)))
    assert not report.ok
    assert report.error_count > 1000 and len(report.errors) == 1000 and report.errors_truncated
    assert _codes(database, seeded) == []
