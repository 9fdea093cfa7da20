"""Data grading per GB/T 43697-2024, with pluggable local schemes mapped to it.

National levels, highest first: 核心数据 > 重要数据 > 一般数据 (sub-levels 4 > 3 > 2 > 1).
A level follows from the affected object × harm degree matrix (6.5), taking the highest
over all affected objects (6.6). Local schemes (e.g. 浙江 DB33/T 2351 L1–L4) are data: each
local level names the national level it corresponds to. The national 核心/重要 decision is
kept on its own and never folded into a local scale.

Automatic dataset grading from column categories (a floor; people may raise it):

- no personal information                          → 一般数据1级
- personal information without direct identifiers  → 一般数据2级 (personal rights, 一般危害)
- direct identifiers (name, ID, phone, address …)  → 一般数据3级 (personal rights, 严重危害)
- sensitive personal information or minors' data   → 一般数据4级 (personal rights, 特别严重危害)

Minors are found from values (``shuzhi.security.minors``): a dataset of children under 14 is
sensitive personal information (PIPL Art. 28) even when no column is sensitive by itself.

Scale: personal information of at least ``personal_rows`` individuals (1 million, the usual
trigger of 重要数据 catalogues) raises the grade to 重要数据, flagged for human review to
confirm; sensitive personal information of at least ``sensitive_rows`` individuals is
flagged for review without raising the grade (GB/T 43697 Annex G names scale as a factor; the
thresholds are configuration). Individuals are counted as distinct values of the dataset's
identity-document column where it has one, otherwise as rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Any

from shuzhi.errors import ErrorCollector
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.minors import MinorsFinding


class NationalLevel(StrEnum):
    CORE = "core"
    IMPORTANT = "important"
    GENERAL_4 = "general_4"
    GENERAL_3 = "general_3"
    GENERAL_2 = "general_2"
    GENERAL_1 = "general_1"


class AffectedObject(StrEnum):
    NATIONAL_SECURITY = "national_security"  # 国家安全
    ECONOMIC_OPERATION = "economic_operation"  # 经济运行
    SOCIAL_ORDER = "social_order"  # 社会秩序
    PUBLIC_INTEREST = "public_interest"  # 公共利益
    ORGANISATION_RIGHTS = "organisation_rights"  # 组织权益
    PERSONAL_RIGHTS = "personal_rights"  # 个人权益


class HarmDegree(StrEnum):
    ESPECIALLY_SERIOUS = "especially_serious"  # 特别严重危害
    SERIOUS = "serious"  # 严重危害
    GENERAL = "general"  # 一般危害
    NONE = "none"  # 无危害


@dataclass(frozen=True)
class Level:
    code: str
    rank: int  # higher = more protection needed; unique within a scheme
    name_zh: str
    name_en: str
    national: NationalLevel  # the national level this level corresponds to


@dataclass(frozen=True)
class Scheme:
    code: str
    name_zh: str
    name_en: str
    source: str
    levels: tuple[Level, ...]

    def level(self, code: str) -> Level:
        for level in self.levels:
            if level.code == code:
                return level
        raise KeyError(code)

    def ordered(self) -> list[Level]:
        """Levels from the most to the least protected."""
        return sorted(self.levels, key=lambda lv: lv.rank, reverse=True)

    def for_national(self, national: NationalLevel) -> Level:
        """The level of this scheme to apply to data graded ``national``.

        The highest local level whose national counterpart is not above ``national``; data
        above every local counterpart (核心/重要 in a general-data scheme) gets the top level.
        """
        target = NATIONAL.level(national.value).rank
        fitting = [lv for lv in self.levels if NATIONAL.level(lv.national.value).rank <= target]
        if not fitting:
            return min(self.levels, key=lambda lv: lv.rank)
        return max(fitting, key=lambda lv: (NATIONAL.level(lv.national.value).rank, lv.rank))


def _national_levels() -> tuple[Level, ...]:
    n = NationalLevel
    return (
        Level(n.CORE.value, 6, "核心数据", "Core data", n.CORE),
        Level(n.IMPORTANT.value, 5, "重要数据", "Important data", n.IMPORTANT),
        Level(n.GENERAL_4.value, 4, "一般数据4级", "General data, level 4", n.GENERAL_4),
        Level(n.GENERAL_3.value, 3, "一般数据3级", "General data, level 3", n.GENERAL_3),
        Level(n.GENERAL_2.value, 2, "一般数据2级", "General data, level 2", n.GENERAL_2),
        Level(n.GENERAL_1.value, 1, "一般数据1级", "General data, level 1", n.GENERAL_1),
    )


NATIONAL = Scheme(
    "gbt43697",
    "GB/T 43697-2024 数据分类分级规则",
    "GB/T 43697-2024 data classification and grading rules",
    "GB/T 43697-2024",
    _national_levels(),
)

_A, _H, _N = AffectedObject, HarmDegree, NationalLevel
_PUBLIC = (_A.ECONOMIC_OPERATION, _A.SOCIAL_ORDER, _A.PUBLIC_INTEREST)
_PRIVATE = (_A.ORGANISATION_RIGHTS, _A.PERSONAL_RIGHTS)

# GB/T 43697 6.5 for 核心/重要; the 一般数据 sub-levels for harm to organisations and persons
# follow the sector tables built on Annex H (一般危害 → 2级 is the gap-fill; configurable).
IMPACT_MATRIX: dict[tuple[AffectedObject, HarmDegree], NationalLevel] = {
    (_A.NATIONAL_SECURITY, _H.ESPECIALLY_SERIOUS): _N.CORE,
    (_A.NATIONAL_SECURITY, _H.SERIOUS): _N.CORE,
    (_A.NATIONAL_SECURITY, _H.GENERAL): _N.IMPORTANT,
    (_A.NATIONAL_SECURITY, _H.NONE): _N.GENERAL_1,
    **{(obj, _H.ESPECIALLY_SERIOUS): _N.CORE for obj in _PUBLIC},
    **{(obj, _H.SERIOUS): _N.IMPORTANT for obj in _PUBLIC},
    **{(obj, _H.GENERAL): _N.GENERAL_2 for obj in _PUBLIC},
    **{(obj, _H.NONE): _N.GENERAL_1 for obj in _PUBLIC},
    **{(obj, _H.ESPECIALLY_SERIOUS): _N.GENERAL_4 for obj in _PRIVATE},
    **{(obj, _H.SERIOUS): _N.GENERAL_3 for obj in _PRIVATE},
    **{(obj, _H.GENERAL): _N.GENERAL_2 for obj in _PRIVATE},
    **{(obj, _H.NONE): _N.GENERAL_1 for obj in _PRIVATE},
}


def national_rank(level: NationalLevel) -> int:
    return NATIONAL.level(level.value).rank


def highest(levels: Iterable[NationalLevel]) -> NationalLevel:
    return max(levels, key=national_rank, default=NationalLevel.GENERAL_1)


def level_for_impacts(
    impacts: Iterable[tuple[AffectedObject, HarmDegree]],
    matrix: Mapping[tuple[AffectedObject, HarmDegree], NationalLevel] = IMPACT_MATRIX,
) -> NationalLevel:
    """The national level of data with these impacts: the highest over all of them (6.6)."""
    return highest(matrix[impact] for impact in impacts)


@dataclass(frozen=True)
class GradingPolicy:
    sensitive_rows: int = 100_000  # sensitive PI records that make a 重要数据 candidate
    personal_rows: int = 1_000_000  # PI records (any kind) that make a 重要数据 candidate
    matrix: Mapping[tuple[AffectedObject, HarmDegree], NationalLevel] = field(
        default_factory=lambda: dict(IMPACT_MATRIX)
    )


DEFAULT_POLICY = GradingPolicy()


@dataclass(frozen=True)
class DatasetGrade:
    level: NationalLevel
    personal: bool  # contains personal information
    sensitive_personal: bool  # contains sensitive personal information
    important_candidate: bool  # a person should decide whether this is 重要数据
    impacts: tuple[tuple[AffectedObject, HarmDegree], ...]
    reasons: tuple[str, ...]
    individuals: int = 0  # persons (distinct IDs) or rows the scale rules looked at
    counted_by: str | None = None  # the ID column counted; None: rows

    def local(self, scheme: Scheme) -> Level:
        return scheme.for_national(self.level)


def _people(individuals: int, counted_by: str | None) -> str:
    if counted_by is None:
        return f"{individuals:,} records"
    return f"{individuals:,} individuals (distinct values of {counted_by!r})"


def grade_dataset(
    categories: Iterable[Category],
    row_count: int,
    *,
    counted_by: str | None = None,
    minors: MinorsFinding | bool | None = False,
    assessed: Iterable[tuple[AffectedObject, HarmDegree]] = (),
    policy: GradingPolicy = DEFAULT_POLICY,
) -> DatasetGrade:
    """Grade a dataset from its column categories and scale, plus any impacts a person assessed.

    ``row_count`` is the number of individuals: distinct values of the identity column named
    ``counted_by``, or the rows when there is none. ``minors``: what the values showed about
    children under 14 (``find_minors``).
    """
    infos = [CATEGORY_INFO[c] for c in set(categories)]
    personal = any(i.personal for i in infos) or bool(minors)
    sensitive = bool(minors) or any(i.sensitive for i in infos)
    identifying = any(i.identifying for i in infos)
    reasons: list[str] = []
    if sensitive:
        harm = HarmDegree.ESPECIALLY_SERIOUS
        names = sorted(i.code.value for i in infos if i.sensitive)
        if names or not isinstance(minors, MinorsFinding):
            reasons.append("sensitive personal information: " + ", ".join(names or ["minors"]))
        if isinstance(minors, MinorsFinding):
            reasons.append(minors.reason())
    elif identifying:
        harm = HarmDegree.SERIOUS
        names = sorted(i.code.value for i in infos if i.identifying)
        reasons.append("direct identifiers of persons: " + ", ".join(names))
    elif personal:
        harm = HarmDegree.GENERAL
        reasons.append("personal information without direct identifiers")
    else:
        harm = HarmDegree.NONE
        reasons.append("no personal information found")
    impacts: tuple[tuple[AffectedObject, HarmDegree], ...] = (
        (AffectedObject.PERSONAL_RIGHTS, harm),
        *assessed,
    )
    level = level_for_impacts(impacts, policy.matrix)
    people = _people(row_count, counted_by)
    candidate = False
    if personal and row_count >= policy.personal_rows:
        candidate = True
        level = highest((level, NationalLevel.IMPORTANT))
        reasons.append(
            f"personal information of {people}, at least {policy.personal_rows:,}:"
            " 重要数据 (important data) — confirm by review"
        )
    elif sensitive and row_count >= policy.sensitive_rows:
        candidate = True
        reasons.append(
            f"sensitive personal information of {people}, at least {policy.sensitive_rows:,}:"
            " review as 重要数据 (important data)"
        )
    return DatasetGrade(
        level, personal, sensitive, candidate, impacts, tuple(reasons), row_count, counted_by
    )


def _preset(code: str, zh: str, en: str, source: str, names: list[tuple[str, str, str]]) -> Scheme:
    generals = (_N.GENERAL_1, _N.GENERAL_2, _N.GENERAL_3, _N.GENERAL_4)
    levels = tuple(
        Level(c, rank, z, e, national)
        for rank, ((c, z, e), national) in enumerate(zip(names, generals, strict=True), start=1)
    )
    return Scheme(code, zh, en, source, levels)


ZHEJIANG = _preset(
    "zhejiang",
    "浙江省公共数据分类分级",
    "Zhejiang public data grading",
    "DB33/T 2351-2021",
    [
        ("L1", "不敏感", "Not sensitive"),
        ("L2", "低敏感", "Low sensitivity"),
        ("L3", "较敏感", "Moderately sensitive"),
        ("L4", "敏感", "Sensitive"),
    ],
)
HANGZHOU = _preset(
    "hangzhou",
    "杭州市公共数据分级",
    "Hangzhou public data grading",
    "DB3301/T 0322.3-2020",
    [
        ("public", "公开数据", "Public"),
        ("low", "一般敏感", "Generally sensitive"),
        ("high", "高度敏感", "Highly sensitive"),
        ("extreme", "极度敏感", "Extremely sensitive"),
    ],
)

SCHEMES: dict[str, Scheme] = {s.code: s for s in (NATIONAL, ZHEJIANG, HANGZHOU)}


def scheme_from_dict(data: Mapping[str, Any]) -> Scheme:
    """A local scheme from configuration (e.g. JSON); every problem is reported at once."""
    errors = ErrorCollector()
    levels: list[Level] = []
    for i, raw in enumerate(data.get("levels") or []):
        try:
            national = NationalLevel(raw.get("national"))
            levels.append(
                Level(str(raw["code"]), int(raw["rank"]), raw["name_zh"], raw["name_en"], national)
            )
        except (KeyError, ValueError, TypeError):
            errors.add(
                f"levels[{i}]",
                "级别须含 code、rank、name_zh、name_en 和有效的国家级别 national。",
                "A level needs code, rank, name_zh, name_en and a valid national level.",
            )
    if not levels and not errors.errors:
        errors.add("levels", "分级方案至少需要一个级别。", "A scheme needs at least one level.")
    if len({lv.code for lv in levels}) != len(levels) or len({lv.rank for lv in levels}) != len(
        levels
    ):
        errors.add("levels", "级别代码和序号不得重复。", "Level codes and ranks must be unique.")
    ranked = sorted(levels, key=lambda lv: lv.rank)
    if any(national_rank(a.national) > national_rank(b.national) for a, b in pairwise(ranked)):
        errors.add(
            "levels",
            "较高的本地级别不得对应较低的国家级别。",
            "A higher local level cannot map to a lower national level.",
        )
    for key in ("code", "name_zh", "name_en"):
        if not data.get(key):
            errors.add(key, "必填。", "Required.")
    errors.raise_if_any()
    return Scheme(
        str(data["code"]),
        str(data["name_zh"]),
        str(data["name_en"]),
        str(data.get("source", "")),
        tuple(levels),
    )


def register_scheme(scheme: Scheme) -> None:
    """Make a local scheme available by its code (e.g. at start-up from configuration)."""
    SCHEMES[scheme.code] = scheme
