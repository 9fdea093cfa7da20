"""``shuzhi secops …``: run the monitoring rules once (for cron or a systemd timer)."""

from __future__ import annotations

import typer
from rich.markup import escape

from shuzhi.command import DataDir, acting, console
from shuzhi.secops import service
from shuzhi.sharing import outbox

secops_app = typer.Typer(help="Security operations (数据安全运营).", no_args_is_help=True)


@secops_app.command("evaluate")
def evaluate(data_dir: DataDir = None) -> None:
    """Run every monitoring rule once over the last hour and print the new alerts."""
    with acting(data_dir) as ctx:
        outbox.deliver_inline(ctx.database)  # alert mail and webhook leave before the end
        result = service.evaluate(ctx)
    for alert in result.new:
        console.print(
            escape(
                f"#{alert.id} [{alert.severity}] {alert.rule} {alert.subject}"
                f" count={alert.count}: {alert.summary_en}"
            )
        )
    console.print(f"New alerts / 新告警: {len(result.new)}; still running / 持续: {result.grown}")


@secops_app.command("risk-assess")
def risk_assess(data_dir: DataDir = None) -> None:
    """Enter new datasets in the risk register and re-assess what changed (stale) or is due."""
    with acting(data_dir) as ctx:
        result = service.reassess_due(ctx)
    for subject in result.subjects:
        console.print(escape(subject))
    console.print(f"Assessed / 已评估: {result.assessed}")
