"""``shuzhi catalog …``: the compile template (政务数据资源目录编制模板) in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from shuzhi.catalog import abbreviations
from shuzhi.catalog import service as catalog_service
from shuzhi.catalog.excel import exporting
from shuzhi.catalog.excel import service as excel_service
from shuzhi.catalog.schemas import AbbreviationsIn
from shuzhi.command import DataDir, acting, console, err_console

catalog_app = typer.Typer(help="Data resource catalogue (政务数据资源目录).", no_args_is_help=True)
UnitOption = Annotated[str | None, typer.Option("--unit", help="Unit code (单位代码)")]


@catalog_app.command("import")
def catalog_import(file: Path, unit: UnitOption = None, data_dir: DataDir = None) -> None:
    """Import a compile-template workbook; all or nothing, exit 1 with the row-level report."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        err_console.print(f"[red]Cannot read / 无法读取 {file}:[/] {exc.strerror}")
        raise typer.Exit(2) from None
    with acting(data_dir) as ctx:
        report = excel_service.import_workbook(ctx, content, unit, filename=file.name)
    for w in report.warnings:
        err_console.print(f"[yellow]{_where(w)}[/] {w.message_zh} / {w.message_en}")
    if not report.ok:
        table = Table(title="Import refused, nothing imported / 导入未执行，未导入任何内容")
        for column in ("sheet", "row", "column", "问题", "problem"):
            table.add_column(column)
        for e in report.errors:
            table.add_row(
                e.sheet or "", str(e.row or ""), e.column or "", e.message_zh, e.message_en
            )
        err_console.print(table)
        if report.errors_truncated:
            err_console.print(
                f"… {report.error_count - len(report.errors)} more / 另有 "
                f"{report.error_count - len(report.errors)} 处问题未列出"
            )
        err_console.print(f"[red]{report.error_count} problems / 处问题[/]")
        raise typer.Exit(1)
    console.print(
        f"Imported / 已导入: created 新建 {len(report.created)}, updated 修改 "
        f"{len(report.updated)}, revised 修订 {len(report.revised)}, unchanged 未变 "
        f"{len(report.unchanged)}; items 信息项 {report.items_read}"
    )


def _where(p: object) -> str:
    sheet, row, column = (getattr(p, k) for k in ("sheet", "row", "column"))
    return " ".join(str(x) for x in (sheet, f"row {row}" if row else None, column) if x)


@catalog_app.command("export")
def catalog_export(file: Path, unit: UnitOption = None, data_dir: DataDir = None) -> None:
    """Write the catalogue (one unit, or all) as a compile-template workbook."""
    with acting(data_dir) as ctx:
        content = exporting.export_workbook(ctx, unit)
    file.write_bytes(content)
    console.print(f"Exported / 已导出: {file}")


@catalog_app.command("abbreviations")
def catalog_abbreviations(
    file: Annotated[
        Path | None,
        typer.Option("--set", help="Replace the list: a UTF-8 file, one group per line"),
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Back to the shipped list")] = False,
    data_dir: DataDir = None,
) -> None:
    """Search abbreviations (检索同义词, 社保 ↔ 社会保险): print, replace from a file, or reset."""
    groups = None
    if file is not None:
        try:
            groups = abbreviations.parse_lines(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            err_console.print(f"[red]Cannot read / 无法读取 {file}:[/] {exc}")
            raise typer.Exit(2) from None
    with acting(data_dir) as ctx:
        if reset:
            out = catalog_service.reset_abbreviations(ctx)
        elif groups is not None:
            out = catalog_service.save_abbreviations(ctx, AbbreviationsIn(groups=groups))
        else:
            out = catalog_service.list_abbreviations(ctx)
    console.print(abbreviations.as_lines(out.groups), markup=False, highlight=False)
    source = "custom / 本局列表" if out.customised else "shipped / 随附列表"
    err_console.print(f"{len(out.groups)} groups / 组 ({source})")
