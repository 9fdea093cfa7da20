"""Code tables for personal attributes and small formats: gender (GB/T 2261.1), the 56 ethnic
groups (GB/T 3304), religions, postal codes and geographic coordinates."""

from __future__ import annotations

import re

from shuzhi.standards.text import normalize, words

GENDER_WORDS = frozenset({"男", "女", "男性", "女性", "male", "female", "m", "f"})
# GB/T 2261.1: 0 未知的性别, 1 男, 2 女, 9 未说明的性别.
GENDER_CODES = frozenset({"0", "1", "2", "9", "未说明", "未知的性别", "未说明的性别"})

ETHNIC_GROUPS: tuple[str, ...] = words(
    """汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山
    拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克
    怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"""
)
_ETHNIC = frozenset(ETHNIC_GROUPS) | frozenset(g + "族" for g in ETHNIC_GROUPS)
_ETHNIC_FULL = frozenset(g + "族" for g in ETHNIC_GROUPS) | {"穿青人", "外国血统中国籍人士"}

RELIGIONS = frozenset(
    {"佛教", "道教", "伊斯兰教", "基督教", "天主教", "东正教", "藏传佛教", "新教", "其他宗教"}
)
NO_RELIGION = frozenset({"无宗教信仰", "不信教", "无信仰"})

# Province-level postal prefixes (6 digits in all).
_POSTAL = re.compile(
    r"^(?:0[1-7]|1[0-356]|2[0-7]|3[0-6]|4[0-7]|5[1-7]|6[1-7]|7[0-5]|8[013-6])\d{4}$"
)

_COORD = re.compile(r"^-?\d{1,3}\.\d{4,}$")
_PAIR = re.compile(r"^\(?\s*(-?\d{1,3}\.\d{4,})\s*[,，\s]\s*(-?\d{1,3}\.\d{4,})\s*\)?$")


def gender_strength(value: str) -> int:
    """2: a gender word; 1: a GB/T 2261.1 code (needs a header to mean gender); 0: neither."""
    text = normalize(value).lower()
    if text in GENDER_WORDS:
        return 2
    return 1 if text in GENDER_CODES else 0


def is_ethnic_group(value: str, strict: bool = True) -> bool:
    """One of the 56 ethnic groups; ``strict`` demands the 族 suffix (bare 汉/回/白 are words)."""
    text = normalize(value)
    return text in (_ETHNIC_FULL if strict else _ETHNIC)


def religion_strength(value: str) -> int:
    text = normalize(value)
    if text in RELIGIONS:
        return 2
    return 1 if text in NO_RELIGION else 0


def is_postal_code(value: str) -> bool:
    return _POSTAL.match(normalize(value)) is not None


def _in_china(lat: float, lng: float) -> bool:
    return 3.0 <= lat <= 54.0 and 73.0 <= lng <= 136.0


def coordinate_strength(value: str) -> int:
    """2: a precise (≥ 4 decimals) latitude/longitude pair inside China; 1: one precise degree."""
    text = normalize(value)
    m = _PAIR.match(text)
    if m is not None:
        a, b = float(m.group(1)), float(m.group(2))
        return 2 if _in_china(a, b) or _in_china(b, a) else 1
    if _COORD.match(text) and abs(float(text)) <= 180:
        return 1
    return 0
