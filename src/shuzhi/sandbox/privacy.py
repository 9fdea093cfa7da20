"""Differentially private figures over aggregates the query engine has already computed.

The engine does the heavy work (one pass over the data, see ``sandbox.bounding``): it bounds
how much one person contributes — at most ``max_groups`` groups and ``max_rows`` rows per
group, values clamped to ``[lower, upper]`` — and returns one bounded count and one bounded
sum per measure for every group. This module only adds calibrated noise with OpenDP's
mechanisms, so the same code serves DuckDB today and a distributed engine later.

Which groups exist is itself personal: a group of one person reveals that person. Groups are
therefore released by OpenDP's Laplace threshold mechanism (noisy count, kept only above a
threshold); that is what costs the ``delta``. The number of groups left out is *not* released
— a count of suppressed groups would undo the threshold.

Cost of one query, charged to the analyst's budget before it runs (``plan``):
``epsilon`` is split evenly between the thresholded counts and each SUM/MEAN measure (a MEAN
is a noisy sum divided by the released noisy count, so it costs one sum); ``delta`` is all
spent on the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import opendp.prelude as dp

from shuzhi.errors import ErrorCollector

dp.enable_features("contrib")

CONFIDENCE = 0.95
"""The level of every interval returned beside a figure."""

MAX_EPSILON_PER_QUERY = 10.0
"""Above this a figure carries so little noise that it no longer protects anybody."""

MAX_DELTA = 1e-3
"""Delta is the chance the threshold lets a small group through; keep it far below 1/people."""

MAX_THRESHOLD = 1_000_000_000


class MeasureKind(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"


@dataclass(frozen=True)
class Contribution:
    """How much one person may add to a result: the bound the noise is calibrated to."""

    max_groups: int = 1
    max_rows: int = 1

    @property
    def count_sensitivity(self) -> int:
        return self.max_groups * self.max_rows


@dataclass(frozen=True)
class Measure:
    kind: MeasureKind
    lower: float = 0.0
    upper: float = 0.0

    @property
    def needs_sum(self) -> bool:
        return self.kind is not MeasureKind.COUNT

    @property
    def magnitude(self) -> float:
        return max(abs(self.lower), abs(self.upper))


@dataclass(frozen=True)
class GroupFigures:
    """One group as the engine returns it: bounded count, then one bounded sum per sum measure."""

    key: tuple[Any, ...]
    count: int
    sums: tuple[float, ...] = ()


@dataclass(frozen=True)
class Figure:
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class ReleasedRow:
    key: tuple[Any, ...]
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Plan:
    """The noise every figure of one query will carry, and what the query costs."""

    measures: tuple[Measure, ...]
    contribution: Contribution
    count_scale: float
    sum_scales: tuple[float, ...]
    threshold: int
    epsilon: float
    delta: float

    @property
    def count_accuracy(self) -> float:
        return float(dp.discrete_laplacian_scale_to_accuracy(self.count_scale, 1 - CONFIDENCE))


@dataclass(frozen=True)
class Release:
    rows: tuple[ReleasedRow, ...]
    epsilon: float
    delta: float
    threshold: int


def validate(
    measures: Sequence[Measure],
    contribution: Contribution,
    epsilon: float,
    delta: float,
    min_group: int,
) -> None:
    """Refuse parameters no plan can honour, naming every problem at once."""
    errors = ErrorCollector()
    if not measures:
        errors.add("measures", "至少需要一个统计量。", "At least one measure is needed.")
    for i, m in enumerate(measures):
        if m.needs_sum and not (math.isfinite(m.lower) and math.isfinite(m.upper)):
            errors.add(f"measures.{i}", "取值范围必须是有限数。", "Bounds must be finite numbers.")
        elif m.needs_sum and m.lower >= m.upper:
            errors.add(
                f"measures.{i}",
                "取值下限必须小于上限。",
                "The lower bound must be below the upper bound.",
            )
    if contribution.max_groups < 1 or contribution.max_rows < 1:
        errors.add(
            "contribution",
            "每人贡献的分组数和行数至少为 1。",
            "Each person must be allowed at least one group and one row.",
        )
    if not (math.isfinite(epsilon) and 0 < epsilon <= MAX_EPSILON_PER_QUERY):
        errors.add(
            "epsilon",
            f"ε 必须大于 0 且不超过 {MAX_EPSILON_PER_QUERY:g}。",
            f"ε must be above 0 and at most {MAX_EPSILON_PER_QUERY:g}.",
        )
    if not (math.isfinite(delta) and 0 < delta <= MAX_DELTA):
        errors.add(
            "delta",
            f"δ 必须大于 0 且不超过 {MAX_DELTA:g}。",
            f"δ must be above 0 and at most {MAX_DELTA:g}.",
        )
    if min_group < 1:
        errors.add("min_group", "最小分组人数至少为 1。", "The minimum group size is at least 1.")
    errors.raise_if_any()


def plan(
    measures: Sequence[Measure],
    contribution: Contribution,
    *,
    epsilon: float,
    delta: float,
    min_group: int,
) -> Plan:
    """Calibrate the noise of a query before it runs, so its cost can be shown and charged."""
    validate(measures, contribution, epsilon, delta, min_group)
    sums = [m for m in measures if m.needs_sum]
    share = epsilon / (1 + len(sums))
    count_scale = _calibrated(_count_measurement, _count_distance(contribution), share)
    threshold = _threshold(count_scale, contribution, delta, min_group)
    base_threshold = threshold - (min_group - 1) * contribution.max_rows
    sum_scales = tuple(
        _calibrated(_sum_measurement, _sum_distance(m, contribution), share) for m in sums
    )
    spent_epsilon, spent_delta = _count_measurement(count_scale, base_threshold).map(
        _count_distance(contribution)
    )
    for m, scale in zip(sums, sum_scales, strict=True):
        spent_epsilon += _sum_measurement(scale).map(_sum_distance(m, contribution))
    return Plan(
        measures=tuple(measures),
        contribution=contribution,
        count_scale=count_scale,
        sum_scales=sum_scales,
        threshold=threshold,
        epsilon=float(spent_epsilon),
        delta=float(spent_delta),
    )


def release(plan: Plan, groups: Sequence[GroupFigures]) -> Release:
    """Noisy figures for the groups that pass the noisy threshold; the others are not shown."""
    n_sums = len(plan.sum_scales)
    for g in groups:
        if g.count < 0 or len(g.sums) != n_sums:
            raise ValueError("group figures do not match the plan")
    counts = {str(i): int(g.count) for i, g in enumerate(groups) if g.count > 0}
    kept = _count_measurement(plan.count_scale, plan.threshold)(counts)
    order = sorted(kept, key=int)
    noisy_sums = [
        _sum_measurement(scale)([float(groups[int(i)].sums[j]) for i in order]) if order else []
        for j, scale in enumerate(plan.sum_scales)
    ]
    count_acc = plan.count_accuracy
    sum_accs = [float(dp.laplacian_scale_to_accuracy(s, 1 - CONFIDENCE)) for s in plan.sum_scales]
    rows = []
    for pos, i in enumerate(order):
        count = float(kept[i])
        figures, j = [], 0
        for m in plan.measures:
            if m.kind is MeasureKind.COUNT:
                figures.append(Figure(count, max(count - count_acc, 0.0), count + count_acc))
                continue
            total, acc = float(noisy_sums[j][pos]), sum_accs[j]
            j += 1
            figures.append(
                Figure(total, total - acc, total + acc)
                if m.kind is MeasureKind.SUM
                else _mean_figure(total, acc, count, count_acc, m)
            )
        rows.append(ReleasedRow(groups[int(i)].key, tuple(figures)))
    return Release(tuple(rows), plan.epsilon, plan.delta, plan.threshold)


def _mean_figure(total: float, acc: float, count: float, count_acc: float, m: Measure) -> Figure:
    """Noisy sum over released noisy count; the interval combines both errors, kept in bounds."""
    value = _clamp(total / count, m.lower, m.upper)
    smallest = count - count_acc
    if smallest <= 0:
        return Figure(value, m.lower, m.upper)
    ends = [(total + s) / d for s in (-acc, acc) for d in (smallest, count + count_acc)]
    return Figure(value, _clamp(min(ends), m.lower, m.upper), _clamp(max(ends), m.lower, m.upper))


def _clamp(x: float, lower: float, upper: float) -> float:
    return min(max(x, lower), upper)


def _count_distance(c: Contribution) -> tuple[int, int, int]:
    # (groups touched, total change, change within one group) for one person added or removed
    return (c.max_groups, c.count_sensitivity, c.max_rows)


def _sum_distance(m: Measure, c: Contribution) -> float:
    return c.max_groups * c.max_rows * m.magnitude


def _count_measurement(scale: float, threshold: int = MAX_THRESHOLD) -> Any:
    space = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    metric = dp.l01inf_distance(dp.absolute_distance(T=int))
    return dp.m.make_laplace_threshold(space, metric, scale=scale, threshold=threshold)


def _sum_measurement(scale: float) -> Any:
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    return dp.m.make_laplace(space, dp.l1_distance(T=float), scale=scale)


def _epsilon_of(measurement: Any, distance: Any) -> float:
    spent = measurement.map(distance)
    return float(spent[0] if isinstance(spent, tuple) else spent)


def _calibrated(make: Any, distance: Any, epsilon: float) -> float:
    """The smallest noise scale whose privacy loss OpenDP certifies to be within epsilon."""
    scale = _sensitivity(distance) / epsilon
    while _epsilon_of(make(scale), distance) > epsilon:
        scale = math.nextafter(scale * (1 + 1e-12), math.inf)
    return scale


def _sensitivity(distance: Any) -> float:
    return float(distance[1] if isinstance(distance, tuple) else distance)


def _threshold(scale: float, c: Contribution, delta: float, min_group: int) -> int:
    """The threshold on noisy counts: within the delta budget, and shifted past the minimum group.

    OpenDP certifies delta for a person who creates a new group of ``max_rows`` rows. The
    engine also drops every group of fewer than ``min_group`` distinct people before noise is
    added, so one person can make a group of up to ``min_group * max_rows`` rows appear; the
    threshold is raised by the difference, which keeps the chance of releasing it the same.
    """

    def delta_at(t: int) -> float:
        return float(_count_measurement(scale, t).map(_count_distance(c))[1])

    # below one person's largest change to a group OpenDP certifies nothing
    low, high = c.max_rows - 1, c.max_rows
    while delta_at(high) > delta:
        if high >= MAX_THRESHOLD:
            raise ValueError("no threshold meets delta")
        low, high = high, min(high * 2, MAX_THRESHOLD)
    while high - low > 1:
        mid = (low + high) // 2
        if delta_at(mid) <= delta:
            high = mid
        else:
            low = mid
    return high + (min_group - 1) * c.max_rows
