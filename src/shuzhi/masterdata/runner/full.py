"""A full run: every record of every member linked; entity IDs carried over from the
previous run by overlap."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence

from shuzhi.masterdata.features import build_features
from shuzhi.masterdata.linkage import entity_ids, link
from shuzhi.masterdata.runner.decisions import (
    cluster_with_decisions,
    index_decisions,
    link_options,
    review_findings,
)
from shuzhi.masterdata.runner.finish import finish
from shuzhi.masterdata.runner.records import (
    Decision,
    Event,
    MemberVersion,
    PreviousRecord,
    RunResult,
    fresh_id,
    id_prefix,
    load_members,
)


def full_run(
    kind: str,
    members: Sequence[MemberVersion],
    previous: Sequence[PreviousRecord] = (),
    threshold: float = 0.99,
    decisions: Sequence[Decision] = (),
) -> RunResult:
    """Link every record of every member; IDs carried over from ``previous`` by overlap;
    the reviewers' ``decisions`` applied (their matches joined, their non-matches kept
    apart)."""
    loaded = load_members(members)
    features = build_features(loaded.records, kind=kind)
    linkage = link(features, loaded.rank, link_options(threshold), kind=kind)
    decided = index_decisions(decisions, features.column("source").to_pylist(), loaded.digests)
    assigned = linkage.entity
    decisions_made = linkage.pairs.column("decision").to_pylist()
    if decided.must or decided.apart:
        roots, decisions_made = cluster_with_decisions(features, linkage.pairs, threshold, decided)
        assigned = entity_ids(features, roots, loaded.rank, id_prefix(kind))
    clusters: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(assigned):
        clusters[e].append(i)
    before: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in previous:
        before[(p.resource_code, p.digest)].append(p.entity_id)
    sources = features.column("source").to_pylist()
    rows = features.column("row").to_pylist()
    overlap: Counter[tuple[str, str]] = Counter()  # (cluster, previous id) → shared records
    for cluster, idx in clusters.items():
        for i in idx:
            pool = before.get((sources[i], loaded.digests[i]))
            if pool:
                overlap[(cluster, pool.pop())] += 1
    names: dict[str, str] = {}
    taken: set[str] = set()
    for (cluster, old), _n in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
        if cluster not in names and old not in taken:
            names[cluster] = old
            taken.add(old)
    previous_ids = {p.entity_id for p in previous}
    events: list[Event] = []
    for cluster, idx in sorted(clusters.items()):
        if cluster in names:
            continue
        anchor = min(idx, key=lambda i: (loaded.rank.get(sources[i], 0), sources[i], rows[i]))
        name = fresh_id(kind, sources[anchor], loaded.versions[anchor], rows[anchor])
        while name in previous_ids or name in taken:
            name = id_prefix(kind) + hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
        names[cluster] = name
        taken.add(name)
        events.append(Event("created", name, (), f"full run: {len(idx)} records"))
    for old in sorted(previous_ids - taken):
        events.append(Event("retired", old, (), "full run: its records now belong elsewhere"))
    entity = [names[e] for e in assigned]
    review = review_findings(
        linkage.pairs, decisions_made, range(features.num_rows), loaded, features
    )
    result = finish(
        kind,
        loaded,
        features,
        entity,
        events,
        features.num_rows,
        decisions_made.count("merged"),
        len(review),
        {"splink": linkage.stats.get("model"), "trained": linkage.trained},
        {
            "oversized_blocks": len(linkage.oversized),
            "refused_two_verified_ids": decisions_made.count("refused_two_verified_ids"),
            "kept_apart_by_review": decisions_made.count("kept_apart_by_review"),
            "matches_by_review": len(decided.must),
        },
    )
    result.review = review
    return result
