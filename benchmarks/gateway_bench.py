"""Sharing gateway benchmark: keyed lookups through Shuzhi's gateway between two peers, the
practical limit of this machine and Datasette, each served by two worker processes.

    python -m benchmarks.gateway_bench [--rows 1000000] [--workdir DIR] [--seconds 20]
                                       [--connections 32] [--workers 2] [--cold 10]

Three servers answer "the record whose resident ID is X", one after the other, under the same
load generator (wrk with a Lua script drawing keys at random from every unique key of the
dataset that the grant's row filter lets through), the same concurrency and the same number of
uvicorn workers (uvloop, httptools):

- **limit**: a minimal Starlette application reading the same key index file as the gateway,
  with the same JSON encoding, and nothing else. What this machine can serve at all.
- **Shuzhi**: the whole call: the application key authenticated, the grant checked (expiry,
  delivery, rate limit), the row filter applied (状态 ≠ 注销), every granted column masked, the
  call metered and audited (written in batches while the load runs). Eight consumer systems
  share the load, each with its own key and grant (100,000 calls per minute each).
- **Datasette**: its ASGI application serving the SQLite file immutable, with an index on the
  key, ``/db/people.json?身份证号=X&_shape=array``.

Each server is measured first cold (right after it starts, the page cache dropped where the
machine allows it), then after a warm-up. Target: Shuzhi at ≥ 70 % of the limit, warm. The
CPU time each server's processes used per answered call in the warm run is printed too
(workers, and the processes they start: the meter's writers, the security evaluators): the
machine's load moves it less than requests per second.

The data directory (CSV, lake, SQLite copy, key list) is kept in ``--workdir`` and reused.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.gen_csv import generate
from benchmarks.population import population_entry

COLUMNS = [
    "序号",
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "联系电话",
    "居住地址",
    "登记日期",
    "补贴金额",
    "来源部门",
    "状态",
]
GRANTED = ["姓名", "身份证号", "性别", "出生日期", "联系电话", "居住地址", "状态"]
KEY = "身份证号"
APPLICATIONS = 8
FILTERED_OUT = "注销"  # the grant's row filter: 状态 ≠ 注销
WRK = "/usr/bin/wrk"
SECRET = "bench-secret-" + "x" * 40

LUA = r"""
local keys = {}
for line in io.lines(os.getenv("BENCH_KEYS")) do keys[#keys + 1] = line end
local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = token
end
local prefix = os.getenv("BENCH_PREFIX")
local suffix = os.getenv("BENCH_SUFFIX") or ""
local counter = 0
local thread_no = 0

function setup(thread)
  thread:set("thread_no", thread_no)
  thread_no = thread_no + 1
end

function init(args)
  counter = thread_no * 7919
  math.randomseed(os.time() + thread_no * 7919)
end

function request()
  counter = counter + 1
  local key = keys[math.random(#keys)]
  local headers = {}
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
  end
  return wrk.format("GET", prefix .. key .. suffix, headers)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, ' ..
    '"p999_ms": %.3f, "max_ms": %.3f, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


# ---------------------------------------------------------------- the app under test


def make_app() -> Any:
    """ASGI factory for the uvicorn workers (reads ``SHUZHI_DATA_DIR`` like the CLI does)."""
    from shuzhi.app import create_app
    from shuzhi.settings import load_settings

    return create_app(load_settings(), migrate=False)


# ---------------------------------------------------------------- preparation (kept in workdir)


def _settings(data_dir: Path, database_url: str | None = None) -> Any:
    from shuzhi.settings import Settings

    return Settings(data_dir, database_url or f"sqlite:///{data_dir / 'shuzhi.db'}", SECRET)


def prepare_shuzhi(
    csv_path: Path, data_dir: Path, database_url: str | None = None
) -> dict[str, Any]:
    """Org, entry, a 1M-row version, eight applications with keys and approved grants."""
    from shuzhi.context import SYSTEM, unit_of_work
    from shuzhi.db.engine import Database
    from shuzhi.db.migrate import upgrade
    from shuzhi.gateway.keycache import KeyIndexes
    from shuzhi.lake import service as lake
    from shuzhi.lake.readers import FileSource
    from shuzhi.sharing import apps_service as apps
    from shuzhi.sharing import calendar_service as calendar
    from shuzhi.sharing import service as sharing
    from shuzhi.sharing.schemas import (
        AppKeyIn,
        ApplicationIn,
        ConditionIn,
        DecisionIn,
        PolicyIn,
        RequestCreate,
    )

    data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(_settings(data_dir, database_url))
    upgrade(database)
    timings: dict[str, float] = {}
    with unit_of_work(database, SYSTEM) as ctx:
        code = population_entry(ctx, COLUMNS, departments=("GAJ", "MZJ"))
    started = time.perf_counter()
    with unit_of_work(database, SYSTEM) as ctx:
        version = lake.ingest(ctx, code, FileSource(csv_path)).version
    timings["ingest_s"] = round(time.perf_counter() - started, 1)
    tokens = []
    with unit_of_work(database, SYSTEM) as ctx:
        calendar.set_sharing_policy(
            ctx, "R", PolicyIn(decision_working_days=10, rate_limit_per_minute=100_000)
        )
    with unit_of_work(database, SYSTEM) as ctx:
        for n in range(APPLICATIONS):
            app_code = f"BENCH-{n + 1:02d}"
            apps.register_application(
                ctx, ApplicationIn(code=app_code, name=f"业务系统{n + 1}", unit_code="MZJ")
            )
            tokens.append(
                apps.create_app_key(ctx, app_code, AppKeyIn(label="基准", expires_in_days=30)).token
            )
            req = sharing.submit_share_request(
                ctx,
                RequestCreate(
                    resource_code=code,
                    application_code=app_code,
                    purpose="核验办事群众身份信息",
                    legal_basis="《政务数据共享条例》",
                    columns=GRANTED,
                    row_filter=[ConditionIn(column="状态", op="ne", value=FILTERED_OUT)],
                    unit_code="MZJ",
                ),
            )
            sharing.decide_share_request(ctx, req.id, DecisionIn(outcome="approve"))
    # The key index is built at first use; the benchmark builds it up front and times it.
    with unit_of_work(database, SYSTEM) as ctx:
        found = lake.current_version(ctx, code)
    assert found is not None and found[0].number == version.number
    started = time.perf_counter()
    engine = lake.open_engine(database)
    index = KeyIndexes(engine, data_dir, background=False).get(found[1], KEY)
    assert index is not None
    timings["key_index_s"] = round(time.perf_counter() - started, 1)
    lake.close_engine(database)
    database.dispose()
    return {"code": code, "tokens": tokens, "index": str(index.path), **timings}


def migrate(data_dir: Path) -> None:
    """Bring the prepared database to the current schema (the servers start without it)."""
    from shuzhi.db.engine import Database
    from shuzhi.db.migrate import upgrade

    database = Database(_settings(data_dir))
    try:
        upgrade(database)
    finally:
        database.dispose()


def prepare_sqlite(csv_path: Path, db_path: Path) -> float:
    started = time.perf_counter()
    work = db_path.with_suffix(".tmp")
    work.unlink(missing_ok=True)
    conn = sqlite3.connect(work)
    cols = ", ".join(f'"{c}" TEXT' for c in COLUMNS)
    conn.execute(f"CREATE TABLE people ({cols})")
    with open(csv_path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        marks = ", ".join("?" for _ in COLUMNS)
        conn.executemany(f"INSERT INTO people VALUES ({marks})", reader)
    conn.execute(f'CREATE INDEX ix_people_key ON people ("{KEY}")')
    conn.commit()
    conn.close()
    os.replace(work, db_path)
    return round(time.perf_counter() - started, 1)


def key_list(csv_path: Path, out: Path) -> int:
    """Every key that names exactly one row and that the grant's row filter lets through."""
    seen: dict[str, int] = {}
    passed: set[str] = set()
    with open(csv_path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        position, status = header.index(KEY), header.index("状态")
        for row in reader:
            seen[row[position]] = seen.get(row[position], 0) + 1
            if row[status] != FILTERED_OUT:
                passed.add(row[position])
    keys = [k for k, n in seen.items() if n == 1 and k in passed]
    out.write_text("\n".join(keys) + "\n", encoding="utf-8")
    return len(keys)


def workdir(root: Path, rows: int) -> Path:
    """Where the prepared data of ``rows`` rows lives (shared by the benchmarks built on this
    one: the CSV and the key list are generated once)."""
    return root / f"rows-{rows}-filtered"


def _drop_page_cache() -> bool:
    """Drop the kernel's page cache so that a cold run reads from disk (needs root)."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
    except OSError:
        return False
    return True


# ---------------------------------------------------------------- serving and loading


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not come up")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wrk(
    url: str, prefix: str, suffix: str, env: dict[str, str], seconds: int, conns: int
) -> dict[str, Any]:
    command = [
        WRK,
        "-t2",
        f"-c{conns}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        env["BENCH_LUA"],
        url,
    ]
    result = subprocess.run(
        command,
        env={**os.environ, **env, "BENCH_PREFIX": prefix, "BENCH_SUFFIX": suffix},
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    data: dict[str, Any] = json.loads(line[len("RESULT ") :])
    data["rps"] = data["requests"] / data["seconds"]
    return data


def _quote(text: str) -> str:
    return urllib.parse.quote(text)


class Side:
    """One server under test: the uvicorn factory, its environment and the URL of a lookup."""

    def __init__(
        self,
        name: str,
        factory: str,
        env: dict[str, str],
        ready: str,
        prefix: str,
        suffix: str = "",
        tokens: list[str] | None = None,
    ) -> None:
        self.name, self.factory, self.env, self.ready = name, factory, env, ready
        self.prefix, self.suffix, self.tokens = prefix, suffix, tokens or []


def limit_side(state: dict[str, Any]) -> Side:
    """The limit's server over the key index the preparation built."""
    index = {"BENCH_INDEX": state["index"]}
    factory = "benchmarks.gateway_bench:make_limit_app"
    return Side("limit: Starlette + key index", factory, index, "/healthz", "/records/")


def shuzhi_side(
    state: dict[str, Any],
    data_dir: Path,
    name: str,
    factory: str = "benchmarks.gateway_bench:make_app",
) -> Side:
    """A server of Shuzhi's application (``factory``) over the prepared data directory, its
    lookups made with the consumer systems' keys."""
    env = {"SHUZHI_DATA_DIR": str(data_dir), "SHUZHI_SECRET_KEY": SECRET}
    prefix = f"/api/v1/share/{state['code']}/records/"
    return Side(name, factory, env, "/healthz", prefix, tokens=state["tokens"])


def run_side(side: Side, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Start the side's server, measure a cold run at once, then warm up and measure again."""
    port = _free_port()
    loop = ["--loop", "uvloop"] if _has("uvloop") else []
    http = ["--http", "httptools"] if _has("httptools") else []
    dropped = _drop_page_cache()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            side.factory,
            "--factory",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            "warning",
            *loop,
            *http,
        ],
        env={**os.environ, **side.env, "WEB_CONCURRENCY": str(args.workers)},
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base + side.ready)
        wrk_env = {**env, "BENCH_TOKENS": ",".join(side.tokens)}
        first = Path(env["BENCH_KEYS"]).read_text(encoding="utf-8").split()[0]
        sample = _sample(base + side.prefix + first + side.suffix, side.tokens)
        cold = _wrk(base, side.prefix, side.suffix, wrk_env, args.cold, args.connections)
        warm = _wrk(base, side.prefix, side.suffix, wrk_env, args.warmup, args.connections)
        before = _cpu_seconds(process.pid)
        result = _wrk(base, side.prefix, side.suffix, wrk_env, args.seconds, args.connections)
        after = _cpu_seconds(process.pid)
        result["cpu_us"] = {
            kind: (after.get(kind, 0.0) - before.get(kind, 0.0)) / result["requests"] * 1e6
            for kind in after
        }
        result["cold"] = cold
        result["cold_dropped"] = dropped
        result["sample"] = sample
        result["sent"] = cold["requests"] + warm["requests"] + result["requests"] + 1
        return result
    finally:
        _stop(process)


def _cpu_seconds(root: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by a server's processes: its workers (the
    root's children) and the processes they started (meter writers, evaluators). Linux only
    (read from /proc); empty elsewhere."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def children(pid: int) -> list[int]:
        found: list[int] = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found += [int(c) for c in text.split()]
        except OSError:
            pass
        return found

    def stat(pid: int) -> list[str]:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return []

    def used(fields: list[str]) -> float:
        return (int(fields[11]) + int(fields[12])) / tick if fields else 0.0

    out: dict[str, float] = {}
    for worker in children(root):
        if "resource_tracker" in Path(f"/proc/{worker}/cmdline").read_text(errors="replace"):
            continue
        out["workers"] = out.get("workers", 0.0) + used(stat(worker))
        for helper in children(worker):
            fields = stat(helper)
            # The security evaluator runs below the worker's priority, the meter's writer at it.
            kind = "evaluators" if fields and int(fields[16]) > 0 else "writers"
            out[kind] = out.get(kind, 0.0) + used(fields)
    return out


def make_limit_app() -> Any:
    """The practical limit: the key index file read and answered, with nothing around it."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from shuzhi.gateway.keyindex import KeyIndex

    index = KeyIndex(Path(os.environ["BENCH_INDEX"]), KEY)

    async def lookup(request: Request) -> Response:
        rows = index.get(request.path_params["key"], GRANTED, 16)
        if not rows:
            return Response(status_code=404)
        body = json.dumps(rows[0], ensure_ascii=False, separators=(",", ":")).encode()
        return Response(body, media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b"ok")

    return Starlette(routes=[Route("/records/{key}", lookup), Route("/healthz", health)])


def make_datasette_app() -> Any:
    """Datasette's ASGI application over the SQLite copy, immutable (its fastest mode)."""
    from datasette.app import Datasette  # type: ignore[import-untyped]

    return Datasette(immutables=[os.environ["BENCH_SQLITE"]]).app()


def _sample(url: str, tokens: list[str]) -> Any:
    headers = {"Authorization": f"Bearer {tokens[0]}"} if tokens else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return json.loads(r.read())


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _calls_written(data_dir: Path, database_url: str | None = None) -> tuple[int, bool]:
    from sqlalchemy import func, select

    from shuzhi.audit import service as audit
    from shuzhi.context import SYSTEM, unit_of_work
    from shuzhi.db.engine import Database
    from shuzhi.gateway.models import ApiCall

    database = Database(_settings(data_dir, database_url))
    try:
        with unit_of_work(database, SYSTEM) as ctx:
            n = int(ctx.db.scalar(select(func.count()).select_from(ApiCall)) or 0)
            ok = audit.check_chain(ctx).ok
        return n, ok
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-gateway-bench"))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--cold", type=int, default=10, help="seconds of the first, cold run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not Path(WRK).exists():
        sys.exit("wrk is missing: run scripts/install-system-deps (Debian package wrk)")
    work = workdir(args.workdir, args.rows)
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / "people.csv"
    state_path = work / "state.json"
    data_dir = work / "shuzhi"
    db_path = work / "bench.db"
    keys = work / "keys.txt"
    if not state_path.exists():
        print(f"preparing {args.rows:,} rows in {work} (once) …", flush=True)
        shutil.rmtree(data_dir, ignore_errors=True)
        generate(csv_path, args.rows)
        state = prepare_shuzhi(csv_path, data_dir)
        state["sqlite_s"] = prepare_sqlite(csv_path, db_path)
        state["keys"] = key_list(csv_path, keys)
        state_path.write_text(json.dumps(state), encoding="utf-8")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    migrate(data_dir)  # data prepared by an earlier version of the code
    lua = work / "lookup.lua"
    lua.write_text(LUA, encoding="utf-8")
    env = {"BENCH_KEYS": str(keys), "BENCH_LUA": str(lua)}
    sides = [
        limit_side(state),
        shuzhi_side(state, data_dir, "Shuzhi gateway (auth, grant, filter, mask, meter, audit)"),
        Side(
            "Datasette (SQLite, indexed, immutable)",
            "benchmarks.gateway_bench:make_datasette_app",
            {"BENCH_SQLITE": str(db_path)},
            "/-/versions.json",
            f"/{db_path.stem}/people.json?{_quote(KEY)}=",
            "&_shape=array",
        ),
    ]
    before, _ = _calls_written(data_dir)
    load_before = os.getloadavg()
    results = [run_side(side, env, args) for side in sides]
    load_after = os.getloadavg()
    after, chain_ok = _calls_written(data_dir)
    limit, gateway, datasette = results
    print(
        f"\n{args.rows:,} rows; {state.get('keys', 0):,} keys drawn at random; "
        f"{args.connections} connections; {args.workers} uvicorn workers per server; "
        f"{args.cold} s cold, {args.warmup} s warm-up, {args.seconds} s warm; "
        f"{os.cpu_count()} CPUs; page cache dropped before each server: "
        f"{'yes' if all(r['cold_dropped'] for r in results) else 'no'}"
    )
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    print(
        f"prepared: ingest {state.get('ingest_s')} s, key index {state.get('key_index_s')} s, "
        f"SQLite copy with index {state.get('sqlite_s')} s"
    )
    print(
        f"\n{'':58}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'p99.9':>9}"
        f"{'non-2xx':>9}{'errors':>8}{'of limit':>10}"
    )
    for side, r in zip(sides, results, strict=True):
        for label, run in (("cold", r["cold"]), ("warm", r)):
            share = run["rps"] / limit["rps"] if limit["rps"] else 0.0
            print(
                f"{side.name + ', ' + label:58.58}{run['rps']:>9,.0f}{run['p50_ms']:>9.2f}"
                f"{run['p90_ms']:>9.2f}{run['p99_ms']:>9.2f}{run['p999_ms']:>9.2f}"
                f"{run['non2xx']:>9}{run['socket_errors']:>8}{share:>10.0%}"
            )
    print("\nCPU per answered call in the warm run (µs, user + system, wrk not included):")
    for side, r in zip(sides, results, strict=True):
        cpu = r.get("cpu_us") or {}
        parts = ", ".join(f"{kind} {value:.0f}" for kind, value in sorted(cpu.items()))
        print(f"  {side.name}: {sum(cpu.values()):.0f} ({parts or 'not measured'})")
    share = gateway["rps"] / limit["rps"] if limit["rps"] else 0.0
    ratio = gateway["rps"] / datasette["rps"] if datasette["rps"] else float("inf")
    print(
        f"\nShuzhi, warm: {share:.0%} of the limit (target ≥ 70 %), "
        f"{ratio:.1f}x Datasette under the same workers"
    )
    print(
        f"gateway requests answered (cold, warm-up, run, sample): {gateway['sent']:,}; calls"
        f" metered and audited: {after - before:,} (a few more when wrk stops with requests"
        f" in flight); audit chain verified: {'ok' if chain_ok else 'BROKEN'}"
    )
    for side, r in zip(sides, results, strict=True):
        print(f"sample, {side.name}: {json.dumps(r['sample'], ensure_ascii=False)[:300]}")


if __name__ == "__main__":
    main()
