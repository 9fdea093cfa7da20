"""``shuzhi cockpit …``: the daily run (snapshot + indicators) for cron or a systemd timer."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.markup import escape

from shuzhi.cockpit import service
from shuzhi.context import Actor, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.settings import load_settings

cockpit_app = typer.Typer(help="Leadership cockpit (驾驶舱).", no_args_is_help=True)
console = Console()


@cockpit_app.command("evaluate")
def evaluate(
    data_dir: str | None = typer.Option(
        None, "--data-dir", envvar="SHUZHI_DATA_DIR", help="Data directory"
    ),
    no_snapshot: bool = typer.Option(False, "--no-snapshot", help="Evaluate indicators only"),
) -> None:
    """Evaluate every indicator (alerts, webhook) and keep today's cockpit figures."""
    database = Database(load_settings(data_dir=data_dir))
    upgrade(database)
    actor = Actor(kind="system", name=f"cli:{getpass.getuser()}")
    with unit_of_work(database, actor) as ctx:
        result = service.evaluate_indicators(ctx)
        figures = 0 if no_snapshot else service.take_snapshot(ctx)
    for code, reading in result.readings:
        value = "—" if reading.value is None else f"{reading.value:g}"
        console.print(escape(f"{code}: {value} [{reading.level.value}] {reading.message}"))
    console.print(
        f"Indicators / 指标: {result.evaluated}; alerts / 告警: {len(result.alerts)};"
        f" figures kept / 快照: {figures}"
    )
    database.dispose()
