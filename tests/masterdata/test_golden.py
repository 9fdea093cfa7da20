"""Survivorship: authority, then recency, then frequency, then order; always a candidate."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.masterdata.golden import survive

SOURCES = st.sampled_from(["公安", "人社", "民政", "卫健"])
CANDIDATES = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        SOURCES,
        st.integers(1, 50),
        st.one_of(st.none(), st.dates().map(lambda d: d.isoformat())),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda c: (c[1], c[2]),
)


def test_authority_then_recency_then_frequency() -> None:
    cands = [("x", "人社", 1, "2025-01-01"), ("y", "公安", 4, "2020-01-01")]
    assert survive(cands, ["公安", "人社"]).value == "y"
    assert survive(cands, ["公安", "人社"]).rule == "authority"
    newest = survive(cands, [])
    assert (newest.value, newest.source, newest.rule) == ("x", "人社", "recency")
    frequent = survive([("x", "a", 1, None), ("y", "a", 2, None), ("y", "b", 3, None)], [])
    assert (frequent.value, frequent.rule) == ("y", "frequency")
    tie = survive([("x", "b", 1, None), ("y", "a", 2, None)], [])
    assert (tie.value, tie.source, tie.rule) == ("y", "a", "order")
    assert survive([], ["公安"]).value is None


@given(CANDIDATES, st.permutations(["公安", "人社", "民政", "卫健"]), st.randoms())
def test_survivor_is_a_candidate_and_independent_of_order(cands, ranking, rnd) -> None:  # type: ignore[no-untyped-def]
    chosen = survive(cands, ranking)
    assert (chosen.value, chosen.source, chosen.row) in {(c[0], c[1], c[2]) for c in cands}
    shuffled = list(cands)
    rnd.shuffle(shuffled)
    assert survive(shuffled, ranking) == chosen
    # The most authoritative source present always provides the value.
    best = min(ranking.index(c[1]) for c in cands)
    assert chosen.source == ranking[best]
