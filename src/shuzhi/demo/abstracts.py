"""Abstracts of the demo catalogue's entries, written from per-domain vocabularies.

A real catalogue's abstracts say what the data covers, which system produces it, how often
it is updated and what it is typically used for, each compiler in their own words. Each
abstract here is put together from the entry's domain (by its unit), the kind of
information (by its name) and the update cycle, with sentence patterns varied in wording and
order. Deterministic: every abstract draws from a random generator seeded with the seed,
the unit and the entry's name, so it never shifts the rest of the demo's random choices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    systems: tuple[str, ...]  # where the data is produced
    scope: tuple[str, ...]  # whom or what it is about
    uses: tuple[str, ...]  # what other departments use it for


DOMAINS: dict[str, Domain] = {
    "police": Domain(
        systems=(
            "公安人口管理信息系统",
            "公安综合业务平台",
            "交通管理综合应用平台",
            "出入境管理信息系统",
            "治安管理信息系统",
            "消防监督管理系统",
        ),
        scope=(
            "辖区常住人口和流动人口",
            "辖区内登记的机动车和驾驶人",
            "辖区治安重点场所",
            "本区户籍居民",
        ),
        uses=(
            "政务服务“一网通办”中的身份核验",
            "入学、就业、社保等事项免交户籍证明",
            "网格化社会治理中的人口底数核对",
            "应急疏散和防灾减灾的人口测算",
            "跨部门联合执法中的当事人信息核实",
            "人口发展规划和公共服务设施布局",
        ),
    ),
    "labour": Domain(
        systems=(
            "人力资源社会保障业务经办系统",
            "社会保险信息系统",
            "公共就业服务信息系统",
            "劳动保障监察管理系统",
            "职业技能鉴定管理平台",
        ),
        scope=("本区参保单位和参保人员", "辖区用人单位和劳动者", "在本区就业和失业登记的人员"),
        uses=(
            "社会救助对象的收入和参保状况核对",
            "人才补贴和创业扶持资格审核",
            "企业用工监测和稳岗政策评估",
            "医保待遇和退休审批的参保年限核验",
            "根治欠薪的预警和联合处置",
        ),
    ),
    "market": Domain(
        systems=(
            "市场主体登记注册系统",
            "国家企业信用信息公示系统（本区节点）",
            "市场监管综合业务平台",
            "食品安全监管信息系统",
            "投资项目在线审批监管平台",
            "商务运行监测系统",
        ),
        scope=(
            "本区登记的企业和个体工商户",
            "辖区食品生产经营主体",
            "辖区重点工业企业",
            "本区投资建设项目",
        ),
        uses=(
            "涉企审批中的主体资格核验",
            "信用分级分类监管和“双随机、一公开”抽查",
            "招商引资和产业分析",
            "惠企政策的精准推送和兑现",
            "企业开办、变更、注销的一件事联办",
            "经济运行监测和统计分析",
        ),
    ),
    "health": Domain(
        systems=(
            "全民健康信息平台",
            "妇幼保健信息系统",
            "免疫规划信息系统",
            "医疗保障信息平台",
            "卫生监督信息系统",
            "基层医疗卫生机构管理信息系统",
        ),
        scope=("本区居民和就诊人员", "辖区医疗卫生机构和医务人员", "本区参保人员和定点医药机构"),
        uses=(
            "出生“一件事”联办中的出生医学证明核验",
            "入学入托的预防接种查验",
            "医保基金监管和异常结算核查",
            "公共卫生事件的监测预警",
            "家庭医生签约服务的人群画像",
            "医疗救助对象的费用核对",
        ),
    ),
    "civil": Domain(
        systems=(
            "民政一体化业务平台",
            "婚姻登记信息系统",
            "社会救助信息系统",
            "退役军人信息管理系统",
            "信访信息系统",
            "司法行政综合管理平台",
        ),
        scope=(
            "本区低保、特困和临时救助对象",
            "辖区社会组织和养老服务机构",
            "本区登记的婚姻当事人",
            "辖区退役军人和优抚对象",
        ),
        uses=(
            "救助对象的家庭经济状况核对",
            "养老服务补贴的资格审核",
            "户籍变更和不动产登记中的婚姻状况核验",
            "困难群众的主动发现和精准帮扶",
            "优抚待遇的发放和动态管理",
        ),
    ),
    "land": Domain(
        systems=(
            "不动产登记信息管理平台",
            "国土空间基础信息平台",
            "工程建设项目审批管理系统",
            "住房保障管理信息系统",
            "城市管理综合执法系统",
            "水务综合管理平台",
            "农村土地承包经营信息系统",
        ),
        scope=(
            "本区不动产单元和权利人",
            "辖区建设项目和施工企业",
            "本区保障性住房和申请家庭",
            "辖区市政设施和部件",
        ),
        uses=(
            "不动产交易和抵押登记的一窗受理",
            "保障性住房申请人的住房状况核查",
            "工程建设项目并联审批",
            "城市体检和国土空间规划实施评估",
            "房地产市场监测",
            "拆迁安置和征收补偿测算",
        ),
    ),
    "education": Domain(
        systems=(
            "中小学生学籍管理系统",
            "教育管理公共服务平台",
            "学生资助管理信息系统",
            "文化旅游监管平台",
            "全民健身公共服务平台",
        ),
        scope=("本区中小学校和在校学生", "辖区教师和教育培训机构", "辖区文化、旅游和体育场所"),
        uses=(
            "义务教育入学资格联审",
            "家庭经济困难学生的资助认定",
            "校外培训机构的监管",
            "学位供需预测和学校布局规划",
            "公共文化体育设施的开放服务",
        ),
    ),
    "finance": Domain(
        systems=(
            "金税三期税收管理系统",
            "财政预算管理一体化系统",
            "统计联网直报平台",
            "审计业务管理系统",
        ),
        scope=("本区纳税人", "区级预算单位和财政资金", "辖区统计调查对象"),
        uses=(
            "企业纳税信用在融资授信中的应用",
            "财政补贴资金的发放核对",
            "经济形势分析和决策参考",
            "政府投资项目的审计监督",
            "营商环境评价",
        ),
    ),
    "government": Domain(
        systems=(
            "区一体化政务服务平台",
            "区政务办公系统",
            "“12345”政务服务便民热线系统",
            "应急指挥信息系统",
            "区数据共享交换平台",
        ),
        scope=("区级各部门和街道", "本区政务服务事项和办件", "辖区安全生产重点企业"),
        uses=(
            "政务服务“好差评”和效能督查",
            "跨部门业务协同",
            "突发事件的应急指挥调度",
            "领导驾驶舱的综合分析",
            "政务公开和依申请公开答复",
        ),
    ),
    "street": Domain(
        systems=(
            "街道基层治理综合平台",
            "网格化服务管理系统",
            "社区综合信息管理系统",
            "街道便民服务中心受理系统",
        ),
        scope=("街道辖区各社区的居民", "辖区网格内的人、地、事、物、组织", "街道辖区企业和商户"),
        uses=(
            "网格员入户走访和底数核对",
            "社区养老、助残等服务的对象筛选",
            "矛盾纠纷排查和化解",
            "基层报表的“一表通”自动生成",
            "防汛、防疫等应急工作的人员摸排",
        ),
    ),
    "enterprise": Domain(
        systems=("企业生产经营管理系统", "客户服务系统", "工程项目管理系统", "设备资产管理系统"),
        scope=("公司服务的用户和项目", "公司运营的设施和管网", "公司承建的城市基础设施项目"),
        uses=(
            "城市运行监测",
            "公共事业收费和欠费提醒",
            "基础设施建设计划的统筹",
            "供水、交通等公共服务的调度",
        ),
    ),
}

UNIT_DOMAIN: dict[str, str] = {
    "GAJ": "police",
    "XFJY": "police",
    "RSJ": "labour",
    "SCJ": "market",
    "SWU": "market",
    "GXJ": "market",
    "KJJ": "market",
    "FGJ": "market",
    "WJW": "health",
    "YBJ": "health",
    "MZJ": "civil",
    "TYJ": "civil",
    "SFJ": "civil",
    "XFJ": "civil",
    "GHZY": "land",
    "ZJJ": "land",
    "CGJ": "land",
    "SWJ": "land",
    "NYJ": "land",
    "JTJ": "land",
    "SHJ": "land",
    "JYJ": "education",
    "WLJ": "education",
    "TIY": "education",
    "SWUJ": "finance",
    "CZJ": "finance",
    "SJJ": "finance",
    "TJJ": "finance",
    "ZFB": "government",
    "SJGL": "government",
    "YJJ": "government",
}

# The systems a unit's data comes from, where its domain's list would be too broad.
UNIT_SYSTEMS: dict[str, tuple[str, ...]] = {
    "XFJY": ("消防监督管理系统", "消防救援综合业务平台"),
    "SWU": ("商务运行监测系统", "对外贸易经营者备案系统"),
    "GXJ": ("工业经济运行监测平台", "企业技术改造项目管理系统"),
    "KJJ": ("科技项目管理系统", "高新技术企业认定管理系统"),
    "FGJ": ("投资项目在线审批监管平台", "重要商品价格监测系统"),
    "YBJ": ("医疗保障信息平台", "医保基金智能监控系统"),
    "TYJ": ("退役军人信息管理系统", "优抚对象管理系统"),
    "SFJ": ("司法行政综合管理平台", "人民调解信息系统"),
    "XFJ": ("信访信息系统", "“12345”政务服务便民热线系统"),
    "GHZY": ("不动产登记信息管理平台", "国土空间基础信息平台", "国土空间规划“一张图”实施监督系统"),
    "ZJJ": ("工程建设项目审批管理系统", "住房保障管理信息系统", "商品房网签备案系统"),
    "CGJ": ("城市管理综合执法系统", "数字化城市管理平台"),
    "SWJ": ("水务综合管理平台", "河湖长制管理信息系统"),
    "NYJ": ("农村土地承包经营信息系统", "农产品质量安全追溯平台"),
    "JTJ": ("交通运输综合执法系统", "道路运输管理信息系统"),
    "SHJ": ("生态环境监测监控平台", "排污许可管理信息平台"),
    "WLJ": ("文化旅游市场监管平台", "旅游景区客流监测系统"),
    "TIY": ("全民健身公共服务平台", "公共体育场馆管理系统"),
    "SWUJ": ("金税三期税收管理系统", "电子税务局受理平台"),
    "CZJ": ("财政预算管理一体化系统", "非税收入收缴管理系统"),
    "SJJ": ("审计业务管理系统", "审计数据分析平台"),
    "TJJ": ("统计联网直报平台", "统计调查数据处理系统"),
    "YJJ": ("应急指挥信息系统", "安全生产监管信息平台"),
    "ZFB": ("区政务办公系统", "政府信息公开管理系统"),
}

# What each kind of information holds (several wordings each).
CONTENT: dict[str, tuple[str, ...]] = {
    "登记信息": (
        "登记对象的基本情况、登记事项及历次变更、注销记录",
        "登记时填报的主体信息、登记机关和登记日期",
        "当前有效的登记状态以及变更前后的对照",
    ),
    "办理信息": (
        "受理、审查、决定、办结各环节的时间节点和经办人",
        "办件编号、申请人、办理时限和办理结果",
        "每笔业务的流转过程，包括补正、退回和延期情况",
    ),
    "审批结果信息": (
        "审批决定、批准文号、有效期限和附加条件",
        "准予或不予许可的结论及其依据",
        "审批结论及后续的延续、变更和撤销情况",
    ),
    "证照信息": (
        "证照编号、持证主体、发证机关和有效期",
        "电子证照的照面信息和状态（有效、注销、吊销）",
        "证照的核发、换发和补发记录",
    ),
    "监管信息": (
        "检查对象、检查时间、发现问题和整改情况",
        "日常巡查、专项检查和抽查的结果",
        "风险等级评定和监管措施的落实情况",
    ),
    "统计信息": (
        "按月、按街道汇总的业务量和主要指标",
        "分类别、分区域的汇总数据，不含个体明细",
        "年度和季度统计报表中的核心指标",
    ),
    "档案信息": (
        "历年形成的业务档案目录和电子文件索引",
        "纸质档案数字化后的目录和查档记录",
        "案卷级和文件级的档案著录信息",
    ),
    "申请材料信息": (
        "申请人提交的材料清单、材料来源和核验结果",
        "各事项申请材料的电子文件和复用情况",
        "申请表单字段和上传附件的登记信息",
    ),
}
CONTENT_OTHER = (
    "业务开展中形成的主要记录",
    "相关对象的基本信息和业务记录",
    "工作过程中产生的明细数据",
)

CYCLE: dict[str, tuple[str, ...]] = {
    "1": ("随业务办理实时更新", "业务发生后即时推送到共享平台", "与源头系统实时同步"),
    "2": ("每日夜间增量同步", "按日更新，次日可查", "每天从源头系统抽取一次"),
    "3": ("每周更新一次", "按周汇聚，每周一更新上周数据"),
    "4": ("每月初更新上月数据", "按月更新", "每月汇总后更新一次"),
    "5": ("每季度更新", "按季度汇总更新，季后十五日内完成"),
    "6": ("每年更新一次", "按年度更新，次年一季度发布上年数据"),
    "7": ("每半年更新一次", "按半年汇总更新"),
    "8": ("不定期更新", "随工作需要不定期更新", "有新批次时更新"),
}

WHAT = (
    "本资源汇集{owner}在{matter}工作中形成的{content}。",
    "{name}收录{scope}的{content}。",
    "记录{matter}业务中{content}，{since}年以来的数据已全部入库。",
    "涵盖{scope}，内容包括{content}。",
    "{matter}是{owner}的日常业务，本资源提供其中的{content}。",
    "收录{content}，覆盖{scope}。",
)
SOURCE = (
    "数据来源于{system}，{cycle}。",
    "由{system}产生，经区数据共享交换平台汇聚，{cycle}。",
    "源头系统为{system}；{cycle}。",
    "{cycle}，数据由{system}直接提供。",
    "数据从{system}抽取，{cycle}，目前约{count}条。",
)
USES = (
    "可用于{use1}、{use2}等场景。",
    "主要支撑{use1}，也可为{use2}提供依据。",
    "常见用途：{use1}；{use2}。",
    "各部门多用于{use1}。",
    "已在{use1}中使用。",
)
NOTES = (
    "涉及个人信息的字段按最小必要原则脱敏后共享。",
    "{since}年以前的历史数据仍以纸质档案为主，正在补录。",
    "部分早期记录缺少统一社会信用代码，正在逐步补齐。",
    "字段口径与市级对应目录保持一致。",
    "如需明细数据，请通过共享申请说明用途。",
)


def _kind(name: str) -> tuple[str, str]:
    """(matter, kind of information) of an entry named ``<matter><kind>``."""
    for kind in CONTENT:
        if name.endswith(kind) and len(name) > len(kind):
            return name[: -len(kind)], kind
    return name, ""


def abstract(seed: int, unit: str, unit_name: str, name: str, update_cycle: str) -> str:
    """The abstract of the demo entry ``name`` of ``unit`` (the same for the same input)."""
    rng = random.Random(f"{seed}\x1f{unit}\x1f{name}")
    key = UNIT_DOMAIN.get(unit) or (
        "street" if unit.startswith("JD-") else "enterprise" if unit.startswith("QY-") else ""
    )
    domain = DOMAINS.get(key) or DOMAINS[rng.choice(["government", "market"])]
    matter, kind = _kind(name)
    uses = rng.sample(domain.uses, 2)
    words = {
        "owner": unit_name,
        "matter": matter,
        "name": name,
        "content": rng.choice(CONTENT.get(kind, CONTENT_OTHER)),
        "scope": rng.choice(domain.scope),
        "system": rng.choice(UNIT_SYSTEMS.get(unit, domain.systems)),
        "cycle": rng.choice(CYCLE.get(update_cycle, CYCLE["8"])),
        "use1": uses[0],
        "use2": uses[1],
        "since": str(rng.choice((2008, 2012, 2015, 2016, 2018, 2019, 2020))),
        "count": f"{rng.choice((0.3, 0.8, 1.2, 2.6, 4.5, 9.7, 13, 28, 56, 120))}万",
    }
    parts = [rng.choice(WHAT), rng.choice(SOURCE)]
    if rng.random() < 0.85:
        parts.insert(rng.choice((1, 2)), rng.choice(USES))
    if rng.random() < 0.3:
        parts.append(rng.choice(NOTES))
    return "".join(p.format(**words) for p in parts)
