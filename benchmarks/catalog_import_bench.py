"""Import a 2,000-entry / 20,000-item compile-template workbook on SQLite and PostgreSQL.

    python -m benchmarks.catalog_import_bench [--entries 2000] [--items 10] [--no-postgres]

Also times a file of 100,000 rows of garbage (refused with a capped report). Target: the
2,000-entry import in under 15 s on SQLite.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from shuzhi.catalog.excel import service as excel_service
from shuzhi.catalog.excel import write_workbook
from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.org import service as org
from shuzhi.org.models import UnitKind
from shuzhi.org.schemas import UnitCreate
from shuzhi.settings import Settings

TOPICS = [
    "户籍",
    "出生",
    "婚姻",
    "社保",
    "医保",
    "就业",
    "企业",
    "法人",
    "不动产",
    "车辆",
    "公积金",
]
KINDS = ["登记信息", "变更信息", "注销信息", "统计信息", "许可信息", "检查信息", "处罚信息"]
ITEM_NAMES = [
    "姓名",
    "公民身份号码",
    "性别",
    "出生日期",
    "住址",
    "联系电话",
    "办理日期",
    "办理机构",
    "业务编号",
    "状态",
    "金额",
    "备注",
    "统一社会信用代码",
    "企业名称",
]


def build_workbook(entries: int, items: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    entry_rows, item_rows = [], []
    for n in range(1, entries + 1):
        code = f"3{n % 8 + 1:02d}{n % 997 + 1:03d}/{n:06d}"
        share = rng.choice(["无条件共享", "有条件共享"])
        entry_rows.append(
            {
                "resource_code": code,
                "name": f"{rng.choice(TOPICS)}{rng.choice(KINDS)}{n}",
                "unit_code": "BENCH",
                "abstract": "本单位在履职过程中产生的业务数据，按更新周期汇交共享平台。",
                "class_code": "3",
                "subclass_code": code[1:3],
                "group_code": code[3:6],
                "format_code": "数据库",
                "format_subtype": "MySQL",
                "share_type": share,
                "share_conditions": "用于本部门法定职责相关业务" if share == "有条件共享" else "",
                "not_shared_basis": "《政务数据共享条例》" if share == "有条件共享" else "",
                "share_method": "共享平台方式/接口",
                "open_type": "不予开放",
                "not_open_reason": "涉及敏感信息",
                "update_cycle": rng.choice(["每日", "每月", "实时"]),
                "is_classified": "否",
            }
        )
        for i, name in enumerate(
            rng.sample(ITEM_NAMES, items)
            if items <= len(ITEM_NAMES)
            else [f"字段{k}" for k in range(items)]
        ):
            item_rows.append(
                {
                    "resource_code": code,
                    "name": name,
                    "data_type": "字符型" if i % 3 else "C",
                    "length": 50,
                    "share_type": "",
                }
            )
    return write_workbook(entry_rows, item_rows)


def build_garbage(rows: int, seed: int = 2) -> bytes:
    rng = random.Random(seed)
    junk = ["", "x", "？？", "1e9", "=SUM(A1)", "无条件?", "2024-13-45"]
    entry_rows = [
        {
            "name": f"垃圾{n}",
            "share_type": rng.choice(junk),
            "update_cycle": rng.choice(junk),
            "class_code": rng.choice(junk),
            "resource_code": rng.choice(junk),
        }
        for n in range(rows)
    ]
    return write_workbook(entry_rows, [])


@contextmanager
def fresh_database(backend: str) -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as tmp:
        stop = None
        if backend == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            import psycopg
            from tests import pg

            server = pg.start()
            stop = server.stop
            with psycopg.connect(server.admin_url, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS shuzhi_bench")
                conn.execute("CREATE DATABASE shuzhi_bench")
            url = server.url("shuzhi_bench")
        settings = Settings(data_dir=Path(tmp), database_url=url, secret_key="b" * 48)
        database = Database(settings)
        upgrade(database)
        with unit_of_work(database, SYSTEM) as ctx:
            org.create_unit(ctx, UnitCreate(code="BR", name="基准区", kind=UnitKind.REGION))
            org.create_unit(
                ctx,
                UnitCreate(code="BENCH", name="基准局", kind=UnitKind.DEPARTMENT, parent_code="BR"),
            )
        try:
            yield database
        finally:
            database.dispose()
            if callable(stop):
                stop()


def timed_import(database: Database, content: bytes) -> tuple[float, excel_service.ImportReport]:
    start = time.perf_counter()
    with unit_of_work(database, SYSTEM) as ctx:
        report = excel_service.import_workbook(ctx, content, "BENCH", filename="bench.xlsx")
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--garbage", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    content = build_workbook(args.entries, args.items)
    garbage = build_garbage(args.garbage)
    table = Table(title="Compile-template import / 编目模板导入")
    for column in ("backend", "file", "rows", "MB", "seconds", "result"):
        table.add_column(column)
    backends = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    for backend in backends:
        with fresh_database(backend) as database:
            seconds, report = timed_import(database, content)
            result = (
                f"created {len(report.created)}" if report.ok else f"{report.error_count} errors"
            )
            table.add_row(
                backend,
                "valid",
                f"{args.entries} + {args.entries * args.items}",
                f"{len(content) / 1e6:.1f}",
                f"{seconds:.1f}",
                result,
            )
            seconds, report = timed_import(database, content)
            table.add_row(
                backend,
                "same file again",
                "",
                "",
                f"{seconds:.1f}",
                f"unchanged {len(report.unchanged)}",
            )
            seconds, report = timed_import(database, garbage)
            table.add_row(
                backend,
                "garbage",
                f"{args.garbage}",
                f"{len(garbage) / 1e6:.1f}",
                f"{seconds:.1f}",
                f"refused: {report.error_count} errors, {len(report.errors)} listed",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
