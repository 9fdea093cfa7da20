"""Demo datasets: real-shaped data with valid identifiers, attached to the demo catalogue's
entries (values generated per data item name).

Deterministic (seeded) and loaded through the normal services, so every version is
profiled, classified, graded and quality-checked like real data. A few problems are planted
on purpose (bad ID checksums, missing phones, invalid credit codes, a duplicate) and one
entry is left overdue for its update cycle.
"""

from __future__ import annotations

import csv
import random
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import Actor, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.demo import names
from shuzhi.lake import service as lake
from shuzhi.lake.models import Dataset, DatasetVersion
from shuzhi.lake.readers import FileSource
from shuzhi.quality import service as quality
from shuzhi.quality.models import RuleKind
from shuzhi.quality.schemas import RuleIn
from shuzhi.standards.identifiers import ric_check_char, uscc_from_parts

SEED = 20260315
REGIONS = ("330182", "330106", "330105", "330102", "330110")
STREETS = ("城西街道", "城东街道", "江南街道", "新湖街道")
ROADS = ("青川路", "望江路", "锦绣大道", "人民南路", "建设北路", "滨河路", "文化路")
INDUSTRIES = ("批发和零售业", "制造业", "信息传输、软件和信息技术服务业", "住宿和餐饮业", "建筑业")
INSURANCE = ("城镇职工基本养老保险", "城乡居民基本养老保险", "职工基本医疗保险", "失业保险")


def _rid(rng: random.Random, birth_year: int | None = None) -> str:
    year = birth_year or rng.randint(1940, 2015)
    first17 = f"{rng.choice(REGIONS)}{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 += f"{rng.randint(0, 999):03d}"
    return first17 + ric_check_char(first17)


def _name(rng: random.Random) -> str:
    return rng.choice(names.SURNAMES) + "".join(rng.choice(names.GIVEN)[:1] for _ in range(2))


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "150", "186", "177")) + f"{rng.randint(0, 10**8 - 1):08d}"


def _address(rng: random.Random) -> str:
    return (
        f"浙江省杭州市{rng.choice(STREETS)}{rng.choice(ROADS)}"
        f"{rng.randint(1, 300)}号{rng.randint(1, 30)}幢{rng.randint(101, 2603)}室"
    )


def _value(item: str, rng: random.Random, i: int) -> str:
    """A plausible value for a data item, chosen by its name (with planted problems)."""
    if "身份" in item or item == "SFZHM":
        rid = _rid(rng)
        return rid[:-1] + ("1" if rid[-1] != "1" else "2") if i % 250 == 7 else rid
    if "信用代码" in item:
        code = uscc_from_parts("9", "1", rng.choice(REGIONS), f"{rng.randint(10**7, 10**8 - 1)}")
        return code[:-1] + ("0" if code[-1] != "0" else "1") if i % 150 == 11 else code
    if "手机" in item or "电话" in item:
        return "" if i % 97 == 3 else _phone(rng)
    if item in ("姓名", "法定代表人") or item.endswith("人姓名"):
        return _name(rng)
    if item == "性别":
        return rng.choice(("男", "女"))
    if "住址" in item or "地址" in item or item == "坐落":
        return _address(rng)
    if "日期" in item:
        return f"{rng.randint(1950, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if "企业名称" in item or "机构" in item:
        return f"杭州{rng.choice(ROADS)[:2]}{rng.choice(('科技', '贸易', '餐饮'))}有限公司"
    if item in ("注册资本", "建筑面积") or "金额" in item or "基数" in item:
        return str(rng.choice((10, 50, 100, 500, 1000, 5000)))
    if "编号" in item or "号码" in item:
        return f"{rng.randint(2020, 2025)}{i:08d}"
    if "状态" in item or "结果" in item:
        return rng.choice(("已办结", "办理中", "不予受理"))
    if item == "社会保障号码":
        return _rid(rng)
    return rng.choice(INDUSTRIES + INSURANCE)


def _rows(items: list[str], rng: random.Random, n: int) -> list[list[str]]:
    rows = [[_value(item, rng, i) for item in items] for i in range(n)]
    if n > 20:
        rows.append(list(rows[10]))  # planted: a duplicated record
    return rows


def _rules_for(items: list[str]) -> list[RuleIn]:
    rules = []
    for item in items:
        if "身份" in item:
            rules += [RuleIn(kind=RuleKind.RESIDENT_ID, column=item)]
            rules += [RuleIn(kind=RuleKind.UNIQUE, column=item)]
        elif "信用代码" in item:
            rules += [RuleIn(kind=RuleKind.USCC, column=item)]
        elif "手机" in item:
            rules += [RuleIn(kind=RuleKind.NOT_NULL, column=item)]
        elif item == "性别":
            rules += [
                RuleIn(kind=RuleKind.ALLOWED_VALUES, column=item, params={"values": ["男", "女"]})
            ]
    return rules


@dataclass(frozen=True)
class DemoDataset:
    unit: str
    keyword: str  # finds the demo catalogue's entry of this unit
    rows: int
    overdue: bool = False


DATASETS = [
    DemoDataset("GAJ", "户籍人口", 4000),
    DemoDataset("SCJ", "企业登记", 2000),
    DemoDataset("RSJ", "社会保险参保", 3000),
    DemoDataset("WJW", "", 1500, overdue=True),
]
FALLBACK_ITEMS = ["姓名", "公民身份号码", "性别", "出生日期", "手机号码", "住址"]


def _find_entry(ctx: Any, spec: DemoDataset) -> str | None:
    filters = {"unit": [spec.unit], "status": ["published"]}
    if spec.overdue:
        filters["update_cycle"] = ["2", "4", "5"]
    page = catalog.list_entries(ctx, spec.keyword, filters=filters, limit=20)
    for brief in page.items:
        if spec.keyword in brief.name and brief.items >= 3:
            return brief.resource_code
    return None


def _own_entry(ctx: Any, spec: DemoDataset) -> str:
    """Without the catalogue demo: a small entry of our own."""
    items = [
        {
            "name": n,
            "data_type": "D" if "日期" in n else "C",
            "length": 200,
            "share_type": "conditional",
        }
        for n in FALLBACK_ITEMS
    ]
    data = EntryCreate.model_validate(
        {
            "name": f"{spec.keyword or '健康体检'}信息",
            "abstract": "演示数据集。",
            "unit_code": spec.unit,
            "class_code": "3",
            "subclass_code": "01",
            "group_code": "001",
            "format_code": "3",
            "format_subtype": "MySQL",
            "share_type": "conditional",
            "share_conditions": "仅用于履行法定职责",
            "not_shared_basis": "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）",
            "share_method": "platform",
            "share_method_type": "interface",
            "open_type": "not_open",
            "not_open_reason": "sensitive",
            "update_cycle": "4",
            "items": items,
        }
    )
    code = catalog.create_entry(ctx, data).resource_code
    catalog.submit_entry(ctx, code)
    catalog.approve_entry(ctx, code)
    return code


def build_datasets(database: Database, actor: Actor) -> int:
    """Attach the demo datasets (once); returns how many were loaded."""
    with unit_of_work(database, actor) as ctx:
        if lake.current_scores(ctx):  # some dataset already has a current version
            return 0
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="shuzhi-demo-") as tmp:
        for i, spec in enumerate(DATASETS):
            with unit_of_work(database, actor) as ctx:
                code = _find_entry(ctx, spec) or _own_entry(ctx, spec)
                entry = catalog.get_entry(ctx, code)
                items = [item.name for item in entry.items]
                for rule in _rules_for(items):
                    quality.define_quality_rule(ctx, code, rule)
            path = Path(tmp) / f"demo{i}.csv"
            with open(path, "w", encoding="gbk" if i == 0 else "utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(items)
                writer.writerows(_rows(items, rng, spec.rows))
            with unit_of_work(database, actor) as ctx:
                lake.ingest(ctx, code, FileSource(path))
                if spec.overdue:
                    period = lake.cycle_period(entry.update_cycle) or timedelta(days=31)
                    # Demo only: pretend this entry was last loaded two cycles ago.
                    dataset_id = ctx.db.query(Dataset.id).filter_by(resource_code=code).scalar()
                    ctx.db.execute(
                        update(DatasetVersion)
                        .where(DatasetVersion.dataset_id == dataset_id)
                        .values(created_at=utcnow() - 2 * period - timedelta(days=3))
                    )
    lake.close_engine(database)
    return len(DATASETS)
