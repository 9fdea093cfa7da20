"""The gateway on two API nodes over one PostgreSQL against one node with the same workers.

    python -m benchmarks.nodes_bench [--rows 1000000] [--seconds 20] [--connections 32]
                                     [--workers 2] [--workdir DIR]

Prepares the gateway benchmark's dataset, applications and grants (``gateway_bench``) in a
throw-away PostgreSQL server started like the test suite's, then serves the same data
directory twice, back to back under the same load generator: once as one node with
``--workers`` uvicorn workers, once as two nodes (separate processes on two ports, as behind
a load balancer) with half the workers each, the connections split evenly between them.
Both runs do the whole call (key, grant, row filter, masking, metering, audit) and the nodes
share the grants' rate limits through their heartbeats (docs/deploy.md). On one machine the
two-node run costs the same CPU, so the figure shows what running as several nodes costs,
not what more machines gain; more machines add their cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.gateway_bench import (
    LUA,
    SECRET,
    WRK,
    _calls_written,
    _free_port,
    _has,
    _stop,
    _wait,
    _wrk,
    key_list,
    prepare_shuzhi,
)
from benchmarks.gen_csv import generate


def _start_node(data_dir: Path, url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    loop = ["--loop", "uvloop"] if _has("uvloop") else []
    http = ["--http", "httptools"] if _has("httptools") else []
    env = {
        **os.environ,
        "SHUZHI_DATA_DIR": str(data_dir),
        "SHUZHI_DATABASE_URL": url,
        "SHUZHI_SECRET_KEY": SECRET,
        "WEB_CONCURRENCY": str(workers),
    }
    app = ["uvicorn", "benchmarks.gateway_bench:make_app", "--factory", "--no-access-log"]
    options = ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    process = subprocess.Popen(
        [sys.executable, "-m", *app, *options, *loop, *http],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    base = f"http://127.0.0.1:{port}"
    _wait(base + "/healthz")
    return process, base


def _load(
    bases: list[str], prefix: str, env: dict[str, str], seconds: int, connections: int
) -> list[dict[str, Any]]:
    """wrk against every node at once, the connections split evenly."""
    results: list[dict[str, Any]] = [{} for _ in bases]
    share = max(1, connections // len(bases))

    def run(i: int) -> None:
        results[i] = _wrk(bases[i], prefix, "", env, seconds, share)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def serve(
    data_dir: Path, url: str, nodes: int, state: dict[str, Any], env: dict[str, str], args: Any
) -> list[dict[str, Any]]:
    started = [_start_node(data_dir, url, max(1, args.workers // nodes)) for _ in range(nodes)]
    try:
        bases = [base for _, base in started]
        prefix = f"/api/v1/share/{state['code']}/records/"
        wrk_env = {**env, "BENCH_TOKENS": ",".join(state["tokens"])}
        _load(bases, prefix, wrk_env, args.warmup, args.connections)
        return _load(bases, prefix, wrk_env, args.seconds, args.connections)
    finally:
        for process, _ in started:
            _stop(process)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-nodes-bench"))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not Path(WRK).exists():
        sys.exit("wrk is missing: run scripts/install-system-deps (Debian package wrk)")
    from tests import pg  # the test suite's throw-away server, reused as is

    work = args.workdir / f"rows-{args.rows}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    server = pg.start()
    try:
        with psycopg.connect(server.admin_url, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS shuzhi_nodes_bench")
            conn.execute("CREATE DATABASE shuzhi_nodes_bench")
        url = server.url("shuzhi_nodes_bench")
        csv_path, data_dir, keys = work / "people.csv", work / "shuzhi", work / "keys.txt"
        print(f"preparing {args.rows:,} rows on PostgreSQL in {work} …", flush=True)
        generate(csv_path, args.rows)
        state = prepare_shuzhi(csv_path, data_dir, url)
        key_list(csv_path, keys)
        lua = work / "lookup.lua"
        lua.write_text(LUA, encoding="utf-8")
        env = {"BENCH_KEYS": str(keys), "BENCH_LUA": str(lua)}
        load_before = os.getloadavg()
        before, _ = _calls_written(data_dir, url)
        one = serve(data_dir, url, 1, state, env, args)
        two = serve(data_dir, url, 2, state, env, args)
        after, chain_ok = _calls_written(data_dir, url)
        load_after = os.getloadavg()
    finally:
        if callable(server.stop):
            server.stop()
    print(
        f"\n{args.rows:,} rows on PostgreSQL; {args.connections} connections in all;"
        f" {args.seconds} s per run after {args.warmup} s warm-up; {os.cpu_count()} CPUs;"
        f" {args.workers} workers in all"
    )
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f};"
        f" after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    print(f"\n{'':34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}{'errors':>8}")
    for name, runs in (("one node", one), ("two nodes", two)):
        for i, r in enumerate(runs):
            label = name if len(runs) == 1 else f"{name}: node {i + 1}"
            print(
                f"{label:34}{r['rps']:>10,.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}"
                f"{r['non2xx']:>10}{r['socket_errors']:>8}"
            )
        if len(runs) > 1:
            print(f"{name + ': together':34}{sum(r['rps'] for r in runs):>10,.0f}")
    ratio = sum(r["rps"] for r in two) / one[0]["rps"] if one[0]["rps"] else 0.0
    print(f"\ntwo nodes / one node: {ratio:.2f}x (same cores)")
    print(
        f"calls metered and audited: {after - before:,};"
        f" audit chain verified: {'ok' if chain_ok else 'BROKEN'}"
    )
    print(json.dumps({"one": one, "two": two}), file=sys.stderr)


if __name__ == "__main__":
    main()
