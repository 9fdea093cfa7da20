"""Metering: calls are recorded in memory on the hot path and written in batches.

A background thread writes the buffer when it holds ``batch_size`` calls or every
``interval`` seconds, whichever comes first: the call rows and the audit entry sealing them,
in one transaction (``gateway.sealing``: the entry holds a digest over the rows and each row
names the entry). ``close`` — run by the
application's shutdown — stops the thread and writes everything still buffered, so a graceful
shutdown loses nothing. A failed write keeps the batch and retries on the next tick.

When the writing falls ``max_pending`` calls behind, the gateway turns calls away unread
(503) until it catches up. Those calls are counted per dataset (``shed``) rather than
recorded one by one, and each write adds one audit entry per dataset with the count: a flood
of refused calls then neither grows the buffer nor the backlog it is refused to protect.

Where the writing runs is the writer's business: ``write_calls`` in the thread itself, or
``WriterProcess``, which hands each batch to a child process and waits for its
acknowledgement. A server answering calls uses the child: the database work (building rows,
hashing the chain, the driver) then never holds the request process's interpreter lock,
which is what stretched the gateway's tail latency. The batch stays with the meter until the
child acknowledges its commit, so a child that dies loses nothing the meter holds.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from shuzhi.audit.anchors import wait_for_hooks
from shuzhi.audit.service import Pending, record_batch
from shuzhi.context import SYSTEM, Actor, Ctx, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.gateway import sealing
from shuzhi.gateway.events import CallsSealed, CallsShed
from shuzhi.gateway.filters import Condition, describe
from shuzhi.gateway.models import LATENCY_STEP_US, ApiCall, CallLatency, Endpoint, Outcome
from shuzhi.settings import Settings

log = logging.getLogger("shuzhi.gateway")

_CALLS: Table = ApiCall.__table__  # type: ignore[assignment]
_LATENCIES: Table = CallLatency.__table__  # type: ignore[assignment]
# One statement per this many calls (keeps parameter lists within every driver's limits).
WRITE_CHUNK = 2000


class CallRecord(NamedTuple):
    """What one call did, as the meter keeps it until the next write.

    Plain values only (vocabularies as their codes, conditions as tuples), so a batch is
    cheap to build on the request path and to hand to the writer's process.
    """

    call_id: str
    at: datetime
    endpoint: str  # an ``Endpoint`` code
    resource_code: str
    consumer_unit_id: int | None
    provider_unit_id: int | None
    application_id: int | None
    application_code: str | None
    key_id: int | None
    grant_id: int | None
    # The caller's conditions; described (values as keyed digests) when written, off the
    # request path.
    filters: tuple[Condition, ...]
    digest_key: bytes
    rows: int
    latency_us: int
    status: int
    outcome: str  # an ``Outcome`` code
    client: str | None

    def filter_text(self) -> str:
        return describe(self.filters, self.digest_key, near=self.endpoint == Endpoint.LOOKUP)

    def values(self) -> tuple[Any, ...]:
        """The row's values in ``sealing.FIELDS`` order (time in UTC, vocabularies checked)."""
        at = self.at.astimezone(UTC)
        endpoint, outcome = str(self.endpoint), str(self.outcome)
        if endpoint not in _ENDPOINTS or outcome not in _OUTCOMES:
            raise ValueError(f"unknown endpoint or outcome: {endpoint!r}, {outcome!r}")
        return (
            self.call_id,
            at,
            at.date(),
            endpoint,
            self.resource_code[:64],
            self.consumer_unit_id,
            self.provider_unit_id,
            self.application_id,
            self.application_code,
            self.key_id,
            self.grant_id,
            self.filter_text(),
            self.rows,
            self.latency_us,
            self.status,
            outcome,
            self.client,
        )


_ENDPOINTS = frozenset(e.value for e in Endpoint)
_OUTCOMES = frozenset(o.value for o in Outcome)


@dataclass
class Shed:
    """Calls to one dataset turned away unread while the meter was behind."""

    calls: int
    first_at: datetime
    last_at: datetime

    def pending(self, resource_code: str) -> Pending:
        event = CallsShed(
            resource_code=resource_code,
            calls=self.calls,
            first_at=self.first_at.astimezone(UTC).isoformat(),
            last_at=self.last_at.astimezone(UTC).isoformat(),
        )
        return Pending(Actor(kind="anonymous"), event, self.last_at.astimezone(UTC), "denied")


# Datasets counted apart while shedding; calls naming others are counted under SHED_OTHERS
# (the resource code comes from the caller's URL: the count must stay bounded).
SHED_DATASETS = 1000
SHED_OTHERS = "*"


_AT, _OUTCOME = sealing.FIELDS.index("at"), sealing.FIELDS.index("outcome")


def _seal(values: Sequence[tuple[Any, ...]]) -> Pending:
    count, digest = sealing.digest_values(values)
    served = sum(1 for v in values if v[_OUTCOME] == Outcome.OK)
    times = [v[_AT] for v in values]
    event = CallsSealed(
        records=sealing.RECORDS,
        count=count,
        digest=digest,
        served=served,
        refused=count - served,
        first_at=min(times).isoformat(),
        last_at=max(times).isoformat(),
    )
    return Pending(SYSTEM, event, datetime.now(UTC))


# Positional placeholders of the drivers' parameter styles (SQLite's, psycopg's).
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


class _Insert:
    """The insert of call rows as the database driver takes it: one statement, rows as
    tuples. The meter writes for as long as the gateway serves, and the generic path (a
    dictionary per row, every value through its column type) cost as much as the database's
    own work; here only the time and the day go through their column types' processors
    for the dialect (SQLite stores them as text), the rest are plain values already."""

    def __init__(self, dialect: Dialect) -> None:
        names = (*sealing.FIELDS, "seal")
        mark = _PLACEHOLDERS[dialect.paramstyle]
        self.sql = (
            f"INSERT INTO {_CALLS.name} ({', '.join(names)}) "
            f"VALUES ({', '.join(mark for _ in names)})"
        )
        self.processors = [
            (names.index(name), processor)
            for name in ("at", "day")
            if (
                processor := _impl(_CALLS.c[name].type)
                .dialect_impl(dialect)
                .bind_processor(dialect)
            )
            is not None
        ]

    def run(self, ctx: Ctx, values: Sequence[tuple[Any, ...]], seal: int) -> None:
        rows: list[tuple[Any, ...]] = []
        for v in values:
            if self.processors:
                row = [*v, seal]
                for i, processor in self.processors:
                    row[i] = processor(row[i])
                rows.append(tuple(row))
            else:
                rows.append((*v, seal))
        ctx.db.connection().exec_driver_sql(self.sql, rows)


def _impl(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type a column's values reach the driver as (a decorator's underlying type)."""
    return column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type


_DAY, _RESOURCE, _CONSUMER, _PROVIDER, _LATENCY = (
    sealing.FIELDS.index(n)
    for n in ("day", "resource_code", "consumer_unit_id", "provider_unit_id", "latency_us")
)
_GROUP = ("day", "resource_code", "consumer_unit_id", "provider_unit_id", "step")


def latency_step(latency_us: int) -> int:
    """A latency as ``CallLatency`` counts it: in ``LATENCY_STEP_US`` steps, rounded."""
    return (latency_us + LATENCY_STEP_US // 2) // LATENCY_STEP_US


class _CountLatencies:
    """Adds a batch's calls to ``CallLatency``: one upsert per group the batch touches
    (``ON CONFLICT … DO UPDATE``, which SQLite and PostgreSQL both take)."""

    def __init__(self, dialect: Dialect) -> None:
        table = _LATENCIES.name
        mark = _PLACEHOLDERS[dialect.paramstyle]
        self.sql = (
            f"INSERT INTO {table} ({', '.join(_GROUP)}, calls) "
            f"VALUES ({', '.join(mark for _ in range(len(_GROUP) + 1))}) "
            f"ON CONFLICT ({', '.join(_GROUP)}) "
            f"DO UPDATE SET calls = {table}.calls + excluded.calls"
        )
        day_type = _impl(_LATENCIES.c.day.type).dialect_impl(dialect)
        self.day = day_type.bind_processor(dialect)

    def run(self, ctx: Ctx, values: Sequence[tuple[Any, ...]]) -> None:
        counts = Counter(
            (
                v[_DAY],
                v[_RESOURCE],
                v[_CONSUMER] or 0,
                v[_PROVIDER] or 0,
                latency_step(v[_LATENCY]),
            )
            for v in values
        )
        day = self.day
        rows = [
            (day(group[0]) if day else group[0], *group[1:], calls)
            for group, calls in counts.items()
        ]
        ctx.db.connection().exec_driver_sql(self.sql, rows)


_Statement = TypeVar("_Statement", _Insert, _CountLatencies)
_statements: dict[tuple[type, str], Any] = {}


def _statement(kind: type[_Statement], dialect: Dialect) -> _Statement:
    """``kind`` made once per database driver (its SQL and the type processors it needs)."""
    key = (kind, f"{dialect.name}+{dialect.driver}")
    found = _statements.get(key)
    if found is None:
        found = _statements[key] = kind(dialect)
    return found


def write_calls(database: Database, records: Sequence[CallRecord]) -> None:
    """Call rows, the audit entries sealing them (one per ``WRITE_CHUNK`` rows) and their
    counts per latency step, all in one transaction."""
    with unit_of_work(database, SYSTEM) as ctx:
        dialect = ctx.db.get_bind().dialect
        insert, count = _statement(_Insert, dialect), _statement(_CountLatencies, dialect)
        for start in range(0, len(records), WRITE_CHUNK):
            values = [r.values() for r in records[start : start + WRITE_CHUNK]]
            insert.run(ctx, values, record_batch(ctx, [_seal(values)]))
            count.run(ctx, values)
    # The meter writes for as long as the gateway serves: keep SQLite's log from growing.
    # The batch is committed by now: a failed truncation must not send it again.
    try:
        database.trim_wal()
    except Exception:
        log.exception("truncating the database's write-ahead log failed; trying later")


def write_shed(database: Database, shed: dict[str, Shed]) -> None:
    """One audit entry per dataset for the calls turned away unread."""
    with unit_of_work(database, SYSTEM) as ctx:
        record_batch(ctx, [s.pending(code) for code, s in sorted(shed.items())])


def unwritten(database: Database, records: Sequence[CallRecord]) -> list[CallRecord]:
    """The records whose call id is not stored yet (a batch sent again after a lost answer)."""
    stored: set[str] = set()
    with database.sessions() as session:
        for start in range(0, len(records), WRITE_CHUNK):
            ids = [r.call_id for r in records[start : start + WRITE_CHUNK]]
            stored.update(session.scalars(select(ApiCall.call_id).where(ApiCall.call_id.in_(ids))))
    return [r for r in records if r.call_id not in stored]


def _serve(settings: Settings, conn: Connection, niceness: int) -> None:
    """The child's loop: write each batch received, answer None (committed) or the error."""
    if niceness:
        os.nice(niceness)
    database = Database(settings)
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the parent is gone
                return
            if message is None:
                return
            again, records = message
            try:
                write_calls(database, unwritten(database, records) if again else records)
            except Exception as exc:
                log.exception("writing %d gateway calls failed", len(records))
                conn.send(f"{type(exc).__name__}: {exc}")
            else:
                conn.send(None)
    finally:
        wait_for_hooks()  # an anchor command started after a batch's commit finishes
        database.dispose()


# The writer's scheduling priority: the serving workers'. Audit comes before data: at a lower
# priority (nice 10 weighs a tenth of nice 0) the workers starve the writer whenever anything
# else wants the CPU too (a load, an index build), the backlog reaches ``max_pending`` and
# calls are refused with 503; at the same priority the workers slow down with it instead.
WRITER_NICENESS = 0


class WriterProcess:
    """A ``CallMeter`` writer that writes in a child process (started at the first batch).

    ``niceness`` changes the child's scheduling priority (``WRITER_NICENESS``).
    """

    def __init__(self, settings: Settings, niceness: int = WRITER_NICENESS) -> None:
        self.settings = settings
        self.niceness = niceness
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._again = False  # the last batch's outcome is unknown: skip what was stored
        self._lock = threading.Lock()

    def _connection(self) -> Connection:
        if self._conn is None or self._process is None or not self._process.is_alive():
            self._stop_child()
            parent, child = self._context.Pipe()
            process = self._context.Process(
                target=_serve,
                args=(self.settings, child, self.niceness),
                name="shuzhi-gateway-meter-writer",
                daemon=True,
            )
            process.start()
            child.close()
            self._process, self._conn = process, parent
        return self._conn

    def __call__(self, database: Database, records: Sequence[CallRecord]) -> None:
        with self._lock:
            conn = self._connection()
            try:
                conn.send((self._again, list(records)))
                answer = conn.recv()
            except (EOFError, OSError) as exc:
                self._again = True
                self._stop_child()
                raise RuntimeError("the meter's writer process stopped") from exc
            self._again = answer is not None
            if answer is not None:
                raise RuntimeError(f"the meter's writer process failed: {answer}")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _stop_child(self, timeout: float = 30.0) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        if process is not None:
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join()

    def close(self) -> None:
        """Let the child finish and exit (the meter has written everything through it)."""
        with self._lock:
            self._stop_child()


class CallMeter:
    """The in-memory buffer of calls and the thread that writes it."""

    def __init__(
        self,
        database: Database,
        *,
        batch_size: int = 500,
        interval: float = 1.0,
        max_pending: int = 200_000,
        writer: Callable[[Database, Sequence[CallRecord]], None] = write_calls,
    ) -> None:
        self.database = database
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.interval = interval
        self._writer = writer
        self._writer_at_start = writer
        self._buffer: list[CallRecord] = []
        self._shed: dict[str, Shed] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.failures = 0

    def add(self, record: CallRecord) -> None:
        """O(1) on the request path; the thread starts with the first call."""
        with self._lock:
            self._buffer.append(record)
            full = len(self._buffer) >= self.batch_size
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="shuzhi-gateway-meter", daemon=True
                )
                self._thread.start()
        if full and not self._wake.is_set():
            self._wake.set()

    def shed(self, resource_code: str, at: datetime) -> None:
        """Count a call turned away unread because the writing is behind (O(1), bounded)."""
        code = resource_code[:64]
        with self._lock:
            found = self._shed.get(code)
            if found is None:
                if len(self._shed) >= SHED_DATASETS:
                    code = SHED_OTHERS
                    found = self._shed.get(code)
                if found is None:
                    self._shed[code] = Shed(1, at, at)
                    return
            found.calls += 1
            found.last_at = max(found.last_at, at)

    @property
    def shed_pending(self) -> int:
        """Calls counted as shed and not yet written."""
        with self._lock:
            return sum(s.calls for s in self._shed.values())

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._buffer)

    def _run(self) -> None:
        while not self._stop.is_set():
            full = self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            # Woken by a full batch: write full batches only. Calls arriving while one is
            # written wait for the next batch or the interval instead of being chased in
            # batches of a few (each batch costs a transaction and a seal).
            self.flush(whole=not full)

    @property
    def saturated(self) -> bool:
        """The writer is this far behind: the gateway refuses calls rather than serve
        data its audit trail cannot keep up with. (Read on every call: the buffer's length
        needs no lock.)"""
        return len(self._buffer) >= self.max_pending

    def flush(self, whole: bool = True) -> int:
        """Write what is buffered now, ``batch_size`` calls at a time (a writer never holds
        the interpreter for a whole backlog); on failure keep the rest, in order, for the
        next attempt. Without ``whole``, a last batch smaller than ``batch_size`` is left for
        later. Returns the number written."""
        written = 0
        with self._write_lock:
            self._flush_shed()
            while True:
                with self._lock:
                    if not whole and len(self._buffer) < self.batch_size:
                        return written
                    batch = self._buffer[: self.batch_size]
                    del self._buffer[: self.batch_size]
                if not batch:
                    return written
                try:
                    self._writer(self.database, batch)
                except Exception:
                    self.failures += 1
                    log.exception("writing %d gateway calls failed; kept for retry", len(batch))
                    with self._lock:
                        self._buffer[:0] = batch
                    return written
                self.written += len(batch)
                written += len(batch)

    def _flush_shed(self) -> None:
        with self._lock:
            shed, self._shed = self._shed, {}
        if not shed:
            return
        try:
            write_shed(self.database, shed)
        except Exception:
            self.failures += 1
            log.exception("writing the count of %d shed calls failed; kept for retry", len(shed))
            with self._lock:
                for code, s in shed.items():
                    found = self._shed.get(code)
                    if found is None:
                        self._shed[code] = s
                    else:
                        found.calls += s.calls
                        found.first_at = min(found.first_at, s.first_at)
                        found.last_at = max(found.last_at, s.last_at)

    def close(self, attempts: int = 5) -> None:
        """Stop the thread and write everything still buffered (graceful shutdown).

        If the writer cannot take the rest (a writer process that will not start), the
        meter writes it itself rather than lose it.
        """
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
        try:
            for _ in range(attempts):
                self.flush()
                if not self.pending and not self._shed:
                    return
            if self._writer is not write_calls:
                self._writer = _write_unwritten
                self.flush()
            if self.pending:
                log.error("%d gateway calls could not be written at shutdown", self.pending)
        finally:
            close = getattr(self._writer_at_start, "close", None)
            if callable(close):
                close()


def _write_unwritten(database: Database, records: Sequence[CallRecord]) -> None:
    write_calls(database, unwritten(database, records))
