"""Open data portal benchmark: anonymous search and dataset pages under load, and a
1,000,000-row CSV download (time to first byte, total time, server memory).

    python -m benchmarks.portal_bench [--rows 1000000] [--workdir DIR] [--seconds 20]
                                      [--connections 32] [--workers 2] [--prepare]

The data is the demo district (its open datasets, built once through the normal services)
plus one open dataset of ``--rows`` rows of non-personal statistics (station passenger
counts), kept in ``--workdir`` and reused. Load comes from wrk with a Lua script cycling
through 2-character Chinese search words (``/open/search?q=…``) or through every open
dataset's page (``/open/datasets/…``); every request is anonymous and counted in the usage
statistics, as in production (the per-address rate limit is turned off for the run: one
load generator would otherwise be throttled like a scraper). The download is read by a
streaming HTTP client from a one-process server whose resident memory is sampled every
20 ms; the CSV is checked to hold every row.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from benchmarks.gateway_bench import LUA, WRK, _free_port, _has, _stop, _wait, _wrk

SECRET = "bench-secret-" + "p" * 40
WORDS = ["公交", "企业", "人口", "医疗", "教育", "社保", "登记", "街道", "统计", "信息"]
BIG_NAME = "公交站点客流统计"
BIG_COLUMNS = ["序号", "统计日期", "街道", "站点名称", "线路", "进站人次", "出站人次"]


# ---------------------------------------------------------------- the app under test


def make_app() -> Any:
    """ASGI factory for uvicorn (reads ``SHUZHI_DATA_DIR`` like the CLI does)."""
    from shuzhi.app import create_app
    from shuzhi.settings import load_settings

    return create_app(load_settings(), migrate=False)


# ---------------------------------------------------------------- preparation (kept in workdir)


def _database(data_dir: Path) -> Any:
    from shuzhi.db.engine import Database
    from shuzhi.settings import Settings

    return Database(Settings(data_dir, f"sqlite:///{data_dir / 'shuzhi.db'}", SECRET))


def generate_big(path: Path, rows: int) -> None:
    """Station passenger counts, generated inside DuckDB (deterministic)."""
    import duckdb

    streets = "['城西街道', '城东街道', '江南街道', '新湖街道', '西溪街道', '东湖街道']"
    lines = "['1路', '12路', '29路', '101路', 'K8路', '地铁1号线', '地铁3号线']"
    duckdb.sql(
        f"""
        COPY (
          SELECT i AS 序号,
                 DATE '2024-01-01' + CAST(i % 700 AS INTEGER) AS 统计日期,
                 list_extract({streets}, 1 + CAST(i % 6 AS INTEGER)) AS 街道,
                 '站点' || CAST(i % 997 AS VARCHAR) AS 站点名称,
                 list_extract({lines}, 1 + CAST(i % 7 AS INTEGER)) AS 线路,
                 CAST((i * 7919) % 5000 AS INTEGER) AS 进站人次,
                 CAST((i * 104729) % 5000 AS INTEGER) AS 出站人次
          FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )


def prepare(data_dir: Path, csv_path: Path, rows: int) -> dict[str, Any]:
    from benchmarks.population import published_entry
    from shuzhi.catalog.schemas import EntryCreate
    from shuzhi.context import SYSTEM, unit_of_work
    from shuzhi.db.migrate import upgrade
    from shuzhi.demo.district import build_demo
    from shuzhi.lake import service as lake
    from shuzhi.lake.readers import FileSource
    from shuzhi.org import service as org
    from shuzhi.portal import service as portal

    data_dir.mkdir(parents=True, exist_ok=True)
    database = _database(data_dir)
    upgrade(database)
    started = time.perf_counter()
    build_demo(database)
    demo_s = time.perf_counter() - started
    generate_big(csv_path, rows)
    with unit_of_work(database, SYSTEM) as ctx:
        unit = next(u for u in org.all_unit_briefs(ctx) if u.kind == "department")
        items = [
            {"name": c, "data_type": "N" if "人次" in c or c == "序号" else "C", "length": 50}
            for c in BIG_COLUMNS
        ]
        items[1]["data_type"] = "D"
        data = EntryCreate.model_validate(
            {
                "unit_code": unit.code,
                "name": BIG_NAME,
                "abstract": "全区公交站点逐日进出站客流统计。",
                "class_code": "3",
                "subclass_code": "07",
                "group_code": "999",
                "format_code": "3",
                "share_type": "unconditional",
                "share_method": "platform",
                "share_method_type": "file",
                "open_type": "unconditional",
                "update_cycle": "2",
                "items": items,
            }
        )
        code = published_entry(ctx, data)
    started = time.perf_counter()
    with unit_of_work(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(csv_path))
    ingest_s = time.perf_counter() - started
    with unit_of_work(database, SYSTEM) as ctx:
        portal.open_dataset(ctx, code)
        codes = portal.list_open_codes(ctx)
    lake.close_engine(database)
    database.dispose()
    return {
        "code": code,
        "open": len(codes),
        "slugs": [c.replace("/", "-") for c in codes],
        "demo_s": demo_s,
        "ingest_s": ingest_s,
    }


def _migrate(data_dir: Path) -> None:
    from shuzhi.db.migrate import upgrade

    database = _database(data_dir)
    upgrade(database)
    database.dispose()


# ---------------------------------------------------------------- serving and loading


def _serve(data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    loop = ["--loop", "uvloop"] if _has("uvloop") else []
    http_impl = ["--http", "httptools"] if _has("httptools") else []
    many = ["--workers", str(workers)] if workers > 1 else []
    env = {
        **os.environ,
        "SHUZHI_DATA_DIR": str(data_dir),
        "SHUZHI_SECRET_KEY": SECRET,
        "SHUZHI_PORTAL_RATE_LIMIT": "0",
        "WEB_CONCURRENCY": str(workers),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.portal_bench:make_app",
            "--factory",
            "--port",
            str(port),
            *many,
            "--no-access-log",
            "--log-level",
            "warning",
            *loop,
            *http_impl,
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    base = f"http://127.0.0.1:{port}"
    _wait(base + "/healthz")
    return process, base


def _load(base: str, prefix: str, keys: list[str], work: Path, args: argparse.Namespace) -> Any:
    listing = work / f"keys-{len(keys)}-{abs(hash(prefix)) % 1000}.txt"
    listing.write_text("\n".join(keys) + "\n", encoding="utf-8")
    lua = work / "paths.lua"
    lua.write_text(LUA, encoding="utf-8")
    env = {"BENCH_KEYS": str(listing), "BENCH_LUA": str(lua)}
    _wrk(base, prefix, "", env, args.warmup, args.connections)
    return _wrk(base, prefix, "", env, args.seconds, args.connections)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def download(base: str, slug: str, pid: int) -> dict[str, Any]:
    """Stream the CSV; time the first byte and the whole body; sample the server's RSS."""
    peak = [_rss_kb(pid)]
    baseline = peak[0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_kb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", f"/open/datasets/{slug}/download.csv")
    response = conn.getresponse()
    first = response.read(1)
    ttfb = time.perf_counter() - started
    size, lines = len(first), first.count(b"\n")
    while chunk := response.read(1 << 20):
        size += len(chunk)
        lines += chunk.count(b"\n")
    total = time.perf_counter() - started
    stop.set()
    sampler.join()
    conn.close()
    return {
        "status": response.status,
        "ttfb_ms": ttfb * 1000,
        "total_s": total,
        "bytes": size,
        "lines": lines,
        "rss_before_mb": baseline / 1024,
        "rss_peak_mb": peak[0] / 1024,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-portal-bench"))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--prepare", action="store_true", help="only build the workdir")
    args = parser.parse_args(argv)
    if not Path(WRK).exists():
        sys.exit("wrk is missing: run scripts/install-system-deps (Debian package wrk)")
    work = args.workdir / f"rows-{args.rows}"
    work.mkdir(parents=True, exist_ok=True)
    data_dir, state_path = work / "shuzhi", work / "state.json"
    if not state_path.exists():
        print(f"preparing the demo district and {args.rows:,} rows in {work} (once) …", flush=True)
        state = prepare(data_dir, work / "big.csv", args.rows)
        state_path.write_text(json.dumps(state), encoding="utf-8")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    _migrate(data_dir)  # a work directory kept from an older build gets the newer tables
    if args.prepare:
        return
    big = state["code"].replace("/", "-")
    load_before = os.getloadavg()
    process, base = _serve(data_dir, args.workers)
    try:
        words = [urllib.parse.quote(w) for w in WORDS]
        search = _load(base, "/open/search?q=", words, work, args)
        pages = _load(base, "/open/datasets/", state["slugs"], work, args)
        ckan = _load(base, "/api/3/action/package_search?rows=20&q=", words, work, args)
    finally:
        _stop(process)
    process, base = _serve(data_dir, 1)
    try:
        got = download(base, big, process.pid)
    finally:
        _stop(process)
    load_after = os.getloadavg()
    print(
        f"\n{state['open']} open datasets (the demo district + one of {args.rows:,} rows); "
        f"{args.connections} connections, {args.workers} workers, {args.seconds} s per run "
        f"(load {load_before[0]:.2f} → {load_after[0]:.2f})\n"
    )
    print("| run | requests/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|")
    for label, r in (
        ("search page `/open/search?q=<2-character word>`", search),
        ("dataset page `/open/datasets/<code>`", pages),
        ("CKAN `package_search?q=<word>&rows=20`", ckan),
    ):
        print(
            f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['non2xx'] + r['socket_errors']} |"
        )
    rows_ok = got["lines"] == args.rows + 1
    print(f"\n{args.rows:,}-row CSV download (one server process):\n")
    print("| status | first byte ms | total s | MB | rows complete | server RSS MB before → peak |")
    print("|---:|---:|---:|---:|---|---|")
    print(
        f"| {got['status']} | {got['ttfb_ms']:.1f} | {got['total_s']:.2f} | "
        f"{got['bytes'] / 1e6:.1f} | {'yes' if rows_ok else 'NO'} | "
        f"{got['rss_before_mb']:.0f} → {got['rss_peak_mb']:.0f} |"
    )
    print(
        f"\n(prepared once: demo build {state['demo_s']:.0f} s, "
        f"{args.rows:,}-row ingest {state['ingest_s']:.1f} s)"
    )


if __name__ == "__main__":
    main()
