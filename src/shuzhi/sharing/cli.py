"""``shuzhi sharing …``: apply sharing deadlines from cron or by hand."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console

from shuzhi.context import Actor, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.settings import load_settings
from shuzhi.sharing import service

sharing_app = typer.Typer(help="Data sharing (共享交换).", no_args_is_help=True)
console = Console()


@sharing_app.command("escalate")
def escalate(
    data_dir: str | None = typer.Option(
        None, "--data-dir", envvar="SHUZHI_DATA_DIR", help="Data directory"
    ),
) -> None:
    """Escalate every request whose decision deadline has passed to the CDO executive."""
    database = Database(load_settings(data_dir=data_dir))
    upgrade(database)
    actor = Actor(kind="system", name=f"cli:{getpass.getuser()}")
    with unit_of_work(database, actor) as ctx:
        escalated = service.escalate_overdue(ctx)
    for r in escalated:
        console.print(f"#{r.id} {r.resource_code} {r.provider_unit_code} due {r.due_on}")
    console.print(f"Escalated / 已上报: {len(escalated)}")
    database.dispose()
