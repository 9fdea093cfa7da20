"""Turn one read of a source into one immutable, complete version — or nothing at all.

Order of work (a ``kill -9`` at any point leaves no visible version):

1. take the directory lock; remove leftovers of killed loads (``.tmp-*``, data files
   without a manifest; with ``keep``, versions the catalogue never registered) — or the
   caller holds the lock and has done so (``locked_by_caller``);
2. read into ``.tmp-<id>/data.parquet`` (and ``rejects.csv``), fsync;
3. check the reject ratio; compare the content hash with the current version (duplicate →
   keep the current version, write nothing);
4. rename data and rejects into place, fsync the directory;
5. write the manifest to the work directory, fsync, rename into place, fsync the directory.
   Only now does the version exist.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq

from shuzhi.errors import FieldError, Invalid, Message
from shuzhi.lake.manifest import (
    DATA_SUFFIX,
    LOCK_FILE,
    MANIFEST_SUFFIX,
    REJECTS_SUFFIX,
    TEMP_PREFIX,
    ColumnSchema,
    RejectSummary,
    Version,
    current_version,
    file_sha256,
)
from shuzhi.lake.readers import (
    CsvReader,
    DuckScan,
    Reader,
    ReadOptions,
    Source,
    engine_error,
    open_reader,
    sql_literal,
)
from shuzhi.lake.rejects import RejectLog


@dataclass(frozen=True)
class LoadOptions:
    """Tunables of one load; the defaults suit a district server."""

    max_reject_ratio: float = 0.01
    compression: Literal["zstd", "snappy", "gzip"] = "zstd"
    compression_level: int = 1
    # Dictionary-encode a column chunk only while it has at most this many distinct values
    # (codes, districts, ten years of dates): building and then abandoning DuckDB's default,
    # much larger dictionaries for near-unique text columns cost its writer about a third of
    # its time; files grow by about 10 %.
    dictionary_size_limit: int = 4000
    # Version 2 data pages with delta-length string encoding: for the all-text columns of a
    # raw version, about an eighth less CPU to write and a fifth less to read back (profile,
    # quality, sharing) than version 1 pages, for 2 % more bytes. Every
    # engine we support or plan for (Arrow, DuckDB, Spark, Trino) reads them.
    parquet_version: Literal["V1", "V2"] = "V2"
    read: ReadOptions = field(default_factory=ReadOptions)
    duckdb_memory_limit: str = "512MB"
    duckdb_threads: int | None = None
    skip_duplicates: bool = True


@dataclass(frozen=True)
class LoadResult:
    version: Version
    duplicate: bool  # same content as the current version: nothing new was written


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


@contextmanager
def locked(directory: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the directory's load lock (``flock`` on ``.lock``); yields False, holding
    nothing, when ``wait`` is off and another process holds it.

    flock is released by the kernel when a killed process dies: no stale locks. Two opens of
    the lock file in one process exclude each other too, so a caller holding the lock passes
    ``locked=True`` to ``write_version``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK_FILE, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def in_use(directory: Path) -> bool:
    """Whether some process holds ``locked(directory)`` right now (creates nothing)."""
    try:
        fd = os.open(directory / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing the descriptor lets go of a lock it took
    return False


def abandoned(directory: Path, pattern: str, grace_seconds: float) -> list[Path]:
    """Work directories in ``directory`` named by ``pattern`` whose process is gone: no
    process holds their lock (``locked``), and none was made in the last ``grace_seconds``
    (one being made may not hold its lock yet)."""
    if not directory.is_dir():
        return []
    found = []
    for work in sorted(directory.glob(pattern)):
        try:
            young = time.time() - work.stat().st_mtime < grace_seconds
        except FileNotFoundError:
            continue
        if not young and work.is_dir() and not in_use(work):
            found.append(work)
    return found


def _stem(name: str) -> str | None:
    for suffix in (MANIFEST_SUFFIX, REJECTS_SUFFIX, DATA_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def leftovers(directory: Path, keep: Collection[str] | None = None) -> list[Path]:
    """What loads that never finished left in ``directory`` (call it holding the lock): work
    directories, data files without a manifest and, with ``keep`` (the version ids a catalogue
    has registered), versions it never registered (a load killed after writing its files)."""
    if not directory.is_dir():
        return []
    found = []
    manifests = {p.name[: -len(MANIFEST_SUFFIX)] for p in directory.glob(f"*{MANIFEST_SUFFIX}")}
    for entry in sorted(directory.iterdir()):
        name = entry.name
        stem = _stem(name)
        orphan = stem is not None and (
            stem not in manifests or (keep is not None and stem not in keep)
        )
        if name.startswith(TEMP_PREFIX) or orphan:
            found.append(entry)
    return found


def remove(paths: Iterable[Path]) -> list[str]:
    """Delete files and directories (manifests first: a version stops existing before its
    data goes); returns their names."""
    ordered = sorted(paths, key=lambda p: not p.name.endswith(MANIFEST_SUFFIX))
    for path in ordered:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return [p.name for p in ordered]


def clean_leftovers(directory: Path, keep: Collection[str] | None = None) -> list[str]:
    """Remove what ``leftovers`` finds."""
    return remove(leftovers(directory, keep))


def renumber(version: Version, sequence: int) -> Version:
    """The same version under another sequence number (its files renamed, a new manifest
    written, the old one removed last). Used when the catalogue gives the version another
    number than the one it was written under; a kill midway leaves unregistered files."""
    if sequence == version.sequence:
        return version
    version_id = f"v{sequence:06d}-{version.content_hash[:12]}"
    moved = replace(
        version,
        version_id=version_id,
        sequence=sequence,
        data_file=f"{version_id}{DATA_SUFFIX}",
        rejects=replace(
            version.rejects, file=f"{version_id}{REJECTS_SUFFIX}" if version.rejects.file else None
        ),
    )
    os.rename(version.data_path, moved.data_path)
    if version.rejects_path is not None and moved.rejects_path is not None:
        os.rename(version.rejects_path, moved.rejects_path)
    _write_manifest(moved, version.directory / f"{TEMP_PREFIX}{uuid.uuid4().hex}.json")
    version.manifest_path.unlink(missing_ok=True)
    _fsync_dir(version.directory)
    return moved


def _write_manifest(version: Version, work_file: Path) -> None:
    with open(work_file, "w", encoding="utf-8") as fh:
        json.dump(version.to_json(), fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(work_file, version.manifest_path)


def _duckdb_connection(options: LoadOptions, workdir: Path):  # type: ignore[no-untyped-def]
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": options.duckdb_memory_limit,
        "temp_directory": str(workdir / "spill"),
        "preserve_insertion_order": True,
    }
    if options.duckdb_threads:
        config["threads"] = options.duckdb_threads
    con = duckdb.connect(config=config)
    _quiet(con)
    return con


def _quiet(con: Any) -> None:
    """No progress bar: loads run in a worker forked from a server without a main script,
    which the engine takes for an interactive session, drawing its bar on the output."""
    con.execute("SET enable_progress_bar = false")


def _too_many_rejects(log: RejectLog, rows: int, max_ratio: float) -> Invalid:
    total = rows + log.count
    summary = log.summary_text()
    return Invalid(
        f"被拒绝的行过多：{log.count}/{total} 行，超过允许比例 {max_ratio:.2%}。未写入任何版本。",
        f"Too many rejected rows: {log.count} of {total}, above the allowed {max_ratio:.2%}."
        " Nothing was written.",
        errors=[
            FieldError(
                "rejects",
                Message(f"拒绝原因：{summary}", f"Reject reasons: {summary}"),
            )
        ],
    )


def _write_batches(reader: Reader, data: Path, log: RejectLog, options: LoadOptions) -> int:
    writer = pq.ParquetWriter(
        data,
        reader.schema,
        compression=options.compression,
        compression_level=options.compression_level if options.compression == "zstd" else None,
        data_page_version="2.0" if options.parquet_version == "V2" else "1.0",
    )
    rows = 0
    try:
        for batch in reader.batches(log):
            writer.write_batch(batch)
            rows += batch.num_rows
    finally:
        writer.close()
    return rows


def _copy_sql(scan: DuckScan, data: Path, options: LoadOptions) -> str:
    codec = {"zstd": "zstd", "snappy": "snappy", "gzip": "gzip"}[options.compression]
    if codec == "zstd":
        codec += f", COMPRESSION_LEVEL {int(options.compression_level)}"
    return (
        f"COPY (SELECT * FROM {scan.sql()}) TO {sql_literal(str(data))}"
        f" (FORMAT parquet, COMPRESSION {codec},"
        f" DICTIONARY_SIZE_LIMIT {int(options.dictionary_size_limit)},"
        f" PARQUET_VERSION {options.parquet_version})"
    )


def _write_rows(
    reader: Reader,
    workdir: Path,
    data: Path,
    log: RejectLog,
    options: LoadOptions,
    known_hash: str | None = None,
) -> int | None:
    """Write the rows to ``data``; return the number of rows written, or ``None`` (nothing
    kept) as soon as the content hash turns out to be ``known_hash``.

    A UTF-8 file is copied while its pre-pass (hash, line lengths) runs beside the copy; if
    the pre-pass finds a duplicate or an overlong line, the copy is interrupted and, for an
    overlong line, redone from a clean copy of the file.
    """
    import duckdb

    scan = reader.duckdb_scan(workdir, log, concurrent=True)
    if scan is None:
        return _write_batches(reader, data, log, options)
    if scan.prepass is None and known_hash is not None and reader.content_hash() == known_hash:
        return None
    con = _duckdb_connection(options, workdir)
    try:
        prepass = scan.prepass
        copying = threading.Lock()
        running = [True]

        def settled(done: Future[bool]) -> None:
            try:
                stop = done.result() or reader.content_hash() == known_hash
            except BaseException:
                stop = True
            with copying:
                if stop and running[0]:
                    con.interrupt()

        if prepass is not None:
            prepass.add_done_callback(settled)
        failure: duckdb.Error | None = None
        result = None
        # A pre-pass already finished (a small file) has had its say before the copy
        # started, where an interrupt has no effect: a file it wants cleaned is not copied.
        settled_first = prepass is not None and prepass.done() and prepass.exception() is None
        if not (settled_first and prepass is not None and prepass.result()):
            try:
                result = con.execute(_copy_sql(scan, data, options)).fetchone()
            except duckdb.Error as exc:
                failure, result = exc, None
        with copying:
            running[0] = False
        if prepass is not None:
            needs_clean_copy = prepass.result()  # re-raises a failed pre-pass
            if known_hash is not None and reader.content_hash() == known_hash:
                return None
            if needs_clean_copy:
                con.close()
                data.unlink(missing_ok=True)
                assert isinstance(reader, CsvReader)
                scan = reader.clean_scan(workdir, log)
                con = _duckdb_connection(options, workdir)
                failure = None
                try:
                    result = con.execute(_copy_sql(scan, data, options)).fetchone()
                except duckdb.Error as exc:
                    failure = exc
        if failure is not None:
            raise engine_error(failure, options.duckdb_memory_limit) from None
        rows = int(result[0]) if result else 0
        rejected = scan.reject_count(con)
        total = rows + log.count + rejected
        if total and (log.count + rejected) / total > options.max_reject_ratio:
            # Over the limit: only a few examples are needed for the error message.
            scan.collect_rejects(con, log, limit=20)
            log.count += rejected - min(rejected, 20)
        else:
            scan.collect_rejects(con, log)
        return rows
    finally:
        con.close()


def write_version(
    source: Source | Reader,
    dataset_dir: Path,
    options: LoadOptions | None = None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sequence: int | None = None,
    locked_by_caller: bool = False,
) -> LoadResult:
    """Load ``source`` into ``dataset_dir`` as a new version, or raise leaving nothing behind.

    The version is numbered ``sequence`` (default: one above the newest version on disk).
    ``locked_by_caller``: the caller holds ``locked(dataset_dir)`` and has removed the
    leftovers itself. Raises ``Invalid`` (zh/en) for unreadable sources and when rejects
    exceed the ratio.
    """
    options = options or LoadOptions()
    started = time.perf_counter()
    dataset_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.nullcontext(True) if locked_by_caller else locked(dataset_dir):
        if not locked_by_caller:
            clean_leftovers(dataset_dir)
        workdir = dataset_dir / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        workdir.mkdir()
        placed: list[Path] = []
        reader: Reader | None = None
        try:
            reader = source if isinstance(source, Reader) else open_reader(source, options.read)
            data = workdir / "data.parquet"
            log = RejectLog(workdir / "rejects.csv")
            current = current_version(dataset_dir)
            known = current.content_hash if options.skip_duplicates and current else None
            written = _write_rows(reader, workdir, data, log, options, known)
            rejects_file = log.close()
            if written is None and current is not None:
                return LoadResult(current, duplicate=True)
            rows = written or 0
            total = rows + log.count
            ratio = log.count / total if total else 0.0
            if ratio > options.max_reject_ratio:
                raise _too_many_rejects(log, rows, options.max_reject_ratio)
            read_done = time.perf_counter()
            content_hash = reader.content_hash()
            if known is not None and current is not None and content_hash == known:
                return LoadResult(current, duplicate=True)
            _fsync_file(data)
            if sequence is None:
                sequence = current.sequence + 1 if current else 1
            version = _new_version(
                dataset_dir,
                sequence,
                content_hash,
                data,
                reader,
                _Rejects(log, rejects_file, ratio, options.max_reject_ratio),
                rows,
                clock().isoformat(timespec="seconds"),
                round(read_done - started, 3),
            )
            _place(version, data, rejects_file, placed)
            _fsync_dir(dataset_dir)
            version.timings["total_seconds"] = round(time.perf_counter() - started, 3)
            _write_manifest(version, workdir / "manifest.json")
            placed.clear()  # the version is complete: nothing to undo from here on
            _fsync_dir(dataset_dir)
            return LoadResult(version, duplicate=False)
        except BaseException:
            for path in placed:
                path.unlink(missing_ok=True)
            raise
        finally:
            if reader is not None and reader is not source:
                reader.close()
            shutil.rmtree(workdir, ignore_errors=True)


@dataclass(frozen=True)
class _Rejects:
    log: RejectLog
    file: Path | None
    ratio: float
    max_ratio: float


def _new_version(
    dataset_dir: Path,
    sequence: int,
    content_hash: str,
    data: Path,
    reader: Reader,
    rejects: _Rejects,
    rows: int,
    created_at: str,
    read_seconds: float,
) -> Version:
    """The manifest of a version whose data file is written (not yet in place)."""
    version_id = f"v{sequence:06d}-{content_hash[:12]}"
    schema = pq.read_schema(data)
    return Version(
        directory=dataset_dir,
        version_id=version_id,
        sequence=sequence,
        created_at=created_at,
        data_file=f"{version_id}{DATA_SUFFIX}",
        data_file_sha256=file_sha256(data),
        data_bytes=data.stat().st_size,
        row_count=rows,
        columns=tuple(
            ColumnSchema(name, str(schema.field(name).type), source_name)
            for name, source_name in zip(reader.columns, reader.source_columns, strict=True)
        ),
        content_hash=content_hash,
        source=reader.describe(),
        rejects=RejectSummary(
            count=rejects.log.count,
            ratio=round(rejects.ratio, 6),
            max_ratio=rejects.max_ratio,
            by_reason=dict(rejects.log.by_reason),
            file=f"{version_id}{REJECTS_SUFFIX}" if rejects.file else None,
        ),
        timings={"read_write_seconds": read_seconds, "total_seconds": 0.0},
    )


def _place(version: Version, data: Path, rejects_file: Path | None, placed: list[Path]) -> None:
    """Move the written files to their version names (``placed`` lists what to undo)."""
    final_data = version.directory / version.data_file
    os.rename(data, final_data)
    placed.append(final_data)
    if rejects_file is not None and version.rejects_path is not None:
        os.rename(rejects_file, version.rejects_path)
        placed.append(version.rejects_path)
