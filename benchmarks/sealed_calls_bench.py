"""Gateway calls at a year's volume: call rows sealed in batches by the audit log.

    python -m benchmarks.sealed_calls_bench [--calls 1000000] [--batch 500] [--workdir DIR]
                                            [--scattered]

Writes ``--calls`` gateway calls through the meter's writer (``gateway.meter.write_calls``,
``--batch`` calls a transaction: their rows and the audit entry sealing them, anchored and
checkpointed every 1000 entries), then times the default verification (from the newest
signed checkpoint, each seal after it recomputed from its rows) and the full one (every
entry and every seal), and measures the storage per call: the database's growth (call log
and audit log with their indexes) over the number of calls. The 48 M column (a year of
calls) is extrapolated linearly and marked ``*``. SQLite.

The calls all fall on one day. Their latencies rise by a microsecond from one call to the
next unless ``--scattered``, which spreads them over 0.3–20.3 ms in no order (as a busy
gateway's are): what the writing costs when each batch's latencies land all over the day's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.gateway_inprocess import stored_bytes

YEAR = 48_000_000
SECRET = "sealed-calls-bench-secret-key-0123456789"


def _latency(n: int, scattered: bool) -> int:
    # Scattered: a multiplicative hash of the call's number (deterministic, in no order).
    return 300 + (n * 2_654_435_761) % 20_000 if scattered else 800 + n % 5000


def _records(first: int, count: int, start: datetime, scattered: bool = False) -> list[Any]:
    from shuzhi.gateway.meter import CallRecord
    from shuzhi.gateway.models import Endpoint, Outcome

    out = []
    for n in range(first, first + count):
        served = n % 20 != 0
        out.append(
            CallRecord(
                call_id=f"b{n:015x}",
                at=start + timedelta(milliseconds=n),
                endpoint=Endpoint.LOOKUP if n % 3 else Endpoint.RECORDS,
                resource_code=f"330182-1-{n % 300:02d}-0001",
                consumer_unit_id=n % 25 + 1,
                provider_unit_id=(n + 7) % 25 + 1,
                application_id=n % 40 + 1,
                application_code=f"APP-{n % 40:04d}",
                key_id=n % 40 + 1,
                grant_id=n % 500 + 1,
                filters=(("身份证号", "eq", f"33018219{n % 10**10:010d}"),),
                digest_key=b"k" * 32,
                rows=1 if served else 0,
                latency_us=_latency(n, scattered),
                status=200 if served else 404,
                outcome=Outcome.OK if served else Outcome.NOT_FOUND,
                client=f"10.20.{n % 7}.{n % 250}",
            )
        )
    return out


def run(calls: int, batch: int, workdir: Path, scattered: bool = False) -> dict[str, float]:
    from shuzhi.audit.service import check_chain
    from shuzhi.context import SYSTEM, unit_of_work
    from shuzhi.db.engine import Database
    from shuzhi.db.migrate import upgrade
    from shuzhi.gateway.meter import write_calls
    from shuzhi.settings import Settings
    from shuzhi.wiring import register_all

    register_all()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    settings = Settings(workdir, f"sqlite:///{workdir / 'shuzhi.db'}", SECRET).with_overrides(
        audit_anchor_every=1000, audit_anchor_seconds=0
    )
    database = Database(settings)
    upgrade(database)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    before = stored_bytes(database)
    cpu, began = time.process_time(), time.perf_counter()
    for first in range(0, calls, batch):
        write_calls(database, _records(first, min(batch, calls - first), start, scattered))
    write_s, write_cpu = time.perf_counter() - began, time.process_time() - cpu
    stored = stored_bytes(database) - before
    with unit_of_work(database, SYSTEM) as ctx:
        began = time.perf_counter()
        full = check_chain(ctx, full=True)
        full_s = time.perf_counter() - began
        began = time.perf_counter()
        quick = check_chain(ctx, full=False)
        quick_s = time.perf_counter() - began
    assert quick.ok and full.ok, (quick, full)
    database.dispose()
    return {
        "write_s": write_s,
        "write_cpu_us": write_cpu / calls * 1e6,
        "bytes_per_call": stored / calls,
        "entries": full.entries,
        "quick_s": quick_s,
        "quick_records": quick.sealed_records,
        "full_s": full_s,
        "full_records": full.sealed_records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-sealed-calls-bench"))
    parser.add_argument(
        "--scattered", action="store_true", help="latencies in no order (default: rising)"
    )
    args = parser.parse_args()
    load = os.getloadavg()
    r = run(args.calls, args.batch, args.workdir, args.scattered)
    after = os.getloadavg()
    scale = YEAR / args.calls
    print(
        f"{args.calls:,} calls in batches of {args.batch}; load average {load[0]:.2f} before,"
        f" {after[0]:.2f} after"
    )
    rows = [
        ("", f"{args.calls:,} calls", f"{YEAR:,} calls*"),
        (
            "writing (s; CPU µs per call, records built)",
            f"{r['write_s']:.1f} ({r['write_cpu_us']:.1f})",
            "",
        ),
        ("audit entries", f"{r['entries']:,.0f}", f"{r['entries'] * scale:,.0f}*"),
        (
            "bytes per call (call log + audit log)",
            f"{r['bytes_per_call']:,.0f}",
            f"{r['bytes_per_call'] * YEAR / 1e9:,.1f} GB*",
        ),
        (
            "quick verify (s; calls re-hashed)",
            f"{r['quick_s']:.3f} ({r['quick_records']:,.0f})",
            "",
        ),
        (
            "full verify (s; calls re-hashed)",
            f"{r['full_s']:.1f} ({r['full_records']:,.0f})",
            f"{r['full_s'] * scale / 60:,.0f} min*",
        ),
    ]
    for label, measured, year in rows:
        print(f"{label:40}{measured:>28}{year:>20}")
    print("* extrapolated linearly from the measured run")


if __name__ == "__main__":
    main()
