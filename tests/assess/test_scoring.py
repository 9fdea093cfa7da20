"""The scoring rule on small hand-made models, and its invariants (Hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.assess.scoring import band_level, score_item, score_unit

BANDS = [1, 2, 3, 4, 5]


def _item(code: str, per_level: int = 2) -> dict[str, Any]:
    return {
        "code": code,
        "weight": 50,
        "indicators": [
            {"code": f"{code}.{lvl}.{n}", "level": lvl, "weight": 1.0}
            for lvl in range(1, 6)
            for n in range(per_level)
        ],
    }


def _snapshot(partial: float = 0.5) -> dict[str, Any]:
    return {
        "bands": BANDS,
        "partial_credit": partial,
        "domains": [
            {"code": "d1", "weight": 60, "items": [_item("a"), _item("b")]},
            {"code": "d2", "weight": 40, "items": [_item("c"), _item("d")]},
        ],
    }


def test_an_item_reaches_a_level_when_every_lower_indicator_is_met() -> None:
    item = _item("a")
    credits = {"a.1.0": 1, "a.1.1": 1, "a.2.0": 1, "a.2.1": 0, "a.3.0": 1, "a.3.1": 1}
    s = score_item(item, credits, partial_credit=0.5)
    assert (s.level, s.gaps) == (1, ["a.2.1"])
    # Half of level 2's weight earned.
    assert s.score == 1.5
    assert score_item(item, credits, partial_credit=0).score == 1.0


def test_levels_above_a_gap_do_not_count() -> None:
    credits = {f"a.{lvl}.{n}": 1.0 for lvl in (2, 3, 4, 5) for n in (0, 1)}
    assert score_item(_item("a"), credits, 0.5).level == 0


def test_domains_and_overall_use_weights_and_bands() -> None:
    full = {f"{i}.{lvl}.{n}": 1.0 for i in "ab" for lvl in (1, 2, 3) for n in (0, 1)}
    result = score_unit(_snapshot(), full)
    assert [d.score for d in result.domains] == [3.0, 0.0]
    assert result.score == 1.8 and result.level == 1
    assert [d.level for d in result.domains] == [3, 0]


def test_bands_are_configuration() -> None:
    assert band_level(2.4, BANDS) == 2
    assert band_level(2.4, [1, 1.5, 2.2, 4, 5]) == 3
    assert band_level(0.99, BANDS) == 0
    assert band_level(5.0, BANDS) == 5


codes = [f"{i}.{lvl}.{n}" for i in "abcd" for lvl in range(1, 6) for n in range(2)]


@given(
    st.dictionaries(st.sampled_from(codes), st.sampled_from([0.0, 0.5, 1.0])),
    st.sampled_from([0.0, 0.5]),
)
def test_scores_stay_in_range_and_levels_follow_scores(
    credits: dict[str, float], partial: float
) -> None:
    result = score_unit(_snapshot(partial), credits)
    assert 0 <= result.score <= 5
    assert result.level == band_level(result.score, BANDS)
    for d in result.domains:
        for item in d.items:
            assert item.level <= item.score < item.level + 1 or item.score == 5
            assert (item.level == 5) == (not item.gaps)


@given(
    st.dictionaries(st.sampled_from(codes), st.sampled_from([0.0, 0.5, 1.0])),
    st.sampled_from(codes),
)
def test_meeting_one_more_indicator_never_lowers_a_score(
    credits: dict[str, float], more: str
) -> None:
    before = score_unit(_snapshot(), credits)
    after = score_unit(_snapshot(), {**credits, more: 1.0})
    assert after.score >= before.score - 1e-9


def test_the_radar_puts_each_domain_on_its_axis() -> None:
    from shuzhi.assess.charts import radar

    r = radar([("战略", 5.0), ("治理", 0.0), ("架构", 2.5), ("资产", 9.0)], size=300)
    assert len(r.rings) == 5 and len(r.axes) == 4 and r.labels[0].text == "战略"
    points = [tuple(map(float, p.split(","))) for p in r.shape.split()]
    # Full score reaches the outer ring straight up; zero sits at the centre; out of range
    # scores are clipped to the chart.
    assert points[0] == (150.0, 150.0 - 80.0)
    assert points[1] == (150.0, 150.0)
    assert points[3] == (150.0 - 80.0, 150.0)
