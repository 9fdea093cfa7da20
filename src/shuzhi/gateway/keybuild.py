"""Building key indexes (the layout is described in ``gateway.keyindex``).

A build reads the version only through the ``QueryEngine`` protocol and writes the index
directory atomically; ``ensure`` makes one builder per index across processes (file lock).
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from queue import Full, Queue
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import zstandard

from shuzhi.gateway.keyindex import (
    DICTIONARY,
    ESC,
    FORMAT,
    META,
    NULL,
    RS,
    RS_BYTES,
    US,
    US_BYTES,
    decoder,
    index_path,
    indexable,
    place_of,
    remove_path,
)
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import POSITION, Filter, Op, Order, QueryEngine

log = logging.getLogger("shuzhi.gateway")

BLOCK_ROWS = 32  # rows per block: what one lookup decompresses (≈ 5 KB)
PART_ROWS = 1_000_000  # rows per part: what one build step holds in memory (≈ 250 MB)
SLICE_ROWS = 65_536  # rows joined into text at a time
LEVEL = 3  # zstd level
DICTIONARY_BYTES = 65_536  # the index's zstd dictionary, trained on its first part's blocks
TRAIN_BLOCKS = 1024
TRAIN_BYTES = 2 << 20  # of blocks spread over the first part (4× more: 0.1 % smaller, 4× the time)
THREADS = 2  # joining and compressing threads
# The dictionary trainer's segment and d-mer sizes. Left to itself it searches for them,
# which took four times as long as training and chose these on the benchmark's rows.
TRAIN_K, TRAIN_D = 1024, 8


def _pool() -> pa.MemoryPool:
    """Where the build's Arrow memory comes from: jemalloc where pyarrow has it. With
    pyarrow's default pool (mimalloc) a build spends a fifth more time, most of it in the
    kernel handing out fresh pages for the part's text (docs/benchmarks-history.md, "Key
    index")."""
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return pa.default_memory_pool()


POOL = _pool()

RowText = Callable[[int, int], pa.Array]  # (begin, count) -> those rows' text, in key order


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


def _text(
    column: pa.Array | pa.ChunkedArray, kind: pa.DataType | None = None
) -> pa.Array | pa.ChunkedArray:
    """A column's values as the text the index holds (``keyindex.decoder`` reads it back),
    ``large_string`` unless ``kind`` says otherwise: floating point through double
    precision, whose shortest text reads back exactly."""
    if pa.types.is_floating(column.type):
        column = pc.cast(column, pa.float64(), memory_pool=POOL)
    return pc.cast(column, kind or pa.large_string(), memory_pool=POOL)


def _text_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    return pa.record_batch([_text(c, pa.string()) for c in batch.columns], schema=schema)


def _needs_escape(column: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a value of ``column`` holds a separator (ESC, RS or US)."""
    text = _text(column)
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    return any(_holds_separator(chunk) for chunk in chunks)


_SEPARATORS = (ESC.encode(), RS_BYTES, US_BYTES)


def _holds_separator(text: pa.Array) -> bool:
    """Whether a value of ``text`` (``large_string``) holds a separator: a byte search over
    its data, an order of magnitude cheaper than counting separators in the joined rows (bytes
    behind a null can only raise a false alarm, which escapes the column: harmless)."""
    body = _body(text)
    return any(body.find(separator) >= 0 for separator in _SEPARATORS)


def _escape_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    out = pc.replace_substring(column, ESC, ESC + ESC, memory_pool=POOL)
    out = pc.replace_substring(out, RS, ESC + ">", memory_pool=POOL)
    return pc.replace_substring(out, US, ESC + "?", memory_pool=POOL)


def _large(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _row_text(columns: list[pa.ChunkedArray]) -> pa.Array:
    """Every row as text: its fields separated by US and ended by RS, null as ``NULL``."""
    nulls = {"null_handling": "replace", "null_replacement": NULL}
    *head, tail = columns
    text = pc.binary_join_element_wise(tail, _large(""), _large(RS), **nulls, memory_pool=POOL)
    if head:
        text = pc.binary_join_element_wise(*head, text, _large(US), **nulls, memory_pool=POOL)
    return _combined(text) if isinstance(text, pa.ChunkedArray) else text


def _combined(chunked: pa.ChunkedArray) -> pa.Array:
    """The chunks as one array, its memory from ``POOL``. ``ChunkedArray.combine_chunks``
    takes its memory from the default pool whatever it is given; there (mimalloc) the first
    write to fresh memory took five times as long as here (docs/benchmarks-history.md, "Key
    index")."""
    if chunked.num_chunks == 1:
        return chunked.chunk(0)
    if chunked.num_chunks == 0:
        return pa.array([], chunked.type)
    return pa.concat_arrays(chunked.chunks, memory_pool=POOL)


def _body(text: pa.Array) -> bytes:
    """The bytes of row text (a copy)."""
    rows = len(text)
    starts, data = text.buffers()[1], text.buffers()[2]
    if not rows or starts is None or data is None:
        return b""
    bounds = memoryview(starts).cast("q")[text.offset : text.offset + rows + 1]
    body: bytes = data.slice(bounds[0], bounds[rows] - bounds[0]).to_pybytes()
    return body


def _in_order(keys: pa.ChunkedArray | pa.Array, *, repeats: bool) -> bool:
    """Whether the keys are in code point order, each once unless ``repeats``."""
    keys = _combined(keys) if isinstance(keys, pa.ChunkedArray) else keys
    if len(keys) < 2:
        return True
    after, before = keys.slice(1), keys.slice(0, len(keys) - 1)
    out_of_order = pc.less if repeats else pc.less_equal
    return not pc.any(out_of_order(after, before)).as_py()


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
    every, distinct = engine.column_counts(version, key)
    return every != distinct


def _cut(keys: pa.ChunkedArray) -> int:
    """Where a part may end in ``keys`` (sorted): before the last key's first row (its rows
    may continue in what follows); 0 when one key fills them all."""
    return int(pc.index(keys, keys[-1]).as_py())


def _cut_sorted(
    batches: Iterator[pa.RecordBatch], key: str, schema: pa.Schema
) -> Iterator[tuple[str | None, pa.Table]]:
    """Rows the engine sorted by key (``batches``, the key first) as text, cut into parts of
    about ``PART_ROWS`` rows at key boundaries, each with its first key (None for the
    first); fetched ahead by a thread while the parts are written."""
    held: list[pa.RecordBatch] = []
    count = 0
    low: str | None = None
    for batch in _prefetched(batches):
        held.append(_text_batch(batch, schema))
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


def _rows_in_key_order(
    engine: QueryEngine, version: Version, columns: list[str]
) -> Iterator[tuple[str | None, pa.Table]]:
    """Parts of one pass over the version: every column of the rows with a key, sorted by
    the engine by key then row position (rows sharing a key in load order), so each row is
    read once however many parts there are (``QueryEngine.key_rows``: DuckDB streams its
    sort, Spark reads the cluster's back from files). ``_Unordered`` when the engine's
    order is not the code point order."""
    key = columns[0]
    schema = pa.schema([(c, pa.string()) for c in columns])
    rows = _cut_sorted(iter(engine.key_rows(version, key, columns)), key, schema)
    yield from _checked(rows, key, repeats=True)


def _checked(
    parts: Iterator[tuple[str | None, pa.Table]], key: str, *, repeats: bool
) -> Iterator[tuple[str | None, pa.Table]]:
    """Parts cut from an engine's sorted rows, each checked to be in code point order and
    to start above the previous part's last key (a disorder exactly where a part was cut
    shows only there); ``_Unordered`` otherwise."""
    last: str | None = None
    for low, table in parts:
        keys = table.column(key)
        if not _in_order(keys, repeats=repeats) or (
            last is not None and len(keys) and not last < keys[0].as_py()
        ):
            raise _Unordered
        last = keys[-1].as_py() if len(keys) else last
        yield low, table


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
    # In code point order whatever the engine's: the ranges are then disjoint.
    bounds: list[str | None] = [None, *sorted(set(splits)), None]
    for low, high in itertools.pairwise(bounds):
        stored = engine.scan(version, columns, _part_filters(key, low, high))
        table = pa.Table.from_batches([_text_batch(b, schema) for b in stored], schema)
        yield low, pc.take(table, pc.sort_indices(table.column(key)), memory_pool=POOL)
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
    ordered = engine.scan(version, columns, [Filter(key, Op.NOT_NULL)], order_by=[Order(key)])
    yield from _checked(_cut_sorted(iter(ordered), key, schema), key, repeats=False)


class _NeedsEscaping(Exception):
    """A value holds ESC, US or RS: the part is written again with its columns escaped."""

    def __init__(self, columns: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.columns = columns


class _Part:
    """A one-part version on the native path: its keys (sorted), its rows' text in stored
    order, the order that puts that text in key order (rows sharing a key in load order),
    and the columns whose values were escaped."""

    def __init__(self, keys: pa.Array, text: pa.Array, order: pa.Array, escaped: list[str]) -> None:
        self.keys = keys
        self.text = text
        self.order = order
        self.escaped = escaped


def _sorted_keys(engine: QueryEngine, version: Version, key: str) -> tuple[pa.Array, pa.Array]:
    """The engine's sort of (key, row position) on the key column alone: the keys (text) and
    the positions, rows sharing a key in load order."""
    schema = pa.schema([("k", pa.string()), ("p", pa.int64())])
    batches = [
        pa.record_batch(
            [
                pc.cast(batch.column(0), pa.string(), memory_pool=POOL),
                pc.cast(batch.column(1), pa.int64(), memory_pool=POOL),
            ],
            schema=schema,
        )
        for batch in engine.key_positions(version, key)
    ]
    table = pa.Table.from_batches(batches, schema)
    return _combined(table.column(0)), _combined(table.column(1))


def _join_batch(batch: pa.RecordBatch, escaped: frozenset[str]) -> pa.Array:
    """One batch's rows as text (``_row_text``), columns in ``escaped`` escaped; raises
    ``_NeedsEscaping`` naming the other columns whose values hold a separator."""
    columns = []
    found = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        column = _text(column)
        if name in escaped:
            column = _escape_column(column)
        elif _holds_separator(column):
            found.append(name)
        columns.append(column)
    if found:
        raise _NeedsEscaping(frozenset(found))
    return _row_text(columns)


def _stored_text(
    engine: QueryEngine, version: Version, columns: list[str], escaped: frozenset[str]
) -> pa.ChunkedArray:
    """The text of every row, in stored order: the engine's batches joined on ``THREADS``
    threads while it reads the next ones."""
    chunks: list[pa.Array] = []
    pending: deque[Future[pa.Array]] = deque()
    with ThreadPoolExecutor(THREADS) as pool:
        try:
            for batch in engine.scan(version, columns):
                pending.append(pool.submit(_join_batch, batch, escaped))
                while len(pending) > 2 * THREADS:
                    chunks.append(pending.popleft().result())
            while pending:
                chunks.append(pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
    return pa.chunked_array(chunks, pa.large_string())


def _native_part(engine: QueryEngine, version: Version, columns: list[str]) -> _Part:
    """A version of one part from the engine's sort of (key, position) on the key column
    alone: rows sharing a key come out in load order whether or not keys repeat, so one sort
    serves both cases. The rows are read once in stored order, joined into text as they
    arrive, and put in key order by their positions (``take``)."""
    keys, positions = _sorted_keys(engine, version, columns[0])
    if not _in_order(keys, repeats=True):
        raise _Unordered
    escaped: frozenset[str] = frozenset()
    while True:
        try:
            text = _stored_text(engine, version, columns, escaped)
            break
        except _NeedsEscaping as found:
            if not found.columns:
                raise
            escaped |= found.columns
    if len(text) != version.row_count:  # the engine's answers disagree: no wrong index
        raise RuntimeError(f"key index: {len(text)} rows read, {version.row_count} expected")
    return _Part(keys, _combined(text), positions, [c for c in columns if c in escaped])


class _Compressor:
    """zstd with a dictionary trained on blocks spread over the index's first part: blocks
    of a few dozen rows then compress about as well as blocks of a few hundred do without
    one, and a lookup decompresses a sixth of the bytes. One context per thread."""

    def __init__(self) -> None:
        self.dictionary: zstandard.ZstdCompressionDict | None = None
        self.trained = False
        self._local = threading.local()

    def train(self, samples: list[bytes | bytearray | memoryview]) -> None:
        self.trained = True
        if sum(map(len, samples)) < 8 * DICTIONARY_BYTES:
            return  # too little to learn from: plain zstd
        try:
            self.dictionary = zstandard.train_dictionary(
                DICTIONARY_BYTES, samples, level=LEVEL, k=TRAIN_K, d=TRAIN_D
            )
        except zstandard.ZstdError:
            return

    def compress(self, blocks: zstandard.BufferWithSegments) -> tuple[bytes, list[int]]:
        """The blocks' frames, one after the other, and each frame's size."""
        context = getattr(self._local, "context", None)
        if context is None:
            context = self._local.context = zstandard.ZstdCompressor(
                level=LEVEL, dict_data=self.dictionary, write_checksum=False, write_dict_id=False
            )
        compressed = context.multi_compress_to_buffer(blocks, threads=1)
        frames: list[Any] = [compressed[i] for i in range(len(compressed))]  # buffers
        return b"".join(frames), [len(f) for f in frames]


def _blocks_of(text: pa.Array) -> tuple[zstandard.BufferWithSegments, list[int]]:
    """Row text cut into blocks of ``BLOCK_ROWS`` rows (segments of its data, no copy), and
    each block's length. Segments, not a view per block: views are objects the garbage
    collector tracks, and a build made tens of thousands of them."""
    rows = len(text)
    starts, data = text.buffers()[1], text.buffers()[2]
    assert rows and starts is not None and data is not None
    offsets = pa.Array.from_buffers(pa.int64(), rows + 1, [None, starts], offset=text.offset)
    cuts = pc.take(offsets, _every(rows, BLOCK_ROWS)).to_pylist()
    cuts.append(offsets[rows].as_py())
    lengths = [high - low for low, high in itertools.pairwise(cuts)]
    segments = array("Q", bytes(16 * len(lengths)))  # (offset, length) of each block
    segments[0::2] = array("Q", cuts[:-1])
    segments[1::2] = array("Q", lengths)
    return zstandard.BufferWithSegments(data, segments.tobytes()), lengths


def _train(compressor: _Compressor, rows: int, text_of: RowText) -> None:
    """Train the dictionary on about ``TRAIN_BYTES`` of blocks spread over ``rows`` rows."""
    blocks = -(-rows // BLOCK_ROWS)
    first = _body(text_of(0, BLOCK_ROWS))
    wanted = min(blocks, TRAIN_BLOCKS, max(1, TRAIN_BYTES // max(1, len(first))))
    step = max(1, blocks // wanted)
    samples: list[bytes | bytearray | memoryview] = [first]
    for block in range(step, blocks, step):
        samples.append(_body(text_of(block * BLOCK_ROWS, BLOCK_ROWS)))
    compressor.train(samples)


def _write_sorted(
    rows: int, text_of: RowText, out: BinaryIO, compressor: _Compressor
) -> tuple[list[int], list[int]]:
    """Write ``rows`` rows in key order as blocks of ``BLOCK_ROWS`` rows: ``text_of(begin,
    count)`` gives the text of rows ``begin`` … in that order. Slices of ``SLICE_ROWS`` rows
    are made, cut and compressed on ``THREADS`` threads and written in order; returns each
    block's size and decompressed size."""
    if not rows:
        return [], []
    if not compressor.trained:
        _train(compressor, rows, text_of)

    def slice_blocks(begin: int) -> tuple[bytes, list[int], list[int]]:
        blocks, lengths = _blocks_of(text_of(begin, SLICE_ROWS))
        return *compressor.compress(blocks), lengths

    # Each block's size and decompressed size: flat lists of ints, which the garbage
    # collector does not scan (a list per block had it scanning every few slices).
    sizes: list[int] = []
    raw: list[int] = []

    def write(frames: bytes, frame_sizes: list[int], lengths: list[int]) -> None:
        out.write(frames)
        sizes.extend(frame_sizes)
        raw.extend(lengths)

    pending: deque[Future[tuple[bytes, list[int], list[int]]]] = deque()
    with ThreadPoolExecutor(THREADS) as pool:
        try:
            for begin in range(0, rows, SLICE_ROWS):
                pending.append(pool.submit(slice_blocks, begin))
                while len(pending) > 2 * THREADS:
                    write(*pending.popleft().result())
            while pending:
                write(*pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
    return sizes, raw


def _write_directory(
    target: Path, keys: pa.Array | pa.ChunkedArray, sizes: list[int], raw: list[int]
) -> None:
    """A part's block directory: each block's last key, size and decompressed size."""
    rows = len(keys)
    last = pa.array([], pa.string())
    if rows:
        ends = pc.min_element_wise(
            _every(rows + BLOCK_ROWS - 1, BLOCK_ROWS, BLOCK_ROWS - 1), rows - 1
        )
        last = pc.take(keys, ends).cast(pa.string())
    directory = pa.table(
        {
            "last": last,
            "size": pa.array(sizes, pa.int32()),
            "raw": pa.array(raw, pa.int32()),
        }
    )
    options = ipc.IpcWriteOptions(compression="zstd")
    with ipc.new_file(str(target.with_suffix(".idx")), directory.schema, options=options) as writer:
        writer.write_table(directory)


def _write_text_part(part: _Part, target: Path, compressor: _Compressor) -> list[str]:
    """Write one part of the native path; returns its escaped columns."""

    def text_of(begin: int, count: int) -> pa.Array:
        return pc.take(part.text, part.order.slice(begin, count), memory_pool=POOL)

    with open(target.with_suffix(".blk"), "wb") as out:
        sizes, raw = _write_sorted(len(part.order), text_of, out, compressor)
    _write_directory(target, part.keys, sizes, raw)
    return part.escaped


def _write_part(table: pa.Table, target: Path, compressor: _Compressor) -> list[str]:
    """Write one part (``table``: its rows sorted by key, the key first) as blocks and a block
    directory; returns the columns that had to be escaped. A slice with a value holding a
    separator has the part written again with the columns that hold one escaped."""
    escaped: list[str] = []

    def text_of(begin: int, count: int) -> pa.Array:
        piece = table.slice(begin, count)
        columns = []
        for name in table.column_names:
            column = _text(piece.column(name))
            if name in escaped:
                column = _escape_column(column)
            elif not escaped and _needs_escape(column):
                raise _NeedsEscaping
            columns.append(column)
        return _row_text(columns)

    try:
        with open(target.with_suffix(".blk"), "wb") as out:
            sizes, raw = _write_sorted(table.num_rows, text_of, out, compressor)
    except _NeedsEscaping:
        escaped = [n for n in table.column_names if _needs_escape(table.column(n))]
        with open(target.with_suffix(".blk"), "wb") as out:
            sizes, raw = _write_sorted(table.num_rows, text_of, out, compressor)
    _write_directory(target, table.column(0), sizes, raw)
    return escaped


def _write_parts(
    engine: QueryEngine,
    version: Version,
    columns: list[str],
    work: Path,
    stable: bool,
    native: bool = False,
) -> tuple[list[str], list[str], list[list[str]], int]:
    """Write the parts into ``work``; returns their first keys (but the first), names,
    escaped columns and the rows written."""
    splits: list[str] = []
    files: list[str] = []
    escaped: list[list[str]] = []
    indexed = 0
    compressor = _Compressor()
    parts: Iterator[tuple[str | None, pa.Table | _Part]]
    if not native:
        parts = _parts(engine, version, columns, stable)
    elif version.row_count > PART_ROWS:
        parts = _rows_in_key_order(engine, version, columns)
    else:
        parts = iter([(None, _native_part(engine, version, columns))])
    for number, (low, part) in enumerate(parts):
        if low is not None:
            splits.append(low)
        name = f"part-{number:05d}"
        if isinstance(part, _Part):
            escaped.append(_write_text_part(part, work / name, compressor))
            indexed += len(part.keys)
        else:
            escaped.append(_write_part(part, work / name, compressor))
            indexed += part.num_rows
        files.append(name)
        del part
    if compressor.dictionary is not None:
        (work / DICTIONARY).write_bytes(compressor.dictionary.as_bytes())
    return splits, files, escaped, indexed


def _clear(work: Path) -> None:
    for path in work.iterdir():
        path.unlink()


def _engine_types(engine: QueryEngine, version: Version, columns: list[str]) -> dict[str, str]:
    """The columns' types as the engine reads them, which its lookups return and the index's
    text is read back as (``keyindex.decoder``; ``ValueError`` for a type the index does not
    hold); the version's own types when it has no rows."""
    read = list(engine.scan(version, columns, limit=1))
    types = {f.name: str(f.type) for f in read[0].schema} if read else version.column_types()
    for name in columns:
        decoder(types[name])
    return {name: types[name] for name in columns}


def _numbered(version: Version, key_column: str) -> bool:
    """Whether the engine can sort the version by (key, row position), the native path: not
    when a column takes the position's name."""
    return POSITION not in version.column_types() and key_column != POSITION


def build(
    engine: QueryEngine, data_dir: Path, version: Version, key_column: str, target: Path
) -> int:
    """Write the index of one version (atomically: nothing visible until complete); returns
    the number of rows indexed. Reads the version through ``engine`` only: one part at a
    time, so memory holds at most ``PART_ROWS`` rows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = [key_column] + [c.name for c in version.columns if c.name != key_column]
    types = _engine_types(engine, version, columns)
    work = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    remove_path(work)
    work.mkdir()
    try:
        written = None
        if _numbered(version, key_column):
            try:
                written = _write_parts(engine, version, columns, work, stable=False, native=True)
            except _Unordered:
                _clear(work)
        if written is None:
            try:
                written = _write_parts(engine, version, columns, work, stable=False)
            except _Unordered:
                _clear(work)
                written = _write_parts(engine, version, columns, work, stable=True)
        splits, files, escaped, indexed = written
        meta = {
            "format": FORMAT,
            "key": key_column,
            "columns": columns,
            "types": types,
            "splits": ["", *splits] if splits else [],
            "parts": files,
            "escaped": escaped,
            "rows": indexed,
            "block_rows": BLOCK_ROWS,
            "source": place_of(data_dir, version.data_path),
        }
        (work / META).write_text(json.dumps(meta, ensure_ascii=False))
        os.replace(work, target)
    finally:
        remove_path(work)
    return indexed


def ensure(engine: QueryEngine, data_dir: Path, version: Version, key_column: str) -> Path | None:
    """Build the index of ``version`` on ``key_column`` unless it exists (file lock: one
    builder across processes, the others wait for it); None when the version is not
    indexable. Used by loads, before the version becomes current, and by the gateway."""
    if not indexable(version, key_column):
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
                    remove_path(stale)
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
