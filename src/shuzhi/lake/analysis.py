"""What Shuzhi finds in a new version: schema drift against the catalogue entry, column
categories (with people's overrides applied), the dataset grade, and a masked profile.

Pure functions over values the service already read through the query engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from shuzhi.lake.profile import InferredType, Profile
from shuzhi.lake.schemas import (
    ColumnClassification,
    ColumnProfileOut,
    GradeOut,
    ProfileOut,
    SchemaCheck,
    TopValueOut,
    TypeChange,
)
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.classifier import classify_column
from shuzhi.security.grading import (
    DEFAULT_POLICY,
    NATIONAL,
    SCHEMES,
    GradingPolicy,
    grade_dataset,
)
from shuzhi.security.masking import MaskLevel, mask
from shuzhi.security.minors import find_minors

_I = InferredType
_TEXTUAL = frozenset(_I)  # character, memo and general items accept any values
# Catalogue data type code (GB/T 21063.3 信息项数据类型) → inferred types that satisfy it.
ACCEPTED: dict[str, frozenset[InferredType]] = {
    "C": _TEXTUAL,
    "M": _TEXTUAL,
    "G": _TEXTUAL,
    "N": frozenset({_I.INTEGER, _I.DECIMAL, _I.EMPTY}),
    "Y": frozenset({_I.INTEGER, _I.DECIMAL, _I.EMPTY}),
    "B": frozenset({_I.INTEGER, _I.DECIMAL, _I.EMPTY}),
    "F": frozenset({_I.INTEGER, _I.DECIMAL, _I.EMPTY}),
    "I": frozenset({_I.INTEGER, _I.EMPTY}),
    "D": frozenset({_I.DATE, _I.EMPTY}),
    "T": frozenset({_I.DATETIME, _I.DATE, _I.EMPTY}),
    "L": frozenset({_I.BOOLEAN, _I.EMPTY}),
}


def _key(name: str) -> str:
    return "".join(name.split()).casefold()


def check_schema(
    items: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, str]],
    inferred: Mapping[str, InferredType],
) -> SchemaCheck:
    """Compare (item name, type code) with (column name, source name) and inferred types."""
    if not items:
        return SchemaCheck(checked=False)
    by_key: dict[str, str] = {}
    for name, source_name in columns:
        by_key.setdefault(_key(source_name), name)
        by_key.setdefault(_key(name), name)
    matched: set[str] = set()
    missing: list[str] = []
    changed: list[TypeChange] = []
    for item_name, type_code in items:
        column = by_key.get(_key(item_name))
        if column is None:
            missing.append(item_name)
            continue
        matched.add(column)
        found = inferred.get(column, _I.TEXT)
        accepted = ACCEPTED.get(type_code.upper(), _TEXTUAL)
        if found not in accepted:
            changed.append(TypeChange(name=item_name, expected=type_code, inferred=found.value))
    extra = [name for name, _ in columns if name not in matched]
    return SchemaCheck(checked=True, missing=missing, extra=extra, type_changed=changed)


def _column_out(
    name: str,
    category: Category,
    confidence: float,
    evidence: list[str],
    detected: Category,
    decided_by: str | None,
) -> ColumnClassification:
    info = CATEGORY_INFO[category]
    return ColumnClassification(
        name=name,
        category=category.value,
        label_zh=info.label_zh,
        label_en=info.label_en,
        confidence=confidence,
        evidence=evidence,
        personal=info.personal,
        sensitive=info.sensitive,
        overridden=decided_by is not None,
        decided_by=decided_by,
        detected=detected.value,
    )


def classify(
    samples: Mapping[str, Sequence[str | None]],
    overrides: Mapping[str, tuple[str, str]],
) -> list[ColumnClassification]:
    """Classify sampled columns; a person's override (category, decided_by) wins."""
    out = []
    for name, values in samples.items():
        found = classify_column(name, values)
        if name in overrides:
            category, who = overrides[name]
            evidence = [*found.evidence, f"confirmed or overridden by {who}"]
            out.append(_column_out(name, Category(category), 1.0, evidence, found.category, who))
        else:
            out.append(
                _column_out(
                    name, found.category, found.confidence, found.evidence, found.category, None
                )
            )
    return out


def with_overrides(
    columns: Sequence[ColumnClassification], overrides: Mapping[str, tuple[str, str]]
) -> list[ColumnClassification]:
    """Columns with people's decisions (column → category, decided_by) applied; a column that
    already carries its decision (classified with it at load) is shown as it is."""
    out = []
    for c in columns:
        if c.name in overrides:
            category, who = overrides[c.name]
            line = f"confirmed or overridden by {who}"
            evidence = c.evidence if line in c.evidence else [*c.evidence, line]
            c = _column_out(c.name, Category(category), 1.0, evidence, Category(c.detected), who)
        out.append(c)
    return out


# Identity documents whose distinct values count the persons of a dataset, in order of trust.
IDENTITY_CATEGORIES = (
    Category.RESIDENT_ID,
    Category.PASSPORT,
    Category.TRAVEL_PERMIT,
    Category.TAIWAN_PERMIT,
    Category.SAR_PASSPORT,
)


def identity_column(classification: Iterable[ColumnClassification]) -> str | None:
    """The column whose distinct values count the individuals of a dataset, if any."""
    by_category = {Category(c.category): c.name for c in reversed(list(classification))}
    return next((by_category[c] for c in IDENTITY_CATEGORIES if c in by_category), None)


def grade(
    classification: Iterable[ColumnClassification],
    individuals: int,
    scheme_code: str,
    *,
    counted_by: str | None = None,
    samples: Mapping[str, Sequence[str | None]] | None = None,
    policy: GradingPolicy = DEFAULT_POLICY,
) -> GradeOut:
    """The dataset grade: categories, minors found in the sampled values, and scale
    (``individuals``: distinct values of ``counted_by``, or rows)."""
    columns = list(classification)
    samples = samples or {}
    minors = find_minors(samples, {c.name: Category(c.category) for c in columns})
    found = grade_dataset(
        (Category(c.category) for c in columns),
        individuals,
        counted_by=counted_by,
        minors=minors,
        policy=policy,
    )
    scheme = SCHEMES.get(scheme_code, NATIONAL)
    level = NATIONAL.level(found.level.value) if scheme is NATIONAL else found.local(scheme)
    return GradeOut(
        scheme=scheme.code,
        level=level.code,
        level_zh=level.name_zh,
        level_en=level.name_en,
        national_level=found.level.value,
        personal=found.personal,
        sensitive_personal=found.sensitive_personal,
        important_candidate=found.important_candidate,
        reasons=list(found.reasons),
        sample_rows=max((len(v) for v in samples.values()), default=0),
        individuals=found.individuals,
        counted_by=found.counted_by,
    )


def masks(category: Category) -> bool:
    """Whether values of the category are shown masked (its default mask is not ``none``)."""
    return CATEGORY_INFO[category].default_level is not MaskLevel.NONE


def hidden_columns(classification: Iterable[ColumnClassification]) -> dict[str, Category]:
    """Columns whose values must not be shown in the clear, with their category."""
    return {c.name: Category(c.category) for c in classification if masks(Category(c.category))}


def version_hidden(
    stored: Iterable[ColumnClassification], decided: Mapping[str, Category]
) -> dict[str, Category]:
    """The columns of a version shown masked, with the category whose mask applies: those
    masked when the version was loaded (its ``stored`` classification) and those the
    dataset's categories ``decided`` now mask (the category decided now wins). A column is
    shown in the clear only if it was loaded unmasked and nothing masks it now."""
    hidden = hidden_columns(stored)
    hidden.update((name, category) for name, category in decided.items() if masks(category))
    return hidden


def mask_value(value: str, category: Category) -> str:
    """The category's default masking; pseudonym defaults are shown partially masked."""
    level = CATEGORY_INFO[category].default_level
    if level is MaskLevel.PSEUDONYM:
        level = MaskLevel.PARTIAL
    return mask(value, category.value, level)


def mask_profile(profile: ProfileOut, hidden: Mapping[str, Category]) -> ProfileOut:
    """A profile with the top values and min/max of the ``hidden`` columns masked. Masks are
    idempotent: a value stored masked under the same category comes out as it went in."""

    def shown(c: ColumnProfileOut) -> ColumnProfileOut:
        category = hidden.get(c.name)
        if category is None:
            return c

        def hide(value: str | None) -> str | None:
            return None if value is None else mask_value(value, category)

        top = [
            TopValueOut(value=mask_value(t.value, category), count=t.count) for t in c.top_values
        ]
        return c.model_copy(
            update={"min": hide(c.min), "max": hide(c.max), "top_values": top, "masked": True}
        )

    return profile.model_copy(update={"columns": [shown(c) for c in profile.columns]})


def masked_profile(profile: Profile, hidden: Mapping[str, Category]) -> ProfileOut:
    """The profile as stored: the ``hidden`` columns' top values and min/max masked."""
    return mask_profile(
        ProfileOut(
            row_count=profile.row_count,
            type_sample_rows=profile.type_sample_rows,
            columns=[
                ColumnProfileOut(
                    name=c.name,
                    physical_type=c.physical_type,
                    inferred_type=c.inferred_type.value,
                    format=c.format,
                    dominant_type=c.dominant_type.value if c.dominant_type else None,
                    nonconforming=c.nonconforming,
                    null_count=c.null_count,
                    null_rate=c.null_rate,
                    distinct_estimate=c.distinct_estimate,
                    min=c.min,
                    max=c.max,
                    top_values=[TopValueOut(value=t.value, count=t.count) for t in c.top_values],
                )
                for c in profile.columns
            ],
        ),
        hidden,
    )
