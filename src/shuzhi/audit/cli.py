"""``shuzhi audit …``: inspect the audit log."""

from __future__ import annotations

import typer

from shuzhi.audit import service as audit
from shuzhi.command import DataDir, acting, console, err_console

audit_app = typer.Typer(help="Inspect the audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Recompute the audit hash chain; exit 1 naming the first bad entry if it was tampered with."""
    with acting(data_dir) as ctx:
        report = audit.verify_audit(ctx)
    if report.ok:
        console.print(f"OK: {report.entries} entries, chain intact / 哈希链完整")
        return
    err_console.print(
        f"[red]BROKEN at entry {report.first_bad_seq}[/]: {report.reason}\n"
        f"哈希链在第 {report.first_bad_seq} 条处被破坏"
    )
    raise typer.Exit(1)
