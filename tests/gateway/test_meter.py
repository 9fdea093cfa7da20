"""Metering: buffered, batched, sealed in one exact chain, and nothing lost at shutdown."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from shuzhi.audit import service as audit
from shuzhi.audit.events import OperationDenied
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.gateway import meter as meter_module
from shuzhi.gateway.meter import CallMeter, CallRecord, WriterProcess, unwritten, write_calls
from shuzhi.gateway.models import Endpoint, Outcome
from tests.conftest import acting
from tests.gateway.helpers import TEST_OPTIONS, call_count, calls, gateway, ids, sealed, share


def _record(n: int, outcome: Outcome = Outcome.OK) -> CallRecord:
    return CallRecord(
        call_id=f"c{n:08d}",
        at=datetime(2026, 11, 1, 8, 0, n % 60, tzinfo=UTC),
        endpoint=Endpoint.LOOKUP,
        resource_code="R/1",
        consumer_unit_id=1,
        provider_unit_id=2,
        application_id=3,
        application_code="APP",
        key_id=4,
        grant_id=5,
        filters=(),
        digest_key=b"k" * 32,
        rows=1 if outcome is Outcome.OK else 0,
        latency_us=1000 + n,
        status=200 if outcome is Outcome.OK else 404,
        outcome=outcome,
        client="127.0.0.1",
    )


def test_batches_keep_the_audit_chain_exact(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        audit.record(ctx, OperationDenied(operation="x", target="before"))
    write_calls(
        database, [_record(i, Outcome.OK if i % 3 else Outcome.NOT_FOUND) for i in range(2500)]
    )
    with acting(database, SYSTEM) as ctx:
        audit.record(ctx, OperationDenied(operation="x", target="after"))
        report = audit.check_chain(ctx)
        # Two seals (2,000 and 500 rows) between the two entries; every row checked.
        assert report.ok and report.entries == 4
        assert (report.seals, report.sealed_records) == (2, 2500)
        seals = audit.view_audit(ctx, action="gateway.calls_sealed").items
        assert [(e.actor, e.target_type, e.target_id) for e in seals] == [
            ("system:shuzhi", "sealed_records", "gateway_call")
        ] * 2
    assert sealed(database) == (1666, 834)
    assert call_count(database) == 2500
    assert {c.seal for c in calls(database)} == {e.seq for e in seals}


def test_meter_keeps_a_failed_batch_and_writes_it_later(database: Database) -> None:
    failing = True
    written: list[CallRecord] = []

    def writer(db: Database, records: Sequence[CallRecord]) -> None:
        if failing:
            raise RuntimeError("database away")
        written.extend(records)

    meter = CallMeter(database, batch_size=10**6, interval=3600, writer=writer)
    for i in range(5):
        meter.add(_record(i))
    assert meter.flush() == 0 and meter.pending == 5 and meter.failures == 1
    meter.add(_record(5))
    failing = False
    meter.close()
    assert [r.call_id for r in written] == [f"c{i:08d}" for i in range(6)]


def test_the_thread_writes_full_batches_and_the_interval_the_rest(database: Database) -> None:
    """Calls arriving while a batch is written wait for a full batch (or the interval) rather
    than being written a few at a time, each few with a transaction and a seal of its own."""
    sizes: list[int] = []
    first = threading.Event()

    def writer(db: Database, records: Sequence[CallRecord]) -> None:
        sizes.append(len(records))
        first.wait(5)  # slow first write: more calls arrive meanwhile

    meter = CallMeter(database, batch_size=50, interval=3600, writer=writer)
    for i in range(50):
        meter.add(_record(i))  # the 50th wakes the thread
    for i in range(50, 80):
        meter.add(_record(i))
    first.set()
    deadline = time.monotonic() + 5
    while meter.written < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert sizes == [50] and meter.pending == 30  # the 30 wait: no batch of 30 was chased
    for i in range(80, 100):
        meter.add(_record(i))
    while meter.written < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sizes == [50, 50] and meter.pending == 0
    meter.close()

    quiet = CallMeter(database, batch_size=50, interval=0.05, writer=writer)
    quiet.add(_record(100))  # a quiet spell: the interval writes what is there
    while quiet.written < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sizes == [50, 50, 1] and quiet.pending == 0
    quiet.close()


def test_concurrent_calls_are_all_written_once(database: Database) -> None:
    meter = CallMeter(database, batch_size=50, interval=0.01)

    def burst(base: int) -> None:
        for i in range(200):
            meter.add(_record(base + i))

    threads = [threading.Thread(target=burst, args=(k * 1000,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    meter.close()
    assert call_count(database) == 1200
    with acting(database, SYSTEM) as ctx:
        assert audit.check_chain(ctx).ok


@pytest.mark.parametrize("calls_made", [40])
def test_graceful_shutdown_writes_every_buffered_call(
    app: FastAPI, database: Database, calls_made: int
) -> None:
    shared = share(database)
    # Nothing is written while the app runs: no size or time trigger can fire.
    options = replace(TEST_OPTIONS, flush_rows=10**6, flush_seconds=3600)
    with gateway(app, options) as client:
        for i in range(calls_made):
            client.get(
                f"/api/v1/share/{shared.code}/records/{ids(30)[i % 30]}", headers=shared.auth
            )
        assert app.state.gateway.meter.pending == calls_made
        assert call_count(database) == 0
    assert call_count(database) == calls_made  # the lifespan's shutdown flushed them
    assert {c.status for c in calls(database)} == {200}
    with acting(database, SYSTEM) as ctx:
        assert audit.check_chain(ctx).ok
    assert sealed(database) == (calls_made, 0)


def test_writer_process_writes_in_a_child_and_resends_after_it_dies(
    database: Database,
) -> None:
    writer = WriterProcess(database.settings, niceness=0)
    meter = CallMeter(database, batch_size=10**6, interval=3600, writer=writer)
    for i in range(30):
        meter.add(_record(i))
    assert meter.flush() == 30 and call_count(database) == 30
    child = writer.pid
    assert child is not None and child != os.getpid()

    os.kill(child, signal.SIGKILL)  # the child dies between batches
    for i in range(30, 50):
        meter.add(_record(i))
    # Either the parent still sends to the dead child (the batch fails and is kept for the
    # next flush) or it already sees the death and starts a new child at once: never lost.
    first = meter.flush()
    if first == 0:
        assert meter.pending == 20  # kept, not lost
        assert meter.flush() == 20  # a new child took it
    else:
        assert first == 20 and meter.pending == 0
    assert writer.pid not in (None, child)
    meter.close()
    assert call_count(database) == 50
    with acting(database, SYSTEM) as ctx:
        assert audit.check_chain(ctx).ok
    assert sealed(database) == (50, 0)


def test_a_batch_sent_again_skips_calls_already_stored(database: Database) -> None:
    write_calls(database, [_record(i) for i in range(3)])
    again = [_record(i) for i in range(5)]
    assert [r.call_id for r in unwritten(database, again)] == [_record(i).call_id for i in (3, 4)]


def test_shutdown_writes_in_process_when_the_child_cannot(database: Database) -> None:
    broken = dataclasses.replace(database.settings, database_url="sqlite:////nonexistent/x.db")
    meter = CallMeter(database, batch_size=10**6, interval=3600, writer=WriterProcess(broken))
    for i in range(7):
        meter.add(_record(i))
    meter.close(attempts=2)
    assert meter.pending == 0 and call_count(database) == 7


def test_server_options_meter_in_a_child_process(app: FastAPI, database: Database) -> None:
    shared = share(database)
    options = replace(TEST_OPTIONS, meter_process=True, flush_rows=10**6, flush_seconds=3600)
    with gateway(app, options) as client:
        for i in range(12):
            answer = client.get(
                f"/api/v1/share/{shared.code}/records/{ids(30)[i]}", headers=shared.auth
            )
            assert answer.status_code == 200
        assert call_count(database) == 0
    assert call_count(database) == 12  # written through the child at shutdown
    with acting(database, SYSTEM) as ctx:
        assert audit.check_chain(ctx).ok


def test_gateway_pauses_with_503_when_call_records_fall_behind(
    app: FastAPI, database: Database
) -> None:
    shared = share(database)
    options = replace(TEST_OPTIONS, meter_max_pending=3, flush_rows=10**6, flush_seconds=3600)
    with gateway(app, options) as client:
        url = f"/api/v1/share/{shared.code}/records/{ids(30)[0]}"
        assert [client.get(url, headers=shared.auth).status_code for _ in range(3)] == [200] * 3
        busy = client.get(url, headers=shared.auth)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
        assert "公民身份号码" not in busy.text
        assert app.state.gateway.meter.shed_pending == 1  # counted, not buffered
        app.state.gateway.meter.flush()  # the writer catches up: served again
        assert client.get(url, headers=shared.auth).status_code == 200
    assert [c.outcome for c in calls(database)] == ["ok", "ok", "ok", "ok"]
    with acting(database, SYSTEM) as ctx:
        shed = audit.view_audit(ctx, action="gateway.calls_shed")
        assert shed.total == 1 and shed.items[0].target_id == shared.code
        assert shed.items[0].details["calls"] == 1
        assert audit.check_chain(ctx).ok


def test_calls_turned_away_while_behind_do_not_grow_the_backlog(
    app: FastAPI, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of calls while the writing is behind is counted per dataset: the buffer stays
    at its limit, the count is bounded whatever resource codes the callers invent, and one
    audit entry per dataset records how many calls were turned away."""
    shared = share(database)
    options = replace(TEST_OPTIONS, meter_max_pending=2, flush_rows=10**6, flush_seconds=3600)
    with gateway(app, options) as client:
        url = f"/api/v1/share/{shared.code}/records/{ids(30)[0]}"
        assert [client.get(url, headers=shared.auth).status_code for _ in range(2)] == [200] * 2
        meter = app.state.gateway.meter
        statuses = {client.get(url, headers=shared.auth).status_code for _ in range(40)}
        statuses |= {client.get(url).status_code for _ in range(10)}  # no key at all
        invented = "/api/v1/share/{}/records/1"
        monkeypatch.setattr(meter_module, "SHED_DATASETS", 3)
        for n in range(10):
            statuses.add(client.get(invented.format(f"X/{n}"), headers=shared.auth).status_code)
        assert len(meter._shed) == 4  # three datasets and the rest together
        assert statuses == {503} and meter.pending == 2 and meter.shed_pending == 60
        meter.flush()
        assert meter.shed_pending == 0 and meter.pending == 0
    with acting(database, SYSTEM) as ctx:
        shed = audit.view_audit(ctx, action="gateway.calls_shed", limit=10)
        counts = {item.target_id: item.details["calls"] for item in shed.items}
        assert counts[shared.code] == 50 and sum(counts.values()) == 60
        assert audit.check_chain(ctx).ok
    assert call_count(database) == 2


def test_a_failed_log_truncation_does_not_fail_the_committed_batch(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kw: object) -> bool:
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(database, "trim_wal", broken)
    write_calls(database, [_record(i) for i in range(3)])  # does not raise
    assert call_count(database) == 3
