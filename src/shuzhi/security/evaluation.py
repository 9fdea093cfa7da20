"""Precision and recall of the column classifier on a labelled corpus of CSV files.

Corpus files may be UTF-8 or GBK/GB18030 (exports from office PCs): the encoding is detected
the way the lake detects it when loading a file.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from shuzhi.lake.readers import FileSource, open_reader
from shuzhi.security.categories import Category
from shuzhi.security.classifier import SAMPLE_LIMIT, ColumnClassification, classify_column

CORPUS_DIR = Path(__file__).parent / "corpus"
LABELS_FILE = "labels.csv"


@dataclass(frozen=True)
class CategoryScore:
    category: Category
    support: int  # labelled columns of this category
    predicted: int  # columns predicted as this category
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.support if self.support else 1.0


@dataclass(frozen=True)
class Mistake:
    file: str
    column: str
    expected: Category
    got: ColumnClassification


@dataclass(frozen=True)
class EvaluationReport:
    scores: list[CategoryScore]  # categories present in labels or predictions
    columns: int
    correct: int
    overall_precision: float  # micro-average over personal/identifier categories (not none)
    overall_recall: float
    mistakes: list[Mistake]

    @property
    def accuracy(self) -> float:
        return self.correct / self.columns if self.columns else 1.0

    def below(self, minimum: float) -> list[CategoryScore]:
        return [s for s in self.scores if s.precision < minimum or s.recall < minimum]


def text_codec(path: Path) -> str:
    """The codec to read a text file with, as the lake's readers detect it."""
    reader = open_reader(FileSource(path))
    try:
        encoding = str(reader.describe().get("encoding", "utf-8"))
    finally:
        reader.close()
    # A BOM is skipped either way; GBK is read through its superset GB18030.
    return "utf-8-sig" if encoding.startswith("utf-8") else "gb18030"


def read_csv_columns(path: Path, limit: int = SAMPLE_LIMIT) -> dict[str, list[str | None]]:
    """Column name → up to ``limit`` values of a CSV file (UTF-8, GBK or GB18030)."""
    with path.open(encoding=text_codec(path), newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        columns: dict[str, list[str | None]] = {name: [] for name in header}
        for i, row in enumerate(reader):
            if i >= limit:
                break
            for name, value in zip(header, row, strict=False):
                columns[name].append(value)
    return columns


def read_labels(directory: Path) -> dict[tuple[str, str], Category]:
    path = directory / LABELS_FILE
    with path.open(encoding=text_codec(path), newline="") as fh:
        return {(r["file"], r["column"]): Category(r["category"]) for r in csv.DictReader(fh)}


def evaluate_corpus(directory: Path | None = None) -> EvaluationReport:
    """Classify every labelled column of the corpus and score it per category."""
    directory = directory or CORPUS_DIR
    labels = read_labels(directory)
    predicted: Counter[Category] = Counter()
    support: Counter[Category] = Counter()
    correct: Counter[Category] = Counter()
    mistakes: list[Mistake] = []
    for file in sorted({f for f, _ in labels}):
        for column, values in read_csv_columns(directory / file).items():
            expected = labels.get((file, column))
            if expected is None:
                continue
            result = classify_column(column, values)
            support[expected] += 1
            predicted[result.category] += 1
            if result.category is expected:
                correct[expected] += 1
            else:
                mistakes.append(Mistake(file, column, expected, result))
    cats = [c for c in Category if support[c] or predicted[c]]
    scores = [CategoryScore(c, support[c], predicted[c], correct[c]) for c in cats]
    personal = [c for c in cats if c is not Category.NONE]
    hit = sum(correct[c] for c in personal)
    made = sum(predicted[c] for c in personal)
    wanted = sum(support[c] for c in personal)
    return EvaluationReport(
        scores=scores,
        columns=sum(support.values()),
        correct=sum(correct.values()),
        overall_precision=hit / made if made else 1.0,
        overall_recall=hit / wanted if wanted else 1.0,
        mistakes=mistakes,
    )
