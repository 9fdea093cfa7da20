"""Reviewers' decisions applied to a clustering, and the pairs a run leaves for review."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from shuzhi.masterdata.linkage import LinkOptions
from shuzhi.masterdata.runner.records import Decision, Loaded, RecordRef, ReviewFinding


def link_options(threshold: float) -> LinkOptions:
    return LinkOptions(threshold=threshold)


@dataclass
class Decided:
    """Reviewers' decisions as record indices: pairs to join, partners to keep apart."""

    must: list[tuple[int, int]] = field(default_factory=list)
    apart: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))


def index_decisions(
    decisions: Sequence[Decision], sources: Sequence[str], digests: Sequence[str]
) -> Decided:
    """The decisions whose two records are both in this run (a record that changed is a
    new record: a decision on its old values no longer applies)."""
    at: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, key in enumerate(zip(sources, digests, strict=True)):
        at[key].append(i)
    out = Decided()
    for d in decisions:
        left, right = at.get(d.left, []), at.get(d.right, [])
        if not left or not right:
            continue
        if d.match:
            out.must += [(left[0], j) for j in [*left[1:], *right]]
        else:
            for x in left:
                for y in right:
                    out.apart[x].add(y)
                    out.apart[y].add(x)
    return out


def kept_apart(decided: Decided, tagged_a: set[int], tagged_b: set[int]) -> bool:
    return any(decided.apart.get(x, set()) & tagged_b for x in tagged_a)


def cluster_with_decisions(
    features: pa.Table, pairs: pa.Table, threshold: float, decided: Decided
) -> tuple[list[int], list[str]]:
    """The engine's clustering (strongest pair first, never across two verified
    identifiers) with the reviewers' decisions: their matches joined first, and no join
    that would put two records decided "not match" into one entity."""
    rid = features.column("ident").to_pylist()
    ok = features.column("ident_ok").to_pylist()
    parent = list(range(features.num_rows))
    verified: list[str | None] = [r if o else None for r, o in zip(rid, ok, strict=True)]
    tagged: dict[int, set[int]] = {i: {i} for i in decided.apart}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(a: int, b: int) -> str:
        ra, rb = find(a), find(b)
        if ra == rb:
            return "same_cluster"
        va, vb = verified[ra], verified[rb]
        if va is not None and vb is not None and va != vb:
            return "refused_two_verified_ids"
        ta, tb = tagged.get(ra, set()), tagged.get(rb, set())
        if kept_apart(decided, ta, tb):
            return "kept_apart_by_review"
        if rb < ra:
            ra, rb = rb, ra
        parent[rb] = ra
        verified[ra] = va or vb
        if ta or tb:
            tagged[ra] = ta | tb
            tagged.pop(rb, None)
        return "merged"

    for a, b in decided.must:
        join(a, b)
    left = pairs.column("unique_id_l").to_pylist()
    right = pairs.column("unique_id_r").to_pylist()
    prob = pairs.column("match_probability").to_pylist()
    out = ["review"] * len(prob)
    for i in sorted(range(len(prob)), key=lambda i: (-prob[i], left[i], right[i])):
        if prob[i] < threshold:
            break
        out[i] = join(int(left[i]), int(right[i]))
    return [find(i) for i in range(features.num_rows)], out


def review_findings(
    pairs: pa.Table,
    decisions: Sequence[str],
    index: Sequence[int],
    loaded: Loaded,
    features: pa.Table,
) -> list[ReviewFinding]:
    """The pairs left for review (``index`` maps the pairs' ids to records of the run)."""
    sources = features.column("source").to_pylist()
    rows = features.column("row").to_pylist()
    cols = pairs.select(
        ["unique_id_l", "unique_id_r", "match_probability", "match_weight", "explanation"]
    ).to_pydict()

    def ref(i: int) -> RecordRef:
        return RecordRef(sources[i], loaded.versions[i], rows[i], loaded.digests[i])

    out: dict[tuple[tuple[str, str], tuple[str, str]], ReviewFinding] = {}
    for k, decision in enumerate(decisions):
        if decision != "review":
            continue
        a, b = ref(index[int(cols["unique_id_l"][k])]), ref(index[int(cols["unique_id_r"][k])])
        if b.key < a.key:
            a, b = b, a
        if a.key == b.key:
            continue  # duplicate rows of one source: not a question for a person
        out.setdefault(
            (a.key, b.key),
            ReviewFinding(
                a,
                b,
                float(cols["match_probability"][k]),
                float(cols["match_weight"][k] or 0.0),
                str(cols["explanation"][k] or ""),
            ),
        )
    return list(out.values())
