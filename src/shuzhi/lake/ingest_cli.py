"""``shuzhi ingest``: load a file or a database table/query into a catalogue entry's dataset,
or run the stored source definitions that are due (for cron or a systemd timer)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich import filesize
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from shuzhi.command import DataDir, cli_actor, console, err_console, fail, open_database
from shuzhi.context import Actor, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.errors import ShuzhiError
from shuzhi.lake import service
from shuzhi.lake.readers import DatabaseSource, FileSource, Source
from shuzhi.lake.schemas import GradeOut

STEPS = ("load", "profile", "classify", "quality")


def _source(source: str, table: str | None, query: str | None, sheet: str | None) -> Source:
    if "://" in source:
        return DatabaseSource(source, table=table, query=query)
    return FileSource(Path(source), sheet=sheet)


def ingest_command(
    source: Annotated[
        str | None, typer.Argument(help="A file, or a SQLAlchemy URL with --table or --query")
    ] = None,
    entry: Annotated[
        str | None, typer.Option("--entry", help="Resource code of the catalogue entry")
    ] = None,
    table: Annotated[str | None, typer.Option(help="Database table")] = None,
    query: Annotated[str | None, typer.Option(help="Database query")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first)")] = None,
    max_reject_ratio: Annotated[
        float, typer.Option(help="Fail the load above this share of rejected rows")
    ] = 0.01,
    due: Annotated[
        bool, typer.Option("--due", help="Run every stored source definition that is due")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Load SOURCE into the dataset of catalogue entry --entry as a new version."""
    database = open_database(data_dir)
    actor = cli_actor()
    try:
        if due:
            runs = service.run_due_sources(database, actor)
            for run in runs:
                text = f"{run.resource_code} #{run.source_id}: {run.outcome} {run.message}"
                if run.outcome == "failed":
                    text += f"\n  {run.message_zh}"
                console.print(text, markup=False)
            console.print(f"{len(runs)} source(s) run / 已执行")
            if any(r.outcome == "failed" for r in runs):
                raise typer.Exit(1)
            return
        if source is None or entry is None:
            err_console.print("SOURCE and --entry are required / 需要数据源和 --entry")
            raise typer.Exit(2)
        _run(database, actor, entry, _source(source, table, query, sheet), max_reject_ratio)
    finally:
        service.close_engine(database)
        database.dispose()


class IngestProgress:
    """Bytes of a file (rows of a database) read, then the ingest steps, as two bars."""

    def __init__(self, bar: Progress, source: Source, entry: str) -> None:
        self.bar = bar
        self.entry = entry
        self.total: int | None = None
        if isinstance(source, FileSource) and source.path.is_file():
            self.total = source.path.stat().st_size
        self.read = bar.add_task(f"read / {entry}", total=self.total, detail="")
        self.steps = bar.add_task(f"load / {entry}", total=len(STEPS), detail="")
        self.bytes_read = 0
        self.rows_read = 0

    def attach(self, source: Source) -> Source:
        """The same source, reporting its reading progress here."""
        if isinstance(source, FileSource):
            return replace(source, on_bytes=self.on_bytes)
        return replace(source, on_rows=self.on_rows)

    def on_bytes(self, done: int) -> None:
        # A second read of the same file (a rejected duplicate re-loaded) never goes back.
        self.bytes_read = max(self.bytes_read, done)
        total = filesize.decimal(self.total) if self.total is not None else "?"
        detail = f"{filesize.decimal(self.bytes_read)} / {total}"
        self.bar.update(self.read, completed=self.bytes_read, detail=detail)

    def on_rows(self, done: int) -> None:
        self.rows_read = max(self.rows_read, done)
        self.bar.update(self.read, completed=self.rows_read, detail=f"{self.rows_read:,} rows")

    def step(self, name: str) -> None:
        done = STEPS.index(name) if name in STEPS else 0
        self.bar.update(self.steps, completed=done, description=f"{name} / {self.entry}")
        if done > 0 and self.total is not None:  # reading is over once analysis starts
            self.on_bytes(self.total)

    def finish(self) -> None:
        self.bar.update(self.steps, completed=len(STEPS), description=f"done / {self.entry}")


def _run(database: Database, actor: Actor, entry: str, source: Source, ratio: float) -> None:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        shown = IngestProgress(bar, source, entry)
        try:
            # The ingest commits its short transactions itself and holds none while it
            # reads and analyses: console users keep writing meanwhile (datasets.md).
            with unit_of_work(database, actor) as ctx:
                result = service.ingest(
                    ctx,
                    entry,
                    shown.attach(source),
                    service.IngestOptions(ratio),
                    progress=shown.step,
                )
        except ShuzhiError as err:
            bar.stop()
            raise fail(err) from None
        shown.finish()
    v = result.version
    if result.outcome == "unchanged":
        console.print(f"unchanged / 内容未变化: version {v.number} ({v.content_hash[:12]})")
        return
    console.print(
        f"version {v.number} ({v.status}): {v.row_count} rows, {v.rejects.count} rejected,"
        f" quality {v.quality_score}"
    )
    if v.grade is not None:
        _print_grade(v.grade, v.row_count)
    if v.schema_check.drift:
        console.print(
            "[yellow]schema differs from the catalogue; waiting for the unit CDO"
            " / 结构与目录不符，待单位首席数据官审核[/]"
        )


def _print_grade(grade: GradeOut, rows: int) -> None:
    """The grade with its reasons, the scale it was judged on and the important-data flag."""
    console.print(
        f"grade / 分级: {grade.level_zh} {grade.level_en} ({grade.scheme});"
        f" classified from the first {grade.sample_rows:,} of {rows:,} rows"
        f" / 按前 {grade.sample_rows:,} 行样本分类",
        markup=False,
        soft_wrap=True,
    )
    for reason in grade.reasons:
        console.print(f"  - {reason}", markup=False, soft_wrap=True)
    counted = f"distinct {grade.counted_by}" if grade.counted_by else "rows"
    flag = "yes, review / 是，待评估" if grade.important_candidate else "no / 否"
    console.print(
        f"individuals / 个人数: {grade.individuals:,} ({counted});"
        f" important data / 重要数据: {flag}",
        markup=False,
        soft_wrap=True,
    )
