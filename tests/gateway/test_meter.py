"""Metering: buffered, batched, audited in one exact chain, and nothing lost at shutdown."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from shuzhi.audit import service as audit
from shuzhi.audit.events import OperationDenied
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.gateway.meter import CallMeter, CallRecord, write_calls
from shuzhi.gateway.models import Endpoint, Outcome
from tests.conftest import acting
from tests.gateway.helpers import TEST_OPTIONS, call_count, calls, gateway, ids, share


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
        assert report.ok and report.entries == 2502
        served = audit.view_audit(ctx, action="gateway.data_served")
        assert served.total == 1666 and served.items[0].actor == "api_key:app:APP"
    assert call_count(database) == 2500


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
        assert audit.view_audit(ctx, action="gateway.data_served").total == calls_made
        assert audit.check_chain(ctx).ok
