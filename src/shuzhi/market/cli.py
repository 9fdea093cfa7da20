"""``shuzhi market …``: the annual disclosure and the balance-sheet workbook as files."""

from __future__ import annotations

from pathlib import Path

import typer

from shuzhi.command import DataDir, acting, console, err_console
from shuzhi.market import service
from shuzhi.market.service.balance_tables import share_label
from shuzhi.market.texts import TEXTS

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
    """Write an organisation's data assets (入表): costs, amortisation, impairments and
    disposals, disclosure tables — the platform's computation, not an audited statement.
    Prints the carrying amounts and the year's reductions."""
    if out.suffix.lower() != ".xlsx":
        err_console.print("[red]输出文件须为 .xlsx。[/]\nThe output file must be .xlsx.")
        raise typer.Exit(1)
    with acting(data_dir) as ctx:
        sheet, data = service.balance_sheet_file(ctx, org, year)
    _write(out, data)
    console.print(f"{org} {year} → {out} (平台计算，未经审计 / platform computation, not audited)")
    for label, rows in (
        ("无形资产 intangible", sheet.intangible),
        ("存货 inventory", sheet.inventory),
    ):
        figures = {r.key: r.total for r in rows}
        console.print(
            f"{label}: 原值减少 cost decrease {figures['cost.decrease']:,.2f} · 期末账面价值"
            f" carrying at the end {figures['carrying.ending']:,.2f}"
        )
    for r in sheet.reductions:
        kind = TEXTS[f"mk.books.red.{r.kind}.{r.asset_class}"]
        extra = ""
        if r.share is not None or r.whole:
            extra += f" · 份额 share {share_label(r)} · 转出原值 cost {r.cost_removed:,.2f}"
        if r.cost_of_sales is not None:
            extra += f" · 营业成本 cost of sales {r.cost_of_sales:,.2f}"
        if r.gain_or_loss is not None:
            extra += f" · 损益 gain/loss {r.gain_or_loss:,.2f}"
        console.print(
            f"{r.booked_on} {r.resource_code} {kind[0]} {kind[1]}: {r.amount:,.2f}{extra}"
            f" — {r.reason}",
            markup=False,
        )
    if not sheet.reductions:
        console.print("本年度没有减值、出售或终止确认 / no impairment, sale or derecognition")
