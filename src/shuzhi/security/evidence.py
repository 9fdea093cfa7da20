"""Classification evidence and grading reasons in the reader's language.

The classifier states its evidence, and grading its reasons, as short English sentences,
and those are what stored versions keep (the API returns them as they are). The console
shows them through ``describe``, which recognises each sentence the classifier, grading and
the lake write and says it in Chinese, with category names instead of category codes; in
English it only replaces the codes by names. A sentence it does not recognise is shown as
stored, codes replaced.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.detectors import VALIDATED_BY

_VALIDATED_ZH: dict[Category, str] = {
    Category.RESIDENT_ID: "通过 GB 11643 校验位检查",
    Category.USCC: "通过 GB 32100 校验码检查",
    Category.ORG_CODE: "通过 GB 11714 校验码检查",
    Category.MOBILE_PHONE: "是已分配号段的手机号码",
    Category.LANDLINE_PHONE: "是带区号的固定电话",
    Category.BANK_CARD: "是通过 Luhn 校验的银行卡号",
    Category.PASSPORT: "符合中国护照号码编号规则",
    Category.TRAVEL_PERMIT: "符合港澳通行证编号规则",
    Category.LICENSE_PLATE: "是机动车号牌",
    Category.EMAIL: "是电子邮件地址",
    Category.IP_ADDRESS: "是 IP 地址",
    Category.ADDRESS: "是具体到街道的地址",
    Category.PERSON_NAME: "是带常见姓氏的 2–4 字姓名",
    Category.BIRTH_DATE: "是日期",
    Category.HEALTH: "含诊断或 ICD-10 编码",
    Category.POSTAL_CODE: "是 6 位邮政编码",
    Category.GENDER: "是性别词",
    Category.ETHNICITY: "是民族名称",
    Category.RELIGION: "是宗教名称",
    Category.BIOMETRIC: "像生物识别模板或图像",
    Category.PRECISE_LOCATION: "是精确坐标",
}
_BY_TEXT = {text: c for c, text in VALIDATED_BY.items()}
_CODES = sorted((c.value for c in Category), key=len, reverse=True)
_CODE = re.compile(r"(?<![\w.])(" + "|".join(_CODES) + r")(?![\w])")


def _name(code: str, locale: str) -> str:
    try:
        info = CATEGORY_INFO[Category(code)]
    except (KeyError, ValueError):
        return code
    return info.label_en if locale == "en" else info.label_zh


def _names(text: str, locale: str) -> str:
    return _CODE.sub(lambda m: _name(m.group(1), locale), text)


def _codes_zh(codes: str) -> str:
    return " / ".join(_name(c.strip(), "zh-CN") for c in codes.split("/"))


def _list_zh(codes: str) -> str:
    return "、".join(
        "未成年人" if c.strip() == "minors" else _name(c.strip(), "zh-CN") for c in codes.split(",")
    )


def _people_zh(people: str) -> str:
    found = re.match(r"^([\d,]+) individuals \(distinct values of (.+)\)$", people)
    if found:
        return f"{found.group(1)} 人（按列 {found.group(2)} 的不同值计）"
    found = re.match(r"^([\d,]+) records$", people)
    return f"{found.group(1)} 条记录" if found else people


def _validated(pct: str, n: str, how: str) -> str:
    category = _BY_TEXT.get(how)
    said = _VALIDATED_ZH[category] if category in _VALIDATED_ZH else _names(how, "zh-CN")
    return f"{n} 个值中 {pct} {said}"


_PCT = r"(\d+%)"
_SENTENCES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(rf"^{_PCT} of (\d+) values (.+)$"),
        lambda m: _validated(m.group(1), m.group(2), m.group(3)),
    ),
    (
        re.compile(rf"^{_PCT} more have the (\w+) shape only$"),
        lambda m: f"另有 {m.group(1)} 仅形似{_name(m.group(2), 'zh-CN')}",
    ),
    (
        re.compile(rf"^{_PCT} more are (\w+) numbers$"),
        lambda m: f"另有 {m.group(1)} 是{_name(m.group(2), 'zh-CN')}",
    ),
    (
        re.compile(
            rf"^values decide whatever the header says: {_PCT} valid \(at least {_PCT}\),"
            r" (\d+) distinct values$"
        ),
        lambda m: (
            f"无论列名如何，由取值判定：{m.group(1)} 有效（至少需 {m.group(2)}），"
            f"{m.group(3)} 个不同值"
        ),
    ),
    (
        re.compile(r"^header (.+) matches (.+) \((.*)\)$"),
        lambda m: f"列名 {m.group(1)} 指向{_codes_zh(m.group(2))}（匹配“{m.group(3)}”）",
    ),
    (
        re.compile(r"^header (.+) names non-personal data \((.*)\)$"),
        lambda m: f"列名 {m.group(1)} 表示非个人数据（匹配“{m.group(2)}”）",
    ),
    (
        re.compile(r"^no non-empty values to confirm the header$"),
        lambda m: "没有非空值可以印证列名",
    ),
    (re.compile(r"^no non-empty values$"), lambda m: "没有非空值"),
    (
        re.compile(rf"^values do not confirm the header: {_PCT} fit (\w+)$"),
        lambda m: f"取值未印证列名：仅 {m.group(1)} 符合{_name(m.group(2), 'zh-CN')}",
    ),
    (re.compile(r"^values are not a running sequence$"), lambda m: "取值不是连续序号"),
    (
        re.compile(rf"^closest: about {_PCT} of values fit (\w+)$"),
        lambda m: f"最接近：约 {m.group(1)} 的值符合{_name(m.group(2), 'zh-CN')}",
    ),
    (
        re.compile(r"^values are a running sequence of numbers$"),
        lambda m: "取值是连续的数字序号",
    ),
    (
        re.compile(r"^years (\d+)–(\d+), median (\d+)(; values carry times of day)?$"),
        lambda m: (
            f"年份 {m.group(1)}–{m.group(2)}，中位数 {m.group(3)}"
            + ("；取值带有时刻" if m.group(4) else "")
        ),
    ),
    (re.compile(r"^no dates$"), lambda m: "没有日期"),
    (
        re.compile(r"^confirmed or overridden by (.+)$"),
        lambda m: f"由 {m.group(1)} 确认或修改",
    ),
    # Grading reasons (``security.grading`` and ``security.minors``).
    (
        re.compile(r"^sensitive personal information: (.+)$"),
        lambda m: f"敏感个人信息：{_list_zh(m.group(1))}",
    ),
    (
        re.compile(r"^direct identifiers of persons: (.+)$"),
        lambda m: f"直接标识个人的信息：{_list_zh(m.group(1))}",
    ),
    (
        re.compile(r"^personal information without direct identifiers$"),
        lambda m: "含个人信息，但没有直接标识符",
    ),
    (re.compile(r"^no personal information found$"), lambda m: "未发现个人信息"),
    (
        re.compile(
            r"^minors under (\d+) \(PIPL Art\. 28\): (\d+%) of (\d+) birth dates in column"
            r" (.+) on ([\d-]+)$"
        ),
        lambda m: (
            f"不满 {m.group(1)} 周岁的未成年人（《个人信息保护法》第二十八条）：截至 {m.group(5)}，"
            f"列 {m.group(4)} 的 {m.group(3)} 个出生日期中占 {m.group(2)}"
        ),
    ),
    (
        re.compile(
            r"^personal information of (.+), at least ([\d,]+): 重要数据 \(important data\)"
            r" — confirm by review$"
        ),
        lambda m: (
            f"{_people_zh(m.group(1))}的个人信息，不少于 {m.group(2)}：重要数据候选，须审核确认"
        ),
    ),
    (
        re.compile(
            r"^sensitive personal information of (.+), at least ([\d,]+): review as 重要数据"
            r" \(important data\)$"
        ),
        lambda m: f"{_people_zh(m.group(1))}的敏感个人信息，不少于 {m.group(2)}：按重要数据审核",
    ),
]


def describe(evidence: str, locale: str) -> str:
    """One evidence sentence for the reader: Chinese unless ``locale`` is ``en``."""
    if locale == "en":
        return _names(evidence, locale)
    for pattern, say in _SENTENCES:
        match = pattern.match(evidence)
        if match:
            return say(match)
    return _names(evidence, locale)
