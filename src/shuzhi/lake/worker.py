"""Loads run in a worker process, so that no source can stall the server or the command.

``load_in_worker`` is the one way a source becomes a version, for the console and API
uploads as for ``shuzhi ingest`` and the scheduled pulls: it runs ``writer.write_version``
in a child process and waits for it. The caller's thread (never the event loop: the upload
routes are plain functions, which the web framework runs in its thread pool) only relays
progress and watches:

- time: the child is killed after ``WorkerLimits.seconds``;
- memory: the child's resident memory is read every quarter second and the child is
  killed above ``WorkerLimits.memory_mb`` (DuckDB inside it has its own, lower cap, whose
  exhaustion is translated too, see ``readers.engine_error``);
- death: a child that dies (killed by the system, a crash in native code) is reported as
  such.

Each of these ends in ``Invalid`` with a Chinese and an English message naming the limit;
the dataset directory keeps its current version (the writer's work directory of a killed
load is removed by the next load, its lock released by the kernel). At most
``MAX_CONCURRENT_LOADS`` children run at once per process; the child runs at a lower CPU
priority than the web server.

Children are forked from a small server process started on first use (``forkserver``):
never from the multi-threaded web process itself, and without re-importing the libraries
for every load. Nor do they run the program's main module again, as multiprocessing's
children otherwise do (for ``shuzhi ingest`` that is the whole command-line application,
about half a CPU-second per load): a job and its arguments must be importable from a module
other than ``__main__``.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing import forkserver, reduction, spawn, util
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerProcess, set_spawning_popen
from multiprocessing.popen_forkserver import Popen as ForkServerPopen
from pathlib import Path
from typing import Any, Protocol

from shuzhi.errors import Invalid, ShuzhiError
from shuzhi.failures import described
from shuzhi.lake.limits import LOAD_MEMORY_MB, LOAD_SECONDS, MAX_CONCURRENT_LOADS, refuse
from shuzhi.lake.readers import DatabaseSource, FileSource, Source, engine_error
from shuzhi.lake.writer import LoadOptions, LoadResult, write_version

# The child's CPU priority relative to the server (nice increment).
CHILD_NICENESS = 5
POLL_SECONDS = 0.25
# Progress is relayed at most every this many bytes (or PROGRESS_SECONDS).
PROGRESS_BYTES = 1024 * 1024
PROGRESS_SECONDS = 0.2

_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_LOADS)
_PRELOAD = ["shuzhi.lake.worker", "duckdb", "openpyxl", "pyarrow.parquet"]
_context_lock = threading.Lock()
_context: Any = None
# CPU seconds of the finished children and the largest peak resident memory among them (MB).
_usage_lock = threading.Lock()
_usage = [0.0, 0.0]


class SettingsLike(Protocol):
    @property
    def load_seconds(self) -> int | None: ...

    @property
    def load_memory_mb(self) -> int | None: ...


@dataclass(frozen=True)
class WorkerLimits:
    """How long a load may run and how much memory its process may hold."""

    seconds: float = LOAD_SECONDS
    memory_mb: int = LOAD_MEMORY_MB

    @classmethod
    def of(cls, settings: SettingsLike) -> WorkerLimits:
        return cls(
            seconds=settings.load_seconds or LOAD_SECONDS,
            memory_mb=settings.load_memory_mb or LOAD_MEMORY_MB,
        )


class WorkerCrashed(RuntimeError):
    """The child raised something that is not a refusal: a defect, reported as such."""


def _mp_context() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            _context = multiprocessing.get_context(
                "forkserver" if "forkserver" in methods else "spawn"
            )
            if "forkserver" in methods:
                _context.set_forkserver_preload(_PRELOAD)
        return _context


# What multiprocessing's preparation data uses to make a child run the parent's main module.
_MAIN_MODULE_KEYS = ("init_main_from_name", "init_main_from_path")


def _close_fds(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


class _LoadPopen(ForkServerPopen):
    """A forkserver child that is not told the parent's main module.

    The child still gets the rest of the preparation data (process name, ``sys.path``,
    working directory); the launch is otherwise multiprocessing's own: both pickles go
    through the data pipe, the child's pid comes back on the sentinel, and a copy of the
    pipe's write end stays open while this object lives (the child reads its end closing as
    its parent's death).
    """

    def _launch(self, process_obj: Any) -> None:
        preparation = spawn.get_preparation_data(process_obj._name)
        for key in _MAIN_MODULE_KEYS:
            preparation.pop(key, None)
        payload = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(preparation, payload)
            reduction.dump(process_obj, payload)
        finally:
            set_spawning_popen(None)
        fds: list[int] = self._fds  # type: ignore[attr-defined]
        self.sentinel, data_fd = forkserver.connect_to_new_process(fds)
        parent_end = os.dup(data_fd)
        self.finalizer = util.Finalize(self, _close_fds, (parent_end, self.sentinel))
        with open(data_fd, "wb", closefd=True) as fh:
            fh.write(payload.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _LoadProcess(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _LoadPopen:
        return _LoadPopen(process_obj)


def _process(context: Any, **kwargs: Any) -> Any:
    """A child process of ``context``: forkserver children skip the main module."""
    if context.get_start_method() == "forkserver":
        return _LoadProcess(**kwargs)
    return context.Process(**kwargs)


def _rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB (Linux ``/proc``; elsewhere unknown)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def load_error(exc: BaseException, options: LoadOptions) -> ShuzhiError | None:
    """What a failed load tells people, or ``None`` for a defect (reported as a crash)."""
    import duckdb
    import pyarrow as pa

    if isinstance(exc, ShuzhiError):
        return exc
    if isinstance(exc, duckdb.Error):
        return engine_error(exc, options.duckdb_memory_limit)
    if isinstance(exc, MemoryError):
        return refuse(
            "读取该数据源时内存不足。请减少列数或拆分文件后再试。",
            "Reading this source ran out of memory. Reduce the columns or split the file.",
        )
    if isinstance(exc, OSError | ValueError | UnicodeError | RecursionError | pa.ArrowException):
        detail = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return refuse(f"无法读取该数据源：{detail}", f"The source cannot be read: {detail}")
    return None


def _error_state(err: ShuzhiError) -> tuple[type[ShuzhiError], dict[str, Any]]:
    state = {k: v for k, v in vars(err).items() if k != "after_rollback"}
    return type(err), state


def _rebuild(kind: type[ShuzhiError], state: dict[str, Any]) -> ShuzhiError:
    err = kind.__new__(kind)
    Exception.__init__(err, state["message"].en)
    err.__dict__.update(state)
    err.after_rollback = None
    return err


class _Relay:
    """The child's progress callbacks: throttled messages to the parent."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sent: dict[str, tuple[int, float]] = {}
        self.pending: dict[str, int] = {}

    def __call__(self, kind: str, value: int) -> None:
        last, at = self.sent.get(kind, (0, 0.0))
        now = time.monotonic()
        if value - last >= PROGRESS_BYTES or now - at >= PROGRESS_SECONDS or kind == "rows":
            self.conn.send((kind, value))
            self.sent[kind] = (value, now)
            self.pending.pop(kind, None)
        else:
            self.pending[kind] = value

    def flush(self) -> None:
        for kind, value in self.pending.items():
            self.conn.send((kind, value))
        self.pending.clear()


def _load_job(
    relay: _Relay,
    source: Source,
    directory: Path,
    options: LoadOptions,
    watch: bool,
    sequence: int | None = None,
    locked_by_caller: bool = False,
) -> LoadResult:
    if watch and isinstance(source, FileSource):
        source = replace(source, on_bytes=lambda n: relay("bytes", n))
    elif watch and isinstance(source, DatabaseSource):
        source = replace(source, on_rows=lambda n: relay("rows", n))
    try:
        return write_version(
            source, directory, options, sequence=sequence, locked_by_caller=locked_by_caller
        )
    except BaseException as exc:
        if not isinstance(exc, Exception):
            raise
        translated = load_error(exc, options)
        if translated is None or translated is exc:
            raise
        raise translated from None
    finally:
        relay.flush()


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _child(conn: Connection, job: Callable[..., Any], args: tuple[Any, ...], umask: int) -> None:
    # The fork server may have been started before the command restricted its file modes:
    # the child creates files exactly as its parent would.
    os.umask(umask)
    with contextlib.suppress(OSError):  # lowering priority is always allowed on Linux
        os.nice(CHILD_NICENESS)
    relay = _Relay(conn)
    outcome: tuple[str, Any]
    try:
        outcome = ("ok", job(relay, *args))
    except ShuzhiError as err:
        outcome = ("error", _error_state(err))
    except BaseException as exc:
        outcome = ("crash", described(exc)[:500])
    try:
        conn.send(("usage", _own_usage()))
        conn.send(outcome)
    finally:
        conn.close()


def _own_usage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # KiB on Linux


def children_usage() -> tuple[float, float]:
    """(CPU seconds, peak resident MB) of this process's finished jobs, as
    ``RUSAGE_CHILDREN`` would give them if the children were this process's own (they are
    the fork server's): the total CPU time, and the largest peak memory of any one job."""
    with _usage_lock:
        return _usage[0], _usage[1]


def _count_usage(cpu_seconds: float, peak_mb: float) -> None:
    with _usage_lock:
        _usage[0] += cpu_seconds
        _usage[1] = max(_usage[1], peak_mb)


def _timed_out(limits: WorkerLimits) -> Invalid:
    return refuse(
        f"读取该数据源超过时间上限 {limits.seconds:g} 秒，已停止，未生成新版本。"
        "请拆分文件后再试，或请管理员调整 SHUZHI_LOAD_SECONDS。",
        f"Reading this source took longer than the limit of {limits.seconds:g} seconds and"
        " was stopped; no version was created. Split the file, or ask the administrator to"
        " raise SHUZHI_LOAD_SECONDS.",
    )


def _over_memory(limits: WorkerLimits) -> Invalid:
    return refuse(
        f"读取该数据源所需内存超过上限 {limits.memory_mb} MB，已停止，未生成新版本。"
        "请减少列数或拆分文件后再试。",
        f"Reading this source needed more than the memory limit of {limits.memory_mb} MB"
        " and was stopped; no version was created. Reduce the columns or split the file.",
    )


def _died(exitcode: int | None) -> Invalid:
    return refuse(
        f"读取该数据源的进程意外结束（退出码 {exitcode}），可能是内存不足。未生成新版本。",
        f"The process reading this source ended unexpectedly (exit code {exitcode}),"
        " possibly out of memory. No version was created.",
    )


def run_job(
    job: Callable[..., Any],
    args: tuple[Any, ...],
    limits: WorkerLimits,
    on_progress: Callable[[str, int], None] | None = None,
) -> Any:
    """Run ``job(relay, *args)`` in a child process within ``limits``; return its result.

    ``ShuzhiError`` raised by the job is raised here as it was; the job's progress
    messages ``relay(kind, value)`` reach ``on_progress``. Anything else the job raises is
    a ``WorkerCrashed``.
    """
    context = _mp_context()
    with _SLOTS:
        receive, send = context.Pipe(duplex=False)
        process = _process(
            context,
            target=_child,
            args=(send, job, args, _current_umask()),
            name="shuzhi-load",
            daemon=True,
        )
        process.start()
        send.close()
        deadline = time.monotonic() + limits.seconds
        next_check = 0.0
        try:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    raise _timed_out(limits)
                if now >= next_check:
                    next_check = now + POLL_SECONDS
                    rss = _rss_mb(process.pid or 0)
                    if rss is not None and rss > limits.memory_mb:
                        raise _over_memory(limits)
                if not receive.poll(min(POLL_SECONDS, deadline - now)):
                    continue
                try:
                    kind, payload = receive.recv()
                except EOFError:
                    process.join(5)
                    raise _died(process.exitcode) from None
                if kind == "ok":
                    return payload
                if kind == "error":
                    raise _rebuild(*payload)
                if kind == "crash":
                    raise WorkerCrashed(payload)
                if kind == "usage":
                    _count_usage(*payload)
                    continue
                if on_progress is not None:
                    on_progress(kind, payload)
        finally:
            if process.is_alive():
                process.kill()
            process.join()
            receive.close()


def load_in_worker(
    source: Source,
    directory: Path,
    options: LoadOptions | None = None,
    limits: WorkerLimits | None = None,
    *,
    sequence: int | None = None,
    locked_by_caller: bool = False,
) -> LoadResult:
    """``writer.write_version`` in a worker process (see the module docstring); ``sequence``
    and ``locked_by_caller`` are passed on (the caller holding the directory's lock: the
    worker must not take it again)."""
    options = options or LoadOptions()
    limits = limits or WorkerLimits()
    on_bytes = source.on_bytes if isinstance(source, FileSource) else None
    on_rows = source.on_rows if isinstance(source, DatabaseSource) else None
    plain: Source = (
        replace(source, on_bytes=None)
        if isinstance(source, FileSource)
        else replace(source, on_rows=None)
    )

    def relay(kind: str, value: int) -> None:
        if kind == "bytes" and on_bytes is not None:
            on_bytes(value)
        elif kind == "rows" and on_rows is not None:
            on_rows(value)

    watch = on_bytes is not None or on_rows is not None
    args = (plain, directory, options, watch, sequence, locked_by_caller)
    result: LoadResult = run_job(_load_job, args, limits, relay)
    return result
