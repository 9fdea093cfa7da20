"""Pairwise and cluster metrics, and the generator + linker end to end on a small run."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.errors import Invalid
from shuzhi.masterdata.evaluation import read_assignment, score_links

ASSIGNMENTS = st.lists(st.integers(0, 5), min_size=1, max_size=30)


@given(ASSIGNMENTS, ASSIGNMENTS)
def test_scores_are_bounded_and_perfect_on_the_truth(a: list[int], b: list[int]) -> None:
    n = min(len(a), len(b))
    truth = {("s", i + 1): f"t{v}" for i, v in enumerate(a[:n])}
    pred = {("s", i + 1): f"p{v}" for i, v in enumerate(b[:n])}
    s = score_links(pred, truth)
    assert 0 <= s.precision <= 1 and 0 <= s.recall <= 1 and 0 <= s.f1 <= 1
    assert 0 < s.bcubed_precision <= 1 and 0 < s.bcubed_recall <= 1
    perfect = score_links(truth, truth)
    assert perfect.precision == perfect.recall == perfect.exact_clusters == 1.0
    singletons = score_links({k: str(k) for k in truth}, truth)
    assert singletons.precision == 1.0 and singletons.linked_pairs == 0
    assert singletons.recall == (0.0 if singletons.true_pairs else 1.0)


def test_known_figures() -> None:
    truth = {("s", 1): "A", ("s", 2): "A", ("s", 3): "A", ("s", 4): "B"}
    pred = {("s", 1): "x", ("s", 2): "x", ("s", 3): "y", ("s", 4): "y"}
    s = score_links(pred, truth)
    assert (s.correct_pairs, s.linked_pairs, s.true_pairs) == (1, 2, 3)
    assert s.precision == 0.5 and s.recall == pytest.approx(1 / 3)
    assert s.exact_clusters == 0.0


def test_records_must_match() -> None:
    with pytest.raises(Invalid, match="same records"):
        score_links({("s", 1): "a"}, {("s", 2): "a"})


def test_generated_extracts_link_with_high_precision_and_recall(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "data"
    assert (
        runner.invoke(app, ["masterdata", "generate", str(data), "--records", "3000"]).exit_code
        == 0
    )
    files = sorted(str(p) for p in data.glob("*.csv") if p.name != "truth.csv")
    assert len(files) == 5
    out = tmp_path / "links.csv"
    result = runner.invoke(app, ["masterdata", "link", *files, "--out", str(out)])
    assert result.exit_code == 0, result.output
    s = score_links(read_assignment(out), read_assignment(data / "truth.csv"))
    assert s.precision >= 0.99 and s.recall >= 0.95, s
    shown = runner.invoke(
        app, ["masterdata", "evaluate", str(out), "--truth", str(data / "truth.csv")]
    )
    assert shown.exit_code == 0 and "pairwise precision" in shown.output


def test_generated_legal_entities_link_with_high_precision(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "firms"
    made = runner.invoke(
        app, ["masterdata", "generate", str(data), "--records", "3000", "--kind", "legal_entity"]
    )
    assert made.exit_code == 0, made.output
    files = sorted(str(p) for p in data.glob("*.csv") if p.name != "truth.csv")
    out = tmp_path / "firms.csv"
    result = runner.invoke(
        app, ["masterdata", "link", "--kind", "legal_entity", *files, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    s = score_links(read_assignment(out), read_assignment(data / "truth.csv"))
    assert s.precision >= 0.99 and s.recall >= 0.9, s
