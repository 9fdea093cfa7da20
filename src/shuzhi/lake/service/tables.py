"""Published dataset versions as tables of other engines (DuckDB, Spark, Trino).

Every version is one immutable Parquet file named by its manifest, so another engine needs
no table format to read it — only a stable name and where the file is. ``published_tables``
lists, for every dataset whose catalogue entry is published, each version that was ever
current (current or superseded; never one pending review or rejected) under the name
``<name>__v<N>``, and the current one under ``<name>``. ``statements`` writes the definitions
in an engine's dialect.

DuckDB reads a single file (``read_parquet``). Spark and Trino (Hive connector) read a
*directory* per table, and a dataset's directory holds every version and its manifest, so
``link_tables`` lays out ``DATA_DIR/tables/<name>/v<N>/`` with a hard link to the version's
file (no extra space; a symbolic link where hard links are impossible). The directory is
derived and rebuilt by the command; backups leave it out.

This is an operator's tool: the files are the raw, unmasked rows, so whoever can read the
data directory (or a mount of it on an engine's workers) can read every dataset in full,
whatever the grants say. The listing is audited.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.catalog import service as catalog
from shuzhi.context import Ctx
from shuzhi.errors import Conflict, NotFound
from shuzhi.lake.events import TablesListed
from shuzhi.lake.manifest import ColumnSchema
from shuzhi.lake.models import Dataset, DatasetVersion
from shuzhi.lake.models import VersionStatus as S
from shuzhi.lake.service.common import version_files

TABLES_DIR = "tables"
LINK_NAME = "part-00000.parquet"
_PLAIN_CODE = re.compile(r"[0-9A-Z]+(?:/[0-9A-Z]+)*")


class Dialect(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"
    TRINO = "trino"


@dataclass(frozen=True)
class TableVersion:
    name: str  # the dataset's stable name; the version's table is f"{name}__v{number}"
    resource_code: str
    number: int
    current: bool
    data_file: Path  # absolute path of the version's Parquet file
    columns: tuple[ColumnSchema, ...]
    rows: int

    @property
    def version_name(self) -> str:
        return f"{self.name}__v{self.number}"


def table_name(resource_code: str) -> str:
    """The stable table name of a dataset: ``ds_`` and its resource code in lower case with
    ``/`` as ``_`` (``101001/000001`` → ``ds_101001_000001``); a code with other characters
    (lower case, ``-``, ``_``…) also gets six hex digits of its hash, so two codes do not
    share a name (a clash left anyway is refused when listing)."""
    lowered = re.sub(r"[^0-9a-z]+", "_", resource_code.lower()).strip("_")
    if _PLAIN_CODE.fullmatch(resource_code):
        return f"ds_{lowered}"
    digest = hashlib.sha256(resource_code.encode("utf-8")).hexdigest()[:6]
    return f"ds_{lowered}_{digest}" if lowered else f"ds_{digest}"


def published_tables(ctx: Ctx, dialect: Dialect = Dialect.DUCKDB) -> list[TableVersion]:
    """Every version of a published entry that was ever current, oldest first per dataset
    (the platform administrator's view; audited)."""
    require(ctx, "list_lake_tables")
    rows = ctx.db.execute(
        select(Dataset, DatasetVersion)
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .where(DatasetVersion.status.in_([S.CURRENT, S.SUPERSEDED]))
        .order_by(Dataset.resource_code, DatasetVersion.number)
    ).all()
    # Entries as last published; withdrawn ones are left out.
    published = {code for code, _name, _unit, _cycle in catalog.published_cycles(ctx)}
    names: dict[str, str] = {}
    out: list[TableVersion] = []
    for dataset, row in rows:
        code = dataset.resource_code
        if code not in published:
            continue
        name = table_name(code)
        if names.setdefault(name, code) != code:
            raise Conflict(
                f"目录 {code} 与 {names[name]} 的表名相同（{name}）。",
                f"Entries {code} and {names[name]} map to the same table name ({name}).",
            )
        try:
            files = version_files(ctx, row)
        except NotFound:
            continue  # files missing: nothing an engine could read (lake gc reports it)
        out.append(
            TableVersion(
                name=name,
                resource_code=code,
                number=row.number,
                current=row.status == S.CURRENT,
                data_file=files.data_path,
                columns=files.columns,
                rows=files.row_count,
            )
        )
    record(ctx, TablesListed(dialect=dialect.value, versions=len(out)))
    return out


def link_tables(data_dir: Path, tables: list[TableVersion]) -> dict[str, Path]:
    """``DATA_DIR/tables/<name>/v<N>/part-00000.parquet`` for each version (idempotent);
    the directory of each version's table."""
    root = data_dir.resolve() / TABLES_DIR
    found = {}
    for t in tables:
        directory = root / t.name / f"v{t.number}"
        directory.mkdir(parents=True, exist_ok=True)
        link = directory / LINK_NAME
        if not link.exists():
            temporary = directory / f".{LINK_NAME}.new"
            temporary.unlink(missing_ok=True)
            try:
                os.link(t.data_file, temporary)
            except OSError:
                temporary.symlink_to(t.data_file)
            temporary.replace(link)
        found[t.version_name] = directory
    return found


# ------------------------------------------------------------------------------- dialects


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _backquote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _location(path: Path, data_dir: Path, prefix: str | None, uri: bool = False) -> str:
    """Where the engine finds ``path``: the local path (a ``file://`` URI for engines whose
    default file system may be a cluster's), or ``prefix`` + its place inside the data
    directory (the directory as the engine's workers mount it, e.g. ``s3a://bucket/x``)."""
    if prefix is None:
        return path.resolve().as_uri() if uri else path.as_posix()
    return f"{prefix.rstrip('/')}/{path.resolve().relative_to(data_dir.resolve()).as_posix()}"


TRINO_TYPES = {
    "string": "varchar",
    "large_string": "varchar",
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "integer",
    "int64": "bigint",
    "float": "real",
    "double": "double",
    "bool": "boolean",
    "date32[day]": "date",
}


def statements(
    tables: list[TableVersion],
    dialect: Dialect,
    data_dir: Path,
    *,
    prefix: str | None = None,
    schema: str = "shuzhi",
    directories: dict[str, Path] | None = None,
) -> list[str]:
    """The definitions: one table or view per version, one view per current version."""
    dirs = directories or {}
    if dialect is Dialect.SPARK:
        space = ".".join(_backquote(p) for p in schema.split("."))
        out = [f"CREATE DATABASE IF NOT EXISTS {space};"]
    elif dialect is Dialect.TRINO:
        space = ".".join(_quote(p) for p in schema.split("."))
        out = [f"CREATE SCHEMA IF NOT EXISTS {space};"]
    else:
        out = []
    for t in tables:
        if dialect is Dialect.DUCKDB:
            out.append(
                f"CREATE OR REPLACE VIEW {_quote(t.version_name)} AS SELECT * FROM "
                f"read_parquet({_literal(_location(t.data_file, data_dir, prefix))});"
            )
            if t.current:
                out.append(
                    f"CREATE OR REPLACE VIEW {_quote(t.name)} AS SELECT * FROM "
                    f"{_quote(t.version_name)};"
                )
        elif dialect is Dialect.SPARK:
            where = _location(dirs[t.version_name], data_dir, prefix, uri=True)
            name = f"{space}.{_backquote(t.version_name)}"
            out.append(
                f"CREATE TABLE IF NOT EXISTS {name} USING parquet LOCATION {_literal(where)};"
            )
            if t.current:
                out.append(
                    f"CREATE OR REPLACE VIEW {space}.{_backquote(t.name)} AS SELECT * FROM {name};"
                )
        else:
            where = _location(dirs[t.version_name], data_dir, prefix, uri=True)
            name = f"{space}.{_quote(t.version_name)}"
            columns = ", ".join(
                f"{_quote(c.name)} {TRINO_TYPES.get(c.type, 'varchar')}" for c in t.columns
            )
            out.append(
                f"CREATE TABLE IF NOT EXISTS {name} ({columns}) WITH (external_location = "
                f"{_literal(where)}, format = 'PARQUET');"
            )
            if t.current:
                out.append(
                    f"CREATE OR REPLACE VIEW {space}.{_quote(t.name)} AS SELECT * FROM {name};"
                )
    return out
