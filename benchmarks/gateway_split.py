"""Where a gateway call's CPU goes in the server: Shuzhi beside the limit, and beside four
reduced forms of itself.

    python -m benchmarks.gateway_split [--rows 1000000] [--seconds 10] [--warmup 4]

Uses the data ``benchmarks.gateway_bench`` prepared (run it once first, same ``--rows`` and
``--workdir``). Six servers answer the same keyed lookups under the same load as in
``gateway_bench`` (wrk, 32 connections, keys drawn at random; two uvicorn workers each),
one after the other, warm (after a warm-up):

- **limit**: ``gateway_bench``'s minimal Starlette application over the same key index;
- **Shuzhi**: the whole call, as in ``gateway_bench``;
- **Shuzhi, calls not metered**: the same server whose meter drops each call instead of
  keeping it (nothing is written: what metering and audit cost, in the workers and in the
  writers, is the difference from the line above);
- **Shuzhi, answers not shaped**: the whole call up to the record read from the key index and
  checked against the grant's row filter, then a constant body the length of a masked record
  instead of the record masked and encoded (what shaping the answer costs: what answers
  shaped in advance, per grant, would save at most);
- **Shuzhi, answers not shaped, calls not metered**: both reductions at once;
- **Shuzhi's skeleton**: the same server answering every lookup with a constant body before
  the call is admitted (what uvicorn, the event loop and the application class cost alone).

The table gives requests per second and CPU microseconds per answered call by kind of
process (workers; the meter's writers and the security evaluators they start). The reduced
forms are measurements only: no deployment runs them.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from benchmarks.gateway_bench import limit_side, make_app, run_side, shuzhi_side, workdir


def make_unmetered_app() -> Any:
    """Shuzhi's application whose meter drops every call (a measurement only)."""
    app = make_app()
    app.state.gateway.meter.add = lambda record: None
    return app


# A record of the benchmark's rows as a grant masks it (the body "answers not shaped" give).
UNSHAPED_BODY = json.dumps(
    {
        "姓名": "王**",
        "身份证号": "5101051991********",
        "性别": "男",
        "出生日期": "1991-**-**",
        "联系电话": "180****0000",
        "居住地址": "四川省成都市青川区****",
        "状态": "正常",
    },
    ensure_ascii=False,
    separators=(",", ":"),
).encode()


def make_unshaped_app() -> Any:
    """Shuzhi's application answering a constant body instead of shaping each record."""
    from shuzhi.gateway import service

    def unshaped(row: Any, how: Any) -> dict[str, Any]:
        return {}

    def constant(value: Any) -> bytes:
        return UNSHAPED_BODY

    service.shape = unshaped  # type: ignore[attr-defined]  # the name the lookup calls
    service._dumps = constant
    return make_app()


def make_unshaped_unmetered_app() -> Any:
    """Both reductions: answers not shaped, calls not metered."""
    app = make_unshaped_app()
    app.state.gateway.meter.add = lambda record: None
    return app


def make_skeleton_app() -> Any:
    """Shuzhi's application answering every lookup with a constant body."""
    from shuzhi.gateway import api

    async def constant(scope: Any, resource_code: str, key: str) -> bytes:
        return b'{"ok":true}'

    api._lookup_body = constant
    return make_app()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-gateway-bench"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    work = workdir(args.workdir, args.rows)
    state_path = work / "state.json"
    if not state_path.exists():
        raise SystemExit(f"run `python -m benchmarks.gateway_bench --rows {args.rows}` first")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    args.cold = 1  # run_side measures a first run: a second here, not reported
    env = {"BENCH_KEYS": str(work / "keys.txt"), "BENCH_LUA": str(work / "lookup.lua")}
    data_dir = work / "shuzhi"
    sides = [
        limit_side(state),
        shuzhi_side(state, data_dir, "Shuzhi"),
        shuzhi_side(
            state,
            data_dir,
            "Shuzhi, calls not metered",
            "benchmarks.gateway_split:make_unmetered_app",
        ),
        shuzhi_side(
            state,
            data_dir,
            "Shuzhi, answers not shaped",
            "benchmarks.gateway_split:make_unshaped_app",
        ),
        shuzhi_side(
            state,
            data_dir,
            "Shuzhi, not shaped, not metered",
            "benchmarks.gateway_split:make_unshaped_unmetered_app",
        ),
        shuzhi_side(
            state,
            data_dir,
            "Shuzhi's skeleton (constant answer)",
            "benchmarks.gateway_split:make_skeleton_app",
        ),
    ]
    load_before = os.getloadavg()[0]
    results = [run_side(side, env, args) for side in sides]
    load_after = os.getloadavg()[0]
    print(
        f"\n{args.rows:,} rows; {args.connections} connections; {args.workers} uvicorn workers;"
        f" {args.warmup} s warm-up, {args.seconds} s measured; load average {load_before:.2f}"
        f" before, {load_after:.2f} after"
    )
    print(
        f"\n{'':38}{'req/s':>9}{'p99 ms':>9}{'non-2xx':>9}"
        f"{'CPU µs/call':>13}{'workers':>9}{'writers':>9}{'evaluators':>12}"
    )
    for side, r in zip(sides, results, strict=True):
        cpu = r.get("cpu_us") or {}
        print(
            f"{side.name:38.38}{r['rps']:>9,.0f}{r['p99_ms']:>9.2f}{r['non2xx']:>9}"
            f"{sum(cpu.values()):>13.0f}{cpu.get('workers', 0):>9.0f}"
            f"{cpu.get('writers', 0):>9.0f}{cpu.get('evaluators', 0):>12.0f}"
        )


if __name__ == "__main__":
    main()
