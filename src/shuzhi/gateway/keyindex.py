"""Key indexes: keyed lookups without scanning the version's Parquet file.

A version is immutable, so a lookup structure derived from it stays true for its whole
life. A version's index on a key column is a Parquet file under ``DATA_DIR/gateway/keys``
holding the rows whose key is not null, sorted by (key, position in the version), in small
row groups (``GROUP_ROWS``). The row groups' smallest keys (the file's own statistics) are
the index proper: a lookup finds by bisection the one or few groups that can hold the key
and decodes only those, a few hundred rows, instead of a whole group of the version (about
120,000 rows). Being columnar and compressed, the file costs about as much per row as the
version itself (not six times as much, as a row store does).

DuckDB writes it (``ORDER BY key, file_row_number``, spilling to disk beyond its memory
limit), so no Python code runs per row. Loads build the indexes that active grants use
before the version becomes current (``gateway.indexing``); a missing one is built in the
background, once, and the lookup answers 503 meanwhile (``KeyIndexes``). Building is
single-flight within a process and, through a file lock, across processes; the file appears
atomically (rename) when complete.

Files are named ``<dataset and key column>-<version id>-<content>.parquet``; once a
version's index is served, the indexes of the same dataset and key column for earlier
versions are deleted (a worker still reading one keeps its open file until it closes it).
The layout leaves room for partitions (by key hash, one sorted file each) when a single
file's group statistics no longer fit in memory; see docs/gateway.md.

Only versions whose columns are all text are indexed (what the lake writes); others are
served by the engine.
"""

from __future__ import annotations

import bisect
import fcntl
import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.errors import Unavailable
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import QueryEngine, quote_ident

log = logging.getLogger("shuzhi.gateway")

INDEX_DIR = "gateway/keys"
FORMAT = 4  # 3: families named by the dataset's place; 4: sorted Parquet, not SQLite
SUFFIX = ".parquet"
GROUP_ROWS = 256  # rows per row group: what one lookup decodes
BUILD_MEMORY = "256MB"  # DuckDB's limit while sorting (it spills beyond)
BUILD_THREADS = 2
RETRY_AFTER_SECONDS = 5
RETRY_FAILED_SECONDS = 60.0
ROW_NUMBER = "file_row_number"  # DuckDB's position column, used while building
TEXT_TYPES = ("string", "large_string", "utf8", "large_utf8")


def indexable(version: Version) -> bool:
    return all(c.type in TEXT_TYPES and c.name != ROW_NUMBER for c in version.columns)


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
    name = f"{_family(data_dir, version, key_column)}-{version.version_id}-{content}{SUFFIX}"
    return data_dir / INDEX_DIR / name


def _legacy_families(data_dir: Path, version: Version, key_column: str) -> list[str]:
    """Families of the former formats (2: named by the dataset's absolute directory; 3: a
    SQLite row store), whose files serve nobody once the present format serves."""
    directory = version.directory.resolve()
    root = data_dir.resolve()
    place = directory.relative_to(root).as_posix() if directory.is_relative_to(root) else ""
    idents = [f"2\x1f{directory}\x1f{key_column}", f"3\x1f{place or directory}\x1f{key_column}"]
    return [hashlib.sha256(i.encode()).hexdigest()[:24] for i in idents]


def remove_earlier(data_dir: Path, version: Version, key_column: str) -> list[Path]:
    """Delete the indexes of earlier versions of the same dataset and key column."""
    removed = []
    current = index_path(data_dir, version, key_column)
    for path in current.parent.glob(f"{_family(data_dir, version, key_column)}-*{SUFFIX}"):
        if path.name < current.name:  # version ids sort by sequence (v000012-…)
            path.unlink(missing_ok=True)
            path.with_suffix(".lock").unlink(missing_ok=True)
            removed.append(path)
    for prefix in _legacy_families(data_dir, version, key_column):
        for path in current.parent.glob(f"{prefix}-*.sqlite"):
            path.unlink(missing_ok=True)
            path.with_suffix(".lock").unlink(missing_ok=True)
            removed.append(path)
    return removed


class KeyIndex:
    """A read-only sorted key file; one open file per thread."""

    def __init__(self, path: Path, key_column: str) -> None:
        self.path = path
        self.key_column = key_column
        self._local = threading.local()
        opened = self._file()
        self.columns = tuple(opened.schema_arrow.names)
        self.firsts = _first_keys(opened, key_column)

    def _file(self) -> pq.ParquetFile:
        opened: pq.ParquetFile | None = getattr(self._local, "file", None)
        if opened is None:
            opened = pq.ParquetFile(self.path, memory_map=True)
            self._local.file = opened
        return opened

    def get(self, key: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Rows whose key equals ``key``, in load order, with ``columns`` only."""
        opened = self._file()
        firsts = self.firsts
        wanted = list(dict.fromkeys([self.key_column, *columns]))
        # The key's rows start in the last group whose first key is below it, or in the
        # first group that starts with it; they continue while groups start with it.
        group = max(bisect.bisect_left(firsts, key) - 1, 0)
        found: list[dict[str, Any]] = []
        while group < len(firsts) and firsts[group] <= key and len(found) < limit:
            table = opened.read_row_group(group, columns=wanted, use_threads=False)
            keys = table.column(self.key_column).to_pylist()
            start = bisect.bisect_left(keys, key)
            end = bisect.bisect_right(keys, key, lo=start)
            if end > start:
                rows = table.slice(start, end - start).select(list(columns)).to_pylist()
                found += rows[: limit - len(found)]
            elif start < len(keys):
                break  # the next key in order is past ``key``
            group += 1
        return found


def _first_keys(opened: pq.ParquetFile, key_column: str) -> list[str]:
    """The first (smallest) key of every row group: from the statistics when written (they
    are, except for keys longer than the writer's statistics limit), else read."""
    meta = opened.metadata
    at = opened.schema_arrow.names.index(key_column)
    firsts: list[str] = []
    for group in range(meta.num_row_groups):
        stats = meta.row_group(group).column(at).statistics
        if stats is None or not stats.has_min_max:
            keys = opened.read_row_group(group, columns=[key_column]).column(0)
            firsts.append(str(keys[0].as_py()))
        else:
            low = stats.min
            firsts.append(low.decode() if isinstance(low, bytes) else str(low))
    return firsts


def build(version: Version, key_column: str, target: Path) -> int:
    """Write the index file for one version (atomically; nothing visible until complete);
    returns the number of rows indexed. DuckDB reads and sorts the version (spilling to a
    private directory beyond ``BUILD_MEMORY``); its Arrow batches are written as they come."""
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = [c.name for c in version.columns]
    tag = f"{os.getpid()}.{threading.get_ident()}"
    work = target.with_name(f".{target.name}.{tag}.tmp")
    spill = target.with_name(f".{target.name}.{tag}.spill")
    work.unlink(missing_ok=True)
    selected = ", ".join(quote_ident(c) for c in columns)
    key = quote_ident(key_column)
    sql = (
        f"SELECT {selected} FROM read_parquet(?, file_row_number = true)"
        f" WHERE {key} IS NOT NULL ORDER BY {key}, file_row_number"
    )
    conn = duckdb.connect(config={"memory_limit": BUILD_MEMORY, "threads": BUILD_THREADS})
    indexed = 0
    try:
        conn.execute("SET enable_progress_bar = false")
        conn.execute("SET temp_directory = ?", [str(spill)])
        path = str(version.data_path.resolve())
        reader = conn.sql(sql, params=[path]).to_arrow_reader(64 * GROUP_ROWS)
        schema = pa.schema([pa.field(c, pa.string()) for c in columns])
        with pq.ParquetWriter(
            work,
            schema,
            compression="zstd",
            compression_level=1,
            # Dictionaries of a few hundred rows cost more than they save.
            use_dictionary=False,
            write_statistics=[key_column],
        ) as writer:
            for batch in reader:
                batch = batch.cast(schema) if batch.schema != schema else batch
                writer.write_batch(batch, row_group_size=GROUP_ROWS)
                indexed += batch.num_rows
        os.replace(work, target)
    finally:
        conn.close()
        work.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
    return indexed


def pending() -> Unavailable:
    """The answer to a lookup whose index is being built: never a scan of the whole file."""
    return Unavailable(
        "该数据版本的键索引正在建立，请稍后再试。",
        "The key index of this data version is being built; try again shortly.",
        retry_after=RETRY_AFTER_SECONDS,
    )


def ensure(data_dir: Path, version: Version, key_column: str) -> Path | None:
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
                # Under the lock, work files of this index belong to a builder that died.
                for stale in path.parent.glob(f".{path.name}.*"):
                    if stale.is_dir():
                        shutil.rmtree(stale, ignore_errors=True)
                    else:
                        stale.unlink(missing_ok=True)
                started = time.perf_counter()
                rows = build(version, key_column, path)
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
        if path.exists():
            index = KeyIndex(path, key_column)
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
            ensure(self.data_dir, version, key_column)
        except Exception:
            log.exception("building the key index %s failed", path.name)
            with self._lock:
                self._failed[path] = time.monotonic()
        finally:
            with self._lock:
                self._building.discard(path)
