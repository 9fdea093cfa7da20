"""Base-library runs: a full run, a department's delta linked incrementally, and the full
re-run it is measured against.

    python -m benchmarks.masterdata_delta_bench [--records 20000] [--delta-share 0.1]

Generates about ``--records`` rows over five departments (``masterdata.synth``) and writes
each department's records as a member version (Parquet, as the lake stores them). The
second department's first version lacks ``--delta-share`` of its rows; its second version
adds them back, drops 0.5 % of the others and changes the phone of 1 %. Then, with
``masterdata.runner`` (what ``shuzhi masterdata build`` / ``run --incremental`` compute,
without the database writes):

1. full run over the first versions;
2. incremental run over the second versions, continuing from 1 (with its stored features:
   only the records 1 lacks are normalised; the new records linked by the delta engine,
   ``masterdata.delta.link_delta``, with the model fitted by 1);
3. full run over the second versions, continuing from 1 (IDs carried over by overlap).

Prints wall and CPU seconds of each, records linked by the incremental run, how many of
the records unchanged between the versions keep their entity ID, the agreement of the
incremental partition with the full re-run's (pairwise precision / recall of one against
the other) and both against the generator's truth.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _write(path: Path, rows: list[dict[str, str | None]], fields: list[str]) -> None:
    table = pa.table({f: pa.array([r.get(f) for r in rows], pa.string()) for f in fields})
    pq.write_table(table, path)


def main() -> None:
    from shuzhi.masterdata.evaluation import score_links
    from shuzhi.masterdata.runner import (
        MemberVersion,
        PreviousRecord,
        cache_table,
        full_run,
        incremental_run,
    )
    from shuzhi.masterdata.sources import PERSON_HEADERS, read_file
    from shuzhi.masterdata.synth import DEPARTMENTS, generate

    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--delta-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    fields = list(PERSON_HEADERS)
    with tempfile.TemporaryDirectory(prefix="shuzhi-delta-bench-") as tmp:
        root = Path(tmp)
        generate(args.records, root / "src", args.seed)
        truth: dict[tuple[str, int], str] = {}
        for line in (root / "src" / "truth.csv").read_text("utf-8").splitlines()[1:]:
            source, row, person = line.split(",")
            truth[(source, int(row))] = person
        # Records per department with their true person.
        depts: dict[str, list[tuple[dict[str, str | None], str]]] = {}
        for d in DEPARTMENTS:
            depts[d] = [
                (dict(r.fields), truth[(d, r.row)]) for r in read_file(root / "src" / f"{d}.csv")
            ]
        changed_dept = DEPARTMENTS[1]
        rows = depts[changed_dept]
        held = set(rnd.sample(range(len(rows)), int(len(rows) * args.delta_share)))
        v1 = [rows[i] for i in range(len(rows)) if i not in held]
        kept = [r for r in v1 if rnd.random() >= 0.005]
        v2: list[tuple[dict[str, str | None], str]] = []
        changed = 0
        for fields_, person in kept:
            if rnd.random() < 0.01:
                fields_ = {**fields_, "phone": f"1990000{rnd.randrange(10_000):04d}"}
                changed += 1
            v2.append((fields_, person))
        v2 += [rows[i] for i in sorted(held)]

        def members(version: int) -> tuple[list[MemberVersion], dict[tuple[str, int], str]]:
            out, people = [], {}
            for rank, d in enumerate(DEPARTMENTS):
                recs = depts[d] if d != changed_dept else (v1 if version == 1 else v2)
                path = root / f"{d}.v{version if d == changed_dept else 1}.parquet"
                if not path.exists():
                    _write(path, [r for r, _p in recs], fields)
                number = version if d == changed_dept else 1
                out.append(MemberVersion(d, 0, rank, number, "", path, {f: f for f in fields}))
                for row, (_r, person) in enumerate(recs, start=1):
                    people[(d, row)] = person
            return out, people

        def timed(label: str, work):  # type: ignore[no-untyped-def]
            wall, cpu = time.perf_counter(), time.process_time()
            result = work()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU")
            return result

        def assignment(result) -> dict[tuple[str, int], str]:  # type: ignore[no-untyped-def]
            src = result.features.column("source").to_pylist()
            row = result.features.column("row").to_pylist()
            return {(s, r): e for s, r, e in zip(src, row, result.entity, strict=True)}

        def previous(result) -> list[PreviousRecord]:  # type: ignore[no-untyped-def]
            src = result.features.column("source").to_pylist()
            row = result.features.column("row").to_pylist()
            return [
                PreviousRecord(s, v, r, dg, e)
                for s, r, v, dg, e in zip(
                    src, row, result.versions, result.digests, result.entity, strict=True
                )
            ]

        m1, people1 = members(1)
        m2, people2 = members(2)
        print(
            f"records: v1 {len(people1):,}, v2 {len(people2):,}; {changed_dept}:"
            f" {len(held):,} added, {len(v1) - len(kept):,} removed, {changed:,} changed"
        )
        first = timed("full run v1", lambda: full_run("person", m1))
        before = previous(first)
        cached = cache_table(first)
        inc = timed(
            "incremental run v2",
            lambda: incremental_run("person", m2, before, cached=cached, model=first.model),
        )
        full = timed("full re-run v2", lambda: full_run("person", m2, before))
        print(
            f"incremental: {inc.report['new_records']:,} new, {inc.report['removed_records']:,}"
            f" removed, {inc.report['records_normalised']:,} normalised,"
            f" {inc.records_linked:,} records linked of {inc.features.num_rows:,} by the delta"
            f" engine in {inc.report['link_cpu_s']:.1f} CPU s ({inc.report['pairs_scored']:,}"
            f" pairs scored)"
        )
        # Records unchanged between the runs (same member and digest): do they keep their ID?
        old: dict[tuple[str, str], list[str]] = defaultdict(list)
        for p in before:
            old[(p.resource_code, p.digest)].append(p.entity_id)
        merged = {e.others[0] for e in inc.events if e.kind == "merged"}
        same = moved = 0
        src = inc.features.column("source").to_pylist()
        for i, s in enumerate(src):
            pool = old.get((s, inc.digests[i]))
            if not pool:
                continue
            was = pool.pop()
            if was == inc.entity[i]:
                same += 1
            elif was not in merged:
                moved += 1
        print(
            f"unchanged records keeping their entity ID: {same:,}; changing it other than by a"
            f" recorded merge: {moved:,}; merges: {len(merged):,}"
        )
        agree = score_links(assignment(inc), assignment(full))
        print(
            f"incremental vs full re-run: pairwise precision {agree.precision:.5f}, recall"
            f" {agree.recall:.5f}; entities {agree.entities:,} vs {agree.true_entities:,}"
        )
        for label, result in (("incremental", inc), ("full re-run", full)):
            s = score_links(assignment(result), people2)
            print(
                f"{label} vs truth: precision {s.precision:.4f}, recall {s.recall:.4f},"
                f" F1 {s.f1:.4f}"
            )


if __name__ == "__main__":
    main()
