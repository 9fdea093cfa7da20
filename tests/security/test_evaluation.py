"""The shipped corpus meets the target, is reproducible, and a differently seeded one too."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.security.evaluation import CORPUS_DIR, evaluate_corpus
from tests.security.synthetic import generate_corpus

SHIPPED_SEED = 2024
TARGET = 0.95


def test_shipped_corpus_meets_the_target() -> None:
    report = evaluate_corpus()
    assert report.columns >= 100
    assert not report.below(TARGET), [(m.file, m.column) for m in report.mistakes]


def test_shipped_corpus_is_what_the_generator_writes(tmp_path: Path) -> None:
    generate_corpus(tmp_path, SHIPPED_SEED)
    files = sorted(p.name for p in CORPUS_DIR.glob("*.csv"))
    assert files == sorted(p.name for p in tmp_path.glob("*.csv"))
    _same, mismatch, errors = filecmp.cmpfiles(CORPUS_DIR, tmp_path, files, shallow=False)
    assert not mismatch and not errors


def test_corpus_is_small() -> None:
    assert sum(p.stat().st_size for p in CORPUS_DIR.glob("*.csv")) < 500_000


@pytest.mark.parametrize("seed", [7, 31337])
def test_differently_seeded_corpus(tmp_path: Path, seed: int) -> None:
    generate_corpus(tmp_path, seed)
    report = evaluate_corpus(tmp_path)
    assert not report.below(TARGET), [(m.file, m.column, m.got) for m in report.mistakes]
    assert report.overall_precision >= TARGET and report.overall_recall >= TARGET


def test_cli_evaluate() -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["security", "evaluate"])
    assert ok.exit_code == 0, ok.output
    assert "resident_id" in ok.output and "precision" in ok.output
    strict = runner.invoke(app, ["security", "evaluate", "--min", "1.01"])
    assert strict.exit_code == 1


def test_cli_classify_gbk_csv(tmp_path: Path) -> None:
    import json

    text = (CORPUS_DIR / "population.csv").read_text(encoding="utf-8")
    path = tmp_path / "人口.csv"
    path.write_bytes(text.encode("gb18030"))
    result = CliRunner().invoke(app, ["classify", "--json", str(path)])
    assert result.exit_code == 0, result.output
    columns = json.loads(result.output)
    by_name = {c["name"]: c for c in columns}
    first = next(iter(by_name.values()))
    assert set(first) == {"name", "category", "confidence", "evidence"}
    categories = {c["category"] for c in columns}
    assert {"person_name", "resident_id", "address", "mobile_phone"} <= categories


def test_cli_classify_reports_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "x.doc"
    path.write_bytes(b"\x00\x01")
    result = CliRunner().invoke(app, ["classify", str(path)])
    assert result.exit_code == 1


def test_cli_evaluate_reads_a_gbk_corpus(tmp_path: Path) -> None:
    # Exports from Windows offices come in GBK: the corpus, labels included, is read through
    # the lake's encoding detection and scores exactly as its UTF-8 original.
    for path in CORPUS_DIR.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        (tmp_path / path.name).write_bytes(text.encode("gbk", errors="replace"))
    assert "公民身份号码" in (tmp_path / "population.csv").read_bytes().decode("gbk")
    original, converted = evaluate_corpus(), evaluate_corpus(tmp_path)
    assert converted.columns == original.columns
    assert converted.correct == original.correct
    result = CliRunner().invoke(app, ["security", "evaluate", "--corpus", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "resident_id" in result.output
