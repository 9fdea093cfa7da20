"""Key indexes: keyed lookups without scanning the version's Parquet file.

A version is immutable, so a lookup structure derived from it stays true for its whole
life. A version's index on a key column is a directory under ``DATA_DIR/gateway/keys``
(``<family>-<version id>-<content>.keys``) holding the version's rows whose key is not null,
sorted by key (rows sharing a key in load order), cut into blocks of ``BLOCK_ROWS`` rows.
A block is one zstd frame of the rows as text: the key first, then the other columns, fields
separated by US (0x1F), each row ended by RS (0x1E); null is ``ESC N`` (0x1B), and the
columns whose values hold ESC, US or RS are escaped (``escaped`` in ``meta.json``). Blocks
are compressed with a zstd dictionary trained on the index's first blocks
(``dictionary.zstd``): blocks of a few dozen rows then compress about as well as blocks of
a few hundred do without one, and a lookup decompresses a few kilobytes. The last key of
every block is kept in memory: a lookup bisects them, decompresses the one block that can
hold the key (rarely the next ones, for a key with many rows) and finds the key's rows in it
by a byte search for ``RS key US``, decoding only those rows.

Large versions are split by key range into parts of about ``PART_ROWS`` rows
(``part-NNNNN.blk`` with its block directory ``part-NNNNN.idx``, an Arrow IPC file of last
keys and sizes); ``meta.json`` records each part's first key, and a part's
directory is loaded when a lookup first reaches it. See docs/gateway.md for the layout at a
billion rows.

Building reads the version only through the ``QueryEngine`` protocol. When its keys are
unique (the engine counts them), one scan sorted by the engine (which spills to disk beyond
its memory), fetched ahead by a thread while the parts are written, cut into parts at key
boundaries. The engine's order among rows sharing a key is not the load order, so when keys
repeat the part boundaries come from the keys alone (sorted by the engine) and each part is
read in stored order (a scan filtered on its key range) and sorted stably here. Rows are
joined into row text and cut into blocks by Arrow compute kernels and compressed by zstd on
two threads — no Python code runs per row. Loads build the indexes that active grants use
before the version becomes current (``gateway.indexing``); a missing one is built in the
background, once, and the lookup answers 503 meanwhile (``KeyIndexes``). Building is
single-flight within a process and, through a file lock, across processes; the directory
appears atomically (rename) when complete.

Once a version's index is served, the indexes of the same dataset and key column for
earlier versions are deleted (a worker still reading one keeps its open files); indexes of
versions the lake no longer holds are removed by ``shuzhi lake gc`` (``garbage``).

Only versions whose columns are all text are indexed (what the lake writes); others are
served by the engine.
"""

from __future__ import annotations

import asyncio
import bisect
import fcntl
import hashlib
import itertools
import json
import logging
import mmap
import os
import re
import shutil
import threading
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import Full, Queue
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import zstandard

from shuzhi.errors import Unavailable
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import AggFunc, Filter, Op, Order, QueryEngine

log = logging.getLogger("shuzhi.gateway")

INDEX_DIR = "gateway/keys"
FORMAT = 5  # 3: SQLite row store; 4: sorted Parquet; 5: zstd row blocks
SUFFIX = ".keys"
META = "meta.json"
BLOCK_ROWS = 32  # rows per block: what one lookup decompresses (≈ 5 KB)
PART_ROWS = 1_000_000  # rows per part: what one build step holds in memory (≈ 250 MB)
SLICE_ROWS = 65_536  # rows joined into text at a time
LEVEL = 3  # zstd level
DICTIONARY_BYTES = 65_536  # the index's zstd dictionary, trained on its first blocks
DICTIONARY = "dictionary.zstd"
TRAIN_BLOCKS = 1024
THREADS = 2  # compressing threads
OPEN_PARTS = 64  # parts whose block directories a process keeps in memory (≈ 3 MB each)
RETRY_AFTER_SECONDS = 5
WAIT_STEP_SECONDS = 0.05  # how often a waiting lookup looks for the index
RETRY_FAILED_SECONDS = 60.0
TEXT_TYPES = ("string", "large_string", "utf8", "large_utf8")

US, RS, ESC = "\x1f", "\x1e", "\x1b"
NULL = ESC + "N"
_US, _RS = US.encode(), RS.encode()
_UNESCAPE = {ESC: ESC, ">": RS, "?": US}
_ESCAPED = re.compile("\x1b(.)", re.S)


def indexable(version: Version) -> bool:
    return all(c.type in TEXT_TYPES for c in version.columns)


def family(place: str, key_column: str) -> str:
    """The part of an index's name shared by every version of a dataset and key column;
    ``place`` is the dataset's directory relative to the data directory (``datasets/<code>``),
    so that the names survive moving the data directory."""
    ident = f"{FORMAT}\x1f{place}\x1f{key_column}"
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


def _place(data_dir: Path, path: Path) -> str:
    full = path.resolve()
    root = data_dir.resolve()
    return full.relative_to(root).as_posix() if full.is_relative_to(root) else str(full)


def _family(data_dir: Path, version: Version, key_column: str) -> str:
    return family(_place(data_dir, version.directory), key_column)


def index_path(data_dir: Path, version: Version, key_column: str) -> Path:
    content = version.data_file_sha256[:12]
    name = f"{_family(data_dir, version, key_column)}-{version.version_id}-{content}{SUFFIX}"
    return data_dir / INDEX_DIR / name


def _legacy_families(data_dir: Path, version: Version, key_column: str) -> list[str]:
    """Families of the former formats (2: named by the dataset's absolute directory; 3: a
    SQLite row store; 4: a sorted Parquet file), whose files serve nobody once the present
    format serves."""
    directory = version.directory.resolve()
    place = _place(data_dir, directory)
    idents = [f"2\x1f{directory}\x1f{key_column}"]
    idents += [f"{n}\x1f{place}\x1f{key_column}" for n in (3, 4)]
    return [hashlib.sha256(i.encode()).hexdigest()[:24] for i in idents]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_earlier(data_dir: Path, version: Version, key_column: str) -> list[Path]:
    """Delete the indexes of earlier versions of the same dataset and key column."""
    removed = []
    current = index_path(data_dir, version, key_column)
    for path in current.parent.glob(f"{_family(data_dir, version, key_column)}-*{SUFFIX}"):
        if path.name < current.name:  # version ids sort by sequence (v000012-…)
            _remove(path)
            path.with_suffix(".lock").unlink(missing_ok=True)
            removed.append(path)
    for prefix in _legacy_families(data_dir, version, key_column):
        for path in current.parent.glob(f"{prefix}-*"):
            if path.suffix in (".sqlite", ".parquet"):
                _remove(path)
                path.with_suffix(".lock").unlink(missing_ok=True)
                removed.append(path)
    return removed


def garbage(data_dir: Path, gone: frozenset[Path] = frozenset()) -> list[Path]:
    """Index files that serve nobody: indexes whose version's data file is no longer in the
    lake (or is in ``gone``, about to be removed), files of the former formats, lock files
    without their index, and work files of builds that are not running (their lock is free).
    Used by ``shuzhi lake gc``."""
    keys = data_dir / INDEX_DIR
    if not keys.is_dir():
        return []
    removed = {p.resolve() for p in gone}
    found = [p for p in sorted(keys.iterdir()) if _serves_nobody(data_dir, p, removed)]
    listed = {p.name for p in found}
    for lock in sorted(keys.glob("*.lock")):
        index = lock.with_suffix(SUFFIX)
        if (not index.exists() or index.name in listed) and _abandoned(lock):
            found.append(lock)
    return found


def _serves_nobody(data_dir: Path, path: Path, removed: set[Path]) -> bool:
    if path.suffix == SUFFIX and path.is_dir():
        source = _source(path)
        if source is None:
            return False
        data = (data_dir / source).resolve()
        return data in removed or not data.exists()
    if path.suffix in (".sqlite", ".parquet"):
        return True
    return path.name.startswith(".") and _abandoned(path)


def _source(path: Path) -> str | None:
    try:
        meta = json.loads((path / META).read_text())
        return str(meta["source"])
    except (OSError, ValueError, KeyError):
        return None


def _abandoned(path: Path) -> bool:
    """A work file or lock file whose builder is gone (its index's lock is free)."""
    name = path.name.lstrip(".")
    stem = name.split(SUFFIX, 1)[0] if SUFFIX in name else name.rsplit(".", 1)[0]
    lock = path.parent / f"{stem}.lock"
    if not lock.exists():
        return True
    with open(lock, "a+b") as held:
        try:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(held.fileno(), fcntl.LOCK_UN)
    return True


# ---------------------------------------------------------------- reading


def _unescape(value: str) -> str:
    return _ESCAPED.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(1)), value)


def _escape(value: str) -> str:
    return value.replace(ESC, ESC + ESC).replace(RS, ESC + ">").replace(US, ESC + "?")


@dataclass
class _Part:
    """One part: its blocks (memory-mapped) and their directory."""

    lasts: list[str]
    offsets: array[int]
    sizes: array[int]
    raw: array[int]
    data: mmap.mmap | bytes
    escaped: frozenset[int]  # positions of the escaped columns
    escape_key: bool


class KeyIndex:
    """A read-only index of one version on one key column."""

    def __init__(self, path: Path, key_column: str) -> None:
        self.path = path
        self.key_column = key_column
        meta = json.loads((path / META).read_text())
        if meta.get("format") != FORMAT or meta.get("key") != key_column:
            raise ValueError(f"{path.name}: not a format {FORMAT} index on {key_column!r}")
        self.columns: tuple[str, ...] = tuple(meta["columns"])
        self._at = {name: i for i, name in enumerate(self.columns)}
        self._after_key = _US if len(self.columns) > 1 else _RS
        self._escaped: list[list[str]] = list(meta["escaped"])
        self._splits: list[str] = list(meta["splits"])
        self._files: list[str] = list(meta["parts"])
        self._parts: dict[int, _Part] = {}
        self._codec = pa.Codec("zstd")
        self._dictionary: zstandard.ZstdCompressionDict | None = None
        if (path / DICTIONARY).exists():
            self._dictionary = zstandard.ZstdCompressionDict((path / DICTIONARY).read_bytes())
        self._local = threading.local()
        self._lock = threading.Lock()

    def _part(self, number: int) -> _Part:
        found = self._parts.get(number)
        if found is not None:
            return found
        with self._lock:
            found = self._parts.get(number)
            if found is None:
                found = self._load(number)
                if len(self._parts) >= OPEN_PARTS:
                    self._parts.pop(next(iter(self._parts)))
                self._parts[number] = found
        return found

    def _load(self, number: int) -> _Part:
        name = self._files[number]
        directory = ipc.open_file(pa.memory_map(str(self.path / f"{name}.idx"))).read_all()
        blocks = self.path / f"{name}.blk"
        data: mmap.mmap | bytes = b""
        if blocks.stat().st_size:
            with open(blocks, "rb") as opened:
                data = mmap.mmap(opened.fileno(), 0, access=mmap.ACCESS_READ)
        ends = pc.cumulative_sum(directory.column("size").cast(pa.int64()))
        return _Part(
            lasts=directory.column("last").to_pylist(),
            # Blocks lie back to back: each starts where the ones before it end.
            offsets=array("q", pc.subtract(ends, directory.column("size")).to_pylist()),
            sizes=array("i", directory.column("size").to_pylist()),
            raw=array("i", directory.column("raw").to_pylist()),
            data=data,
            escaped=frozenset(self._at[c] for c in self._escaped[number]),
            escape_key=self.key_column in self._escaped[number],
        )

    def _block(self, part: _Part, block: int) -> bytes:
        start = part.offsets[block]
        frame = part.data[start : start + part.sizes[block]]
        if self._dictionary is None:
            plain: bytes = self._codec.decompress(
                frame, decompressed_size=part.raw[block], asbytes=True
            )
            return plain
        reader: zstandard.ZstdDecompressor | None = getattr(self._local, "reader", None)
        if reader is None:  # one per thread: a decompressor is not shared
            reader = zstandard.ZstdDecompressor(dict_data=self._dictionary)
            self._local.reader = reader
        return reader.decompress(frame, max_output_size=part.raw[block])

    def get(self, key: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Rows whose key equals ``key``, in load order, with ``columns`` only."""
        wanted = [(name, self._at[name]) for name in columns]
        part = self._part(bisect.bisect_right(self._splits, key) - 1 if self._splits else 0)
        lasts = part.lasts
        stored = _escape(key) if part.escape_key else key
        head = stored.encode() + self._after_key
        needle = _RS + head
        found: list[dict[str, Any]] = []
        # The first block whose last key is not below ``key`` is the only one where its rows
        # can start; they continue into the next blocks while a block ends with the key.
        block = bisect.bisect_left(lasts, key)
        while block < len(lasts) and len(found) < limit:
            text = self._block(part, block)
            start = 0 if text.startswith(head) else text.find(needle) + 1
            if start == 0 and not text.startswith(head):
                break
            while start >= 0 and len(found) < limit:
                end = text.find(_RS, start)
                fields = text[start:end].decode().split(US)
                values: list[str | None] = [None if f == NULL else f for f in fields]
                if part.escaped:
                    values = [
                        _unescape(v) if i in part.escaped and v is not None else v
                        for i, v in enumerate(values)
                    ]
                found.append({name: values[at] for name, at in wanted})
                start = end + 1 if text.startswith(head, end + 1) else -1
            if lasts[block] != key:
                break
            block += 1
        return found


# ---------------------------------------------------------------- building


def _every(count: int, step: int, start: int = 0) -> pa.Array:
    """Positions ``start``, ``start + step``, … below ``count``."""
    return pa.array(range(start, count, step), pa.int64())


def _part_filters(key_column: str, low: str | None, high: str | None) -> list[Filter]:
    filters = [Filter(key_column, Op.NOT_NULL)]
    if low is not None:
        filters.append(Filter(key_column, Op.GE, low))
    if high is not None:
        filters.append(Filter(key_column, Op.LT, high))
    return filters


def _needs_escape(column: pa.ChunkedArray) -> bool:
    return bool(pc.any(pc.match_substring_regex(column, "[\x1b\x1e\x1f]")).as_py())


def _escape_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    out = pc.replace_substring(column, ESC, ESC + ESC)
    out = pc.replace_substring(out, RS, ESC + ">")
    return pc.replace_substring(out, US, ESC + "?")


def _large(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _row_text(columns: list[pa.ChunkedArray]) -> pa.Array:
    """Every row as text: its fields separated by US and ended by RS, null as ``NULL``."""
    nulls = {"null_handling": "replace", "null_replacement": NULL}
    *head, tail = columns
    text = pc.binary_join_element_wise(tail, _large(""), _large(RS), **nulls)
    if head:
        text = pc.binary_join_element_wise(*head, text, _large(US), **nulls)
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def _separators(body: bytes) -> tuple[int, int, int]:
    return body.count(ESC.encode()), body.count(_RS), body.count(_US)


def _strictly_increasing(keys: pa.ChunkedArray | pa.Array) -> bool:
    """Whether no key repeats and the keys are in code point order."""
    keys = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    if len(keys) < 2:
        return True
    after, before = keys.slice(1), keys.slice(0, len(keys) - 1)
    return not pc.any(pc.less_equal(after, before)).as_py()


def _prefetched(batches: Iterator[pa.RecordBatch], depth: int = 4) -> Iterator[pa.RecordBatch]:
    """The engine's batches, fetched by a thread of their own while the caller writes."""
    queue: Queue[pa.RecordBatch | BaseException | None] = Queue(depth)
    stop = threading.Event()

    def offer(item: pa.RecordBatch | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def pull() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    return
            offer(None)
        except BaseException as exc:  # handed to the caller
            offer(exc)

    thread = threading.Thread(target=pull, daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _repeats(engine: QueryEngine, version: Version, key: str) -> bool:
    """Whether a key is shared by several rows (counted by the engine)."""
    counts = engine.aggregate(version, [(AggFunc.COUNT, key), (AggFunc.COUNT_DISTINCT, key)])
    every, distinct = (counts.column(i)[0].as_py() or 0 for i in range(2))
    return bool(every != distinct)


def _cut(keys: pa.ChunkedArray) -> int:
    """Where a part may end in ``keys`` (sorted): before the last key's first row (its rows
    may continue in what follows); 0 when one key fills them all."""
    return int(pc.index(keys, keys[-1]).as_py())


def _engine_sorted(
    engine: QueryEngine, version: Version, columns: list[str], schema: pa.Schema
) -> Iterator[tuple[str | None, pa.Table]]:
    """Parts of one scan the engine sorted (keys are unique: its order is the only one)."""
    key = columns[0]
    ordered = engine.scan(version, columns, [Filter(key, Op.NOT_NULL)], order_by=[Order(key)])
    held: list[pa.RecordBatch] = []
    count = 0
    low: str | None = None
    for batch in _prefetched(iter(ordered)):
        held.append(batch.cast(schema))
        count += batch.num_rows
        if count < PART_ROWS:
            continue
        table = pa.Table.from_batches(held, schema)
        cut = _cut(table.column(key))
        if cut <= 0:
            continue
        yield low, table.slice(0, cut)
        rest = table.slice(cut)
        held, count, low = rest.to_batches(), rest.num_rows, rest.column(key)[0].as_py()
        del table
    yield low, pa.Table.from_batches(held, schema)


def _stably_sorted(
    engine: QueryEngine, version: Version, columns: list[str], schema: pa.Schema
) -> Iterator[tuple[str | None, pa.Table]]:
    """Parts read in stored order (a scan filtered on each part's key range) and sorted here
    by a stable sort, so that rows sharing a key keep their load order; the ranges come
    from the keys alone, sorted by the engine."""
    key = columns[0]
    splits: list[str] = []
    if version.row_count > PART_ROWS:
        keys = engine.scan(version, [key], [Filter(key, Op.NOT_NULL)], order_by=[Order(key)])
        held: list[pa.Array] = []
        count = 0
        for batch in keys:
            held.append(batch.column(0).cast(pa.string()))
            count += batch.num_rows
            if count < PART_ROWS:
                continue
            run = pa.chunked_array(held, pa.string())
            cut = _cut(run)
            if cut > 0:
                rest = run.slice(cut)
                splits.append(str(rest[0].as_py()))
                held, count = rest.chunks, len(rest)
    bounds: list[str | None] = [None, *splits, None]
    for low, high in itertools.pairwise(bounds):
        stored = engine.scan(version, columns, _part_filters(key, low, high))
        table = pa.Table.from_batches([b.cast(schema) for b in stored], schema)
        yield low, table.take(pc.sort_indices(table.column(key)))
        del table


class _Unordered(Exception):
    """The engine's sorted scan is not in code point order (another collation)."""


def _parts(
    engine: QueryEngine, version: Version, columns: list[str], stable: bool
) -> Iterator[tuple[str | None, pa.Table]]:
    """The version's rows with a key, sorted by key (rows sharing a key in load order), as
    parts of about ``PART_ROWS`` rows, each with its first key (None for the first part); a
    key's rows never span two parts.

    When keys are unique the engine sorts the rows (one sorted scan; ``_Unordered`` when its
    order is not the code point order). Its order among rows sharing a key is not the load
    order, so when keys repeat (or ``stable``) each part is read in stored order and sorted
    stably here instead."""
    key = columns[0]
    schema = pa.schema([(c, pa.string()) for c in columns])
    if stable or _repeats(engine, version, key):
        yield from _stably_sorted(engine, version, columns, schema)
        return
    for low, table in _engine_sorted(engine, version, columns, schema):
        if not _strictly_increasing(table.column(key)):
            raise _Unordered
        yield low, table


class _NeedsEscaping(Exception):
    """A value holds ESC, US or RS: the part is written again with its columns escaped."""


class _Compressor:
    """zstd with a dictionary trained on the index's first blocks: blocks of a few dozen
    rows then compress about as well as blocks of a few hundred do without one, and a
    lookup decompresses a sixth of the bytes. Compresses on ``THREADS`` threads."""

    def __init__(self) -> None:
        self.dictionary: zstandard.ZstdCompressionDict | None = None
        self.trained = False
        self.context = zstandard.ZstdCompressor(level=LEVEL, write_checksum=False)

    def train(self, samples: list[bytes | bytearray | memoryview]) -> None:
        self.trained = True
        if sum(map(len, samples)) < 8 * DICTIONARY_BYTES:
            return  # too little to learn from: plain zstd
        try:
            dictionary = zstandard.train_dictionary(DICTIONARY_BYTES, samples, level=LEVEL)
        except zstandard.ZstdError:
            return
        self.dictionary = dictionary
        self.context = zstandard.ZstdCompressor(
            level=LEVEL, dict_data=dictionary, write_checksum=False, write_dict_id=False
        )

    def compress(self, blocks: list[bytes | bytearray | memoryview]) -> list[bytes]:
        if not blocks:
            return []
        frames = self.context.multi_compress_to_buffer(blocks, threads=THREADS)
        return [frames[i].tobytes() for i in range(len(frames))]


def _write_blocks(
    table: pa.Table, escaped: list[str], out: BinaryIO, compressor: _Compressor
) -> list[list[int]]:
    """Write the blocks of ``table`` (its rows sorted by key) to ``out``; returns each
    block's offset, size and decompressed size. Rows are joined a slice at a time, so the
    text of the whole part never sits in memory; a slice whose separators do not count up
    (a value holds one) raises ``_NeedsEscaping`` unless its columns are escaped."""
    width = table.num_columns
    step = BLOCK_ROWS * max(1, SLICE_ROWS // BLOCK_ROWS)
    blocks: list[list[int]] = []
    position = 0
    for begin in range(0, table.num_rows, step):
        piece = table.slice(begin, step)
        columns = []
        for name in table.column_names:
            column = piece.column(name).cast(pa.large_string())
            columns.append(_escape_column(column) if name in escaped else column)
        text = _row_text(columns)
        rows = len(text)
        starts, data = text.buffers()[1], text.buffers()[2]
        assert starts is not None and data is not None
        bounds = memoryview(starts).cast("q")[text.offset : text.offset + rows + 1]
        body = data.slice(bounds[0], bounds[rows] - bounds[0]).to_pybytes()
        if not escaped:
            nulls = sum(c.null_count for c in columns)
            if _separators(body) != (nulls, rows, rows * (width - 1)):
                raise _NeedsEscaping
        cuts = [bounds[i] - bounds[0] for i in range(0, rows, BLOCK_ROWS)]
        cuts.append(bounds[rows] - bounds[0])
        pieces: list[bytes | bytearray | memoryview] = [
            body[low:high] for low, high in itertools.pairwise(cuts)
        ]
        if not compressor.trained:  # on at most TRAIN_BLOCKS blocks spread over the slice
            compressor.train(pieces[:: max(1, len(pieces) // TRAIN_BLOCKS)])
        frames = compressor.compress(pieces)
        out.write(b"".join(frames))
        for raw, frame in zip(pieces, frames, strict=True):
            blocks.append([position, len(frame), len(raw)])
            position += len(frame)
    return blocks


def _write_part(table: pa.Table, target: Path, compressor: _Compressor) -> list[str]:
    """Write one part (``table``: its rows sorted by key, the key first) as blocks and a block
    directory; returns the columns that had to be escaped."""
    rows = table.num_rows
    escaped: list[str] = []
    try:
        with open(target.with_suffix(".blk"), "wb") as out:
            blocks = _write_blocks(table, escaped, out, compressor)
    except _NeedsEscaping:
        escaped = [n for n in table.column_names if _needs_escape(table.column(n))]
        with open(target.with_suffix(".blk"), "wb") as out:
            blocks = _write_blocks(table, escaped, out, compressor)
    last = pa.array([], pa.string())
    if rows:
        ends = pc.min_element_wise(
            _every(rows + BLOCK_ROWS - 1, BLOCK_ROWS, BLOCK_ROWS - 1), rows - 1
        )
        last = pc.take(table.column(0), ends).cast(pa.string())
    directory = pa.table(
        {
            "last": last,
            "size": pa.array([b[1] for b in blocks], pa.int32()),
            "raw": pa.array([b[2] for b in blocks], pa.int32()),
        }
    )
    options = ipc.IpcWriteOptions(compression="zstd")
    with ipc.new_file(str(target.with_suffix(".idx")), directory.schema, options=options) as writer:
        writer.write_table(directory)
    return escaped


def _write_parts(
    engine: QueryEngine, version: Version, columns: list[str], work: Path, stable: bool
) -> tuple[list[str], list[str], list[list[str]], int]:
    """Write the parts into ``work``; returns their first keys (but the first), names,
    escaped columns and the rows written."""
    splits: list[str] = []
    files: list[str] = []
    escaped: list[list[str]] = []
    indexed = 0
    compressor = _Compressor()
    for number, (low, table) in enumerate(_parts(engine, version, columns, stable)):
        if low is not None:
            splits.append(low)
        name = f"part-{number:05d}"
        escaped.append(_write_part(table, work / name, compressor))
        indexed += table.num_rows
        files.append(name)
        del table
    if compressor.dictionary is not None:
        (work / DICTIONARY).write_bytes(compressor.dictionary.as_bytes())
    return splits, files, escaped, indexed


def build(
    engine: QueryEngine, data_dir: Path, version: Version, key_column: str, target: Path
) -> int:
    """Write the index of one version (atomically: nothing visible until complete); returns
    the number of rows indexed. Reads the version through ``engine`` only: one part at a
    time, so memory holds at most ``PART_ROWS`` rows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = [key_column] + [c.name for c in version.columns if c.name != key_column]
    work = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    _remove(work)
    work.mkdir()
    try:
        try:
            written = _write_parts(engine, version, columns, work, stable=False)
        except _Unordered:
            for path in work.iterdir():
                path.unlink()
            written = _write_parts(engine, version, columns, work, stable=True)
        splits, files, escaped, indexed = written
        meta = {
            "format": FORMAT,
            "key": key_column,
            "columns": columns,
            "splits": ["", *splits] if splits else [],
            "parts": files,
            "escaped": escaped,
            "rows": indexed,
            "block_rows": BLOCK_ROWS,
            "source": _place(data_dir, version.data_path),
        }
        (work / META).write_text(json.dumps(meta, ensure_ascii=False))
        os.replace(work, target)
    finally:
        _remove(work)
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
                # Under the lock, work files of this index belong to a builder that died.
                for stale in path.parent.glob(f".{path.name}.*"):
                    _remove(stale)
                started = time.perf_counter()
                rows = build(engine, data_dir, version, key_column, path)
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
            # process still reading one keeps its open files).
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

    async def ready(self, version: Version, key_column: str, seconds: float) -> KeyIndex | None:
        """``get``, waiting up to ``seconds`` (without blocking the event loop) for an index
        being built: a small version's index is there before the lookup needs to give up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            try:
                return self.get(version, key_column)
            except Unavailable:
                if loop.time() >= deadline:
                    raise
            await asyncio.sleep(WAIT_STEP_SECONDS)

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
