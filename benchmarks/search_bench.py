"""Search latency on SQLite and PostgreSQL with a realistic Chinese catalogue.

    python -m benchmarks.search_bench [--docs 100000] [--repeat 20] [--backends sqlite,postgresql]

Generates catalogue-like documents deterministically, indexes them on each backend (a
temporary SQLite file; a throw-away PostgreSQL server started like the test suite's),
runs a fixed list of queries and prints index time and p50/p95/max latency per backend.
Targets at 100,000 documents: p95 under 50 ms on SQLite, under 80 ms on PostgreSQL.

On PostgreSQL the queries run twice: right after the load, and again after ``VACUUM
ANALYZE`` of the search tables ("postgresql, vacuumed"), the state the autovacuum daemon
leaves them in within a minute or two of a bulk load. Right after the load the tables have
no visibility map yet (no index-only scans) and the first reads of each page still set its
rows' hint bits; the first row shows that transient, the second the steady state.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.search.backends import INDEX_TABLES
from shuzhi.search.service import SearchDoc, index_documents, search, set_synonyms
from shuzhi.settings import Settings

KIND = "catalog_entry"
UNITS = [
    ("GAJ", "区公安分局"),
    ("RSJ", "区人力资源和社会保障局"),
    ("SCJ", "区市场监督管理局"),
    ("ZRJ", "区自然资源和规划局"),
    ("MZJ", "区民政局"),
    ("WJJ", "区卫生健康局"),
    ("JYJ", "区教育局"),
    ("ZJJ", "区住房和城乡建设局"),
    ("SWJ", "区税务局"),
    ("STJ", "区生态环境分局"),
    ("YBJ", "区医疗保障局"),
    ("JTJ", "区交通运输局"),
    ("CGJ", "区城市管理局"),
    ("TJJ", "区统计局"),
    ("CZJ", "区财政局"),
    ("TYJ", "区退役军人事务局"),
    ("CNJD", "城南街道"),
    ("CBJD", "城北街道"),
    ("DHJD", "东湖街道"),
    ("XSJD", "西山街道"),
]
SUBJECTS = [
    "常住人口",
    "流动人口",
    "户籍人口",
    "企业",
    "个体工商户",
    "社会组织",
    "事业单位",
    "企业法人",
    "不动产",
    "房屋",
    "土地",
    "机动车",
    "驾驶人",
    "社保",
    "医保",
    "养老保险",
    "失业保险",
    "住房公积金",
    "学生",
    "教师",
    "医疗机构",
    "药品",
    "食品经营",
    "道路",
    "桥梁",
    "河道",
    "排污单位",
    "空气质量",
    "低保对象",
    "残疾人",
    "退役军人",
    "婚姻",
    "出生医学证明",
    "死亡",
    "疫苗接种",
    "纳税人",
    "发票",
    "招标投标",
    "政府采购",
    "行政处罚",
    "行政许可",
    "公共信用",
    "用电",
    "用水",
    "燃气",
    "养老机构",
    "托育机构",
    "网格",
    "安全生产",
    "特种设备",
]
ASPECTS = [
    "基本信息",
    "登记信息",
    "登记注册信息",
    "变更记录",
    "注销记录",
    "缴费记录",
    "参保缴费记录",
    "参保信息",
    "许可证信息",
    "检查记录",
    "统计数据",
    "台账",
    "名录",
    "档案",
    "明细",
    "年报信息",
    "监测数据",
    "核验结果",
    "补贴发放记录",
    "信用评价",
    "处罚决定",
    "办件信息",
    "证照信息",
]
ITEMS = [
    "姓名",
    "性别",
    "公民身份号码",
    "出生日期",
    "民族",
    "户籍地址",
    "居住地址",
    "联系电话",
    "统一社会信用代码",
    "法定代表人",
    "注册资本",
    "成立日期",
    "经营范围",
    "不动产权证号",
    "坐落",
    "建筑面积",
    "规划用途",
    "参保险种",
    "缴费基数",
    "缴费月份",
    "号牌号码",
    "许可证编号",
    "有效期",
    "检查结果",
    "处罚金额",
    "发放金额",
    "监测点位",
    "采样时间",
    "网格编码",
    "所属社区",
]
PURPOSES = [
    "一网通办",
    "基层治理",
    "精准救助",
    "市场监管",
    "城市规划",
    "应急管理",
    "民生服务",
    "经济运行监测",
    "信用体系建设",
    "执法监督",
]
SHARE_TYPES = ["unconditional"] * 5 + ["conditional"] * 4 + ["not_shared"]
STATUSES = ["published"] * 8 + ["draft", "retired"]
CLASSES = {"1": ["101", "102", "103"], "2": ["201", "202"], "3": ["301", "302", "303", "304"]}
SYNONYMS = [
    ["公民身份号码", "身份证", "身份证号", "身份证号码"],
    ["统一社会信用代码", "uscc", "信用代码"],
    ["号牌号码", "车牌号", "车牌号码"],
]
FACETS = ("unit", "share_type", "classification")


@dataclass(frozen=True)
class Query:
    text: str
    filters: Mapping[str, Sequence[str]] | None = None
    sees_all: bool = True


QUERIES = [
    Query("人口"),
    Query("社保"),
    Query("登记"),
    Query("法人"),
    Query("信息"),
    Query("常住人口基本信息"),
    Query("企业登记注册信息"),
    Query("不动产 登记"),
    Query("社保参保缴费记录"),
    Query("身份证"),
    Query("uscc"),
    Query("车牌号 检查"),
    Query("330182"),
    Query("330182-GAJ-000123"),
    Query("行政处罚决定"),
    Query("低保 补贴"),
    Query("人口", {"unit": ["GAJ"]}),
    Query("登记", {"share_type": ["conditional"]}, False),
    Query("", {"unit": ["RSJ", "YBJ"], "classification": ["1"]}),
    Query("医保", {"status": ["published"], "share_type": ["unconditional", "conditional"]}),
    Query("", None, False),
]


def documents(count: int, seed: int = 20240601) -> Iterator[SearchDoc]:
    """Catalogue-like documents, the same for every run with the same seed."""
    rng = random.Random(seed)
    for i in range(count):
        unit, unit_name = rng.choice(UNITS)
        subject, aspect = rng.choice(SUBJECTS), rng.choice(ASPECTS)
        year = rng.choice(["", "", f"{rng.randint(2015, 2024)}年度"])
        items = "、".join(rng.sample(ITEMS, rng.randint(4, 12)))
        body = (
            f"{unit_name}归集的{subject}{aspect}，用于{rng.choice(PURPOSES)}。"
            f"信息项：{items}。资源代码 330182-{unit}-{i:06d}，行政区划 330182。"
        )
        top = rng.choice(list(CLASSES))
        yield SearchDoc(
            kind=KIND,
            key=f"330182-{unit}-{i:06d}",
            title=f"{year}{subject}{aspect}",
            body=body,
            facets={
                "unit": unit,
                "share_type": rng.choice(SHARE_TYPES),
                "status": rng.choice(STATUSES),
                "classification": [top, rng.choice(CLASSES[top])],
            },
            scope_unit_id=rng.randint(1, 20) if rng.random() < 0.1 else None,
        )


def _settings(data_dir: Path, url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, secret_key="b" * 48)


@contextmanager
def sqlite_database() -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="shuzhi-bench-") as tmp:
        database = Database(_settings(Path(tmp), f"sqlite:///{tmp}/bench.db"))
        try:
            yield database
        finally:
            database.dispose()


@contextmanager
def postgres_database() -> Iterator[Database]:
    from tests import pg  # the test suite's throw-away server, reused as is

    server = pg.start()
    try:
        with psycopg.connect(server.admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE shuzhi_bench")
        with tempfile.TemporaryDirectory(prefix="shuzhi-bench-") as tmp:
            database = Database(_settings(Path(tmp), server.url("shuzhi_bench")))
            try:
                yield database
            finally:
                database.dispose()
    finally:
        if callable(server.stop):
            server.stop()


def load(database: Database, count: int, batch: int = 5_000) -> float:
    upgrade(database)
    started = time.perf_counter()
    docs = documents(count)
    while chunk := [d for _, d in zip(range(batch), docs, strict=False)]:
        with unit_of_work(database, SYSTEM) as ctx:
            index_documents(ctx, chunk)
    with unit_of_work(database, SYSTEM) as ctx:
        set_synonyms(ctx, SYNONYMS)
    return time.perf_counter() - started


def run_queries(database: Database, repeat: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for query in QUERIES:
        label = query.text or "(all)"
        if query.filters:
            label += " " + ";".join(f"{k}={'|'.join(v)}" for k, v in query.filters.items())
        for _ in range(repeat):
            started = time.perf_counter()
            with unit_of_work(database, SYSTEM) as ctx:
                search(
                    ctx,
                    KIND,
                    query.text,
                    filters=query.filters,
                    facet_fields=FACETS,
                    viewer_unit_id=3,
                    viewer_sees_all=query.sees_all,
                )
            timings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
    return timings


def vacuum(database: Database) -> None:
    """``VACUUM ANALYZE`` the search tables (outside a transaction, as it must run)."""
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM ANALYZE {INDEX_TABLES}")


def _p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--per-query", action="store_true", help="also print each query")
    args = parser.parse_args(argv)
    openers = {"sqlite": sqlite_database, "postgresql": postgres_database}
    rows = []

    def measure(name: str, database: Database, seconds: float) -> None:
        before = os.getloadavg()[0]
        timings = run_queries(database, args.repeat)
        after = os.getloadavg()[0]
        every = [t for values in timings.values() for t in values]
        print(f"{name}: load average {before:.2f} before the queries, {after:.2f} after")
        rows.append((name, seconds, statistics.median(every), _p(every, 0.95), max(every)))
        if args.per_query:
            print(f"\n{name}: per query (ms)  p50 / p95 / max")
            for label, values in timings.items():
                print(
                    f"  {label:<48} {statistics.median(values):7.1f} {_p(values, 0.95):7.1f} "
                    f"{max(values):7.1f}"
                )

    for name in args.backends.split(","):
        with openers[name]() as database:
            seconds = load(database, args.docs)
            with unit_of_work(database, SYSTEM) as ctx:  # warm caches and jieba once
                search(ctx, KIND, "人口")
            measure(name, database, seconds)
            if name == "postgresql":
                vacuum(database)
                measure(f"{name}, vacuumed", database, seconds)
    print(
        f"\n{args.docs:,} documents, {len(QUERIES)} queries x {args.repeat}, "
        f"facets {', '.join(FACETS)}"
    )
    print(f"{'backend':<22}{'index s':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, seconds, p50, p95, worst in rows:
        print(f"{name:<22}{seconds:>10.1f}{p50:>10.1f}{p95:>10.1f}{worst:>10.1f}")


if __name__ == "__main__":
    main()
