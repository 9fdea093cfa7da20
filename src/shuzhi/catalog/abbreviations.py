"""Common government abbreviations and everyday words for official terms, as search synonyms.

People search for 社保, 医保, 公积金 or 低保; catalogues are written in the official terms
(社会保险, 医疗保障, 住房公积金, 最低生活保障). ``SHIPPED`` is the list the product ships;
the bureau edits its own copy (stored as the catalogue setting ``search_abbreviations``),
and until it does, the shipped list applies. Every term of a group finds what each other
term of the group finds, in the catalogue search and on the portal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shuzhi.search.service import MAX_SYNONYM_CHARS, searchable_term

SETTING_KEY = "search_abbreviations"
MAX_GROUPS = 2000
MAX_TERMS = 12

# Each group: the short or everyday form(s) first, then the official term(s).
SHIPPED: tuple[tuple[str, ...], ...] = (
    # social security, health and housing funds
    ("社保", "社会保险"),
    ("社保卡", "社会保障卡"),
    ("医保", "医疗保障", "医疗保险"),
    ("公积金", "住房公积金"),
    ("养老", "养老保险", "养老服务"),
    ("养老院", "养老机构", "养老服务机构"),
    ("失业金", "失业保险金"),
    ("失业险", "失业保险"),
    ("工伤险", "工伤保险"),
    ("生育险", "生育保险"),
    ("低保", "最低生活保障"),
    ("残联", "残疾人联合会"),
    ("残疾证", "残疾人证"),
    ("老人", "老年人"),
    ("职称", "专业技术职称", "专业技术职务任职资格"),
    # departments, by their everyday names
    ("人社", "人力资源和社会保障"),
    ("市监", "市场监管", "市场监督管理", "工商"),
    ("卫健", "卫生健康"),
    ("发改", "发展和改革", "发展改革"),
    ("工信", "工业和信息化"),
    ("住建", "住房和城乡建设"),
    ("规自", "规划和自然资源"),
    ("环保", "生态环境", "环境保护"),
    ("文旅", "文化和旅游"),
    ("药监", "药品监督管理", "药品监管"),
    ("安监", "安全生产监管", "安全生产监督管理"),
    ("疾控", "疾病预防控制"),
    ("城管", "城市管理", "综合行政执法"),
    ("交警", "交通警察", "公安交通管理"),
    ("车管", "车辆管理"),
    ("税务", "国税", "地税"),
    ("数据局", "数据管理局"),
    ("居委会", "居民委员会"),
    ("村委会", "村民委员会"),
    ("街道办", "街道办事处"),
    ("政采", "政府采购"),
    ("招投标", "招标投标"),
    # papers and registrations
    ("营业执照", "市场主体登记", "企业登记"),
    ("个体户", "个体工商户"),
    ("企业年报", "企业年度报告"),
    ("小微企业", "小型微型企业"),
    ("高企", "高新技术企业"),
    ("知产", "知识产权"),
    ("税号", "纳税人识别号"),
    ("不动产", "不动产登记", "房地产登记"),
    ("房产证", "房屋所有权证", "不动产权证书"),
    ("土地证", "国有土地使用证", "土地使用权证"),
    ("户口", "户籍"),
    ("流动人口", "外来人口", "暂住人口"),
    ("居住证", "暂住证"),
    ("驾照", "驾驶证", "机动车驾驶证"),
    ("违章", "交通违法"),
    ("结婚登记", "婚姻登记"),
    ("出生证", "出生医学证明"),
    ("死亡证明", "死亡医学证明"),
    ("疫苗", "预防接种", "免疫接种"),
    ("医院", "医疗机构"),
    ("双随机", "双随机一公开"),
    # housing, transport and city services
    ("公租房", "公共租赁住房"),
    ("保障房", "保障性住房", "住房保障"),
    ("租房", "房屋租赁"),
    ("公交", "公共交通", "公共汽电车"),
    ("网约车", "网络预约出租汽车"),
    ("出租车", "出租汽车", "巡游出租汽车"),
    ("充电桩", "充电设施"),
    ("自来水", "供水"),
    ("环卫", "环境卫生"),
    ("12345", "政务服务便民热线", "市民热线"),
    ("信访", "来信来访"),
    ("退伍军人", "退役军人"),
    # education
    ("幼儿园", "学前教育"),
    ("高考", "普通高等学校招生"),
    ("中考", "高中阶段学校招生"),
    ("助学金", "学生资助", "奖助学金"),
    ("民办学校", "民办教育"),
)


_SEPARATORS = re.compile(r"[\s,，、;；=＝]+")


def parse_lines(text: str) -> list[list[str]]:
    """A list as people type it: one group per line, terms apart by spaces, commas or 、."""
    return clean([_SEPARATORS.split(line) for line in text.splitlines()])


def as_lines(groups: Sequence[Sequence[str]]) -> str:
    return "\n".join(" ".join(g) for g in groups)


def clean(groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """Terms trimmed, blanks and repeats within a group dropped, empty groups dropped."""
    out: list[list[str]] = []
    for group in groups:
        terms = list(dict.fromkeys(t.strip() for t in group if isinstance(t, str) and t.strip()))
        if terms:
            out.append(terms)
    return out


def check_groups(groups: Sequence[Sequence[str]]) -> list[tuple[str, str, str]]:
    """Problems of a list as (field, zh, en); empty when the list can be saved."""
    problems: list[tuple[str, str, str]] = []
    cleaned = clean(groups)
    if len(cleaned) > MAX_GROUPS:
        problems.append(("groups", f"最多 {MAX_GROUPS} 组。", f"At most {MAX_GROUPS} groups."))
    seen: dict[str, int] = {}
    for i, terms in enumerate(cleaned):
        where = f"groups[{i}]"
        searchable = [searchable_term(t) for t in terms]
        if len(terms) < 2 or len(set(searchable)) < len(terms) or len(terms) > MAX_TERMS:
            problems.append(
                (
                    where,
                    f"每组须有 2–{MAX_TERMS} 个不同的词：{'、'.join(terms)[:60]}",
                    f"Each group needs 2–{MAX_TERMS} distinct terms: {', '.join(terms)[:60]}",
                )
            )
        for term, key in zip(terms, searchable, strict=True):
            if not key or len(term) > MAX_SYNONYM_CHARS:
                problems.append(
                    (
                        where,
                        f"“{term[:30]}”须含汉字、字母或数字，最多 {MAX_SYNONYM_CHARS} 个字符。",
                        f"“{term[:30]}” needs letters or digits, at most "
                        f"{MAX_SYNONYM_CHARS} characters.",
                    )
                )
            elif key in seen and seen[key] != i:
                problems.append(
                    (
                        where,
                        f"“{term}”已在第 {seen[key] + 1} 组中；一个词只能属于一组。",
                        f"“{term}” is already in group {seen[key] + 1}; a term belongs to one "
                        "group only.",
                    )
                )
            else:
                seen[key] = i
    return problems
