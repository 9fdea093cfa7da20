"""``shuzhi cockpit …``: the daily run (snapshot + indicators) for cron or a systemd timer."""

from __future__ import annotations

import typer
from rich.markup import escape

from shuzhi.cockpit import service
from shuzhi.command import DataDir, acting, console
from shuzhi.sharing import outbox

cockpit_app = typer.Typer(help="Leadership cockpit (驾驶舱).", no_args_is_help=True)


@cockpit_app.command("evaluate")
def evaluate(
    data_dir: DataDir = None,
    no_snapshot: bool = typer.Option(False, "--no-snapshot", help="Evaluate indicators only"),
) -> None:
    """Evaluate every indicator (alerts, webhook) and keep today's cockpit figures."""
    with acting(data_dir) as ctx:
        outbox.deliver_inline(ctx.database)  # alert notices leave before the command ends
        result = service.evaluate_indicators(ctx)
        figures = 0 if no_snapshot else service.take_snapshot(ctx)
    for code, reading in result.readings:
        value = "—" if reading.value is None else f"{reading.value:g}"
        console.print(escape(f"{code}: {value} [{reading.level.value}] {reading.message}"))
    console.print(
        f"Indicators / 指标: {result.evaluated}; alerts / 告警: {len(result.alerts)};"
        f" figures kept / 快照: {figures}"
    )
