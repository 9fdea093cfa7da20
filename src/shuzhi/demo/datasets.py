"""Demo datasets: real-shaped data with valid identifiers attached to catalogue entries.

Deterministic (seeded) and loaded through the normal services, so every version is
profiled, classified, graded and quality-checked like real data. A few problems are planted
on purpose (bad ID checksums, missing phones, invalid credit codes, a duplicate) and one
entry is left overdue for its update cycle.
"""

from __future__ import annotations

import csv
import random
import tempfile
from collections.abc import Callable
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


def _population(rng: random.Random, n: int) -> tuple[list[str], list[list[str]]]:
    header = ["XM", "SFZHM", "XB", "CSRQ", "LXDH", "JZDZ", "SSJD"]
    rows = []
    for i in range(n):
        rid = _rid(rng)
        if i % 250 == 7:  # planted: a mistyped last digit
            rid = rid[:-1] + ("1" if rid[-1] != "1" else "2")
        phone = "" if i % 97 == 3 else _phone(rng)  # planted: missing phones
        gender = "男" if int(rid[16]) % 2 else "女"
        birth = f"{rid[6:10]}-{rid[10:12]}-{rid[12:14]}"
        rows.append([_name(rng), rid, gender, birth, phone, _address(rng), rng.choice(STREETS)])
    return header, rows


def _enterprises(rng: random.Random, n: int) -> tuple[list[str], list[list[str]]]:
    header = ["统一社会信用代码", "企业名称", "法定代表人", "成立日期", "注册资本（万元）", "行业"]
    rows = []
    for i in range(n):
        body = f"{rng.randint(10_000_000, 99_999_999)}"
        code = uscc_from_parts("9", "1", rng.choice(REGIONS), body)
        if i % 150 == 11:  # planted: corrupted credit codes
            code = code[:-1] + ("0" if code[-1] != "0" else "1")
        rows.append(
            [
                code,
                f"杭州{rng.choice(ROADS)[:2]}{rng.choice(('科技', '贸易', '餐饮', '建设'))}"
                f"有限公司{i:04d}",
                _name(rng),
                f"{rng.randint(1995, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                str(rng.choice((10, 50, 100, 500, 1000, 5000))),
                rng.choice(INDUSTRIES),
            ]
        )
    return header, rows


def _social_security(rng: random.Random, n: int) -> tuple[list[str], list[list[str]]]:
    header = ["姓名", "公民身份号码", "险种", "参保日期", "缴费基数", "单位名称"]
    rows = []
    for i in range(n):
        base = "" if i % 400 == 5 else str(rng.randint(3957, 24930))  # planted: missing base
        rows.append(
            [
                _name(rng),
                _rid(rng, rng.randint(1960, 2004)),
                rng.choice(INSURANCE),
                f"{rng.randint(2000, 2025)}{rng.randint(1, 12):02d}01",
                base,
                f"杭州示范企业{rng.randint(1, 300):03d}有限公司",
            ]
        )
    rows.append(list(rows[10]))  # planted: a duplicated record
    return header, rows


def _checkups(rng: random.Random, n: int) -> tuple[list[str], list[list[str]]]:
    header = ["姓名", "身份证号", "体检日期", "体检结论"]
    rows = [
        [
            _name(rng),
            _rid(rng, rng.randint(1950, 1960)),
            f"2025-{rng.randint(1, 6):02d}-{rng.randint(1, 28):02d}",
            rng.choice(("未见异常", "高血压", "糖尿病", "血脂异常")),
        ]
        for _ in range(n)
    ]
    return header, rows


@dataclass(frozen=True)
class DemoDataset:
    unit: str
    name: str
    abstract: str
    update_cycle: str
    make: Callable[[random.Random, int], tuple[list[str], list[list[str]]]]
    rows: int
    types: dict[str, str]
    rules: list[RuleIn]
    overdue_days: int = 0


def _rules(*items: tuple[RuleKind, str | None, dict[str, Any]]) -> list[RuleIn]:
    return [RuleIn(kind=k, column=c, params=p) for k, c, p in items]


DATASETS = [
    DemoDataset(
        "GAJ",
        "户籍人口基础信息",
        "本区户籍人口的姓名、公民身份号码、性别、出生日期、联系电话和居住地址。",
        "2",
        _population,
        4000,
        {"CSRQ": "D"},
        _rules(
            (RuleKind.RESIDENT_ID, "SFZHM", {}),
            (RuleKind.UNIQUE, "SFZHM", {}),
            (RuleKind.NOT_NULL, "LXDH", {}),
            (RuleKind.ALLOWED_VALUES, "XB", {"values": ["男", "女"]}),
        ),
    ),
    DemoDataset(
        "SCJ",
        "市场主体登记信息",
        "本区登记的企业名称、统一社会信用代码、法定代表人、成立日期、注册资本和行业。",
        "3",
        _enterprises,
        2000,
        {"成立日期": "D", "注册资本（万元）": "N"},
        _rules(
            (RuleKind.USCC, "统一社会信用代码", {}),
            (RuleKind.UNIQUE, "统一社会信用代码", {}),
            (RuleKind.RANGE, "注册资本（万元）", {"min": 1, "max": 1_000_000}),
        ),
    ),
    DemoDataset(
        "RSJ",
        "社会保险参保信息",
        "本区参保人员的险种、参保日期、缴费基数和参保单位。",
        "4",
        _social_security,
        3000,
        {"缴费基数": "N"},
        _rules(
            (RuleKind.RESIDENT_ID, "公民身份号码", {}),
            (RuleKind.NOT_NULL, "缴费基数", {}),
            (RuleKind.RANGE, "缴费基数", {"min": 3957, "max": 24930}),
        ),
    ),
    DemoDataset(
        "WJW",
        "老年人健康体检信息",
        "本区65岁以上老年人年度健康体检的结论。",
        "4",
        _checkups,
        1500,
        {"体检日期": "D"},
        _rules((RuleKind.RESIDENT_ID, "身份证号", {})),
        overdue_days=75,
    ),
]


def _entry(ctx: Any, spec: DemoDataset, header: list[str]) -> str:
    items = [
        {
            "name": column,
            "data_type": spec.types.get(column, "C"),
            "length": 200,
            "share_type": "conditional",
        }
        for column in header
    ]
    data = EntryCreate.model_validate(
        {
            "name": spec.name,
            "abstract": spec.abstract,
            "unit_code": spec.unit,
            "class_code": "3",
            "subclass_code": "01",
            "group_code": "001",
            "format_code": "3",
            "format_subtype": "MySQL",
            "share_type": "conditional",
            "share_conditions": "仅用于履行法定职责",
            "share_method": "platform",
            "share_method_type": "interface",
            "open_type": "not_open",
            "not_open_reason": "sensitive",
            "update_cycle": spec.update_cycle,
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
        if lake.freshness_report(ctx).rows:
            return 0
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="shuzhi-demo-") as tmp:
        for i, spec in enumerate(DATASETS):
            header, rows = spec.make(rng, spec.rows)
            path = Path(tmp) / f"demo{i}.csv"
            with open(path, "w", encoding="gbk" if i == 0 else "utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(header)
                writer.writerows(rows)
            with unit_of_work(database, actor) as ctx:
                code = _entry(ctx, spec, header)
                for rule in spec.rules:
                    quality.define_quality_rule(ctx, code, rule)
                lake.ingest(ctx, code, FileSource(path))
                if spec.overdue_days:
                    # Demo only: pretend this entry was last loaded long ago.
                    dataset_id = ctx.db.query(Dataset.id).filter_by(resource_code=code).scalar()
                    ctx.db.execute(
                        update(DatasetVersion)
                        .where(DatasetVersion.dataset_id == dataset_id)
                        .values(created_at=utcnow() - timedelta(days=spec.overdue_days))
                    )
    lake.close_engine(database)
    return len(DATASETS)
