"""What every ``shuzhi`` command shares: the data-directory option, the system actor, opening
the database, and printing errors in both languages.

Each capability keeps its commands in its own ``cli.py`` built on these; ``shuzhi.cli`` only
assembles them into one command.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shuzhi.context import Actor, Ctx, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.errors import Invalid, ShuzhiError
from shuzhi.settings import Settings, UnsafeSettings, load_settings

console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="SHUZHI_DATA_DIR",
        help="Data directory (default ./shuzhi-data); the server and every command share it.",
    ),
]


def cli_actor() -> Actor:
    """Whoever can run commands on the data directory administers the installation."""
    return Actor(kind="system", name=f"cli:{getpass.getuser()}")


def settings_or_exit(data_dir: Path | None) -> Settings:
    """The settings; refused ones are printed (one line per problem) and end the command."""
    try:
        return load_settings(data_dir=data_dir)
    except UnsafeSettings as exc:
        err_console.print(f"[red]Settings refused / 配置被拒绝:[/]\n{exc}")
        raise typer.Exit(2) from None


def open_database(data_dir: Path | None, settings: Settings | None = None) -> Database:
    """The data directory's database, migrated; refused settings end the command (exit 2)."""
    database = Database(settings or settings_or_exit(data_dir))
    upgrade(database)
    return database


def fail(err: ShuzhiError) -> typer.Exit:
    """Print a refusal in both languages (every field error of an ``Invalid``); exit 1."""
    err_console.print(f"[red]{err.message.zh}[/]\n{err.message.en}")
    if isinstance(err, Invalid):
        for e in err.errors:
            err_console.print(f"  - {e.field}: {e.message.zh} / {e.message.en}")
    return typer.Exit(1)


@contextmanager
def acting(data_dir: Path | None) -> Iterator[Ctx]:
    """One unit of work as the system actor; a refusal is printed and ends the command."""
    database = open_database(data_dir)
    try:
        with unit_of_work(database, cli_actor()) as ctx:
            yield ctx
    except ShuzhiError as err:
        raise fail(err) from None
    finally:
        database.dispose()
