"""A library run, computed: member versions in, entities, memberships, events and conflicts
out. No database here; ``service`` reads the definitions and writes the results.

**Full run** (``full_run``): every record of every member's current version is linked by
the engine (``linkage.link``). Entity IDs stay stable across runs: each new cluster takes
the ID of the previous run's entity that shares the most of its records (records compared
by member and digest of their mapped values; each previous ID is given once, to its
largest overlap); a cluster sharing nothing gets a fresh ID (``P``/``E`` + 16 hex digits
of a hash of its anchor record's member, version and row).

**Incremental run** (``incremental_run``): the records of members whose version did not
change keep their entity. In a changed member's new version a record whose digest was there
before keeps its entity too; the others are *new* (a record whose mapped values changed
counts as removed and new), and the previous records left over are *removed*. Only the new
records and the records sharing a blocking key with one of them are linked by the engine;
each pair at or above the threshold with a new record on one side then joins a new record
to an entity, or to another new record, strongest first, never across two different
verified identifiers (the engine's cannot-link). A new record joining two existing entities
merges them: the entity with more records keeps its ID (ties: the smaller ID) and the merge
is recorded with the pair that caused it. A changed record that lands in another entity is
recorded as a split of its old one; an entity left without records is retired. Existing
clusters are not re-clustered, so a removed record that alone held an entity together does
not split it until the next full run.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.lake.readers import text_value
from shuzhi.masterdata.features import build_features
from shuzhi.masterdata.golden import GoldenRecord, attributes, golden_records
from shuzhi.masterdata.linkage import (
    LinkOptions,
    block_keys,
    connect,
    entity_ids,
    link,
    rules,
)
from shuzhi.masterdata.sources import SourceRecord


@dataclass(frozen=True)
class MemberVersion:
    """A member's current version as the run reads it."""

    resource_code: str
    unit_id: int
    rank: int
    number: int
    loaded_at: str
    path: Path
    mapping: Mapping[str, str]  # field → column


@dataclass(frozen=True)
class PreviousRecord:
    """A record as the previous run assigned it."""

    resource_code: str
    version: int
    row: int
    digest: str
    entity_id: str


@dataclass(frozen=True)
class Event:
    kind: str  # created, merged, split, retired
    entity_id: str
    others: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class ConflictFinding:
    """A golden-record conflict charged to one member record."""

    entity_id: str
    attribute: str
    kind: str  # values_differ, id_check_failed, id_malformed
    resource_code: str
    row: int
    digest: str
    value: str
    golden: str


@dataclass(frozen=True)
class RecordRef:
    """One record of a pair: member, version, 1-based row and digest of its mapped values."""

    resource_code: str
    version: int
    row: int
    digest: str

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the record across runs (its member and mapped values)."""
        return (self.resource_code, self.digest)


@dataclass(frozen=True)
class ReviewFinding:
    """A pair the engine scored between the review and the match threshold, left to a
    person: the two records (ordered by key), the probability, the match weight and the
    per-comparison explanation."""

    left: RecordRef
    right: RecordRef
    probability: float
    weight: float
    explanation: str


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision on a pair of records (by ``RecordRef.key``): ``match`` forces
    them into one entity, otherwise they are kept apart."""

    left: tuple[str, str]
    right: tuple[str, str]
    match: bool


@dataclass
class RunResult:
    kind: str
    features: pa.Table
    versions: list[int]  # per record: the member version it was read from
    digests: list[str]  # per record
    entity: list[str]  # per record
    golden: list[GoldenRecord]
    conflicts: list[ConflictFinding]
    events: list[Event]
    records_linked: int
    links: int
    review_pairs: int
    model: dict[str, Any]
    report: dict[str, Any] = field(default_factory=dict)
    review: list[ReviewFinding] = field(default_factory=list)


def digest(fields: Mapping[str, str | None]) -> str:
    """The record's mapped values, hashed (what tells a changed record from an unchanged one)."""
    text = "\x1e".join(f"{k}\x1f{v if v is not None else ''}" for k, v in sorted(fields.items()))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def read_member(member: MemberVersion) -> list[SourceRecord]:
    """The mapped fields of every row of a member's version (row = 1-based)."""
    table = pq.read_table(member.path, columns=sorted(set(member.mapping.values())))
    columns = {f: table.column(c).to_pylist() for f, c in member.mapping.items()}
    return [
        SourceRecord(member.resource_code, i + 1, {f: text_value(v[i]) for f, v in columns.items()})
        for i in range(table.num_rows)
    ]


def _prefix(kind: str) -> str:
    return "E" if kind == "legal_entity" else "P"


def fresh_id(kind: str, resource_code: str, version: int, row: int) -> str:
    text = f"{resource_code}\x1f{version}\x1f{row}"
    return _prefix(kind) + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass
class _Loaded:
    records: list[SourceRecord]
    versions: list[int]
    digests: list[str]
    rank: dict[str, int]


def _load(members: Sequence[MemberVersion]) -> _Loaded:
    records: list[SourceRecord] = []
    versions: list[int] = []
    for m in sorted(members, key=lambda m: (m.rank, m.resource_code)):
        rows = read_member(m)
        records += rows
        versions += [m.number] * len(rows)
    return _Loaded(
        records,
        versions,
        [digest(r.fields) for r in records],
        {m.resource_code: m.rank for m in members},
    )


def features_with_cache(
    kind: str, loaded: _Loaded, cached: pa.Table | None
) -> tuple[pa.Table, int]:
    """The feature table of ``loaded``: rows of records the cache holds (same member and
    digest) are taken from it, the others normalised; returns it and how many records were
    normalised. ``cached`` is a previous run's table with ``digest`` and ``version``."""
    columns = build_features([], kind=kind).column_names
    if cached is None or cached.num_rows == 0 or not set(columns) <= set(cached.column_names):
        # Nothing cached, or a cache from before a feature column was added: normalise all.
        return build_features(loaded.records, kind=kind), len(loaded.records)
    pool: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (s, d) in enumerate(
        zip(cached.column("source").to_pylist(), cached.column("digest").to_pylist(), strict=True)
    ):
        pool[(s, d)].append(i)
    reuse: list[int] = []
    fresh: list[SourceRecord] = []
    order: list[tuple[bool, int]] = []  # (from cache, index in its part)
    for record, dg in zip(loaded.records, loaded.digests, strict=True):
        found = pool.get((record.source, dg))
        if found:
            order.append((True, len(reuse)))
            reuse.append(found.pop())
        else:
            order.append((False, len(fresh)))
            fresh.append(record)
    built = build_features(fresh, kind=kind)
    kept = cached.select(built.column_names).take(pa.array(reuse, pa.int64()))
    both = pa.concat_tables([kept.cast(built.schema), built])
    offset = len(reuse)
    table = both.take(pa.array([i if c else offset + i for c, i in order], pa.int64()))
    rows = [r.row for r in loaded.records]
    table = table.set_column(table.column_names.index("row"), "row", pa.array(rows, pa.int64()))
    table = table.set_column(
        table.column_names.index("unique_id"),
        "unique_id",
        pa.array(range(table.num_rows), pa.int64()),
    )
    return table.combine_chunks(), len(fresh)


def cache_table(result: RunResult) -> pa.Table:
    """What the next incremental run reuses: the features with each record's digest and
    version."""
    return result.features.append_column(
        "digest", pa.array(result.digests, pa.string())
    ).append_column("version", pa.array(result.versions, pa.int64()))


def _finish(
    kind: str,
    loaded: _Loaded,
    features: pa.Table,
    entity: list[str],
    events: list[Event],
    records_linked: int,
    links: int,
    review_pairs: int,
    model: dict[str, Any],
    report: dict[str, Any],
) -> RunResult:
    ranking = [s for s, _ in sorted(loaded.rank.items(), key=lambda kv: (kv[1], kv[0]))]
    by_attribute = {a: ranking for a in attributes(kind)}
    golden, _conflicts = golden_records(features, entity, by_attribute, kind)
    conflicts = find_conflicts(kind, features, entity, golden, loaded.digests)
    return RunResult(
        kind,
        features,
        loaded.versions,
        loaded.digests,
        entity,
        golden,
        conflicts,
        events,
        records_linked,
        links,
        review_pairs,
        model,
        report,
    )


def _options(threshold: float) -> LinkOptions:
    return LinkOptions(threshold=threshold)


@dataclass
class _Decided:
    """Reviewers' decisions as record indices: pairs to join, partners to keep apart."""

    must: list[tuple[int, int]] = field(default_factory=list)
    apart: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))


def _index_decisions(
    decisions: Sequence[Decision], sources: Sequence[str], digests: Sequence[str]
) -> _Decided:
    """The decisions whose two records are both in this run (a record that changed is a
    new record: a decision on its old values no longer applies)."""
    at: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, key in enumerate(zip(sources, digests, strict=True)):
        at[key].append(i)
    out = _Decided()
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


def _kept_apart(decided: _Decided, tagged_a: set[int], tagged_b: set[int]) -> bool:
    return any(decided.apart.get(x, set()) & tagged_b for x in tagged_a)


def _cluster_with_decisions(
    features: pa.Table, pairs: pa.Table, threshold: float, decided: _Decided
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
        if _kept_apart(decided, ta, tb):
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


def _review_findings(
    pairs: pa.Table,
    decisions: Sequence[str],
    index: Sequence[int],
    loaded: _Loaded,
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
    loaded = _load(members)
    features = build_features(loaded.records, kind=kind)
    linkage = link(features, loaded.rank, _options(threshold), kind=kind)
    decided = _index_decisions(decisions, features.column("source").to_pylist(), loaded.digests)
    assigned = linkage.entity
    decisions_made = linkage.pairs.column("decision").to_pylist()
    if decided.must or decided.apart:
        roots, decisions_made = _cluster_with_decisions(features, linkage.pairs, threshold, decided)
        assigned = entity_ids(features, roots, loaded.rank, _prefix(kind))
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
            name = _prefix(kind) + hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
        names[cluster] = name
        taken.add(name)
        events.append(Event("created", name, (), f"full run: {len(idx)} records"))
    for old in sorted(previous_ids - taken):
        events.append(Event("retired", old, (), "full run: its records now belong elsewhere"))
    entity = [names[e] for e in assigned]
    review = _review_findings(
        linkage.pairs, decisions_made, range(features.num_rows), loaded, features
    )
    result = _finish(
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


class _Union:
    """Union–find over existing entities and new records, refusing two verified IDs."""

    def __init__(self, decided: _Decided | None = None) -> None:
        self.parent: dict[str, str] = {}
        self.verified: dict[str, str | None] = {}
        self.size: dict[str, int] = {}
        self.decided = decided or _Decided()
        self.tagged: dict[str, set[int]] = {}  # records under a "not match" decision

    def add(
        self, node: str, verified: str | None, size: int, tagged: frozenset[int] = frozenset()
    ) -> None:
        if node not in self.parent:
            self.parent[node], self.verified[node], self.size[node] = node, verified, size
            if tagged:
                self.tagged[node] = set(tagged)

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> bool | None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        va, vb = self.verified[ra], self.verified[rb]
        if va is not None and vb is not None and va != vb:
            return False
        ta, tb = self.tagged.get(ra, set()), self.tagged.get(rb, set())
        if _kept_apart(self.decided, ta, tb):
            return False

        # An existing entity always survives a new record; then the larger, then the larger ID.
        def rank(r: str) -> tuple[bool, int, str]:
            return (not r.startswith("#"), self.size[r], r)

        if rank(rb) > rank(ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.verified[ra] = va or vb
        self.size[ra] += self.size[rb]
        if ta or tb:
            self.tagged[ra] = ta | tb
            self.tagged.pop(rb, None)
        return True


def _neighbourhood(kind: str, features: pa.Table, new: list[int], max_block: int) -> list[int]:
    """The new records and every record sharing a (bounded) blocking key with one."""
    with tempfile.TemporaryDirectory(prefix="shuzhi-delta-") as spill:
        con = connect(LinkOptions(), spill)
        try:
            table, _ = block_keys(con, features, max_block, kind)
            con.register("delta_ids", pa.table({"uid": pa.array(new, pa.int64())}))
            con.execute(
                "CREATE TABLE delta AS SELECT r.* FROM records r"
                " JOIN delta_ids d ON r.unique_id = d.uid"
            ).fetchall()
            parts = [
                f"SELECT r.unique_id FROM {table} r JOIN delta d ON r.{k} = d.{k}"
                for k in rules(kind)
            ]
            found = con.execute(" UNION ".join(parts)).fetchall()
        finally:
            con.close()
    return sorted({int(r[0]) for r in found} | set(new))


def incremental_run(
    kind: str,
    members: Sequence[MemberVersion],
    previous: Sequence[PreviousRecord],
    threshold: float = 0.99,
    cached: pa.Table | None = None,
    decisions: Sequence[Decision] = (),
) -> RunResult:
    """Link only new and changed records against the previous run's entities (``cached``:
    the previous run's ``cache_table``, so that only records it lacks are normalised).

    The reviewers' ``decisions`` hold here too: a "match" joins the two records' entities
    (merging two existing ones, recorded with the decision as reason), a "not match" refuses
    every join that would put its two records into one entity."""
    loaded = _load(members)
    features, normalised = features_with_cache(kind, loaded, cached)
    n = features.num_rows
    sources = features.column("source").to_pylist()
    rows = features.column("row").to_pylist()
    # Previous records by member: unchanged version → by row; changed → by digest.
    old_by_member: dict[str, list[PreviousRecord]] = defaultdict(list)
    for p in previous:
        old_by_member[p.resource_code].append(p)
    version_of = {m.resource_code: m.number for m in members}
    entity: list[str | None] = [None] * n
    removed: list[PreviousRecord] = []
    by_member_rows: dict[str, list[int]] = defaultdict(list)
    for i in range(n):
        by_member_rows[sources[i]].append(i)
    for code, olds in old_by_member.items():
        idx = by_member_rows.get(code, [])
        if olds and olds[0].version == version_of.get(code) and len(olds) == len(idx):
            at_row = {p.row: p for p in olds}
            for i in idx:
                kept = at_row.get(rows[i])
                if kept is not None and kept.digest == loaded.digests[i]:
                    entity[i] = kept.entity_id
            continue
        pool: dict[str, list[PreviousRecord]] = defaultdict(list)
        for p in sorted(olds, key=lambda p: -p.row):
            pool[p.digest].append(p)
        for i in idx:
            same = pool.get(loaded.digests[i])
            if same:
                entity[i] = same.pop().entity_id
        removed += [p for ps in pool.values() for p in ps]
    new = [i for i in range(n) if entity[i] is None]
    previous_ids = {p.entity_id for p in previous}
    sizes = Counter(e for e in entity if e is not None)
    events: list[Event] = []
    links = review = linked = 0
    model: dict[str, Any] = {}
    ident = features.column("ident").to_pylist()
    ident_ok = features.column("ident_ok").to_pylist()
    decided = _index_decisions(decisions, sources, loaded.digests)
    review_found: list[ReviewFinding] = []
    if new or decided.must:
        subset = (
            _neighbourhood(kind, features, new, _options(threshold).max_block_size) if new else []
        )
        linked = len(subset)
        sub = features.take(pa.array(subset, pa.int64()))
        sub = sub.set_column(
            sub.column_names.index("unique_id"),
            "unique_id",
            pa.array(range(len(subset)), pa.int64()),
        )
        scored = pa.table(
            {
                "unique_id_l": pa.array([], pa.int64()),
                "unique_id_r": pa.array([], pa.int64()),
                "match_probability": pa.array([], pa.float64()),
            }
        )
        if new:
            linkage = link(sub, loaded.rank, _options(threshold), kind=kind)
            model = {"splink": linkage.stats.get("model"), "trained": linkage.trained}
            review_found = _review_findings(
                linkage.pairs,
                linkage.pairs.column("decision").to_pylist(),
                subset,
                loaded,
                features,
            )
            review = len(review_found)
            scored = linkage.pairs
        union = _Union(decided)
        verified: dict[str, str | None] = {}
        tags: dict[str, set[int]] = defaultdict(set)
        for i in range(n):
            if entity[i] is not None and ident_ok[i]:
                verified.setdefault(str(entity[i]), ident[i])
            if i in decided.apart:
                tags[str(entity[i]) if entity[i] is not None else f"#{i}"].add(i)
        for e, size in sizes.items():
            union.add(e, verified.get(e), size, frozenset(tags.get(e, ())))
        for i in new:
            union.add(
                f"#{i}", ident[i] if ident_ok[i] else None, 1, frozenset(tags.get(f"#{i}", ()))
            )
        node = [str(entity[g]) if entity[g] is not None else f"#{g}" for g in subset]
        merges: list[tuple[str, str, str]] = []  # (surviving, absorbed, why)
        for a, b in decided.must:
            na = str(entity[a]) if entity[a] is not None else f"#{a}"
            nb = str(entity[b]) if entity[b] is not None else f"#{b}"
            ra, rb = union.find(na), union.find(nb)
            if union.join(na, nb):
                links += 1
                if not ra.startswith("#") and not rb.startswith("#"):
                    winner = union.find(ra)
                    loser = rb if winner == ra else ra
                    merges.append(
                        (
                            winner,
                            loser,
                            f"{sources[a]}:{rows[a]} and {sources[b]}:{rows[b]}"
                            " (decided a match in review)",
                        )
                    )
        pairs = scored.select(["unique_id_l", "unique_id_r", "match_probability"])
        cols = pairs.to_pydict()
        order = sorted(
            range(pairs.num_rows),
            key=lambda k: (
                -cols["match_probability"][k],
                cols["unique_id_l"][k],
                cols["unique_id_r"][k],
            ),
        )
        for k in order:
            p = cols["match_probability"][k]
            if p < threshold:
                break
            a, b = int(cols["unique_id_l"][k]), int(cols["unique_id_r"][k])
            if entity[subset[a]] is not None and entity[subset[b]] is not None:
                continue  # two existing records: their clusters are not revisited
            ra, rb = union.find(node[a]), union.find(node[b])
            joined = union.join(node[a], node[b])
            if joined:
                links += 1
                if not ra.startswith("#") and not rb.startswith("#"):
                    g = subset[a] if entity[subset[a]] is None else subset[b]
                    winner = union.find(ra)
                    loser = rb if winner == ra else ra
                    merges.append((winner, loser, f"new record {sources[g]}:{rows[g]} (p={p:.4f})"))
        # Name every group: an existing entity keeps its ID; new-only groups get fresh IDs.
        groups: dict[str, list[int]] = defaultdict(list)
        for i in new:
            groups[union.find(f"#{i}")].append(i)
        for root, idx in sorted(groups.items()):
            if not root.startswith("#"):
                for i in idx:
                    entity[i] = root
                continue
            anchor = min(idx, key=lambda i: (loaded.rank.get(sources[i], 0), sources[i], rows[i]))
            name = fresh_id(kind, sources[anchor], loaded.versions[anchor], rows[anchor])
            while name in sizes or name in previous_ids:
                name = _prefix(kind) + hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
            previous_ids.add(name)
            for i in idx:
                entity[i] = name
            events.append(Event("created", name, (), f"{len(idx)} new records"))
        remap = {e: union.find(e) for e in sizes}
        entity = [remap.get(e, e) if e is not None else None for e in entity]
        for winner, loser, why in merges:
            survivor = union.find(winner)
            events.append(Event("merged", survivor, (loser,), f"{why} links them"))
            events.append(Event("retired", loser, (survivor,), f"merged into {survivor}: {why}"))
    # Changed records that moved, entities left empty.
    final = Counter(entity)
    new_at = {(sources[i], rows[i]): i for i in new}
    for p in removed:
        moved = new_at.get((p.resource_code, p.row))
        if moved is not None and entity[moved] != p.entity_id:
            events.append(
                Event(
                    "split",
                    p.entity_id,
                    (str(entity[moved]),),
                    f"record {p.resource_code}:{p.row} changed in version"
                    f" {version_of.get(p.resource_code)} and moved to {entity[moved]}",
                )
            )
    retired_already = {e.entity_id for e in events if e.kind == "retired"}
    for e in sorted({p.entity_id for p in removed}):
        if final[e] == 0 and e not in retired_already:
            events.append(Event("retired", e, (), "all its records were removed or changed"))
    assigned = [str(e) for e in entity]
    report = {
        "new_records": len(new),
        "removed_records": len(removed),
        "records_normalised": normalised,
    }
    result = _finish(kind, loaded, features, assigned, events, linked, links, review, model, report)
    result.review = review_found
    return result


_CATEGORY = {
    "name": "person_name",
    "resident_id": "resident_id",
    "sex": "gender",
    "birth_date": "birth_date",
    "phone": "mobile_phone",
    "address": "address",
    "uscc": "uscc",
    "org_code": "org_code",
    "legal_representative": "person_name",
    "registration_number": "none",
}


def category(kind: str, attribute: str) -> str:
    """The security category a golden attribute's values belong to (for masking)."""
    if kind == "legal_entity" and attribute == "name":
        return "none"
    return _CATEGORY.get(attribute, "none")


def find_conflicts(
    kind: str,
    features: pa.Table,
    entity: Sequence[str],
    golden: Sequence[GoldenRecord],
    digests: Sequence[str],
) -> list[ConflictFinding]:
    """Per member record: an identifying value that lost to the golden one, an identifier
    failing its check or without an identifier's shape."""
    from shuzhi.masterdata.golden import ENTITY_IDENTIFYING, IDENTIFYING

    identifying = ENTITY_IDENTIFYING if kind == "legal_entity" else IDENTIFYING
    id_attribute = "uscc" if kind == "legal_entity" else "resident_id"
    cols = features.select(
        ["source", "row", "id_state", "id_raw", *(f"g_{a}" for a in identifying)]
    ).to_pydict()
    by_entity = {g.entity_id: g for g in golden}
    out: list[ConflictFinding] = []
    for i, e in enumerate(entity):
        g = by_entity[e]
        for a in identifying:
            value = cols[f"g_{a}"][i]
            chosen = g.values[a]
            if value is None or chosen.value is None or value == chosen.value:
                continue
            out.append(
                ConflictFinding(
                    e,
                    a,
                    "values_differ",
                    cols["source"][i],
                    cols["row"][i],
                    digests[i],
                    str(value),
                    str(chosen.value),
                )
            )
        state = cols["id_state"][i]
        if state in ("check_failed", "malformed"):
            golden_id = g.values[id_attribute].value or ""
            out.append(
                ConflictFinding(
                    e,
                    id_attribute,
                    "id_check_failed" if state == "check_failed" else "id_malformed",
                    cols["source"][i],
                    cols["row"][i],
                    digests[i],
                    str(cols["id_raw"][i] or ""),
                    golden_id,
                )
            )
    return out
