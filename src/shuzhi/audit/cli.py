"""``shuzhi audit …``: inspect the audit log and anchor its head."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from shuzhi.audit import anchors, archive, siem
from shuzhi.audit import service as audit
from shuzhi.audit.chain import chain_mac
from shuzhi.command import (
    DataDir,
    acting,
    console,
    err_console,
    open_database,
    settings_or_exit,
)

audit_app = typer.Typer(help="Inspect the audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    data_dir: DataDir = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Read every entry, not only those since the last checkpoint."),
    ] = False,
) -> None:
    """Recompute the MAC chain from the last signed checkpoint (every entry with --full) and
    compare it with the anchors; exit 1 naming the first bad entry if the log was tampered
    with."""
    with acting(data_dir) as ctx:
        report = audit.verify_audit(ctx, full=full)
    if report.ok:
        console.print(
            f"OK: {report.entries} entries, chain intact, {report.anchors} anchors match"
            f" / 哈希链完整，{report.anchors} 个锚点一致"
        )
        if report.from_checkpoint is not None:
            console.print(
                f"Checked the {report.checked} entries after the checkpoint at entry"
                f" {report.from_checkpoint}; use --full to check every entry"
                f" / 已从第 {report.from_checkpoint} 条处的签名检查点起核验 {report.checked} 条，"
                "--full 核验全部条目"
            )
        if report.seals:
            console.print(
                f"{report.sealed_records} records kept outside the log match their"
                f" {report.seals} seals / {report.sealed_records} 条日志外记录与其"
                f" {report.seals} 个封存摘要一致"
            )
        if report.legacy_entries:
            console.print(
                f"The first {report.legacy_entries} entries predate the audit key (SHA-256,"
                f" sealed) / 前 {report.legacy_entries} 条为启用密钥前的 SHA-256 条目（已封存）"
            )
        return
    err_console.print(
        f"[red]BROKEN at entry {report.first_bad_seq}[/]: {report.reason}\n"
        f"哈希链在第 {report.first_bad_seq} 条处被破坏"
    )
    raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor(data_dir: DataDir = None) -> None:
    """Write the chain head to DATA_DIR/audit-anchors (and the anchor command) now."""
    database = open_database(data_dir)
    try:
        anchor = anchors.write_anchor(database)
    except anchors.AnchorRefused as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    finally:
        anchors.wait_for_hooks()
        database.dispose()
    if anchor is None:
        console.print("The audit log is empty: nothing to anchor / 审计日志为空，无需锚定")
        return
    console.print(f"Anchored entry {anchor.seq} ({anchor.head}) / 已锚定第 {anchor.seq} 条")


@audit_app.command("archive")
def audit_archive(
    before: Annotated[
        datetime,
        typer.Option(
            "--before",
            formats=["%Y-%m-%d"],
            help="Archive entries written before this day (UTC), up to a signed checkpoint.",
        ),
    ],
    data_dir: DataDir = None,
) -> None:
    """Move closed entries out of the database into DATA_DIR/audit/archive (Parquet), each
    checked against the chain first; verify --full still reads them."""
    with acting(data_dir) as ctx:
        report = audit.archive_audit(ctx, before)
    with acting(data_dir) as ctx:
        removed = archive.finish_removal(ctx)
    console.print(
        f"Archived entries {report.first}–{report.last} to {report.file.name}"
        f" ({report.bytes:,} bytes, {report.bytes / max(report.removed, 1):.0f} per entry);"
        f" {removed:,} rows removed from the database"
        f" / 已将第 {report.first}–{report.last} 条归档，数据库中删除 {removed:,} 行"
    )


@audit_app.command("export-siem")
def audit_export_siem(
    since: Annotated[
        datetime,
        typer.Option("--since", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="From (UTC)."),
    ],
    until: Annotated[
        datetime,
        typer.Option(
            "--until", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="Until, exclusive (UTC)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    file_format: Annotated[
        str, typer.Option("--format", help="jsonl (JSON Lines) or cef (RFC 5424 syslog, CEF).")
    ] = "jsonl",
    data_dir: DataDir = None,
) -> None:
    """Export the audit entries of a time range for a SIEM, each with its hash and the
    previous entry's hash (audited); check the file with verify-export."""
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as out, acting(data_dir) as ctx:
            written = siem.export_for_siem(ctx, out, since, until, file_format)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    console.print(f"Exported {written} entries to {output} / 已导出 {written} 条审计记录")


@audit_app.command("verify-export")
def audit_verify_export(
    file: Annotated[Path, typer.Argument(help="A file written by export-siem.")],
    links_only: Annotated[
        bool,
        typer.Option("--links-only", help="Check the links only (no audit key at hand)."),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Check an exported file: sequence numbers and hash links unbroken and (with the audit
    key of this installation) every entry's MAC; exit 1 naming the first bad line."""
    mac = None if links_only else chain_mac(settings_or_exit(data_dir))
    with file.open(encoding="utf-8") as lines:
        report = siem.check_lines(lines, mac)
    if report.ok:
        checked = "links and MACs" if report.macs_checked else "links only"
        console.print(
            f"OK: entries {report.first}–{report.last} ({report.entries}), chain intact"
            f" ({checked}) / 导出的哈希链完整"
        )
        return
    err_console.print(
        f"[red]BROKEN at line {report.bad_line}[/]: {escape(report.reason)}\n"
        f"导出文件在第 {report.bad_line} 行处被破坏"
    )
    raise typer.Exit(1)
