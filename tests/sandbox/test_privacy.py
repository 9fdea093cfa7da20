"""Noise, thresholds and intervals of differentially private sandbox figures."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.errors import Invalid
from shuzhi.sandbox.privacy import (
    Contribution,
    GroupFigures,
    Measure,
    MeasureKind,
    plan,
    release,
)

COUNT = Measure(MeasureKind.COUNT)
AGE_MEAN = Measure(MeasureKind.MEAN, 0, 120)
AGE_SUM = Measure(MeasureKind.SUM, 0, 120)


def test_the_cost_of_a_plan_stays_within_what_was_asked() -> None:
    p = plan([COUNT, AGE_MEAN, AGE_SUM], Contribution(), epsilon=1.0, delta=1e-6, min_group=10)
    assert p.epsilon <= 1.0 + 1e-12
    assert p.epsilon > 0.99  # the budget is used, not wasted
    assert 0 < p.delta <= 1e-6
    assert len(p.sum_scales) == 2


def test_more_epsilon_means_less_noise() -> None:
    loose = plan([COUNT], Contribution(), epsilon=2.0, delta=1e-6, min_group=10)
    tight = plan([COUNT], Contribution(), epsilon=0.5, delta=1e-6, min_group=10)
    assert loose.count_scale < tight.count_scale
    assert loose.count_accuracy < tight.count_accuracy


def test_a_person_in_more_groups_costs_more_noise() -> None:
    one = plan([COUNT], Contribution(max_groups=1), epsilon=1.0, delta=1e-6, min_group=10)
    three = plan([COUNT], Contribution(max_groups=3), epsilon=1.0, delta=1e-6, min_group=10)
    assert three.count_scale == pytest.approx(3 * one.count_scale)


def test_the_threshold_sits_above_the_minimum_group_size() -> None:
    small = plan([COUNT], Contribution(), epsilon=1.0, delta=1e-6, min_group=1)
    k20 = plan([COUNT], Contribution(), epsilon=1.0, delta=1e-6, min_group=20)
    assert k20.threshold == small.threshold + 19
    assert k20.threshold > 20
    # the shift does not change what the threshold costs
    assert k20.delta == small.delta


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": math.nan}, "epsilon"),
        ({"epsilon": 50.0}, "epsilon"),
        ({"delta": 0.0}, "delta"),
        ({"delta": 0.5}, "delta"),
        ({"min_group": 0}, "min_group"),
    ],
)
def test_parameters_no_plan_can_honour_are_refused(kwargs: dict[str, float], field: str) -> None:
    args: dict[str, float] = {"epsilon": 1.0, "delta": 1e-6, "min_group": 10} | kwargs
    with pytest.raises(Invalid) as refused:
        plan([COUNT], Contribution(), **args)  # type: ignore[arg-type]
    assert [e.field for e in refused.value.errors] == [field]
    assert refused.value.errors[0].message.zh and refused.value.errors[0].message.en


def test_every_problem_of_a_plan_is_named_at_once() -> None:
    with pytest.raises(Invalid) as refused:
        plan(
            [Measure(MeasureKind.SUM, 5, 5), Measure(MeasureKind.MEAN, 0, math.inf)],
            Contribution(max_groups=0),
            epsilon=-1,
            delta=1e-6,
            min_group=10,
        )
    assert {e.field for e in refused.value.errors} == {
        "measures.0",
        "measures.1",
        "contribution",
        "epsilon",
    }


def test_a_small_group_is_never_released() -> None:
    p = plan([COUNT], Contribution(), epsilon=1.0, delta=1e-6, min_group=10)
    # a group the engine let through at exactly the minimum size, and a large one
    groups = [GroupFigures(("small",), 10), GroupFigures(("large",), 5000)]
    keys = [row.key for _ in range(300) for row in release(p, groups).rows]
    assert ("small",) not in keys
    assert keys.count(("large",)) == 300


def test_intervals_hold_the_true_figure_about_as_often_as_they_claim() -> None:
    p = plan([COUNT, AGE_SUM], Contribution(), epsilon=0.5, delta=1e-6, min_group=10)
    groups = [GroupFigures((i,), 1000, (40_000.0,)) for i in range(400)]
    rows = release(p, groups).rows
    assert len(rows) == 400
    count_hits = sum(r.figures[0].low <= 1000 <= r.figures[0].high for r in rows)
    sum_hits = sum(r.figures[1].low <= 40_000 <= r.figures[1].high for r in rows)
    # 95 % intervals: 400 draws fall below 90 % with a chance far under one in a million
    assert count_hits >= 360
    assert sum_hits >= 360
    # and they are not so wide that they always hold
    widths = {round(r.figures[0].high - r.figures[0].low, 6) for r in rows}
    assert len(widths) == 1 and widths.pop() < 100


def test_noise_is_really_added() -> None:
    # At ε = 1 a count's noise falls within ±2 (five values) about 92 % of the time: over 50
    # releases the test failed about once in 50 runs; over 300 it would fail once in 10¹⁰.
    p = plan([COUNT], Contribution(), epsilon=1.0, delta=1e-6, min_group=10)
    values = {release(p, [GroupFigures(("g",), 1000)]).rows[0].figures[0].value for _ in range(300)}
    assert len(values) > 5


def test_group_keys_come_back_with_their_figures() -> None:
    p = plan([COUNT, AGE_MEAN], Contribution(), epsilon=4.0, delta=1e-6, min_group=10)
    groups = [
        GroupFigures(("东城社区", 1), 2000, (2000 * 70.0,)),
        GroupFigures(("西城社区", 2), 2000, (2000 * 30.0,)),
    ]
    by_key = {r.key: r for r in release(p, groups).rows}
    assert by_key[("东城社区", 1)].figures[1].value == pytest.approx(70.0, abs=2)
    assert by_key[("西城社区", 2)].figures[1].value == pytest.approx(30.0, abs=2)


def test_figures_that_do_not_match_the_plan_are_a_programming_error() -> None:
    p = plan([COUNT, AGE_MEAN], Contribution(), epsilon=1.0, delta=1e-6, min_group=10)
    with pytest.raises(ValueError, match="do not match"):
        release(p, [GroupFigures(("g",), 100)])
    with pytest.raises(ValueError, match="do not match"):
        release(p, [GroupFigures(("g",), -1, (1.0,))])


def test_nothing_to_release_is_an_empty_release() -> None:
    p = plan([COUNT, AGE_MEAN], Contribution(), epsilon=1.0, delta=1e-6, min_group=10)
    result = release(p, [])
    assert result.rows == ()
    assert result.epsilon == p.epsilon


@settings(max_examples=40, deadline=None)
@given(
    epsilon=st.floats(0.01, 10),
    delta=st.floats(1e-12, 1e-3),
    min_group=st.integers(1, 200),
    groups=st.integers(1, 4),
    rows=st.integers(1, 5),
    sums=st.integers(0, 3),
)
def test_any_valid_plan_respects_its_budget(
    epsilon: float, delta: float, min_group: int, groups: int, rows: int, sums: int
) -> None:
    measures = [COUNT] + [AGE_SUM] * sums
    p = plan(
        measures, Contribution(groups, rows), epsilon=epsilon, delta=delta, min_group=min_group
    )
    assert p.epsilon <= epsilon * (1 + 1e-9)
    assert p.delta <= delta
    assert p.threshold >= min_group


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(1, 10_000),
    mean=st.floats(-1e6, 1e6),
    lower=st.floats(-1000, 0),
    width=st.floats(0.001, 1000),
)
def test_a_released_mean_and_its_interval_stay_within_the_bounds(
    count: int, mean: float, lower: float, width: float
) -> None:
    m = Measure(MeasureKind.MEAN, lower, lower + width)
    p = plan([m], Contribution(), epsilon=1.0, delta=1e-6, min_group=1)
    for row in release(p, [GroupFigures(("g",), count, (count * mean,))]).rows:
        figure = row.figures[0]
        assert m.lower <= figure.low <= figure.value <= figure.high <= m.upper
