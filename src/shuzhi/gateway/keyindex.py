"""Key indexes: keyed lookups without scanning the version's Parquet file.

A version is immutable, so a lookup structure derived from it stays true for its whole
life. A version's index on a key column is a directory under ``DATA_DIR/gateway/keys``
(``<family>-<version id>-<content>.keys``) holding the version's rows whose key is not null,
sorted by key (rows sharing a key in load order), cut into blocks of ``BLOCK_ROWS`` rows.
A block is one zstd frame of the rows as text: the key first, then the other columns, fields
separated by US (0x1F), each row ended by RS (0x1E); null is ``ESC N`` (0x1B), and the
columns whose values hold ESC, US or RS are escaped (``escaped`` in ``meta.json``). Blocks
are compressed with a zstd dictionary trained on blocks spread over the index's first
part (``dictionary.zstd``): blocks of a few dozen rows then compress about as well as blocks of
a few hundred do without one, and a lookup decompresses a few kilobytes. The last key of
every block is kept in memory: a lookup bisects them, decompresses the one block that can
hold the key (rarely the next ones, for a key with many rows) and finds the key's rows in it
by a byte search for ``RS key US``, decoding only those rows.

Large versions are split by key range into parts of about ``PART_ROWS`` rows
(``part-NNNNN.blk`` with its block directory ``part-NNNNN.idx``, an Arrow IPC file of last
keys and sizes); ``meta.json`` records each part's first key, and a part's
directory is loaded when a lookup first reaches it. See docs/gateway.md for the layout at a
billion rows.

This module holds the layout, the names and the reading side; ``gateway.keybuild`` writes
indexes and ``gateway.keycache`` keeps a serving process's indexes open. Building reads the
version only through the ``QueryEngine`` protocol. The engine sorts the rows by key and
row position, so rows sharing a key keep their load order: the key column alone when the
version is one part (its rows then read once in stored order and put in key order here),
every column in one pass cut into parts at key boundaries when it is more (``keybuild`` has
the details, and the path for an order other than the code points'). Rows are
joined into row text and cut into blocks by Arrow compute kernels and compressed by zstd on
two threads — no Python code runs per row. Loads build the indexes that active grants use
before the version becomes current (``gateway.indexing``); a missing one is built in the
background, once, and the lookup answers 503 meanwhile (``keycache.KeyIndexes``). Building is
single-flight within a process and, through a file lock, across processes; the directory
appears atomically (rename) when complete.

Once a version's index is served, the indexes of the same dataset and key column for
earlier versions are deleted (a worker still reading one keeps its open files); indexes of
versions the lake no longer holds are removed by ``shuzhi lake gc`` (``garbage``).

The key column must be text. The other columns may be text or scalar values (integers,
floating point, booleans, decimals, dates, times, timestamps to the microsecond): the
builder writes each value as the text Arrow casts it to (floating point through double
precision, so that it reads back exactly), records the types the engine read
(``types`` in ``meta.json``), and a lookup turns the text back into the value the engine's
own lookup returns (``decoder``). Versions with other columns (binary, nested,
nanosecond times) are served by the engine (``indexable``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import decimal
import fcntl
import hashlib
import json
import logging
import mmap
import re
import shutil
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import zstandard

from shuzhi.lake.manifest import Version

log = logging.getLogger("shuzhi.gateway")

INDEX_DIR = "gateway/keys"
FORMAT = 5  # 3: SQLite row store; 4: sorted Parquet; 5: zstd row blocks
SUFFIX = ".keys"
META = "meta.json"
DICTIONARY = "dictionary.zstd"
OPEN_PARTS = 64  # parts whose block directories a process keeps in memory (≈ 3 MB each)
PLANS = 256  # lists of columns an index remembers how to read
TEXT_TYPES = ("string", "large_string", "utf8", "large_utf8")

US, RS, ESC = "\x1f", "\x1e", "\x1b"
NULL = ESC + "N"
US_BYTES, RS_BYTES = US.encode(), RS.encode()
_UNESCAPE = {ESC: ESC, ">": RS, "?": US}
_ESCAPED = re.compile("\x1b(.)", re.S)


Decoder = Callable[[str], Any]

_INTEGERS = frozenset(f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64))
_BOOLEANS = {"true": True, "false": False}


def _timestamp(zone: str | None) -> Decoder:
    if zone is None:
        return dt.datetime.fromisoformat
    fixed = zone[:1] in ("+", "-")
    tz = dt.datetime.strptime(zone, "%z").tzinfo if fixed else ZoneInfo(zone)

    def decode(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text).astimezone(tz)

    return decode


def decoder(type_name: str) -> Decoder | None:
    """How a value of an engine column of type ``type_name`` (Arrow's name) is read back
    from its text: None for text (read as it is); ``ValueError`` for a type the index does
    not hold (its values have no exact text form here, or no Python value)."""
    if type_name in TEXT_TYPES:
        return None
    if type_name in _INTEGERS:
        return int
    if type_name in ("float", "double"):
        return float
    if type_name == "bool":
        return _BOOLEANS.__getitem__
    if type_name.startswith(("decimal128(", "decimal256(")):
        return decimal.Decimal
    if type_name in ("date32[day]", "date64[ms]"):
        return dt.date.fromisoformat
    if type_name in ("time32[s]", "time32[ms]", "time64[us]"):
        return dt.time.fromisoformat
    for unit in ("s", "ms", "us"):
        if type_name == f"timestamp[{unit}]":
            return _timestamp(None)
        if type_name.startswith(f"timestamp[{unit}, tz=") and type_name.endswith("]"):
            return _timestamp(type_name[len(f"timestamp[{unit}, tz=") : -1])
    raise ValueError(f"a key index does not hold values of type {type_name}")


def _holds(type_name: str) -> bool:
    try:
        decoder(type_name)
    except (ValueError, KeyError):  # KeyError: an unknown time zone
        return False
    return True


def indexable(version: Version, key_column: str) -> bool:
    """Whether a key index of ``version`` on ``key_column`` can be built: a text key column
    and every other column of a type the index holds (``decoder``)."""
    types = version.column_types()
    return types.get(key_column) in TEXT_TYPES and all(map(_holds, types.values()))


def family(place: str, key_column: str) -> str:
    """The part of an index's name shared by every version of a dataset and key column;
    ``place`` is the dataset's directory relative to the data directory (``datasets/<code>``),
    so that the names survive moving the data directory."""
    ident = f"{FORMAT}\x1f{place}\x1f{key_column}"
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


def place_of(data_dir: Path, path: Path) -> str:
    full = path.resolve()
    root = data_dir.resolve()
    return full.relative_to(root).as_posix() if full.is_relative_to(root) else str(full)


def _family(data_dir: Path, version: Version, key_column: str) -> str:
    return family(place_of(data_dir, version.directory), key_column)


def index_path(data_dir: Path, version: Version, key_column: str) -> Path:
    content = version.data_file_sha256[:12]
    name = f"{_family(data_dir, version, key_column)}-{version.version_id}-{content}{SUFFIX}"
    return data_dir / INDEX_DIR / name


def _legacy_families(data_dir: Path, version: Version, key_column: str) -> list[str]:
    """Families of the former formats (2: named by the dataset's absolute directory; 3: a
    SQLite row store; 4: a sorted Parquet file), whose files serve nobody once the present
    format serves."""
    directory = version.directory.resolve()
    place = place_of(data_dir, directory)
    idents = [f"2\x1f{directory}\x1f{key_column}"]
    idents += [f"{n}\x1f{place}\x1f{key_column}" for n in (3, 4)]
    return [hashlib.sha256(i.encode()).hexdigest()[:24] for i in idents]


def remove_path(path: Path) -> None:
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
            remove_path(path)
            path.with_suffix(".lock").unlink(missing_ok=True)
            removed.append(path)
    for prefix in _legacy_families(data_dir, version, key_column):
        for path in current.parent.glob(f"{prefix}-*"):
            if path.suffix in (".sqlite", ".parquet"):
                remove_path(path)
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


def _row(values: list[str | None], wanted: list[tuple[str, int, Decoder | None]]) -> dict[str, Any]:
    """One row's wanted columns, typed values read back from their text."""
    row: dict[str, Any] = {}
    for name, at, read in wanted:
        value = values[at]
        row[name] = value if read is None or value is None else read(value)
    return row


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
        types = meta.get("types") or {}  # indexes written before typed columns: all text
        self._decoders = {name: decoder(types.get(name, "string")) for name in self.columns}
        self._after_key = US_BYTES if len(self.columns) > 1 else RS_BYTES
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
        # What ``get`` reads for a list of columns: the same few lists come with every call.
        self._plans: dict[tuple[str, ...], tuple[list[tuple[str, int, Decoder | None]], bool]] = {}

    def _plan(self, columns: Sequence[str]) -> tuple[list[tuple[str, int, Decoder | None]], bool]:
        """Each wanted column's name, place and decoder, and whether any value is typed."""
        names = tuple(columns)
        found = self._plans.get(names)
        if found is None:
            wanted = [(name, self._at[name], self._decoders[name]) for name in names]
            found = (wanted, any(read is not None for _, _, read in wanted))
            if len(self._plans) >= PLANS:
                self._plans.clear()
            self._plans[names] = found
        return found

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
        wanted, typed = self._plan(columns)
        part = self._part(bisect.bisect_right(self._splits, key) - 1 if self._splits else 0)
        lasts = part.lasts
        if part.escape_key:
            stored = _escape(key)
        elif ESC in key or US in key or RS in key:
            # No stored key holds a separator (the column would be escaped), and searching
            # for one unescaped would match across fields of another row.
            return []
        else:
            stored = key
        head = stored.encode() + self._after_key
        needle = RS_BYTES + head
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
                end = text.find(RS_BYTES, start)
                fields = text[start:end].decode().split(US)
                if typed or part.escaped:
                    values: list[str | None] = [None if f == NULL else f for f in fields]
                    if part.escaped:
                        values = [
                            _unescape(v) if i in part.escaped and v is not None else v
                            for i, v in enumerate(values)
                        ]
                    found.append(_row(values, wanted))
                else:  # the usual case: text columns as stored, only the wanted ones read
                    found.append({n: None if (v := fields[a]) == NULL else v for n, a, _ in wanted})
                start = end + 1 if text.startswith(head, end + 1) else -1
            if lasts[block] != key:
                break
            block += 1
        return found
