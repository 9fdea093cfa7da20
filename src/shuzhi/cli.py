"""The ``shuzhi`` command: run the platform and administer a data directory."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from shuzhi.assess.cli import assess_app
from shuzhi.audit.cli import audit_app
from shuzhi.auth import service as auth
from shuzhi.auth.cli import apikey_app, user_app
from shuzhi.auth.schemas import UserCreate
from shuzhi.catalog.cli import catalog_app
from shuzhi.cockpit.cli import cockpit_app
from shuzhi.command import (
    DataDir,
    cli_actor,
    console,
    err_console,
    fail,
    open_database,
    settings_or_exit,
)
from shuzhi.context import Role, unit_of_work
from shuzhi.db.backup_cli import backup_command, restore_command
from shuzhi.db.engine import Database
from shuzhi.errors import ShuzhiError
from shuzhi.lake.cli import lake_app
from shuzhi.lake.ingest_cli import ingest_command
from shuzhi.market.cli import market_app
from shuzhi.masterdata import pushback_cli as masterdata_pushback_cli
from shuzhi.masterdata.cli import masterdata_app
from shuzhi.org import service as org
from shuzhi.org.models import UnitKind
from shuzhi.org.schemas import UnitCreate
from shuzhi.posture import demo_refusal, restrict_file_modes
from shuzhi.secops.cli import secops_app
from shuzhi.security.cli import classify, security_app
from shuzhi.settings import Settings
from shuzhi.sharing.cli import sharing_app
from shuzhi.validation import parse
from shuzhi.wiring import register_all

app = typer.Typer(
    help="数治 Shuzhi — platform for the Chief Data Officer system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Each capability's commands live in its own cli.py; this module only assembles them.
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(audit_app, name="audit")
app.add_typer(catalog_app, name="catalog")
app.add_typer(lake_app, name="lake")
app.command("ingest")(ingest_command)
app.add_typer(security_app, name="security")
app.command("classify")(classify)
masterdata_pushback_cli.register(masterdata_app)
app.add_typer(masterdata_app, name="masterdata")
app.add_typer(sharing_app, name="sharing")
app.add_typer(cockpit_app, name="cockpit")
app.add_typer(assess_app, name="assess")
app.add_typer(market_app, name="market")
app.add_typer(secops_app, name="secops")
app.command("backup")(backup_command)
app.command("restore")(restore_command)


@app.callback()
def _before_every_command() -> None:
    """Every command creates its files (database, datasets, secrets) for this account only,
    with the capabilities' reactions to each other's hook events registered."""
    restrict_file_modes()
    register_all()


Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


def _serve(settings: Settings, database: Database, host: str, port: int) -> None:
    import uvicorn

    from shuzhi.app import create_app

    application = create_app(settings, database=database, migrate=False)
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=True)


@app.command()
def init(
    data_dir: DataDir = None,
    region_code: Annotated[str | None, typer.Option(help="Code of the region unit")] = None,
    region_name: Annotated[str | None, typer.Option(help="Name, e.g. 某某区")] = None,
    admin: Annotated[str | None, typer.Option(help="Username of the first CDO executive")] = None,
    admin_password: Annotated[
        str | None,
        typer.Option(
            envvar="SHUZHI_ADMIN_PASSWORD", help="Password for --admin (prompted if omitted)"
        ),
    ] = None,
) -> None:
    """Create the data directory and schema; optionally the region and its first executive."""
    database = open_database(data_dir)
    try:
        with unit_of_work(database, cli_actor()) as ctx:
            if region_code and region_name and org.unit_id_for_code(ctx, region_code) is None:
                org.create_unit(
                    ctx,
                    parse(
                        UnitCreate,
                        {"code": region_code, "name": region_name, "kind": UnitKind.REGION},
                    ),
                )
            if admin:
                password = admin_password or typer.prompt(
                    "Password / 密码", hide_input=True, confirmation_prompt=True
                )
                auth.create_user(
                    ctx,
                    parse(
                        UserCreate,
                        {
                            "username": admin,
                            "display_name": admin,
                            "password": password,
                            "role": Role.CDO_EXECUTIVE,
                            "unit_code": region_code,
                        },
                    ),
                )
    except ShuzhiError as err:
        raise fail(err) from None
    console.print(f"Initialised / 已初始化: {database.settings.data_dir}")


@app.command()
def serve(data_dir: DataDir = None, host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the console and API on an existing data directory."""
    database = open_database(data_dir)
    console.print(f"Shuzhi: http://{host}:{port}/")
    _serve(database.settings, database, host, port)


@app.command()
def demo(
    data_dir: DataDir = None,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo, then exit")] = False,
) -> None:
    """Create (idempotently) the demo district and serve it; prints the demo accounts."""
    from shuzhi.demo.district import CREDENTIALS_FILE, build_demo

    settings = settings_or_exit(data_dir)
    if settings.is_production:
        err_console.print(f"[red]Settings refused / 配置被拒绝:[/]\n{demo_refusal()}")
        raise typer.Exit(2)
    database = open_database(data_dir, settings)
    accounts = build_demo(database)
    table = Table(title="Demo accounts / 演示账号")
    for column in ("username", "password", "role", "unit"):
        table.add_column(column)
    for a in accounts:
        table.add_row(a.username, a.password, a.role, a.unit or "")
    console.print(table)
    console.print(f"Credentials written to {database.settings.data_dir / CREDENTIALS_FILE}")
    if not no_serve:
        console.print(f"[bold]Open / 打开: http://{host}:{port}/[/]")
        _serve(database.settings, database, host, port)


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()
