"""Base library end to end: five departments' extracts → linked entities → golden records.

    python -m benchmarks.masterdata_bench [--records 20000] [--keep DIR]

Generates about ``--records`` rows over five departments (``masterdata.synth``: ~70 % of
records with a usable resident ID, homophone / traditional / truncated names, mistyped IDs
and birth dates, moved addresses, changed phones, duplicate rows), then runs the whole
pipeline (read the files, normalise, block, train, score, cluster, golden records, write the
outputs) twice, each in a fresh process so the peak memory is its own:

- **normalised**: Chinese normalisation first (``masterdata.normalize``);
- **plain**: the same engine on the raw values as written (``--plain``).

Prints wall and CPU seconds (the process's, all threads), peak RSS, pairwise precision /
recall / F1 and cluster figures against the truth, and the 1-minute load average before and
after (the machine may be shared). Targets (2 cores): 1 M records ≤ 10 CPU-min, < 4 GB,
precision ≥ 0.995, recall ≥ 0.99.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child(mode: str, data: Path, out: Path) -> None:
    """One pipeline run; prints a JSON line of figures."""
    from shuzhi.masterdata.evaluation import read_assignment, score_links
    from shuzhi.masterdata.pipeline import link_files, write_outputs
    from shuzhi.masterdata.synth import DEPARTMENTS

    wall, cpu = time.perf_counter(), time.process_time()
    files = [data / f"{d}.csv" for d in DEPARTMENTS]
    run = link_files(files, rank=list(DEPARTMENTS), normalise=mode == "normalised")
    write_outputs(run, out / f"{mode}.csv")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    s = score_links(read_assignment(out / f"{mode}.csv"), read_assignment(data / "truth.csv"))
    print(
        json.dumps(
            {
                "mode": mode,
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_mb": peak_mb,
                "precision": s.precision,
                "recall": s.recall,
                "f1": s.f1,
                "entities": s.entities,
                "true_entities": s.true_entities,
                "exact_clusters": s.exact_clusters,
                "records": s.records,
                "pairs_scored": run.linkage.stats["pairs_scored"],
                "for_review": run.report["pairs_for_review"],
                "oversized_blocks": run.report["oversized_blocks"],
                "trained": run.linkage.trained,
                "steps_cpu_s": run.report["cpu_s"],
                "train_cpu_s": run.linkage.stats.get("train_cpu_s"),
                "predict_cpu_s": run.linkage.stats.get("predict_cpu_s"),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="write the extracts and outputs here")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, data, out = args.child
        _child(mode, Path(data), Path(out))
        return
    from shuzhi.masterdata.synth import generate

    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        data, out = base / "extracts", base / "out"
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generate(args.records, data)
        print(
            f"generated {args.records:,} records in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        load_before = os.getloadavg()[0]
        results = []
        for mode in ("normalised", "plain"):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.masterdata_bench",
                    "--child",
                    mode,
                    str(data),
                    str(out),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"{mode} run failed")
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        load_after = os.getloadavg()[0]
    print(
        f"load average (1 min) before / after: {load_before:.1f} / {load_after:.1f};"
        f" cores: {os.cpu_count()}"
    )
    header = (
        "run",
        "wall s",
        "CPU s",
        "peak MB",
        "precision",
        "recall",
        "F1",
        "entities / true",
        "exact",
        "review pairs",
        "trained",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in results:
        print(
            f"| {r['mode']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_mb']:,.0f} |"
            f" {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} |"
            f" {r['entities']:,} / {r['true_entities']:,} | {r['exact_clusters']:.4f} |"
            f" {r['for_review']:,} | {r['trained']} |"
        )
    for r in results:
        steps = ", ".join(f"{k} {v:.1f}" for k, v in r["steps_cpu_s"].items())
        print(
            f"{r['mode']}: CPU s by step: {steps} (of link: train {r['train_cpu_s']:.1f},"
            f" predict {r['predict_cpu_s']:.1f}); pairs scored ≥ 0.5: {r['pairs_scored']:,};"
            f" oversized blocks: {r['oversized_blocks']}"
        )


if __name__ == "__main__":
    main()
