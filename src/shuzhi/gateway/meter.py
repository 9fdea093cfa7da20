"""Metering: calls are recorded in memory on the hot path and written in batches.

A background thread writes the buffer when it holds ``batch_size`` calls or every
``interval`` seconds, whichever comes first: the call rows and one audit entry per call, in
one transaction (``audit.record_batch`` keeps the hash chain exact). ``close`` — run by the
application's shutdown — stops the thread and writes everything still buffered, so a graceful
shutdown loses nothing. A failed write keeps the batch and retries on the next tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, insert

from shuzhi.audit.service import Pending, record_batch
from shuzhi.context import SYSTEM, Actor, Role, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.gateway.events import CallRefused, DataServed
from shuzhi.gateway.filters import describe
from shuzhi.gateway.models import ApiCall, Endpoint, Outcome
from shuzhi.lake.query import Filter

log = logging.getLogger("shuzhi.gateway")

_CALLS: Table = ApiCall.__table__  # type: ignore[assignment]
# One statement per this many calls (keeps parameter lists within every driver's limits).
WRITE_CHUNK = 2000


@dataclass(frozen=True)
class CallRecord:
    """What one call did, as the meter keeps it until the next write."""

    call_id: str
    at: datetime
    endpoint: Endpoint
    resource_code: str
    consumer_unit_id: int | None
    provider_unit_id: int | None
    application_id: int | None
    application_code: str | None
    key_id: int | None
    grant_id: int | None
    # The caller's conditions; described (values as keyed digests) when written, off the
    # request path.
    filters: tuple[Filter, ...]
    digest_key: bytes
    rows: int
    latency_us: int
    status: int
    outcome: Outcome
    client: str | None

    def filter_text(self) -> str:
        return describe(self.filters, self.digest_key)

    def row(self, filter_text: str) -> dict[str, object]:
        at = self.at.astimezone(UTC)
        return {
            "call_id": self.call_id,
            "at": at,
            "day": at.date(),
            "endpoint": self.endpoint.value,
            "resource_code": self.resource_code[:64],
            "consumer_unit_id": self.consumer_unit_id,
            "provider_unit_id": self.provider_unit_id,
            "application_id": self.application_id,
            "application_code": self.application_code,
            "key_id": self.key_id,
            "grant_id": self.grant_id,
            "filter": filter_text,
            "rows": self.rows,
            "latency_us": self.latency_us,
            "status": self.status,
            "outcome": self.outcome.value,
            "client": self.client,
        }

    def actor(self) -> Actor:
        if self.application_code is None:
            return Actor(kind="anonymous")
        return Actor(
            kind="api_key",
            id=self.key_id,
            name=f"app:{self.application_code}",
            role=Role.CONSUMER,
            unit_id=self.consumer_unit_id,
        )

    def pending(self, filter_text: str) -> Pending:
        served = self.outcome is Outcome.OK
        event_type = DataServed if served else CallRefused
        event = event_type(
            call_id=self.call_id,
            resource_code=self.resource_code[:200],
            endpoint=self.endpoint.value,
            provider_unit=self.provider_unit_id,
            application=self.application_code,
            grant_id=self.grant_id,
            filter=filter_text,
            rows=self.rows,
            status=self.status,
        )
        return Pending(self.actor(), event, self.at.astimezone(UTC), "ok" if served else "denied")


def write_calls(database: Database, records: Sequence[CallRecord]) -> None:
    """Call rows and their audit entries, all in one transaction."""
    with unit_of_work(database, SYSTEM) as ctx:
        for start in range(0, len(records), WRITE_CHUNK):
            chunk = records[start : start + WRITE_CHUNK]
            texts = [r.filter_text() for r in chunk]
            ctx.db.execute(insert(_CALLS), [r.row(t) for r, t in zip(chunk, texts, strict=True)])
            record_batch(ctx, [r.pending(t) for r, t in zip(chunk, texts, strict=True)])


class CallMeter:
    """The in-memory buffer of calls and the thread that writes it."""

    def __init__(
        self,
        database: Database,
        *,
        batch_size: int = 500,
        interval: float = 1.0,
        writer: Callable[[Database, Sequence[CallRecord]], None] = write_calls,
    ) -> None:
        self.database = database
        self.batch_size = batch_size
        self.interval = interval
        self._writer = writer
        self._buffer: list[CallRecord] = []
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
        if full:
            self._wake.set()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._buffer)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.flush()

    def flush(self) -> int:
        """Write what is buffered now; on failure keep it (in order) for the next attempt."""
        with self._write_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if not batch:
                return 0
            try:
                self._writer(self.database, batch)
            except Exception:
                self.failures += 1
                log.exception("writing %d gateway calls failed; kept for retry", len(batch))
                with self._lock:
                    self._buffer[:0] = batch
                return 0
            self.written += len(batch)
            return len(batch)

    def close(self, attempts: int = 5) -> None:
        """Stop the thread and write everything still buffered (graceful shutdown)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
        for _ in range(attempts):
            self.flush()
            if not self.pending:
                return
        log.error("%d gateway calls could not be written at shutdown", self.pending)
