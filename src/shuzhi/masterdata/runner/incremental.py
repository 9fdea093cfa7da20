"""An incremental run: the new and changed records linked by the delta engine
(``delta.link_delta``) against the previous run's entities, scored with the model of the run
that was fitted, the reviewers' decisions applied by the engine."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from shuzhi.masterdata.delta import Delta, MergeCause, RecordKey, ReviewDecisions, link_delta
from shuzhi.masterdata.linkage import settings
from shuzhi.masterdata.runner.decisions import index_decisions, link_options, review_findings
from shuzhi.masterdata.runner.finish import finish
from shuzhi.masterdata.runner.records import (
    Decision,
    Event,
    Loaded,
    MemberVersion,
    PreviousRecord,
    RunResult,
    features_with_cache,
    fresh_id,
    id_prefix,
    load_members,
)


def carry_over(
    features: pa.Table,
    digests: Sequence[str],
    members: Sequence[MemberVersion],
    previous: Sequence[PreviousRecord],
) -> tuple[list[str | None], list[PreviousRecord]]:
    """Each record's entity in the previous run (None: a new record) and the previous
    records no longer there. A member whose version did not change keeps its records by row;
    in a new version a record whose digest was there before keeps its entity."""
    sources = features.column("source").to_pylist()
    rows = features.column("row").to_pylist()
    old_by_member: dict[str, list[PreviousRecord]] = defaultdict(list)
    for p in previous:
        old_by_member[p.resource_code].append(p)
    version_of = {m.resource_code: m.number for m in members}
    entity: list[str | None] = [None] * features.num_rows
    removed: list[PreviousRecord] = []
    by_member_rows: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sources):
        by_member_rows[s].append(i)
    for code, olds in old_by_member.items():
        idx = by_member_rows.get(code, [])
        if olds and olds[0].version == version_of.get(code) and len(olds) == len(idx):
            at_row = {p.row: p for p in olds}
            for i in idx:
                kept = at_row.get(rows[i])
                if kept is not None and kept.digest == digests[i]:
                    entity[i] = kept.entity_id
                    del at_row[rows[i]]
            removed += at_row.values()  # the mapping changed: mapped values differ
            continue
        pool: dict[str, list[PreviousRecord]] = defaultdict(list)
        for p in sorted(olds, key=lambda p: -p.row):
            pool[p.digest].append(p)
        for i in idx:
            same = pool.get(digests[i])
            if same:
                entity[i] = same.pop().entity_id
        removed += [p for ps in pool.values() for p in ps]
    return entity, removed


def incremental_run(
    kind: str,
    members: Sequence[MemberVersion],
    previous: Sequence[PreviousRecord],
    threshold: float = 0.99,
    cached: pa.Table | None = None,
    decisions: Sequence[Decision] = (),
    model: Mapping[str, Any] | None = None,
) -> RunResult:
    """Link only new and changed records against the previous run's entities.

    ``cached`` is the previous run's ``cache_table`` (only the records it lacks are
    normalised); ``model`` the previous run's model (``RunResult.model``: the fitted Splink
    model under ``splink``), with which the new records are scored — without one (a
    library of fewer than two records) the starting values are used. A new record that
    was, at the same row, a record of the previous version is a *changed* record: still
    alone it keeps its entity's ID, elsewhere it is recorded as a split of its old entity.
    The reviewers' ``decisions`` hold: a "match" joins the two records' entities (merging
    two existing ones, recorded with the decision as reason), a "not match" refuses every
    join that would put its two records into one entity."""
    loaded = load_members(members)
    features, normalised = features_with_cache(kind, loaded, cached)
    n = features.num_rows
    sources = features.column("source").to_pylist()
    rows = features.column("row").to_pylist()
    entity, removed = carry_over(features, loaded.digests, members, previous)
    new = [i for i in range(n) if entity[i] is None]
    kept = [i for i in range(n) if entity[i] is not None]
    removed_at = {(p.resource_code, p.row): p.entity_id for p in removed}
    decided = index_decisions(decisions, sources, loaded.digests)

    def key(i: int) -> RecordKey:
        return (sources[i], rows[i])

    review = ReviewDecisions(
        match=[(key(a), key(b)) for a, b in decided.must],
        not_match=[(key(a), key(b)) for a, bs in decided.apart.items() for b in bs if a < b],
    )
    used = dict(model) if model and model.get("splink") else {}
    if not used:
        used = {"splink": settings(n, kind=kind), "trained": False}
    delta = link_delta(
        features.take(pa.array(kept, pa.int64())),
        [str(entity[i]) for i in kept],
        features.take(pa.array(new, pa.int64())),
        used["splink"],
        loaded.rank,
        link_options(threshold),
        kind,
        decisions=review,
        changed_from=[removed_at.get(key(i)) for i in new],
    )
    rename = _names_of_created(kind, delta, loaded, sources, rows, previous)
    for i, e in zip(kept, delta.apply([str(entity[i]) for i in kept]), strict=True):
        entity[i] = e
    for i, e in zip(new, delta.entity, strict=True):
        entity[i] = rename.get(e, e)
    assigned = [str(e) for e in entity]
    events = _events(delta, rename, assigned, previous, {key(i) for i in new}, members)
    review_found = review_findings(
        _by_index(delta.pairs, sources, rows),
        delta.pairs.column("decision").to_pylist(),
        range(n),
        loaded,
        features,
    )
    stats = delta.stats
    report = {
        "new_records": len(new),
        "removed_records": len(removed),
        "records_normalised": normalised,
        "model_from_run": used.get("fitted_in_run"),
        **{
            k: stats.get(k, 0)
            for k in (
                "pairs_scored",
                "merges",
                "moved",
                "refused_two_verified_ids",
                "kept_apart_by_review",
                "matches_by_review",
                "oversized_blocks",
            )
        },
        "link_cpu_s": stats.get("cpu_s", 0.0),
    }
    links = int(stats.get("pairs_merged", 0)) + int(stats.get("matches_by_review", 0))
    result = finish(
        kind, loaded, features, assigned, events, len(new), links, len(review_found), used, report
    )
    result.review = review_found
    return result


def _names_of_created(
    kind: str,
    delta: Delta,
    loaded: Loaded,
    sources: Sequence[str],
    rows: Sequence[int],
    previous: Sequence[PreviousRecord],
) -> dict[str, str]:
    """A new entity is named as a full run names one: after its anchor's member, version and
    row, never an ID the previous run or this one already uses."""
    anchors = set(delta.created.values())
    at = {
        (s, r): i for i, (s, r) in enumerate(zip(sources, rows, strict=True)) if (s, r) in anchors
    }
    taken = {p.entity_id for p in previous} | set(delta.merges.values()) | set(delta.entity)
    rename: dict[str, str] = {}
    for created, (s, r) in sorted(delta.created.items(), key=lambda kv: kv[1]):
        name = fresh_id(kind, s, loaded.versions[at[(s, r)]], r)
        while name in taken:
            name = id_prefix(kind) + hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
        taken.add(name)
        rename[created] = name
    return rename


def _why(cause: MergeCause | None, new: set[RecordKey]) -> str:
    if cause is None:
        return "a new record"

    def record(k: RecordKey) -> str:
        return f"{'new record' if k in new else 'record'} {k[0]}:{k[1]}"

    if cause.probability is None:
        return f"{record(cause.left)} and {record(cause.right)} (decided a match in review)"
    return f"{record(cause.left)} and {record(cause.right)} (p={cause.probability:.4f})"


def _events(
    delta: Delta,
    rename: Mapping[str, str],
    assigned: Sequence[str],
    previous: Sequence[PreviousRecord],
    new: set[RecordKey],
    members: Sequence[MemberVersion],
) -> list[Event]:
    """Created, merged (with the join that caused it), split (a changed record that moved)
    and retired entities."""
    counts = Counter(assigned)
    events = [
        Event("created", rename.get(e, e), (), f"{counts[rename.get(e, e)]} new records")
        for e in sorted(delta.created, key=lambda e: rename.get(e, e))
    ]
    retired: set[str] = set()
    for absorbed, survivor in sorted(delta.merges.items()):
        why = _why(delta.causes.get(absorbed), new)
        events.append(Event("merged", survivor, (absorbed,), f"{why} links them"))
        events.append(Event("retired", absorbed, (survivor,), f"merged into {survivor}: {why}"))
        retired.add(absorbed)
    version_of = {m.resource_code: m.number for m in members}
    for s, r, old, moved_to in delta.moved:
        to = rename.get(moved_to, moved_to)
        events.append(
            Event(
                "split",
                old,
                (to,),
                f"record {s}:{r} changed in version {version_of.get(s)} and moved to {to}",
            )
        )
    for e in sorted({p.entity_id for p in previous} - set(counts) - retired):
        events.append(Event("retired", e, (), "all its records were removed or changed"))
    return events


def _by_index(pairs: pa.Table, sources: Sequence[str], rows: Sequence[int]) -> pa.Table:
    """The delta's pairs with their records as indices of the run's records."""
    wanted = set(
        zip(pairs.column("source_l").to_pylist(), pairs.column("row_l").to_pylist(), strict=True)
    ) | set(
        zip(pairs.column("source_r").to_pylist(), pairs.column("row_r").to_pylist(), strict=True)
    )
    at = {(s, r): i for i, (s, r) in enumerate(zip(sources, rows, strict=True)) if (s, r) in wanted}

    def side(suffix: str) -> pa.Array:
        keys = zip(
            pairs.column(f"source_{suffix}").to_pylist(),
            pairs.column(f"row_{suffix}").to_pylist(),
            strict=True,
        )
        return pa.array([at[k] for k in keys], pa.int64())

    return pairs.append_column("unique_id_l", side("l")).append_column("unique_id_r", side("r"))
