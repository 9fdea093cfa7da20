"""An incremental run: only new and changed records linked against the previous run's
entities."""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from shuzhi.masterdata.linkage import LinkOptions, block_keys, connect, link, rules
from shuzhi.masterdata.runner.decisions import (
    Decided,
    index_decisions,
    kept_apart,
    link_options,
    review_findings,
)
from shuzhi.masterdata.runner.finish import finish
from shuzhi.masterdata.runner.records import (
    Decision,
    Event,
    MemberVersion,
    PreviousRecord,
    ReviewFinding,
    RunResult,
    features_with_cache,
    fresh_id,
    id_prefix,
    load_members,
)


class _Union:
    """Union–find over existing entities and new records, refusing two verified IDs."""

    def __init__(self, decided: Decided | None = None) -> None:
        self.parent: dict[str, str] = {}
        self.verified: dict[str, str | None] = {}
        self.size: dict[str, int] = {}
        self.decided = decided or Decided()
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
        if kept_apart(self.decided, ta, tb):
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
    loaded = load_members(members)
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
    decided = index_decisions(decisions, sources, loaded.digests)
    review_found: list[ReviewFinding] = []
    if new or decided.must:
        subset = (
            _neighbourhood(kind, features, new, link_options(threshold).max_block_size)
            if new
            else []
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
            linkage = link(sub, loaded.rank, link_options(threshold), kind=kind)
            model = {"splink": linkage.stats.get("model"), "trained": linkage.trained}
            review_found = review_findings(
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
                name = id_prefix(kind) + hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
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
    result = finish(kind, loaded, features, assigned, events, linked, links, review, model, report)
    result.review = review_found
    return result
