"""Refresh benchmark: the gateway under load while a new version of the served dataset is
loaded.

    python -m benchmarks.refresh_bench [--rows 1000000] [--new-rows 2000000] [--seconds 30]
                                       [--warmup 35] [--connections 32] [--workers 2]
                                       [--workdir DIR]

Prepares the gateway benchmark's data (``gateway_bench``: the population entry of ``--rows``
rows, eight applications with keys and approved grants, the lookup key list; kept in
``--workdir``) and a CSV of ``--new-rows`` rows from the same generator, whose first
``--rows`` rows are the served ones (so every listed key is found before and after the
switch). Then, against one gateway (uvicorn, ``--workers`` workers), under the gateway
benchmark's load (wrk, ``--connections`` connections, keys drawn in turn from the list):

1. steady state: ``--seconds`` of load after a warm-up of ``--warmup`` seconds. The
   server's security evaluator takes its first turn 30 s after the server starts and one
   every 30 s after that, as in service; the default warm-up outlasts that first interval
   and the default phase spans a whole one, so both phases pay for monitoring and the ratio
   is the refresh's own cost (``--warmup 5 --seconds 20``, the defaults before 2026-12-06,
   measured a steady phase that ended before the first turn);
2. refresh: load from the moment a separate process (as ``shuzhi ingest`` does) starts to
   load the new rows as the entry's next version — its key index is built as part of the
   load — until the gateway serves the new version (a key found only in the new rows answers
   200) and ``--settle`` seconds more.

Prints requests per second, p50/p99, non-2xx answers and socket errors of both phases, the
refresh's share of the steady throughput, the load and switch times, the machine load
(``uptime``) before and after each phase, and the CPU each phase took on average by kind of
process: the serving workers, the meter's writers, the security evaluators and (refresh) the
load's processes (read every quarter second while it runs). Targets: refresh ≥ 80 % of
steady state, zero 5xx (no non-2xx at all: every listed key exists in both versions), p99
≤ 100 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks import gateway_bench as gw
from benchmarks.gen_csv import generate

INGEST = """
import sys
from pathlib import Path
from benchmarks.gateway_bench import _settings
from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.wiring import register_all

register_all()
data_dir, code, source = sys.argv[1:]
database = Database(_settings(Path(data_dir)))
with unit_of_work(database, SYSTEM) as ctx:
    version = lake.ingest(ctx, code, FileSource(Path(source))).version
print("VERSION", version.number, flush=True)
"""


def _tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds (user + system) of ``root`` and every process under it, by process id
    (Linux: from /proc; what ends between two readings is missed)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            for task in os.listdir(f"/proc/{pid}/task"):
                pending += map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {kind: after[kind] - before.get(kind, 0.0) for kind in after}


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _new_only_key(old_csv: Path, new_csv: Path) -> str:
    """A key of the new rows that the served version does not hold and the grant lets through."""
    with open(old_csv, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        at = next(reader).index(gw.KEY)
        old = {row[at] for row in reader}
    with open(new_csv, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        at, status = header.index(gw.KEY), header.index("状态")
        for row in reader:
            if row[at] and row[at] not in old and row[status] != gw.FILTERED_OUT:
                return row[at]
    raise RuntimeError("the new rows hold no new key")


def _status(url: str, token: str) -> int:
    return _answer(url, token)[0]


def _answer(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as err:
        return int(err.code), err.read(300).decode("utf-8", "replace")
    except OSError as err:
        return 0, str(err)[:300]


class _Probe:
    """Lookups of listed keys, one every 50 ms beside wrk's load, counted by status (wrk
    counts non-2xx answers but not which): what a non-2xx answer was, with its first body."""

    def __init__(self, base: str, keys: list[str], token: str) -> None:
        self.counts: dict[int, int] = {}
        self.first: dict[int, str] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(base, keys, token), daemon=True)
        self.thread.start()

    def _run(self, base: str, keys: list[str], token: str) -> None:
        at = 0
        while not self.stopped.wait(0.05):
            at = (at + 7919) % len(keys)
            status, body = _answer(base + keys[at], token)
            self.counts[status] = self.counts.get(status, 0) + 1
            self.first.setdefault(status, body)

    def stop(self) -> dict[str, Any]:
        self.stopped.set()
        self.thread.join(timeout=15)
        return {"counts": self.counts, "first": {k: v for k, v in self.first.items() if v}}


class _Wrk:
    """wrk running until stopped (SIGINT makes it report what it did so far)."""

    def __init__(self, base: str, prefix: str, env: dict[str, str], conns: int) -> None:
        command = [gw.WRK, "-t2", f"-c{conns}", "-d3600s", "--timeout", "10s"]
        command += ["-s", env["BENCH_LUA"], base]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **env, "BENCH_PREFIX": prefix, "BENCH_SUFFIX": ""},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> dict[str, Any]:
        # wrk's main thread sleeps for the run's duration; a signal taken by one of its other
        # threads stops the load but not that sleep, so the signal is repeated until it exits
        # (and the run's length is the time until the first one).
        elapsed = time.monotonic() - self.started
        for _ in range(12):
            self.process.send_signal(signal.SIGINT)
            try:
                out, err = self.process.communicate(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            self.process.kill()
            raise RuntimeError("wrk did not stop")
        line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no result: {out} {err}")
        data: dict[str, Any] = json.loads(line[len("RESULT ") :])
        data["seconds"] = min(data["seconds"], elapsed)
        data["rps"] = data["requests"] / data["seconds"]
        return data


def _serve(data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = gw._free_port()
    loop = ["--loop", "uvloop"] if gw._has("uvloop") else []
    http = ["--http", "httptools"] if gw._has("httptools") else []
    env = {
        **os.environ,
        "SHUZHI_DATA_DIR": str(data_dir),
        "SHUZHI_SECRET_KEY": gw.SECRET,
        "WEB_CONCURRENCY": str(workers),
    }
    command = [sys.executable, "-m", "uvicorn", "benchmarks.gateway_bench:make_app"]
    command += ["--factory", "--port", str(port), "--workers", str(workers)]
    command += ["--no-access-log", "--log-level", "warning", *loop, *http]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parents[1])
    base = f"http://127.0.0.1:{port}"
    gw._wait(base + "/healthz")
    return process, base


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = args.workdir / f"rows-{args.rows}"
    work.mkdir(parents=True, exist_ok=True)
    csv_path, new_csv = work / "people.csv", work / f"people-{args.new_rows}.csv"
    state_path, data_dir, keys = work / "state.json", work / "shuzhi", work / "keys.txt"
    if not state_path.exists():
        print(f"preparing {args.rows:,} rows in {work} (once) …", flush=True)
        generate(csv_path, args.rows)
        state = gw.prepare_shuzhi(csv_path, data_dir)
        gw.key_list(csv_path, keys)
        state_path.write_text(json.dumps(state), encoding="utf-8")
    if not new_csv.exists():
        generate(new_csv, args.new_rows)
    state = json.loads(state_path.read_text(encoding="utf-8"))
    lua = work / "lookup.lua"
    lua.write_text(gw.LUA, encoding="utf-8")
    env = {"BENCH_KEYS": str(keys), "BENCH_LUA": str(lua)}
    env["BENCH_TOKENS"] = ",".join(state["tokens"])
    new_key = _new_only_key(csv_path, new_csv)
    result: dict[str, Any] = {"rows": args.rows, "new_rows": args.new_rows}
    server, base = _serve(data_dir, args.workers)
    prefix = f"/api/v1/share/{state['code']}/records/"
    token = state["tokens"][0]
    try:
        if _status(base + prefix + new_key, token) == 200:
            raise RuntimeError("the served version already holds the new rows: use a new workdir")
        result["load_steady_before"] = _load()
        warm = _Wrk(base, prefix, env, args.connections)
        time.sleep(args.warmup)
        warm.stop()
        steady = _Wrk(base, prefix, env, args.connections)
        cpu = gw._cpu_seconds(server.pid)
        time.sleep(args.seconds)
        result["steady"] = steady.stop()
        result["steady"]["cpu"] = _spent(cpu, gw._cpu_seconds(server.pid))
        result["load_steady_after"] = _load()

        result["load_refresh_before"] = _load()
        refresh = _Wrk(base, prefix, env, args.connections)
        cpu = gw._cpu_seconds(server.pid)
        listed = keys.read_text(encoding="utf-8").split()
        probe = _Probe(base + prefix, listed, token)
        started = time.monotonic()
        ingest = subprocess.Popen(
            [sys.executable, "-c", INGEST, str(data_dir), state["code"], str(new_csv)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.PIPE,
            text=True,
        )
        switched: list[float] = []
        loading: dict[int, float] = {}  # CPU seconds of each process of the load, last seen

        def watch() -> None:
            while not switched and time.monotonic() - started < args.timeout:
                if ingest.poll() is None:
                    loading.update(_tree_cpu(ingest.pid))
                if _status(base + prefix + new_key, token) == 200:
                    switched.append(time.monotonic() - started)
                    return
                time.sleep(0.25)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        out, _ = ingest.communicate(timeout=args.timeout)
        result["ingest_s"] = round(time.monotonic() - started, 1)
        if ingest.returncode != 0:
            refresh.stop()
            raise RuntimeError(f"the load failed: {out}")
        watcher.join(timeout=args.timeout)
        if not switched:
            refresh.stop()
            raise RuntimeError("the gateway did not switch to the new version")
        result["switch_s"] = round(switched[0], 1)
        time.sleep(args.settle)
        result["refresh"] = refresh.stop()
        result["refresh"]["cpu"] = _spent(cpu, gw._cpu_seconds(server.pid))
        result["refresh"]["cpu"]["load"] = sum(loading.values())
        result["probe"] = probe.stop()
        result["load_refresh_after"] = _load()
    finally:
        gw._stop(server)
    result["ratio"] = result["refresh"]["rps"] / result["steady"]["rps"]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--new-rows", type=int, default=2_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-refresh-bench"))
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=35)
    parser.add_argument("--settle", type=int, default=5)
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not Path(gw.WRK).exists():
        sys.exit("wrk is missing: run scripts/install-system-deps (Debian package wrk)")
    r = run(args)
    print(
        f"\n{r['rows']:,} rows served, {r['new_rows']:,} loaded; {args.connections} connections;"
        f" {os.cpu_count()} CPUs; gateway workers: {args.workers}"
    )
    print(
        f"load (new version, key index included) {r['ingest_s']} s; lookups served from the new"
        f" version {r['switch_s']} s after the load started"
    )
    header = f"{'phase':12}{'seconds':>9}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    print(f"\n{header}{'non-2xx':>9}{'errors':>8}   load average before / after")
    for phase in ("steady", "refresh"):
        x = r[phase]
        print(
            f"{phase:12}{x['seconds']:>9.1f}{x['rps']:>10,.0f}{x['p50_ms']:>9.2f}"
            f"{x['p99_ms']:>9.2f}{x['max_ms']:>9.1f}{x['non2xx']:>9}{x['socket_errors']:>8}"
            f"   {r[f'load_{phase}_before']} / {r[f'load_{phase}_after']}"
        )
    print("\nCPU in each phase, as cores used on average (user + system; wrk not included):")
    for phase in ("steady", "refresh"):
        x = r[phase]
        parts = ", ".join(
            f"{kind} {seconds / x['seconds']:.2f}" for kind, seconds in sorted(x["cpu"].items())
        )
        print(f"  {phase}: {parts or 'not measured'}")
    print(f"\nprobe during the refresh (status: lookups): {r['probe']['counts']}")
    for status, body in r["probe"]["first"].items():
        print(f"  first {status}: {body}")
    refresh = r["refresh"]
    print(
        f"\nrefresh throughput {r['ratio']:.0%} of steady state (target ≥ 80 %); "
        f"non-2xx during the refresh {refresh['non2xx']} (target 0 5xx); "
        f"p99 {refresh['p99_ms']:.1f} ms (target ≤ 100 ms)"
    )


if __name__ == "__main__":
    main()
