"""The demo district's catalogue: functional lists, compile tasks and entries with data items.

Built through the catalog services (so every entry is validated and audited) in one unit of
work. Deterministic (seeded random choices, fixed dates) and idempotent (skipped when the
district already has compile tasks). About 1,739 tasks, of which 1,609 are covered by a
published entry; the rest are open, in draft or waiting for review. A handful of units
claim data elements another unit is the source of, which raises 一数一源 conflicts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import DutyIn, EntryCreate, MatterIn, TaskIn
from shuzhi.context import Ctx
from shuzhi.demo import abstracts, names

TASKS = 1739
PUBLISHED = 1609
SUBMITTED = 25
DRAFTS = 45
START = date(2025, 1, 6)
END = date(2026, 1, 30)

# Units that are the natural source of these data elements (code → unit).
SOURCES = {
    "DE0001": "GAJ",
    "DE0003": "GAJ",
    "DE0004": "GAJ",
    "DE0005": "GAJ",
    "DE0008": "GAJ",
    "DE0011": "GAJ",
    "DE0012": "GAJ",
    "DE0002": "SCJ",
    "DE0009": "SCJ",
    "DE0010": "SCJ",
    "DE0014": "SCJ",
    "DE0015": "SCJ",
    "DE0016": "SCJ",
    "DE0006": "GHZY",
    "DE0017": "GHZY",
    "DE0013": "RSJ",
    "DE0018": "MZJ",
}
# Units that also claim an element another unit owns: each raises one conflict.
WRONG_CLAIMS = {
    "RSJ": "DE0001",
    "WJW": "DE0005",
    "SWUJ": "DE0002",
    "ZJJ": "DE0006",
    "MZJ": "DE0008",
    "YBJ": "DE0013",
}
FIRST = ["GAJ", "SCJ", "GHZY", "RSJ", "MZJ"]

# (item name, type, length, element code or "")
PERSON = [
    ("姓名", "C", 50, "DE0003"),
    ("公民身份号码", "C", 18, "DE0001"),
    ("性别", "C", 1, "DE0004"),
    ("出生日期", "D", 8, "DE0005"),
    ("手机号码", "C", 11, "DE0007"),
    ("住址", "C", 200, "DE0008"),
]
ENTERPRISE = [
    ("企业名称", "C", 200, "DE0010"),
    ("统一社会信用代码", "C", 18, "DE0002"),
    ("法定代表人", "C", 50, "DE0009"),
    ("注册资本", "Y", 18, "DE0014"),
    ("成立日期", "D", 8, "DE0015"),
]
PROPERTY = [
    ("不动产单元号", "C", 28, "DE0006"),
    ("不动产权证书号", "C", 50, "DE0017"),
    ("坐落", "C", 200, ""),
    ("建筑面积", "N", 12, ""),
]
BUSINESS = [
    ("受理编号", "C", 32, ""),
    ("办理日期", "D", 8, ""),
    ("办理结果", "C", 20, ""),
    ("经办机构", "C", 100, ""),
    ("审批状态", "C", 10, ""),
    ("备注", "M", 2000, ""),
]

# Subject of a department's resources: decides the data items and the base classification.
SUBJECT = {
    "GAJ": "person",
    "MZJ": "person",
    "RSJ": "person",
    "WJW": "person",
    "YBJ": "person",
    "TYJ": "person",
    "JYJ": "person",
    "SFJ": "person",
    "XFJ": "person",
    "SCJ": "enterprise",
    "SWUJ": "enterprise",
    "SWU": "enterprise",
    "GXJ": "enterprise",
    "KJJ": "enterprise",
    "FGJ": "enterprise",
    "TJJ": "enterprise",
    "YJJ": "enterprise",
    "GHZY": "property",
    "ZJJ": "property",
    "CGJ": "property",
    "SWJ": "property",
    "NYJ": "property",
}
ITEMS = {"person": PERSON, "enterprise": ENTERPRISE, "property": PROPERTY}
# Items some units always hold (their own source elements, or the one they wrongly claim).
UNIT_ITEMS = {
    "RSJ": [("社会保障号码", "C", 18, "DE0013")],
    "YBJ": [("社会保障号码", "C", 18, "DE0013")],
    "MZJ": [("婚姻状况", "C", 2, "DE0018"), ("住址", "C", 200, "DE0008")],
}
BASE_SUBCLASS = {"person": "01", "enterprise": "02", "property": "03"}

# Matters (事项) per department; other units use the generic list.
MATTERS: dict[str, list[str]] = {
    "GAJ": [
        "户籍人口",
        "流动人口",
        "户口迁移",
        "居民身份证",
        "机动车登记",
        "驾驶人",
        "出入境证件",
        "治安管理",
        "特种行业许可",
        "消防监督",
        "犬只登记",
        "交通违法",
    ],
    "RSJ": [
        "社会保险参保",
        "养老保险待遇",
        "失业保险",
        "工伤认定",
        "就业登记",
        "职业技能培训",
        "人才引进",
        "劳动合同备案",
        "劳动保障监察",
        "专业技术职称",
    ],
    "SCJ": [
        "企业登记",
        "个体工商户登记",
        "食品经营许可",
        "特种设备",
        "计量器具检定",
        "广告监测",
        "产品质量抽检",
        "知识产权",
        "消费投诉",
        "行政处罚",
    ],
    "WJW": [
        "出生医学证明",
        "预防接种",
        "医疗机构执业",
        "医师执业注册",
        "母婴保健",
        "传染病报告",
        "家庭医生签约",
        "健康档案",
        "职业病诊断",
    ],
    "MZJ": [
        "婚姻登记",
        "最低生活保障",
        "特困人员供养",
        "社会组织登记",
        "殡葬服务",
        "养老服务机构",
        "残疾人两项补贴",
        "临时救助",
        "地名管理",
    ],
    "GHZY": [
        "不动产登记",
        "建设用地规划许可",
        "土地供应",
        "耕地保护",
        "地质灾害",
        "测绘成果",
        "矿产资源",
        "国土空间规划",
    ],
    "ZJJ": [
        "商品房预售",
        "房屋租赁备案",
        "建筑施工许可",
        "建筑企业资质",
        "物业管理",
        "住房保障",
        "燃气经营许可",
        "竣工验收备案",
    ],
    "JYJ": ["学籍管理", "教师资格", "民办学校审批", "学生资助", "招生入学", "校车管理"],
    "SWUJ": ["税务登记", "发票管理", "纳税申报", "税收优惠备案", "纳税信用评价"],
    "YBJ": ["医保参保", "医保结算", "定点医药机构", "异地就医备案", "医疗救助"],
}
GENERIC = [
    "行政许可",
    "行政检查",
    "行政处罚",
    "行政确认",
    "公共服务",
    "专项资金",
    "统计调查",
    "信访事项",
    "应急值守",
    "政务公开",
    "安全生产监管",
    "项目审批",
]
STREET = [
    "社区网格",
    "人口台账",
    "居民服务",
    "综治信访",
    "城市管理",
    "安全巡查",
    "退役军人服务",
    "老年人服务",
    "残疾人服务",
    "平安建设",
]
KINDS = [
    "登记信息",
    "办理信息",
    "审批结果信息",
    "证照信息",
    "监管信息",
    "统计信息",
    "档案信息",
    "申请材料信息",
]
UNIT_NAMES = {
    **{code: name for code, name, _ in names.DEPARTMENTS},
    **dict(names.STREETS),
    **dict(names.ENTERPRISES),
}
ABSTRACT_SEED = 7_2026  # abstracts draw from their own generator (see demo.abstracts)
DUTIES = [
    "依法履行行政审批和服务职责",
    "依法履行监督管理职责",
    "承担行业统计和信息化工作",
    "承担公共服务职责",
]


@dataclass
class _Task:
    id: int
    unit: str
    name: str


def _day(rng: random.Random, low: date = START, high: date = END) -> date:
    return low + timedelta(days=rng.randrange(0, (high - low).days + 1))


def _units() -> list[tuple[str, int, str]]:
    """(code, index for the 目 segment, kind) of every unit that compiles a catalogue."""
    out = [(code, i + 1, "department") for i, (code, _, _) in enumerate(names.DEPARTMENTS)]
    out += [(code, 100 + i, "street") for i, (code, _) in enumerate(names.STREETS)]
    out += [(code, 200 + i, "enterprise") for i, (code, _) in enumerate(names.ENTERPRISES)]
    order = {code: i for i, code in enumerate(FIRST)}
    return sorted(out, key=lambda u: (order.get(u[0], len(FIRST)), u[1]))


def _build_tasks(ctx: Ctx, rng: random.Random) -> list[_Task]:
    units = _units()
    shares = [3 if kind == "department" else 1 for _, _, kind in units]
    weight = sum(shares)
    counts = [TASKS * s // weight for s in shares]
    for i in range(TASKS - sum(counts)):
        counts[i % len(counts)] += 1
    tasks: list[_Task] = []
    for (code, _, kind), wanted in zip(units, counts, strict=True):
        matters = (
            STREET if kind == "street" else list(dict.fromkeys([*MATTERS.get(code, []), *GENERIC]))
        )
        duties = [
            catalog.create_duty(
                ctx, DutyIn(unit_code=code, code=f"ZN{d + 1:02d}", name=name, sort_order=d)
            )
            for d, name in enumerate(DUTIES[: 2 + len(matters) % 3])
        ]
        made = 0
        for m, matter_name in enumerate(matters):
            if made >= wanted:
                break
            matter = catalog.create_matter(
                ctx,
                MatterIn(
                    duty_id=duties[m % len(duties)].id, code=f"SX{m + 1:03d}", name=matter_name
                ),
            )
            per_matter = -(-(wanted - made) // (len(matters) - m))
            kinds = rng.sample(KINDS, k=min(len(KINDS), per_matter))
            for kind_name in kinds:
                task = catalog.create_task(
                    ctx,
                    TaskIn(
                        matter_id=matter.id,
                        name=f"{matter_name}{kind_name}",
                        high_value=rng.random() < 0.12,
                        created_on=_day(rng, START, date(2025, 6, 30)),
                    ),
                )
                tasks.append(_Task(task.id, code, task.name))
                made += 1
    return tasks


def _items(rng: random.Random, unit: str, claim: str | None) -> list[dict[str, Any]]:
    subject = SUBJECT.get(unit, rng.choice(["person", "enterprise"]))
    core = ITEMS[subject][: rng.randint(3, len(ITEMS[subject]))]
    own = [i for i in UNIT_ITEMS.get(unit, []) if i not in core]
    extra = rng.sample(BUSINESS, k=rng.randint(2, 5))
    items = []
    for name, dtype, length, element in [*core, *own, *extra]:
        is_source = bool(element) and (SOURCES.get(element) == unit or element == claim)
        items.append(
            {
                "name": name,
                "data_type": dtype,
                "length": length,
                "share_type": "unconditional",
                "element_code": element or None,
                "is_source": is_source,
            }
        )
    return items


def _entry(rng: random.Random, task: _Task, index: int, claim: str | None) -> EntryCreate:
    subject = SUBJECT.get(task.unit, "")
    base = subject and rng.random() < 0.35
    share = rng.choices(["unconditional", "conditional", "not_shared"], [0.62, 0.33, 0.05])[0]
    items = _items(rng, task.unit, claim)
    data: dict[str, Any] = {
        "unit_code": task.unit,
        "name": task.name,
        "abstract": "",  # written below, once the update cycle is chosen
        "class_code": "1" if base else "3",
        "subclass_code": BASE_SUBCLASS[subject] if base else "07",
        "group_code": f"{index:03d}",
        "format_code": rng.choices(["3", "2", "7", "1"], [0.6, 0.2, 0.15, 0.05])[0],
        "share_type": share,
        "share_method": "platform",
        "share_method_type": rng.choice(["interface", "table", "file"]),
        "open_type": "not_open",
        "not_open_reason": rng.choice(["sensitive", "law", "policy"]),
        "update_cycle": rng.choices(
            ["1", "2", "4", "5", "6", "8"], [0.1, 0.35, 0.3, 0.1, 0.1, 0.05]
        )[0],
        "items": items,
        "task_ids": [task.id],
    }
    data["abstract"] = abstracts.abstract(
        ABSTRACT_SEED, task.unit, UNIT_NAMES.get(task.unit, "本单位"), task.name,
        data["update_cycle"],
    )  # fmt: skip
    if data["format_code"] == "1":
        data["items"] = []
    if share == "conditional":
        data["share_conditions"] = "仅限依法履职需要，经提供部门审核同意后共享。"
        data["not_shared_basis"] = "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）"
        for item in data["items"]:
            item["share_type"] = rng.choice(["unconditional", "conditional"])
    elif share == "not_shared":
        data["not_shared_basis"] = "《中华人民共和国个人信息保护法》第三十四条"
        data["share_method"] = data["share_method_type"] = ""
        for item in data["items"]:
            item["share_type"] = "not_shared"
    elif not any(i["element_code"] == "DE0001" for i in data["items"]) and rng.random() < 0.25:
        data["open_type"] = rng.choice(["unconditional", "conditional"])
        data["not_open_reason"] = ""
        if data["open_type"] == "conditional":
            data["open_conditions"] = "签订数据利用协议，限定用途使用。"
    return EntryCreate.model_validate(data)


def build_catalog(ctx: Ctx, seed: int) -> int:
    """Create the demo catalogue unless the district already has one; returns tasks made."""
    if catalog.list_tasks(ctx, limit=1):
        return 0
    rng = random.Random(seed)
    tasks = _build_tasks(ctx, rng)
    index = {code: i for code, i, _ in _units()}
    # Which tasks end up where: published, submitted, draft; the rest stay open.
    order = list(range(len(tasks)))
    rng.shuffle(order)
    published = set(order[:PUBLISHED])
    submitted = set(order[PUBLISHED : PUBLISHED + SUBMITTED])
    drafts = set(order[PUBLISHED + SUBMITTED : PUBLISHED + SUBMITTED + DRAFTS])
    with catalog.deferred_indexing(ctx):
        _compile(ctx, rng, tasks, index, published, submitted, drafts)
    catalog.sync_synonyms(ctx)
    return len(tasks)


def _compile(
    ctx: Ctx,
    rng: random.Random,
    tasks: list[_Task],
    index: dict[str, int],
    published: set[int],
    submitted: set[int],
    drafts: set[int],
) -> None:
    claimed: set[str] = set()
    for n, task in enumerate(tasks):
        if n not in published | submitted | drafts:
            continue
        claim = WRONG_CLAIMS.get(task.unit)
        claim = claim if claim and claim not in claimed and n in published else None
        out = catalog.create_entry(ctx, _entry(rng, task, index[task.unit], claim))
        if claim and any(i.is_source and i.element_code == claim for i in out.items):
            claimed.add(claim)
        if n in drafts:
            continue
        catalog.submit_entry(ctx, out.resource_code)
        if n in submitted:
            continue
        catalog.approve_entry(ctx, out.resource_code, "审核通过。")
        catalog.set_publish_date(ctx, out.resource_code, _day(rng, date(2025, 3, 1)))
