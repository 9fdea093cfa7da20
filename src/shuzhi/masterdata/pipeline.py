"""Files in, links and golden records out: the run behind ``shuzhi masterdata link``.

``link_files`` reads every extract (``sources``), builds the features (``features``), links
(``linkage``) and derives golden records (``golden``); ``write_outputs`` writes

- ``OUT.csv``: ``source,row,entity_id``, one line per input record, files in the order
  given, rows ascending (row = 1-based data row of that file);
- ``OUT.golden.csv``: one golden record per entity, each value with its source, row and the
  survivorship rule that chose it;
- ``OUT.conflicts.csv``: ``entity_id,attribute,kind,detail``;
- ``OUT.pairs.csv``: every scored pair at or above the review threshold with its match
  probability, weight, decision (merged, same_cluster, review, refused_two_verified_ids) and
  per-comparison explanation.

Nothing is written when reading or linking fails: the outputs are written to temporary
names first and renamed at the end.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from shuzhi.errors import Invalid
from shuzhi.masterdata.features import build_features
from shuzhi.masterdata.golden import Conflict, GoldenRecord, attributes, golden_records
from shuzhi.masterdata.linkage import Linkage, LinkOptions, OversizedBlock, link
from shuzhi.masterdata.sources import SourceRecord, read_file, source_name

KINDS = ("person", "legal_entity")


@dataclass
class LinkRun:
    linkage: Linkage
    golden: list[GoldenRecord]
    conflicts: list[Conflict]
    report: dict[str, object] = field(default_factory=dict)
    kind: str = "person"

    @property
    def oversized(self) -> list[OversizedBlock]:
        return self.linkage.oversized


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise Invalid(
            f"暂不支持的实体类型：{kind}（支持：{'、'.join(KINDS)}）。",
            f"Kind not supported yet: {kind} (supported: {', '.join(KINDS)}).",
        )


def check_sources(files: Sequence[Path]) -> None:
    names = [source_name(f) for f in files]
    repeated = sorted(n for n, c in Counter(names).items() if c > 1)
    if repeated:
        raise Invalid(
            f"多个文件同名（来源名取自文件名）：{'、'.join(repeated)}。",
            f"Several files share a name (the source is named after the file):"
            f" {', '.join(repeated)}.",
        )


class _Tally:
    """Counts records per source and rows repeated within a source while they stream by
    (a 64-bit hash of each row's fields is kept, not the row)."""

    def __init__(self) -> None:
        self.per_source: Counter[str] = Counter()
        self.duplicates: Counter[str] = Counter()
        self._seen: set[int] = set()

    def __call__(self, records: Iterable[SourceRecord]) -> Iterator[SourceRecord]:
        for r in records:
            self.per_source[r.source] += 1
            fields = tuple(sorted((k, v) for k, v in r.fields.items() if k != "updated"))
            key = hash((r.source, fields))
            if key in self._seen:
                self.duplicates[r.source] += 1
            self._seen.add(key)
            yield r


def read_sources(files: Sequence[Path], kind: str = "person") -> Iterator[SourceRecord]:
    """Every record of ``files`` in order, streamed."""
    check_sources(files)
    for path in files:
        yield from read_file(path, kind)


def _report(tally: _Tally, features: pa.Table) -> dict[str, object]:
    """Figures a reader must see: usable IDs, ID defects, duplicate rows per source."""
    states = Counter(features.column("id_state").to_pylist())
    return {
        "records_per_source": dict(tally.per_source),
        "usable_ids": states.get("valid", 0),
        "ids_check_failed": states.get("check_failed", 0),
        "ids_malformed": states.get("malformed", 0),
        "ids_missing": states.get("missing", 0),
        "duplicate_rows_per_source": dict(tally.duplicates),
    }


def link_files(
    files: Sequence[Path],
    kind: str = "person",
    rank: Sequence[str] = (),
    priority: Mapping[str, Sequence[str]] | None = None,
    options: LinkOptions | None = None,
    normalise: bool = True,
) -> LinkRun:
    """Link the records of ``files``; ``rank`` orders the sources by authority (anchors
    of entity IDs, and survivorship for attributes ``priority`` does not list)."""
    check_kind(kind)
    known = attributes(kind)
    unknown = sorted(set(priority or {}) - set(known))
    if unknown:
        raise Invalid(
            f"来源优先级中有未知属性：{'、'.join(unknown)}（可用：{'、'.join(known)}）。",
            f"Unknown attributes in the source priority: {', '.join(unknown)}"
            f" (known: {', '.join(known)}).",
        )
    cpu: dict[str, float] = {}
    started = time.process_time()

    def lap(step: str) -> None:
        nonlocal started
        now = time.process_time()
        cpu[step] = round(now - started, 2)
        started = now

    check_sources(files)
    tally = _Tally()
    features = build_features(tally(read_sources(files, kind)), normalise=normalise, kind=kind)
    if features.num_rows == 0:
        raise Invalid("输入文件中没有数据行。", "The input files hold no data rows.")
    lap("read_normalise")
    report = _report(tally, features)
    source_rank = {s: i for i, s in enumerate(rank)}
    linkage = link(features, source_rank, options, normalise=normalise, kind=kind)
    lap("link")
    by_attribute = {a: list((priority or {}).get(a, rank)) for a in known}
    golden, conflicts = golden_records(features, linkage.entity, by_attribute, kind)
    lap("golden")
    report |= {
        "entities": linkage.stats["entities"],
        "pairs_merged": linkage.stats["pairs_merged"],
        "pairs_for_review": sum(
            1 for d in linkage.pairs.column("decision").to_pylist() if d == "review"
        ),
        "merges_refused_two_verified_ids": linkage.refused,
        "oversized_blocks": len(linkage.oversized),
        "conflicts": len(conflicts),
        "trained": linkage.trained,
        "cpu_s": cpu,
    }
    return LinkRun(linkage, golden, conflicts, report, kind)


def output_paths(out: Path) -> dict[str, Path]:
    stem = out.with_suffix("") if out.suffix.lower() == ".csv" else out
    return {
        "links": out,
        "golden": stem.with_name(stem.name + ".golden.csv"),
        "conflicts": stem.with_name(stem.name + ".conflicts.csv"),
        "pairs": stem.with_name(stem.name + ".pairs.csv"),
    }


def write_outputs(run: LinkRun, out: Path) -> dict[str, Path]:
    """Write the four files (each complete or not at all); returns their paths."""
    paths = output_paths(out)
    if not paths["links"].parent.is_dir():
        raise Invalid(
            f"输出目录不存在：{paths['links'].parent}。",
            f"The output directory does not exist: {paths['links'].parent}.",
        )
    features = run.linkage.features
    sources = features.column("source").to_pylist()
    rows = features.column("row").to_pylist()
    written: list[tuple[Path, Path]] = []
    try:
        tmp = paths["links"].with_name(paths["links"].name + ".part")
        written.append((tmp, paths["links"]))
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(("source", "row", "entity_id"))
            w.writerows(zip(sources, rows, run.linkage.entity, strict=True))
        tmp = paths["golden"].with_name(paths["golden"].name + ".part")
        written.append((tmp, paths["golden"]))
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            header = ["entity_id", "records"]
            names = attributes(run.kind)
            for a in names:
                header += [a, f"{a}_source", f"{a}_row", f"{a}_rule"]
            w.writerow([*header, "adcode"])
            for g in run.golden:
                line: list[object] = [g.entity_id, g.members]
                for a in names:
                    v = g.values[a]
                    line += [v.value, v.source, v.row, v.rule]
                w.writerow([*line, g.adcode])
        tmp = paths["conflicts"].with_name(paths["conflicts"].name + ".part")
        written.append((tmp, paths["conflicts"]))
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(("entity_id", "attribute", "kind", "detail"))
            w.writerows((c.entity_id, c.attribute, c.kind, c.detail) for c in run.conflicts)
        tmp = paths["pairs"].with_name(paths["pairs"].name + ".part")
        written.append((tmp, paths["pairs"]))
        pairs = run.linkage.pairs
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(
                (
                    "source_l",
                    "row_l",
                    "source_r",
                    "row_r",
                    "match_probability",
                    "match_weight",
                    "decision",
                    "explanation",
                )
            )
            cols = pairs.select(
                [
                    "unique_id_l",
                    "unique_id_r",
                    "match_probability",
                    "match_weight",
                    "decision",
                    "explanation",
                ]
            ).to_pydict()
            for left, right, p, mw, d, e in zip(*cols.values(), strict=True):
                w.writerow(
                    (
                        sources[left],
                        rows[left],
                        sources[right],
                        rows[right],
                        f"{p:.6f}",
                        f"{mw:.2f}",
                        d,
                        e,
                    )
                )
    except BaseException:
        for tmp, _final in written:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in written:
        os.replace(tmp, final)
    return paths
