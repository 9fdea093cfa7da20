"""Risk scoring: the facts of one dataset or unit, gathered only through the other
capabilities' public services, and the factors that turn them into points with reasons.

Every factor is a named function of the facts returning a ``Reason`` (or None when it adds
nothing): its points, a bilingual text and its evidence as **counts** (never values: the
register may be read by people who must not learn who consumes another unit's data). The
score is the sum of the points, capped at 100; the level follows ``LEVELS``.

Facts are read as the system (the caller's permission was checked before, on the subject's
unit) so that an assessment does not depend on who triggered it; nothing read leaves this
module except counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shuzhi.auth import service as auth
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.lake import service as lake
from shuzhi.portal import service as portal
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing import service as sharing
from shuzhi.sharing.schemas import GrantOut

MAX_SCORE = 100
# Score thresholds (inclusive lower bounds), highest first: 极高 ≥ 70, 高 ≥ 45, 中 ≥ 20.
LEVELS: tuple[tuple[int, str], ...] = (
    (70, "critical"),
    (45, "high"),
    (20, "medium"),
    (0, "low"),
)
LEVEL_NAMES: Mapping[str, tuple[str, str]] = {
    "low": ("低", "low"),
    "medium": ("中", "medium"),
    "high": ("高", "high"),
    "critical": ("极高", "critical"),
}
# Points of the dataset's national grade (GB/T 43697-2024).
GRADE_POINTS: Mapping[str, int] = {
    "general_1": 0,
    "general_2": 5,
    "general_3": 10,
    "general_4": 18,
    "important": 30,
    "core": 40,
}
STALE_GRANT_DAYS = 365  # a grant in force this long without renewal needs a second look
BROAD_ROLES = (Role.UNIT_CDO, Role.CDO, Role.CDO_EXECUTIVE)
BROAD_ALLOWED = 2  # accounts with a broad role a unit normally needs (a CDO and a deputy)


def level_of(score: int) -> str:
    for bound, level in LEVELS:
        if score >= bound:
            return level
    return "low"


@dataclass(frozen=True)
class Reason:
    factor: str
    points: int
    zh: str
    en: str
    evidence: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "points": self.points,
            "zh": self.zh,
            "en": self.en,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True)
class QuestionState:
    code: str
    points: int
    text_zh: str
    text_en: str
    answer: str | None  # yes, no, not_applicable or None (unanswered)


# ---------------------------------------------------------------- facts


@dataclass(frozen=True)
class DatasetFacts:
    resource_code: str
    name: str
    unit_id: int
    loaded: bool  # a current version exists
    level: str  # national level code; "" when not loaded
    level_label: str
    personal: bool
    sensitive: bool
    important_candidate: bool
    rows: int
    individuals: int
    categories: dict[str, int]  # category code → columns of it
    protected_columns: frozenset[str]  # columns of personal categories
    quality: float | None
    grants: list[GrantOut]
    open_publications: int
    now: datetime

    @property
    def important(self) -> bool:
        return self.level in ("important", "core")


@dataclass(frozen=True)
class UnitFacts:
    unit_id: int
    unit_code: str
    datasets: list[tuple[str, int, str]]  # (resource code, dataset score, national level)
    keys_without_expiry: int
    broad_accounts: int
    grants_received: int
    now: datetime


def system(ctx: Ctx) -> Ctx:
    """The same unit of work, acting as the system (for reading facts only)."""
    return Ctx(
        db=ctx.db,
        actor=SYSTEM,
        settings=ctx.settings,
        database=ctx.database,
        locale=ctx.locale,
        reading=ctx.reading,
        queued=ctx.queued,
    )


def dataset_facts(ctx: Ctx, resource_code: str, unit_id: int, now: datetime) -> DatasetFacts:
    sys = system(ctx)
    current = lake.current_version(sys, resource_code)
    grants = [g for g in sharing.grants_for_entry(sys, resource_code) if g.expires_at > now]
    opened = sum(
        1
        for p in portal.list_publications(sys)
        if p.resource_code == resource_code and p.status == "open"
    )
    if current is None:
        return DatasetFacts(
            resource_code, resource_code, unit_id, False, "", "", False, False, False, 0, 0,
            {}, frozenset(), None, grants, opened, now,
        )  # fmt: skip
    out, _files = current
    categories: dict[str, int] = {}
    protected: set[str] = set()
    for c in out.classification:
        code = str(getattr(c.category, "value", c.category))
        categories[code] = categories.get(code, 0) + 1
        info = CATEGORY_INFO.get(Category(code))
        if info is not None and info.personal:
            protected.add(c.name)
    grade = out.grade
    return DatasetFacts(
        resource_code=resource_code,
        name=out.dataset_name,
        unit_id=unit_id,
        loaded=True,
        level=grade.national_level if grade else "general_1",
        level_label=f"{grade.level_zh} / {grade.level_en}" if grade else "",
        personal=bool(grade and grade.personal),
        sensitive=bool(grade and grade.sensitive_personal),
        important_candidate=bool(grade and grade.important_candidate),
        rows=out.row_count,
        individuals=grade.individuals if grade else 0,
        categories=categories,
        protected_columns=frozenset(protected),
        quality=out.quality_score,
        grants=grants,
        open_publications=opened,
        now=now,
    )


def unit_facts(
    ctx: Ctx,
    unit_id: int,
    unit_code: str,
    datasets: Sequence[tuple[str, int, str]],
    now: datetime,
) -> UnitFacts:
    sys = system(ctx)
    keys = sum(
        1
        for k in auth.list_api_keys(sys)
        if k.unit_code == unit_code and k.status == "active" and k.expires_at is None
    )
    broad = len(auth.accounts_holding(sys, unit_id, [r.value for r in BROAD_ROLES]))
    received = sum(
        1
        for g in sharing.list_grants(sys)
        if g.consumer_unit_code == unit_code and g.expires_at > now
    )
    return UnitFacts(unit_id, unit_code, list(datasets), keys, broad, received, now)


# ---------------------------------------------------------------- dataset factors


def grade_factor(f: DatasetFacts) -> Reason | None:
    """The national grade: 0 (一般1级) to 40 (核心数据). A dataset not loaded has no grade."""
    if not f.loaded:
        return Reason("grade", 0, "尚未入湖，无定级结果。", "Not loaded yet: no grade.")
    points = GRADE_POINTS.get(f.level, 0)
    return Reason(
        "grade",
        points,
        f"数据定级为{f.level_label.split(' / ')[0]}。",
        f"The dataset is graded {f.level_label.split(' / ')[-1]}.",
        {"rows": f.rows},
    )


def personal_factor(f: DatasetFacts) -> Reason | None:
    """Personal information +5, sensitive personal information +10 (PIPL Art. 28)."""
    if f.sensitive:
        return Reason(
            "personal",
            10,
            "含敏感个人信息。",
            "Holds sensitive personal information.",
            {"individuals": f.individuals},
        )
    if f.personal:
        return Reason(
            "personal",
            5,
            "含个人信息。",
            "Holds personal information.",
            {"individuals": f.individuals},
        )
    return None


def important_candidate_factor(f: DatasetFacts) -> Reason | None:
    """+8 while the grading flagged the dataset as a possible 重要数据 nobody decided on."""
    if f.important_candidate and not f.important:
        return Reason(
            "important_candidate",
            8,
            "规模达到重要数据识别标准，尚待认定。",
            "Its scale meets the important-data criteria; nobody has decided yet.",
            {"individuals": f.individuals},
        )
    return None


def consumers_factor(f: DatasetFacts) -> Reason | None:
    """2 points per grant in force (at most 10), +5 when three or more units consume it."""
    if not f.grants:
        return None
    units = len({g.consumer_unit_code for g in f.grants})
    points = min(10, 2 * len(f.grants)) + (5 if units >= 3 else 0)
    return Reason(
        "consumers",
        points,
        f"{len(f.grants)} 项共享授权在用，涉及 {units} 个使用单位。",
        f"{len(f.grants)} grants in force, to {units} consumer units.",
        {"grants": len(f.grants), "consumer_units": units},
    )


def masking_factor(f: DatasetFacts) -> Reason | None:
    """5 points per grant showing a personal-information column in clear (at most 15)."""
    clear = 0
    columns = 0
    for g in f.grants:
        shown = {m.column for m in g.masking if m.level == MaskLevel.NONE}
        masked = {m.column for m in g.masking}
        # a protected column granted without any mask entry is shown as it is
        shown |= {c for c in g.columns if c in f.protected_columns and c not in masked}
        exposed = shown & f.protected_columns
        if exposed:
            clear += 1
            columns += len(exposed)
    if not clear:
        return None
    return Reason(
        "masking",
        min(15, 5 * clear),
        f"{clear} 项授权以明文提供个人信息字段（共 {columns} 个字段）。",
        f"{clear} grants show personal-information columns in clear ({columns} columns).",
        {"grants": clear, "columns": columns},
    )


def publication_factor(f: DatasetFacts) -> Reason | None:
    """Open on the portal: +15 when it holds personal information, else +3."""
    if not f.open_publications:
        return None
    points = 15 if f.personal else 3
    return Reason(
        "publication",
        points,
        "已在开放门户开放" + ("，且含个人信息（须确认已脱敏）。" if f.personal else "。"),
        "Open on the portal"
        + (" and holds personal information (confirm it is de-identified)." if f.personal else "."),
        {"publications": f.open_publications},
    )


def sandbox_factor(f: DatasetFacts) -> Reason | None:
    """3 points per grant that lets a consumer query it in the sandbox (at most 9)."""
    n = sum(1 for g in f.grants if "sandbox" in [str(d) for d in g.delivery])
    if not n:
        return None
    return Reason(
        "sandbox",
        min(9, 3 * n),
        f"{n} 项授权可在数据沙箱中查询。",
        f"{n} grants may query it in the data sandbox.",
        {"grants": n},
    )


def quality_factor(f: DatasetFacts) -> Reason | None:
    """Quality score below 60: +6; below 80: +3 (wrong data misleads those who rely on it)."""
    if f.quality is None or f.quality >= 80:
        return None
    points = 6 if f.quality < 60 else 3
    return Reason(
        "quality",
        points,
        f"数据质量评分 {f.quality:.0f}，低于 80。",
        f"Quality score {f.quality:.0f}, below 80.",
        {"score": round(f.quality)},
    )


def stale_grants_factor(f: DatasetFacts) -> Reason | None:
    """3 points per grant in force for over a year without renewal (at most 9)."""
    limit = f.now - timedelta(days=STALE_GRANT_DAYS)
    n = sum(1 for g in f.grants if g.starts_at < limit)
    if not n:
        return None
    return Reason(
        "stale_grants",
        min(9, 3 * n),
        f"{n} 项授权已生效一年以上未经复核。",
        f"{n} grants in force for over a year without renewal.",
        {"grants": n},
    )


DATASET_FACTORS: tuple[Callable[[DatasetFacts], Reason | None], ...] = (
    grade_factor,
    personal_factor,
    important_candidate_factor,
    consumers_factor,
    masking_factor,
    publication_factor,
    sandbox_factor,
    quality_factor,
    stale_grants_factor,
)


# ---------------------------------------------------------------- unit factors


def datasets_factor(f: UnitFacts) -> Reason | None:
    """Half the highest dataset score (the unit is as exposed as its riskiest dataset)."""
    if not f.datasets:
        return Reason("datasets", 0, "尚无入湖数据。", "No dataset loaded yet.", {"datasets": 0})
    top = max(score for _, score, _ in f.datasets)
    return Reason(
        "datasets",
        top // 2,
        f"{len(f.datasets)} 个数据集，最高风险评分 {top}。",
        f"{len(f.datasets)} datasets, the highest risk score {top}.",
        {"datasets": len(f.datasets), "highest": top},
    )


def important_datasets_factor(f: UnitFacts) -> Reason | None:
    """5 points per dataset graded 重要数据 or 核心数据 (at most 15)."""
    n = sum(1 for _, _, level in f.datasets if level in ("important", "core"))
    if not n:
        return None
    return Reason(
        "important_datasets",
        min(15, 5 * n),
        f"处理 {n} 个重要（核心）数据集。",
        f"Processes {n} important (or core) datasets.",
        {"datasets": n},
    )


def keys_factor(f: UnitFacts) -> Reason | None:
    """5 points per active API key of the unit without an expiry date (at most 15)."""
    if not f.keys_without_expiry:
        return None
    n = f.keys_without_expiry
    return Reason(
        "keys_without_expiry",
        min(15, 5 * n),
        f"{n} 个 API 密钥未设有效期。",
        f"{n} API keys never expire.",
        {"keys": n},
    )


def broad_roles_factor(f: UnitFacts) -> Reason | None:
    """4 points per account with a broad role beyond the two a unit needs (at most 12)."""
    extra = f.broad_accounts - BROAD_ALLOWED
    if extra <= 0:
        return None
    return Reason(
        "broad_roles",
        min(12, 4 * extra),
        f"{f.broad_accounts} 个账号拥有首席数据官级权限（超出 {extra} 个）。",
        f"{f.broad_accounts} accounts hold a CDO-level role ({extra} more than needed).",
        {"accounts": f.broad_accounts},
    )


def received_factor(f: UnitFacts) -> Reason | None:
    """One point per grant the unit holds as consumer (at most 10): other units' data it keeps."""
    if not f.grants_received:
        return None
    n = f.grants_received
    return Reason(
        "grants_received",
        min(10, n),
        f"作为使用方持有 {n} 项共享授权。",
        f"Holds {n} grants as a consumer.",
        {"grants": n},
    )


UNIT_FACTORS: tuple[Callable[[UnitFacts], Reason | None], ...] = (
    datasets_factor,
    important_datasets_factor,
    keys_factor,
    broad_roles_factor,
    received_factor,
)


# ---------------------------------------------------------------- questionnaire


def questionnaire_factor(questions: Sequence[QuestionState]) -> list[Reason]:
    """A "no" adds the question's points, an unanswered question half of them."""
    found: list[Reason] = []
    for q in questions:
        if q.answer == "no":
            found.append(
                Reason(
                    f"q:{q.code}", q.points, f"问卷答“否”：{q.text_zh}", f"Answered no: {q.text_en}"
                )
            )
        elif q.answer is None and q.points // 2:
            found.append(
                Reason(
                    f"q:{q.code}",
                    q.points // 2,
                    f"问卷未作答：{q.text_zh}",
                    f"Not answered: {q.text_en}",
                )
            )
    return found


def score(reasons: Sequence[Reason]) -> tuple[int, str]:
    total = min(MAX_SCORE, sum(r.points for r in reasons))
    return total, level_of(total)


def assess_dataset(f: DatasetFacts, questions: Sequence[QuestionState]) -> list[Reason]:
    found = [r for r in (factor(f) for factor in DATASET_FACTORS) if r is not None]
    return found + questionnaire_factor(questions)


def assess_unit(f: UnitFacts, questions: Sequence[QuestionState]) -> list[Reason]:
    found = [r for r in (factor(f) for factor in UNIT_FACTORS) if r is not None]
    return found + questionnaire_factor(questions)


def dataset_counts(f: DatasetFacts) -> dict[str, Any]:
    """What the assessment read, as counts (stored with it)."""
    return {
        "loaded": f.loaded,
        "level": f.level,
        "rows": f.rows,
        "individuals": f.individuals,
        "categories": dict(sorted(f.categories.items())),
        "grants": len(f.grants),
        "consumer_units": len({g.consumer_unit_code for g in f.grants}),
        "open_publications": f.open_publications,
        "quality": f.quality,
    }


def unit_counts(f: UnitFacts) -> dict[str, Any]:
    return {
        "datasets": len(f.datasets),
        "important_datasets": sum(1 for _, _, lv in f.datasets if lv in ("important", "core")),
        "keys_without_expiry": f.keys_without_expiry,
        "broad_accounts": f.broad_accounts,
        "grants_received": f.grants_received,
    }
