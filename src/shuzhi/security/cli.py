"""``shuzhi security evaluate`` and ``shuzhi classify``: the column classifier, measured on
the labelled corpus or run on one file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from shuzhi.command import console, err_console, fail
from shuzhi.errors import ShuzhiError
from shuzhi.lake.readers import FileSource, sample_columns
from shuzhi.security.categories import info
from shuzhi.security.classifier import SAMPLE_LIMIT, classify_table
from shuzhi.security.evaluation import evaluate_corpus
from shuzhi.security.grading import NATIONAL, grade_dataset
from shuzhi.security.minors import find_minors

security_app = typer.Typer(help="Classification, grading and masking.", no_args_is_help=True)


@security_app.command("evaluate")
def security_evaluate(
    minimum: Annotated[
        float, typer.Option("--min", help="Fail if any category's precision or recall is lower")
    ] = 0.95,
    corpus: Annotated[
        Path | None, typer.Option(help="Corpus directory with labels.csv (default: shipped)")
    ] = None,
    show_mistakes: Annotated[bool, typer.Option("--mistakes", help="List misclassified")] = False,
) -> None:
    """Precision and recall of the column classifier on the labelled corpus."""
    report = evaluate_corpus(corpus)
    table = Table(title="Column classification / 字段分类评估")
    for column in ("category", "类别", "columns", "predicted", "precision", "recall"):
        table.add_column(column, justify="left" if column in ("category", "类别") else "right")
    for s in report.scores:
        flag = "" if min(s.precision, s.recall) >= minimum else " [red]✗[/]"
        table.add_row(
            s.category.value,
            info(s.category).label_zh,
            str(s.support),
            str(s.predicted),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}{flag}",
        )
    table.add_section()
    table.add_row(
        "overall (personal)",
        "总体（不含 none）",
        str(report.columns),
        "",
        f"{report.overall_precision:.3f}",
        f"{report.overall_recall:.3f}",
    )
    console.print(table)
    console.print(f"accuracy / 准确率: {report.accuracy:.3f} ({report.correct}/{report.columns})")
    if show_mistakes:
        for m in report.mistakes:
            console.print(
                f"{m.file} {m.column}: {m.expected.value} → {m.got.category.value} "
                f"({m.got.confidence}) {'; '.join(m.got.evidence)}"
            )
    failing = report.below(minimum)
    if failing:
        names = ", ".join(s.category.value for s in failing)
        err_console.print(f"[red]Below {minimum} / 低于阈值:[/] {names}")
        raise typer.Exit(1)


def classify(
    file: Annotated[Path, typer.Argument(help="CSV/TSV/TXT, XLSX, JSON Lines or Parquet file")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Classify the columns of a file without ingesting it (samples the first 1,000 rows)."""
    from shuzhi.security.categories import info

    try:
        columns = sample_columns(FileSource(file), SAMPLE_LIMIT)
    except ShuzhiError as err:
        raise fail(err) from None
    results = classify_table(columns)
    if as_json:
        payload = [
            {
                "name": r.name,
                "category": r.category.value,
                "confidence": r.confidence,
                "evidence": r.evidence,
            }
            for r in results
        ]
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{file.name}")
    for column in ("name", "category", "类别", "confidence", "evidence"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.name,
            r.category.value,
            info(r.category).label_zh,
            f"{r.confidence:.2f}",
            "; ".join(r.evidence),
        )
    console.print(table)
    rows = max((len(v) for v in columns.values()), default=0)
    minors = find_minors(columns, {r.name: r.category for r in results})
    grade = grade_dataset((r.category for r in results), rows, minors=minors)
    level = NATIONAL.level(grade.level.value)
    console.print(
        f"sample / 样本: the first {rows:,} rows (at most {SAMPLE_LIMIT:,}) / 前 {rows:,} 行",
        markup=False,
        soft_wrap=True,
    )
    console.print(
        f"grade (floor, from the sample) / 分级（下限，按样本）: {level.name_zh} {level.name_en};"
        f" personal / 个人信息: {grade.personal}; sensitive / 敏感个人信息:"
        f" {grade.sensitive_personal}",
        markup=False,
        soft_wrap=True,
    )
    for reason in grade.reasons:
        console.print(f"  - {reason}", markup=False, soft_wrap=True)
    console.print(
        "important data / 重要数据: not assessed from a sample; `shuzhi ingest` counts the"
        " individuals of the whole dataset / 样本不评估，入湖时按全量个人数评估",
        markup=False,
        soft_wrap=True,
    )
