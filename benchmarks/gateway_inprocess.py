"""The gateway's request path without a server: the ASGI applications called directly.

    python -m benchmarks.gateway_inprocess [--rows 1000000] [--calls 20000] [--profile N]

Uses the data prepared by ``benchmarks.gateway_bench`` (run it once first, same ``--rows``
and ``--workdir``). The same random keys are looked up, one call at a time, through the
limit's application (the key index read and answered) and through Shuzhi's (the whole call:
key, grant, row filter, masking, the call handed to the meter). Each is measured in
alternating rounds after a warm-up, so both see the same machine; the table gives the
median round's microseconds per call. Server overhead (HTTP parsing, the event loop's
sockets) is the same for both and is not in these figures; the meter's writing happens in
the meter's thread of this process and is included.

``--profile N`` also prints the N functions with the most own time over Shuzhi's calls.
The last line is the meter's writing alone: ``gateway.meter.write_calls`` over the same
number of call records (a row each, and a hash-chained audit entry sealing each batch) into
a fresh SQLite database, in the meter's batches of 500: CPU microseconds per call, and the
bytes the database grew by per call.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import time
import urllib.parse
from pathlib import Path
from typing import Any

from benchmarks.gateway_bench import SECRET, make_limit_app, workdir


class Collect:
    """An ASGI ``send`` that keeps the status of the response."""

    def __init__(self) -> None:
        self.status = 0

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _scope(path: str, token: str | None) -> dict[str, Any]:
    headers = [(b"host", b"bench")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": urllib.parse.quote(path).encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _round(app: Any, scopes: list[dict[str, Any]]) -> tuple[float, int]:
    """Seconds for the calls and how many answered 200."""
    ok = 0
    started = time.perf_counter()
    for scope in scopes:
        send = Collect()
        await app(dict(scope), _receive, send)
        ok += send.status == 200
    return time.perf_counter() - started, ok


async def _lifespan(app: Any) -> tuple[asyncio.Queue[dict[str, Any]], asyncio.Future[Any]]:
    """Start the application's lifespan (as a server does): its queue and its task."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    task = asyncio.ensure_future(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send)
    )
    await inbox.put({"type": "lifespan.startup"})
    await outbox.get()
    return inbox, task


async def run(args: argparse.Namespace) -> None:
    work = workdir(args.workdir, args.rows)
    state_path = work / "state.json"
    if not state_path.exists():
        raise SystemExit(f"run `python -m benchmarks.gateway_bench --rows {args.rows}` first")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    os.environ["BENCH_INDEX"] = state["index"]
    os.environ["SHUZHI_DATA_DIR"] = str(work / "shuzhi")
    os.environ["SHUZHI_SECRET_KEY"] = SECRET
    from benchmarks.gateway_bench import make_app

    keys = (work / "keys.txt").read_text(encoding="utf-8").split()
    rng = random.Random(7)
    chosen = [rng.choice(keys) for _ in range(args.calls)]
    tokens = state["tokens"]
    prefix = f"/api/v1/share/{state['code']}/records/"
    limit_scopes = [_scope(f"/records/{k}", None) for k in chosen]
    shuzhi_scopes = [_scope(prefix + k, tokens[i % len(tokens)]) for i, k in enumerate(chosen)]
    limit, shuzhi = make_limit_app(), make_app()
    stop, lifespan = await _lifespan(shuzhi)
    # Warm-up: caches, grants, the index's pages.
    await _round(limit, limit_scopes[:2000])
    await _round(shuzhi, shuzhi_scopes[:2000])
    await asyncio.sleep(1.5)
    per_call: dict[str, list[float]] = {"limit": [], "shuzhi": []}
    answered = {"limit": 0, "shuzhi": 0}
    cpu = {"limit": 0.0, "shuzhi": 0.0}
    for _ in range(args.rounds):
        for name, app, scopes in (
            ("limit", limit, limit_scopes),
            ("shuzhi", shuzhi, shuzhi_scopes),
        ):
            cpu_before = time.process_time()
            seconds, ok = await _round(app, scopes)
            cpu[name] += time.process_time() - cpu_before
            per_call[name].append(seconds / len(scopes) * 1e6)
            answered[name] += ok
    profile_text = ""
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await _round(shuzhi, shuzhi_scopes)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile)
        profile_text = out.getvalue()
    await stop.put({"type": "lifespan.shutdown"})
    await lifespan  # the meter writes what it holds
    calls = args.calls * args.rounds
    load = os.getloadavg()
    print(
        f"{args.rows:,} rows; {args.calls:,} random keys per round; {args.rounds} rounds each, "
        f"alternating; load average now {load[0]:.2f}"
    )
    print(
        f"\n{'':10}{'µs/call (median round)':>24}{'worst round':>13}{'CPU µs/call':>13}{'200s':>10}"
    )
    for name in ("limit", "shuzhi"):
        rounds = per_call[name]
        print(
            f"{name:10}{statistics.median(rounds):>24.1f}{max(rounds):>13.1f}"
            f"{cpu[name] / calls * 1e6:>13.1f}{answered[name]:>10,}"
        )
    ratio = statistics.median(per_call["limit"]) / statistics.median(per_call["shuzhi"])
    print(f"\nShuzhi's request path costs {1 / ratio:.1f}x the limit's")
    if profile_text:
        print(profile_text)
    writing, stored = writer_cost(args.calls)
    print(
        f"meter's writing (SQLite): {writing:.1f} CPU µs per call, {stored:.0f} bytes stored per"
        " call (its row and indexes, its share of the seal)"
    )


def writer_cost(calls: int, batch: int = 500) -> tuple[float, float]:
    """CPU microseconds and stored bytes per call of writing call records as the meter's
    writer does (the call row, its indexes and its share of the seal's audit entry)."""
    import tempfile
    from datetime import UTC, datetime

    from shuzhi.db.engine import Database
    from shuzhi.db.migrate import upgrade
    from shuzhi.gateway.meter import CallRecord, write_calls
    from shuzhi.gateway.models import Endpoint, Outcome
    from shuzhi.settings import Settings

    def record(n: int) -> CallRecord:
        return CallRecord(
            call_id=f"w{n:015d}",
            at=datetime.now(UTC),
            endpoint=Endpoint.LOOKUP,
            resource_code="101001/000001",
            consumer_unit_id=1,
            provider_unit_id=2,
            application_id=3,
            application_code="BENCH-01",
            key_id=4,
            grant_id=5,
            filters=(("身份证号", "eq", f"510105199112{n % 10**6:06d}"),),
            digest_key=b"k" * 32,
            rows=1,
            latency_us=300,
            status=200,
            outcome=Outcome.OK,
            client="127.0.0.1",
        )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        database = Database(Settings(path, f"sqlite:///{path / 'meter.db'}", SECRET))
        upgrade(database)
        write_calls(database, [record(-n - 1) for n in range(batch)])  # warm-up
        records = [record(n) for n in range(calls)]
        before = stored_bytes(database)
        started = time.process_time()
        for start in range(0, calls, batch):
            write_calls(database, records[start : start + batch])
        spent = time.process_time() - started
        grown = stored_bytes(database) - before
        database.dispose()
    return spent / calls * 1e6, grown / calls


def stored_bytes(database: Any) -> int:
    """The database's pages in use (its size as committed, less its free pages)."""
    with database.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    return int((pages - free) * size)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-gateway-bench"))
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
