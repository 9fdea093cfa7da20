"""Lake service: the engine, paths and helpers shared by the dataset operations."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from shuzhi.context import Ctx
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid, NotFound
from shuzhi.lake import credentials
from shuzhi.lake.manifest import Version, load_version
from shuzhi.lake.models import DatasetVersion
from shuzhi.lake.query import DuckDBEngine, QueryEngine
from shuzhi.lake.readers import FileSource, Source
from shuzhi.settings import Settings

DATASETS_DIR = "datasets"


UPLOADS_DIR = "uploads"


SAMPLE_ROWS_MAX = 200


# Catalogue update-cycle codes → how old the newest load may be (None: no promise).
CYCLE_PERIODS: dict[str, timedelta | None] = {
    "1": timedelta(days=1),  # 实时: a real-time feed should have loaded within a day
    "2": timedelta(days=1),
    "3": timedelta(days=7),
    "4": timedelta(days=31),
    "5": timedelta(days=92),
    "6": timedelta(days=366),
    "7": timedelta(days=183),
    "8": None,
}


GRACE = timedelta(hours=12)


_ENGINES: weakref.WeakKeyDictionary[Database, QueryEngine] = weakref.WeakKeyDictionary()


Progress = Callable[[str], None]


def lake_root(ctx: Ctx) -> Path:
    return ctx.settings.data_dir.resolve() / DATASETS_DIR


def open_engine(database: Database) -> QueryEngine:
    """The query engine of an app or a CLI run: one per database, created on first use, of
    the kind ``SHUZHI_QUERY_ENGINE`` names (a Spark session that cannot start is an
    ``Unavailable`` error naming the setting)."""
    engine = _ENGINES.get(database)
    if engine is None:
        settings = database.settings
        root = settings.data_dir.resolve() / DATASETS_DIR
        root.mkdir(parents=True, exist_ok=True)
        if settings.query_engine == "spark":
            from shuzhi.lake.spark import SparkEngine

            engine = SparkEngine(
                root, master=settings.spark_master, driver_memory=settings.spark_driver_memory
            )
        else:
            engine = DuckDBEngine(root)
        _ENGINES[database] = engine
    return engine


def close_engine(database: Database) -> None:
    engine = _ENGINES.pop(database, None)
    if engine is not None:
        engine.close()


def query_engine(ctx: Ctx) -> QueryEngine:
    return open_engine(ctx.database)


def stored_path(settings: Settings, path: Path) -> str:
    """How a file under the data directory is recorded: relative to it (``datasets/…``), so
    that the data directory can be moved or restored elsewhere."""
    return path.resolve().relative_to(settings.data_dir.resolve()).as_posix()


def manifest_file(settings: Settings, stored: str) -> Path:
    """The manifest a version row names. Paths are relative to the data directory; absolute
    paths (recorded before migration ``lake_0003``) are accepted while they lie inside it."""
    root = settings.data_dir.resolve()
    path = Path(stored)
    full = (path if path.is_absolute() else root / path).resolve()
    if not full.is_relative_to(root / DATASETS_DIR):
        raise NotFound(
            "该版本的文件不在数据目录中。", "The version's files are not in the data directory."
        )
    return full


def version_files(ctx: Ctx, row: DatasetVersion) -> Version:
    """The files of a registered version (its manifest, read from the data directory)."""
    try:
        return load_version(manifest_file(ctx.settings, row.manifest_path))
    except (OSError, ValueError, KeyError) as exc:
        raise NotFound(
            f"第 {row.number} 版的文件缺失或已损坏。",
            f"The files of version {row.number} are missing or damaged.",
        ) from exc


def _dataset_dir(ctx: Ctx, resource_code: str) -> Path:
    root = lake_root(ctx)
    directory = (root / resource_code).resolve()
    if not directory.is_relative_to(root) or directory == root:
        raise Invalid.field("resource_code", "目录代码不合法。", "Invalid resource code.")
    return directory


def safe_url(url: str) -> str:
    """A database URL with its password hidden (for display and the audit log)."""
    return credentials.mask_url(url)


def describe_source(source: Source) -> str:
    """A one-line description safe for the audit log (never a password)."""
    if isinstance(source, FileSource):
        return f"file:{source.path.name}"
    what = f"table {source.table}" if source.table else "query"
    return f"database:{safe_url(source.url)} {what}"
