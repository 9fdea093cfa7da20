"""Security monitoring's cost on the gateway, and how fast it catches an enumeration attack.

    python -m benchmarks.secops_bench [--rows 1000000] [--workdir DIR] [--seconds 20]
                                      [--connections 32] [--workers 2] [--rounds 1]
                                      [--attack-rate 50]

One run, the same prepared data as ``benchmarks.gateway_bench`` (its preparation is reused
and kept in ``--workdir``): keyed lookups under wrk with the server's security monitoring
**off** (``SHUZHI_SECOPS_EVALUATE_SECONDS=0``) and **on** (the default, every 30 s),
alternating ``--rounds`` times, back to back on the same machine. Six of the eight
consumer systems carry the load; the other two are attackers.

With monitoring on, before the load and again after it (when the hour the rules scan holds
the load's calls), an attacker walks through the key list (a different resident ID at every
call, ``--attack-rate`` calls a second) until the server raises an alert on its key
(``enumeration`` or ``sequential_ids``); the time from its first call to the alert's
appearance in the database is the detection time. Targets: throughput cost ≤ 5 %,
detection ≤ 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.gateway_bench import (
    LUA,
    WRK,
    _free_port,
    _has,
    _settings,
    _stop,
    _wait,
    _wrk,
    key_list,
    prepare_shuzhi,
    workdir,
)
from benchmarks.gen_csv import generate

SECRET_ENV = "SHUZHI_SECRET_KEY"


def _serve(data_dir: Path, workers: int, evaluate_seconds: float) -> tuple[Any, str]:
    from benchmarks.gateway_bench import SECRET

    port = _free_port()
    loop = ["--loop", "uvloop"] if _has("uvloop") else []
    http = ["--http", "httptools"] if _has("httptools") else []
    env = {
        **os.environ,
        "SHUZHI_DATA_DIR": str(data_dir),
        SECRET_ENV: SECRET,
        "WEB_CONCURRENCY": str(workers),
        "SHUZHI_SECOPS_EVALUATE_SECONDS": str(evaluate_seconds),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.gateway_bench:make_app",
            "--factory",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
            *loop,
            *http,
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/healthz")
    except Exception:
        _stop(process)
        raise
    return process, base


def _load(
    data_dir: Path,
    state: dict[str, Any],
    env: dict[str, str],
    args: argparse.Namespace,
    evaluate_seconds: float,
) -> dict[str, Any]:
    process, base = _serve(data_dir, args.workers, evaluate_seconds)
    try:
        prefix = f"/api/v1/share/{state['code']}/records/"
        wrk_env = {**env, "BENCH_TOKENS": ",".join(state["tokens"][:-2])}
        _wrk(base, prefix, "", wrk_env, args.warmup, args.connections)
        return _wrk(base, prefix, "", wrk_env, args.seconds, args.connections)
    finally:
        _stop(process)


def _alert_for(data_dir: Path, key_id: int, since: datetime) -> str | None:
    """The rule of an alert on the attacker's key about calls since ``since``, if any."""
    from sqlalchemy import select

    from shuzhi.db.engine import Database
    from shuzhi.secops.models import Alert

    database = Database(_settings(data_dir))
    try:
        with database.read_sessions() as session:
            rule = session.scalar(
                select(Alert.rule).where(
                    Alert.subject == f"key:{key_id}",
                    Alert.rule.in_(("enumeration", "sequential_ids")),
                    Alert.last_seen >= since,
                )
            )
        return rule
    finally:
        database.dispose()


def _key_id(data_dir: Path, token: str) -> int:
    from sqlalchemy import select

    from shuzhi.db.engine import Database
    from shuzhi.sharing.models import AppKey

    database = Database(_settings(data_dir))
    try:
        with database.read_sessions() as session:
            found = session.scalar(select(AppKey.id).where(AppKey.prefix == token.split("_")[1]))
        return int(found or 0)
    finally:
        database.dispose()


def _calls_in_hour(data_dir: Path) -> int:
    from datetime import timedelta

    from sqlalchemy import func, select

    from shuzhi.db.engine import Database
    from shuzhi.gateway.models import ApiCall

    database = Database(_settings(data_dir))
    try:
        since = datetime.now(UTC) - timedelta(hours=1)
        with database.read_sessions() as session:
            query = select(func.count()).select_from(ApiCall).where(ApiCall.at >= since)
            return int(session.scalar(query) or 0)
    finally:
        database.dispose()


def _attack(
    data_dir: Path, state: dict[str, Any], keys: Path, args: argparse.Namespace, token: str
) -> dict[str, Any]:
    """Walk through the key list with the attacker's key until the alert appears."""
    key_id = _key_id(data_dir, token)
    process, base = _serve(data_dir, args.workers, 30.0)  # the default interval
    stop = threading.Event()
    sent = [0]
    walk = keys.read_text(encoding="utf-8").split()

    def attacker() -> None:
        prefix = f"{base}/api/v1/share/{state['code']}/records/"
        pause = 1.0 / args.attack_rate
        for key in walk * 10:
            if stop.is_set():
                return
            request = urllib.request.Request(
                prefix + urllib.parse.quote(key), headers={"Authorization": f"Bearer {token}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
            except urllib.error.HTTPError:
                pass
            sent[0] += 1
            time.sleep(pause)

    try:
        started = time.monotonic()
        since = datetime.now(UTC)
        thread = threading.Thread(target=attacker, daemon=True)
        thread.start()
        rule = None
        while time.monotonic() - started < args.attack_limit:
            time.sleep(0.5)
            rule = _alert_for(data_dir, key_id, since)
            if rule is not None:
                break
        took = time.monotonic() - started
        stop.set()
        thread.join(timeout=15)
        hour = _calls_in_hour(data_dir)
        return {"seconds": took if rule else None, "rule": rule, "calls": sent[0], "hour": hour}
    finally:
        _stop(process)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-gateway-bench"))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--attack-rate", type=float, default=50.0)
    parser.add_argument("--attack-limit", type=float, default=180.0)
    args = parser.parse_args(argv)
    if not Path(WRK).exists():
        sys.exit("wrk is missing: run scripts/install-system-deps (Debian package wrk)")
    work = workdir(args.workdir, args.rows)
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / "people.csv"
    state_path = work / "secops-state.json"
    data_dir = work / "shuzhi-secops"
    keys = work / "keys.txt"
    if not state_path.exists():
        print(f"preparing {args.rows:,} rows in {work} (once) …", flush=True)
        shutil.rmtree(data_dir, ignore_errors=True)
        if not csv_path.exists():
            generate(csv_path, args.rows)
        state = prepare_shuzhi(csv_path, data_dir)
        key_list(csv_path, keys)
        state_path.write_text(json.dumps(state), encoding="utf-8")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    lua = work / "lookup.lua"
    lua.write_text(LUA, encoding="utf-8")
    env = {"BENCH_KEYS": str(keys), "BENCH_LUA": str(lua)}
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    quiet = _attack(data_dir, state, keys, args, token=state["tokens"][-1])
    for _ in range(args.rounds):
        runs["off"].append(_load(data_dir, state, env, args, 0.0))
        runs["on"].append(_load(data_dir, state, env, args, 30.0))
    # Again with the load's calls in the hour the rules scan (another key of the attacker's
    # unused so far: the first one's alert is still open).
    busy = _attack(data_dir, state, keys, args, token=state["tokens"][-2])
    load_after = os.getloadavg()

    def best(side: str, field: str, pick: Any) -> float:
        return float(pick(r[field] for r in runs[side]))

    off_rps, on_rps = best("off", "rps", max), best("on", "rps", max)
    off_p99, on_p99 = best("off", "p99_ms", min), best("on", "p99_ms", min)
    cost = (off_rps - on_rps) / off_rps * 100 if off_rps else 0.0
    print(
        f"\n{args.rows:,} rows; {args.connections} connections; {args.seconds} s per run after"
        f" {args.warmup} s warm-up; {args.rounds} round(s); {os.cpu_count()} CPUs; gateway"
        f" workers: {args.workers}"
    )
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f};"
        f" after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    print(f"\n{'monitoring':28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    for side, label in (("off", "off (evaluator disabled)"), ("on", "on (every 30 s)")):
        for r in runs[side]:
            print(
                f"{label:28}{r['rps']:>10,.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}"
                f"{r['non2xx']:>10}"
            )
    print(
        f"\nthroughput cost of monitoring: {cost:.1f} % (best run each side; target ≤ 5 %);"
        f" p99 off {off_p99:.1f} ms, on {on_p99:.1f} ms"
    )
    for label, attack in (("before the load", quiet), ("after the load", busy)):
        if attack["seconds"] is None:
            print(
                f"enumeration attack {label} ({args.attack_rate:g} calls/s, {attack['hour']:,}"
                f" calls in the hour): NO alert within {args.attack_limit:g} s"
                f" ({attack['calls']} calls)"
            )
        else:
            print(
                f"enumeration attack {label} ({args.attack_rate:g} calls/s, {attack['hour']:,}"
                f" calls in the hour): alert `{attack['rule']}` {attack['seconds']:.1f} s after"
                f" its first call ({attack['calls']} calls; target ≤ 60 s)"
            )


if __name__ == "__main__":
    main()
