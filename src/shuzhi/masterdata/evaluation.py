"""Linkage quality against ground truth: pairwise and cluster metrics.

Both sides are assignments of records (source, row) to entities. Pairwise figures count the
record pairs put in one entity: precision = pairs linked that are true / pairs linked,
recall = true pairs linked / true pairs. Cluster figures: entities found against true
entities, the share of true entities reproduced exactly (same members, no more, no fewer),
and B-cubed precision and recall (per record, the share of its predicted cluster that is
truly its own, and of its true cluster that was found).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shuzhi.errors import Invalid

RecordKey = tuple[str, int]


@dataclass(frozen=True)
class Scores:
    records: int
    true_pairs: int
    linked_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    entities: int
    true_entities: int
    exact_clusters: float
    bcubed_precision: float
    bcubed_recall: float


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score_links(predicted: Mapping[RecordKey, str], truth: Mapping[RecordKey, str]) -> Scores:
    """Scores over the records both sides name (a record missing from either is an error)."""
    missing = set(truth) ^ set(predicted)
    if missing:
        first = sorted(missing)[0]
        raise Invalid(
            f"链接结果与真值的记录不一致（{len(missing)} 条，例如 {first[0]} 第 {first[1]} 行）。",
            f"The links and the truth do not name the same records ({len(missing)},"
            f" e.g. {first[0]} row {first[1]}).",
        )
    keys = sorted(truth)
    pred = [predicted[k] for k in keys]
    true = [truth[k] for k in keys]
    cells = Counter(zip(pred, true, strict=True))
    pred_sizes = Counter(pred)
    true_sizes = Counter(true)
    correct = sum(_pairs(n) for n in cells.values())
    linked = sum(_pairs(n) for n in pred_sizes.values())
    true_pairs = sum(_pairs(n) for n in true_sizes.values())
    precision = correct / linked if linked else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    exact = sum(1 for (p, t), n in cells.items() if n == pred_sizes[p] == true_sizes[t])
    n = len(keys)
    bp = sum(c * c / pred_sizes[p] for (p, _t), c in cells.items()) / n if n else 1.0
    br = sum(c * c / true_sizes[t] for (_p, t), c in cells.items()) / n if n else 1.0
    return Scores(
        records=n,
        true_pairs=true_pairs,
        linked_pairs=linked,
        correct_pairs=correct,
        precision=precision,
        recall=recall,
        f1=f1,
        entities=len(pred_sizes),
        true_entities=len(true_sizes),
        exact_clusters=exact / len(true_sizes) if true_sizes else 1.0,
        bcubed_precision=bp,
        bcubed_recall=br,
    )


def read_assignment(path: Path) -> dict[RecordKey, str]:
    """A ``source,row,entity_id`` CSV (UTF-8, header line) as record → entity."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or not {"source", "row", "entity_id"} <= set(
                reader.fieldnames
            ):
                raise Invalid(
                    f"{path.name}：需要 source,row,entity_id 三列。",
                    f"{path.name}: the columns source,row,entity_id are required.",
                )
            out: dict[RecordKey, str] = {}
            for line, rec in enumerate(reader, start=2):
                try:
                    key = (rec["source"], int(rec["row"]))
                except (TypeError, ValueError):
                    raise Invalid(
                        f"{path.name} 第 {line} 行：row 不是整数。",
                        f"{path.name} line {line}: row is not a whole number.",
                    ) from None
                out[key] = rec["entity_id"]
            return out
    except OSError as exc:
        raise Invalid(
            f"无法读取 {path}：{exc.strerror}。", f"Cannot read {path}: {exc.strerror}."
        ) from None
    except UnicodeDecodeError:
        raise Invalid(f"{path.name} 不是 UTF-8 文本。", f"{path.name} is not UTF-8 text.") from None
