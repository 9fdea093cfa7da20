"""``shuzhi market …``: the annual disclosure and the balance-sheet workbook as files."""

from __future__ import annotations

from pathlib import Path

import typer

from shuzhi.command import DataDir, acting, console, err_console
from shuzhi.market import service

market_app = typer.Typer(
    help="Data market (数据市场): disclosure, data assets.", no_args_is_help=True
)

FORMATS = {".xlsx": "xlsx", ".pdf": "pdf"}


def _write(out: Path, data: bytes) -> None:
    """Write the file whole (a temporary file renamed into place)."""
    part = out.with_name(f".{out.name}.part")
    part.write_bytes(data)
    part.replace(out)


@market_app.command("disclosure")
def disclosure(
    year: int = typer.Option(..., "--year", help="The year disclosed (due by 31 March after)"),
    out: Path = typer.Option(..., "--out", help="File to write: .xlsx or .pdf"),
    data_dir: DataDir = None,
) -> None:
    """Write a year's annual disclosure (信息披露) as XLSX or PDF; nothing is written for a
    year with nothing to disclose."""
    file_format = FORMATS.get(out.suffix.lower())
    if file_format is None:
        err_console.print(
            "[red]输出文件须为 .xlsx 或 .pdf。[/]\nThe output file must be .xlsx or .pdf."
        )
        raise typer.Exit(1)
    with acting(data_dir) as ctx:
        data = service.export_disclosure(ctx, year, file_format)
        published = service.get_disclosure(ctx, year).published
    _write(out, data)
    state = "published / 已发布" if published else "draft / 草稿（未发布）"
    console.print(f"{year}: {state} → {out}")


@market_app.command("balance-sheet")
def balance_sheet(
    org: str = typer.Option(..., "--org", help="The organisation's unified social credit code"),
    year: int = typer.Option(..., "--year", help="The financial year"),
    out: Path = typer.Option(..., "--out", help="XLSX file to write"),
    data_dir: DataDir = None,
) -> None:
    """Write an organisation's data assets (入表): costs, amortisation, disclosure tables —
    the platform's computation, not an audited statement."""
    if out.suffix.lower() != ".xlsx":
        err_console.print("[red]输出文件须为 .xlsx。[/]\nThe output file must be .xlsx.")
        raise typer.Exit(1)
    with acting(data_dir) as ctx:
        data = service.export_balance_sheet(ctx, org, year)
    _write(out, data)
    console.print(f"{org} {year} → {out} (平台计算，未经审计 / platform computation, not audited)")
