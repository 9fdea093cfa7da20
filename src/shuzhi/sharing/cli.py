"""``shuzhi sharing …``: apply sharing deadlines from cron or by hand."""

from __future__ import annotations

import typer

from shuzhi.command import DataDir, acting, console, open_database
from shuzhi.sharing import outbox, service

sharing_app = typer.Typer(help="Data sharing (共享交换).", no_args_is_help=True)


@sharing_app.command("escalate")
def escalate(data_dir: DataDir = None) -> None:
    """Escalate every request whose decision deadline has passed to the CDO executive."""
    with acting(data_dir) as ctx:
        outbox.deliver_inline(ctx.database)  # the reminders and escalations it sends
        escalated = service.escalate_overdue(ctx)
    for r in escalated:
        console.print(f"#{r.id} {r.resource_code} {r.provider_unit_code} due {r.due_on}")
    console.print(f"Escalated / 已上报: {len(escalated)}")


@sharing_app.command("deliver-notices")
def deliver_notices(data_dir: DataDir = None) -> None:
    """Send the notices (e-mail, webhook) that are due, retrying those refused before."""
    database = open_database(data_dir)
    try:
        sent, failed = outbox.drain(database)
    finally:
        database.dispose()
    console.print(f"Sent / 已发送: {sent}; refused, retried later / 被拒、稍后重试: {failed}")
