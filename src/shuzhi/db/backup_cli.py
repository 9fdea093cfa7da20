"""``shuzhi backup DEST`` and ``shuzhi restore SRC`` (see ``shuzhi.db.backup``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shuzhi.command import DataDir, cli_actor, console, fail, open_database
from shuzhi.db.backup import restore_backup, take_backup
from shuzhi.errors import ShuzhiError
from shuzhi.settings import configured_location


def backup_command(
    destination: Annotated[
        Path, typer.Argument(help="New directory, or a .tar / .tar.gz archive, to write")
    ],
    files_only: Annotated[
        bool,
        typer.Option(
            "--files-only",
            help="Only the data directory's files (PostgreSQL: dump the database with pg_dump)",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Back up the data directory while the server runs: the SQLite database (online backup),
    datasets, secrets and audit anchors, with a checksummed manifest. Audited."""
    database = open_database(data_dir)
    try:
        report = take_backup(database, destination, cli_actor(), files_only=files_only)
    except ShuzhiError as err:
        raise fail(err) from None
    finally:
        database.dispose()
    console.print(
        f"Backed up / 已备份: {report.files} file(s), {report.bytes} bytes,"
        f" database / 数据库: {report.database} → {report.destination}",
        markup=False,
    )


def restore_command(
    source: Annotated[Path, typer.Argument(help="A backup directory or archive")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a non-empty data directory (moved aside, kept)"),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Restore a backup into a data directory (anywhere; empty unless --force). Every file is
    checked against the manifest first: a damaged backup is refused and nothing is written."""
    target, database_url = configured_location(data_dir)
    try:
        report = restore_backup(source, target, database_url, force=force)
    except ShuzhiError as err:
        raise fail(err) from None
    if report.moved_aside is not None:
        console.print(f"Old data directory kept at / 原数据目录保留在: {report.moved_aside}")
    for note in report.notes:
        console.print(f"Note / 注意: {note}", markup=False)
    console.print(
        f"Restored / 已恢复: {report.files} file(s), {report.bytes} bytes → {report.target}",
        markup=False,
    )
    if report.database == "sqlite":
        # Bring the restored database to this release's schema now, not at the first start.
        open_database(report.target).dispose()
