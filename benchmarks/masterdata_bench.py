"""Base library end to end: five departments' extracts → linked entities → golden records.

    python -m benchmarks.masterdata_bench [--records 20000] [--delta 10000] [--keep DIR]

Generates about ``--records`` rows over five departments (``masterdata.synth``: ~70 % of
records with a usable resident ID, homophone / traditional / truncated names, mistyped IDs
and birth dates, moved addresses, changed phones, duplicate rows), then runs the whole
pipeline (read the files, normalise, block, train, score, cluster, golden records, write the
outputs) twice, each in a fresh process so the peak memory is its own:

- **normalised**: Chinese normalisation first (``masterdata.normalize``);
- **plain**: the same engine on the raw values as written (``--plain``).

Then the **daily delta** (``--delta``, 0 for none): ``--delta`` more records generated with
the others but held back from the full run (90 % rows of people old and new, 10 % changed
versions of rows already linked: same source and row, a new phone and update date) are
linked against the normalised run's stored features, entity IDs and fitted model
(``masterdata.delta.link_delta``), in a fresh process: reading the stored library state,
normalising the delta, linking it. Reports its wall and CPU seconds, peak RSS, the
precision / recall of the whole library afterwards, and how many existing entities kept
their IDs (all but those merged into another).

Prints wall and CPU seconds (the process's, all threads), peak RSS, pairwise precision /
recall / F1 and cluster figures against the truth, and the 1-minute load average before and
after (the machine may be shared). Targets (2 cores): 1 M records ≤ 10 CPU-min, < 4 GB,
precision ≥ 0.995, recall ≥ 0.99; delta of 10,000 ≤ 60 s with every unchanged entity keeping
its ID.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DELTA_CHANGED = 0.1  # share of the delta that are changed versions of rows already linked


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
    if mode == "normalised":  # the library state a delta starts from (not timed)
        import pyarrow as pa
        import pyarrow.parquet as pq

        state = run.linkage.features.append_column("entity_id", pa.array(run.linkage.entity))
        pq.write_table(state, out / "library.parquet")
        (out / "model.json").write_text(json.dumps(run.linkage.stats["model"]), "utf-8")
    linked = read_assignment(out / f"{mode}.csv")
    truth = read_assignment(data / "truth.csv")  # also names the rows held back for the delta
    s = score_links(linked, {k: truth[k] for k in linked})
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


def _delta_child(data: Path, out: Path) -> None:
    """Link the held-back delta against the stored library; prints a JSON line."""
    import pyarrow.parquet as pq

    from shuzhi.masterdata.delta import link_delta
    from shuzhi.masterdata.evaluation import read_assignment, score_links
    from shuzhi.masterdata.features import build_features
    from shuzhi.masterdata.sources import SourceRecord, read_file
    from shuzhi.masterdata.synth import DEPARTMENTS

    wall, cpu = time.perf_counter(), time.process_time()
    library = pq.read_table(out / "library.parquet")
    entity = library.column("entity_id").to_pylist()
    existing = library.drop_columns(["entity_id"])
    model = json.loads((out / "model.json").read_text("utf-8"))
    rows = json.loads((data / "delta" / "rows.json").read_text("utf-8"))
    records = [
        SourceRecord(r.source, rows[d][r.row - 1], r.fields)
        for d in DEPARTMENTS
        for r in read_file(data / "delta" / f"{d}.csv", source=d)
    ]
    new = build_features(records)
    delta = link_delta(existing, entity, new, model, {d: i for i, d in enumerate(DEPARTMENTS)})
    after = delta.apply(entity)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sources = existing.column("source").to_pylist()
    base_rows = existing.column("row").to_pylist()
    assigned = dict(zip(zip(sources, base_rows, strict=True), after, strict=True))
    touched = set(delta.merges)
    changed_keys = {(r.source, r.row) for r in records}
    for r, e in zip(records, delta.entity, strict=True):
        assigned[(r.source, r.row)] = e
    # Unchanged entities: no record in the delta, not merged into another.
    keys = list(zip(sources, base_rows, strict=True))
    delta_entities = {e for k, e in zip(keys, entity, strict=True) if k in changed_keys}
    unchanged = {e for e in entity if e not in touched and e not in delta_entities}
    kept = sum(
        1
        for k, e in zip(zip(sources, base_rows, strict=True), entity, strict=True)
        if e in unchanged and assigned[k] != e
    )
    truth = read_assignment(data / "truth.csv")
    s = score_links(assigned, {k: truth[k] for k in assigned})
    print(
        json.dumps(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_mb": peak_mb,
                "precision": s.precision,
                "recall": s.recall,
                "unchanged_entities": len(unchanged),
                "unchanged_records_relabelled": kept,
                **{k: v for k, v in delta.stats.items() if k != "cpu_s"},
                "link_cpu_s": delta.stats["cpu_s"],
            }
        ),
        flush=True,
    )


def _hold_back(data: Path, records: int, count: int, seed: int = 3) -> None:
    """Cut the last rows of each generated extract off into ``data/delta`` (the full run
    sees the rest) and add changed versions of some remaining rows; ``rows.json`` gives each
    delta row's row number in the library."""
    import random

    from shuzhi.masterdata.synth import DEPARTMENTS

    rng = random.Random(seed)
    (data / "delta").mkdir(exist_ok=True)
    changed = round(count * DELTA_CHANGED)
    per_dept_new = (count - changed) // len(DEPARTMENTS)
    per_dept_changed = changed // len(DEPARTMENTS)
    numbering: dict[str, list[int]] = {}
    for d in DEPARTMENTS:
        path = data / f"{d}.csv"
        encoding = "gb18030" if d == "民政" else "utf-8"
        with path.open(encoding=encoding, newline="") as f:
            lines = list(csv.reader(f))
        header, body = lines[0], lines[1:]
        keep = len(body) - per_dept_new
        base, tail = body[:keep], body[keep:]
        picked = sorted(rng.sample(range(keep), per_dept_changed))
        phone = next(
            i for i, h in enumerate(header) if "电话" in h or "手机" in h or "dianhua" in h
        )
        updated = len(header) - 1
        versions = []
        for i in picked:
            row = list(base[i])
            row[phone] = f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}"
            row[updated] = "2025-06-30"
            versions.append(row)
        with path.open("w", encoding=encoding, newline="") as f:
            csv.writer(f).writerows([header, *base])
        with (data / "delta" / f"{d}.csv").open("w", encoding=encoding, newline="") as f:
            csv.writer(f).writerows([header, *tail, *versions])
        numbering[d] = [keep + 1 + j for j in range(len(tail))] + [i + 1 for i in picked]
    (data / "delta" / "rows.json").write_text(json.dumps(numbering), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--delta", type=int, default=10_000, help="daily delta size (0: none)")
    parser.add_argument("--keep", type=Path, help="write the extracts and outputs here")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, data, out = args.child
        if mode == "delta":
            _delta_child(Path(data), Path(out))
        else:
            _child(mode, Path(data), Path(out))
        return
    from shuzhi.masterdata.synth import generate

    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        data, out = base / "extracts", base / "out"
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        held = round(args.delta * (1 - DELTA_CHANGED)) if args.delta else 0
        generate(args.records + held, data)
        if args.delta:
            _hold_back(data, args.records, args.delta)
        print(
            f"generated {args.records:,} records in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        load_before = os.getloadavg()[0]
        results: list[dict[str, Any] | None] = []
        modes = ("normalised", "plain", "delta") if args.delta else ("normalised", "plain")
        for mode in modes:
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
                if mode == "delta":  # the full runs' figures still stand
                    results.append(None)
                    continue
                raise SystemExit(f"{mode} run failed")
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        load_after = os.getloadavg()[0]
    delta = results.pop() if args.delta else None
    full = [r for r in results if r is not None]
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
    for r in full:
        print(
            f"| {r['mode']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_mb']:,.0f} |"
            f" {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} |"
            f" {r['entities']:,} / {r['true_entities']:,} | {r['exact_clusters']:.4f} |"
            f" {r['for_review']:,} | {r['trained']} |"
        )
    for r in full:
        steps = ", ".join(f"{k} {v:.1f}" for k, v in r["steps_cpu_s"].items())
        print(
            f"{r['mode']}: CPU s by step: {steps} (of link: train {r['train_cpu_s']:.1f},"
            f" predict {r['predict_cpu_s']:.1f}); pairs scored ≥ 0.5: {r['pairs_scored']:,};"
            f" oversized blocks: {r['oversized_blocks']}"
        )
    if delta is not None:
        print(
            f"delta: {delta['new_records']:,} records ({delta['replaced']:,} changed) against"
            f" {delta['existing_records']:,}: wall {delta['wall_s']:.1f} s, CPU"
            f" {delta['cpu_s']:.1f} s (link {delta['link_cpu_s']:.1f}), peak"
            f" {delta['peak_mb']:,.0f} MB; joined {delta['entities_joined']:,} entities, new"
            f" {delta['new_entities']:,}, merges {delta['merges']:,}, moved {delta['moved']:,};"
            f" unchanged entities {delta['unchanged_entities']:,}, of their records relabelled"
            f" {delta['unchanged_records_relabelled']:,}; library afterwards precision"
            f" {delta['precision']:.4f}, recall {delta['recall']:.4f}"
        )


if __name__ == "__main__":
    main()
