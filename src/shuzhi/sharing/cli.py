"""``shuzhi sharing …``: apply sharing deadlines from cron or by hand."""

from __future__ import annotations

import typer

from shuzhi.command import DataDir, acting, console
from shuzhi.sharing import service

sharing_app = typer.Typer(help="Data sharing (共享交换).", no_args_is_help=True)


@sharing_app.command("escalate")
def escalate(data_dir: DataDir = None) -> None:
    """Escalate every request whose decision deadline has passed to the CDO executive."""
    with acting(data_dir) as ctx:
        escalated = service.escalate_overdue(ctx)
    for r in escalated:
        console.print(f"#{r.id} {r.resource_code} {r.provider_unit_code} due {r.due_on}")
    console.print(f"Escalated / 已上报: {len(escalated)}")
