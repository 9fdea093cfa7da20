"""``shuzhi lake …``: operator commands for looking at sources before loading them and for
clearing what killed loads left behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from shuzhi.command import DataDir, acting, console, fail
from shuzhi.errors import ShuzhiError
from shuzhi.lake import service
from shuzhi.lake.readers import DatabaseSource, FileSource, Source, inspect_source

lake_app = typer.Typer(
    help="Data lake: look at sources before loading them; clear leftovers of killed loads.",
    no_args_is_help=True,
)


def _source(source: str, sheet: str | None, table: str | None, query: str | None) -> Source:
    if "://" in source:
        return DatabaseSource(source, table=table, query=query)
    return FileSource(Path(source), sheet=sheet)


@lake_app.command("inspect")
def inspect(
    source: Annotated[str, typer.Argument(help="A file, or a SQLAlchemy database URL")],
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first)")] = None,
    table: Annotated[str | None, typer.Option(help="Database table")] = None,
    query: Annotated[str | None, typer.Option(help="Database query")] = None,
    rows: Annotated[int, typer.Option(help="Sample rows to show")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Print detected format, encoding, delimiter, cleaned columns and a sample of rows."""
    try:
        preview = inspect_source(_source(source, sheet, table, query), rows)
    except ShuzhiError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "format": preview.format,
                    "details": preview.details,
                    "columns": preview.columns,
                    "source_columns": preview.source_columns,
                    "rows": preview.rows,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for key, value in preview.details.items():
        if value is not None:
            console.print(f"{key}: {value!r}" if key == "delimiter" else f"{key}: {value}")
    columns = Table(title="Columns / 列")
    columns.add_column("#")
    columns.add_column("name / 列名")
    columns.add_column("in source / 原表头")
    for i, (name, original) in enumerate(
        zip(preview.columns, preview.source_columns, strict=True), 1
    ):
        columns.add_row(str(i), name, original if original != name else "")
    console.print(columns)
    sample = Table(title=f"First {len(preview.rows)} rows / 前 {len(preview.rows)} 行")
    for name in preview.columns:
        sample.add_column(name)
    for row in preview.rows:
        sample.add_row(*["" if v is None else v for v in row])
    console.print(sample)


@lake_app.command("gc")
def gc(
    apply: Annotated[
        bool, typer.Option("--apply", help="Remove what was found (default: only list it)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    data_dir: DataDir = None,
) -> None:
    """List (with --apply: remove) version files never registered, work directories and
    staged uploads that killed loads and uploads left behind. Audited."""
    with acting(data_dir) as ctx:
        report = service.collect_lake_garbage(ctx, apply=apply)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    for item in report.items:
        console.print(f"{item.kind}\t{item.bytes}\t{item.path}", markup=False, highlight=False)
    for code in report.busy:
        console.print(f"busy (being loaded) / 正在归集，跳过: {code}", markup=False)
    verb = (
        "removed / 已删除"
        if report.applied
        else "found / 发现 (--apply to remove / 加 --apply 删除)"
    )
    console.print(f"{len(report.items)} item(s), {report.bytes} bytes {verb}", markup=False)


@lake_app.command("tables")
def tables(
    dialect: Annotated[
        service.Dialect, typer.Option(help="Engine whose SQL to print")
    ] = service.Dialect.DUCKDB,
    prefix: Annotated[
        str | None,
        typer.Option(
            help="Where the engine sees the data directory (e.g. s3a://bucket/shuzhi,"
            " /mnt/shuzhi); default: its local path"
        ),
    ] = None,
    schema: Annotated[
        str, typer.Option(help="Schema (Spark database; Trino catalog.schema) for the tables")
    ] = "shuzhi",
    data_dir: DataDir = None,
) -> None:
    """Print a view or table for every published dataset version (<name>__v<N>) and one per
    current version (<name>), so DuckDB, Spark or Trino read them without the platform.
    Spark and Trino read DATA_DIR/tables/ (hard links, created here). The files are raw,
    unmasked data: an operator's command, audited."""
    with acting(data_dir) as ctx:
        found = service.published_tables(ctx, dialect)
        root = ctx.settings.data_dir
    directories = service.link_tables(root, found) if dialect is not service.Dialect.DUCKDB else {}
    header = (
        f"-- Shuzhi datasets for {dialect.value}: {len(found)} version(s). Raw, unmasked data;"
        " whoever reads these files reads every row. / 原始未脱敏数据。"
    )
    typer.echo(header)
    for line in service.statements(
        found, dialect, root, prefix=prefix, schema=schema, directories=directories
    ):
        typer.echo(line)
