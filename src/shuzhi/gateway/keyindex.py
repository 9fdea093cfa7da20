"""Key indexes: keyed lookups without scanning the Parquet file.

A version is immutable, so a lookup structure derived from it stays true for its whole
life. The first keyed lookup on a (version, key column) starts building one in the
background: every row, read through the query engine in key order, goes into a small
SQLite file (primary key = key + load ordinal) under ``DATA_DIR/gateway/keys``. Until it is
ready, lookups go to the engine. Building is single-flight within a process and, through a
file lock, across worker processes; the file appears atomically (rename) when complete.

Files are named ``<dataset and key column>-<version id>.sqlite``; once a version's index is
complete, the indexes of the same dataset and key column for earlier versions are deleted
(a worker still reading one keeps its open file until it closes it).

Only versions whose columns are all text are indexed (what the lake writes); others are
served by the engine.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.errors import Unavailable
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import Order, QueryEngine

log = logging.getLogger("shuzhi.gateway")

INDEX_DIR = "gateway/keys"
FORMAT = 3  # 3: families named by the dataset's place inside the data directory
RETRY_AFTER_SECONDS = 5
RETRY_FAILED_SECONDS = 60.0
TEXT_TYPES = ("string", "large_string", "utf8", "large_utf8")


def indexable(version: Version) -> bool:
    return all(c.type in TEXT_TYPES for c in version.columns)


def family(place: str, key_column: str) -> str:
    """The part of an index file's name shared by every version of a dataset and key column;
    ``place`` is the dataset's directory relative to the data directory (``datasets/<code>``),
    so that the names survive moving the data directory."""
    ident = f"{FORMAT}\x1f{place}\x1f{key_column}"
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


def _family(data_dir: Path, version: Version, key_column: str) -> str:
    directory = version.directory.resolve()
    root = data_dir.resolve()
    place = directory.relative_to(root).as_posix() if directory.is_relative_to(root) else ""
    return family(place or str(directory), key_column)


def index_path(data_dir: Path, version: Version, key_column: str) -> Path:
    content = version.data_file_sha256[:12]
    name = f"{_family(data_dir, version, key_column)}-{version.version_id}-{content}.sqlite"
    return data_dir / INDEX_DIR / name


def remove_earlier(data_dir: Path, version: Version, key_column: str) -> list[Path]:
    """Delete the indexes of earlier versions of the same dataset and key column."""
    removed = []
    current = index_path(data_dir, version, key_column)
    for path in current.parent.glob(f"{_family(data_dir, version, key_column)}-*.sqlite"):
        if path.name < current.name:  # version ids sort by sequence (v000012-…)
            path.unlink(missing_ok=True)
            path.with_suffix(".lock").unlink(missing_ok=True)
            removed.append(path)
    # Format 2 named families by the dataset's absolute directory: once this dataset and key
    # column have an index of the present format, those files serve nobody.
    legacy = f"2\x1f{version.directory.resolve()}\x1f{key_column}"
    prefix = hashlib.sha256(legacy.encode()).hexdigest()[:24]
    for path in current.parent.glob(f"{prefix}-*.sqlite"):
        path.unlink(missing_ok=True)
        path.with_suffix(".lock").unlink(missing_ok=True)
        removed.append(path)
    return removed


class KeyIndex:
    """A read-only key → rows file; one connection per thread (SQLite's rule)."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = path
        self.columns = tuple(columns)
        self._position = {name: i for i, name in enumerate(self.columns)}
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=True
            )
            self._local.conn = conn
        return conn

    def get(self, key: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Rows whose key equals ``key``, in load order, with ``columns`` only."""
        names = ", ".join(f"c{self._position[c]}" for c in columns)
        rows = self._conn().execute(
            f"SELECT {names} FROM rows WHERE k = ? ORDER BY n LIMIT ?", (key, limit)
        )
        return [dict(zip(columns, r, strict=True)) for r in rows]


def build(engine: QueryEngine, version: Version, key_column: str, target: Path) -> int:
    """Write the index file for one version (atomically; nothing visible until complete);
    returns the number of rows indexed.

    Rows come from the engine in key order as Arrow batches and go into SQLite column-wise
    (``executemany`` over the batch's columns): no Python code runs per row, and the B-tree
    is filled in key order, so every insert appends."""
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = [c.name for c in version.columns]
    key_at = columns.index(key_column)
    work = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    work.unlink(missing_ok=True)
    conn = sqlite3.connect(work)
    indexed = 0
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-65536")
        cells = ", ".join(f"c{i}" for i in range(len(columns)))
        conn.execute(
            f"CREATE TABLE rows (k TEXT NOT NULL, n INTEGER NOT NULL, {cells}, "
            "PRIMARY KEY (k, n)) WITHOUT ROWID"
        )
        marks = ", ".join("?" for _ in range(len(columns) + 2))
        sql = f"INSERT INTO rows VALUES ({marks})"
        n = 0
        for batch in engine.scan(version, columns, order_by=[Order(key_column)]):
            ordinals = pa.array(range(n + 1, n + 1 + batch.num_rows), pa.int64())
            n += batch.num_rows
            present = pc.is_valid(batch.column(key_at))
            kept = pa.RecordBatch.from_arrays(
                [batch.column(key_at), ordinals, *batch.columns],
                names=["k", "n", *(f"c{i}" for i in range(len(columns)))],
            ).filter(present)
            indexed += kept.num_rows
            data = [kept.column(i).to_pylist() for i in range(kept.num_columns)]
            conn.executemany(sql, zip(*data, strict=True))
        conn.commit()
    finally:
        conn.close()
    os.replace(work, target)
    return indexed


def pending() -> Unavailable:
    """The answer to a lookup whose index is being built: never a scan of the whole file."""
    return Unavailable(
        "该数据版本的键索引正在建立，请稍后再试。",
        "The key index of this data version is being built; try again shortly.",
        retry_after=RETRY_AFTER_SECONDS,
    )


def ensure(engine: QueryEngine, data_dir: Path, version: Version, key_column: str) -> Path | None:
    """Build the index of ``version`` on ``key_column`` unless it exists (file lock: one
    builder across processes, the others wait for it); None when the version is not
    indexable. Used by loads, before the version becomes current, and by the gateway."""
    if not indexable(version) or key_column not in version.column_types():
        return None
    path = index_path(data_dir, version, key_column)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+b") as lock:
        # Another process building the same index holds the lock: wait for it.
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if not path.exists():
                started = time.perf_counter()
                rows = build(engine, version, key_column, path)
                log.info(
                    "key index %s: %d rows in %.1f s",
                    path.name,
                    rows,
                    time.perf_counter() - started,
                )
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return path


class KeyIndexes:
    """The indexes of one process: opened when present, built once when missing.

    A version's indexes are normally built by its load, before it becomes current. One that
    is missing (a version loaded before indexes were built at load, a grant offering a new
    key column) is built in the background, once; meanwhile lookups are answered 503 with
    ``Retry-After`` (``pending()``), never by scanning the whole file. A failed build is
    retried after ``RETRY_FAILED_SECONDS``."""

    def __init__(self, engine: QueryEngine, data_dir: Path, *, background: bool = True) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.background = background
        self._open: dict[Path, KeyIndex] = {}
        self._known: dict[tuple[str, str, str], KeyIndex] = {}  # no path work when warm
        self._building: set[Path] = set()
        self._failed: dict[Path, float] = {}  # when the last build failed
        self._lock = threading.Lock()

    def get(self, version: Version, key_column: str) -> KeyIndex | None:
        """The ready index; None when the version cannot be indexed (the engine serves it).
        Raises ``Unavailable`` (503, Retry-After) while the index is being built."""
        known = (str(version.directory), version.data_file, key_column)
        hit = self._known.get(known)
        if hit is not None:
            return hit
        path = index_path(self.data_dir, version, key_column)
        found = self._open.get(path)
        if found is not None:
            self._known[known] = found
            return found
        if not indexable(version) or key_column not in version.column_types():
            return None
        columns = [c.name for c in version.columns]
        if path.exists():
            index = KeyIndex(path, columns)
            with self._lock:
                self._open[path] = index
            # The version is served: earlier versions' indexes serve nobody any more (a
            # process still reading one keeps its open file).
            remove_earlier(self.data_dir, version, key_column)
            return index
        with self._lock:
            failed = self._failed.get(path)
            retry = failed is None or time.monotonic() - failed >= RETRY_FAILED_SECONDS
            if path in self._building or not retry:
                raise pending()
            self._building.add(path)
        if self.background:
            threading.Thread(
                target=self._build, args=(version, key_column, path), daemon=True
            ).start()
            raise pending()
        self._build(version, key_column, path)
        if not path.exists():
            raise pending()
        return self.get(version, key_column)

    def _build(self, version: Version, key_column: str, path: Path) -> None:
        try:
            ensure(self.engine, self.data_dir, version, key_column)
        except Exception:
            log.exception("building the key index %s failed", path.name)
            with self._lock:
                self._failed[path] = time.monotonic()
        finally:
            with self._lock:
                self._building.discard(path)
