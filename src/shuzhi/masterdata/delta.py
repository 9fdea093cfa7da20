"""A daily delta linked against an existing linkage, without relinking everything.

``link_delta(existing, entity, new, model)`` takes

- ``existing``: the feature table of the records already linked (``build_features``), and
  ``entity``: their entity IDs, one per row;
- ``new``: the feature table of the new and changed records (a record whose ``source`` and
  ``row`` are already in ``existing`` replaces that record);
- ``model``: the fitted model of the run that produced ``entity``
  (``Linkage.stats["model"]``), so the delta is scored as the full run scored;

and optionally ``decisions``, reviewers' decisions on pairs of records named by source and
row (a match joins the two records' entities before any scored pair; a non-match refuses
every join that would put the two records into one entity), and ``changed_from``, per new
record the entity of the record it is a changed version of when the caller has already left
that record out of ``existing`` (it is then treated as a replaced record).

The steps are those of the full run restricted to the pairs that involve a new record:
blocking keys over all records with the same skewed-block bound (a key whose block is over
``max_block_size`` in the whole library is dropped for that key), scoring of new against
existing and new against new, then clustering at entity level: the reviewers' matches first,
then the scored pairs strongest first, with the same cannot-link rule (two different
verified resident IDs never join) and the reviewers' non-matches.

What it promises: every existing entity keeps its ID unless a new record (or a reviewer's
match) proves it is the same as another entity (a **merge**: the entity with more records
keeps its ID, ties going to the one whose anchor record ranks first; the other is listed in
``merges``, and the join that made them one in ``causes``); a new record joins the entity it
links to or starts an entity named as the full run names one (a hash of its anchor's source
and row; listed in ``created`` with that anchor); a changed record that now belongs
elsewhere is listed in ``moved`` (the entity it left keeps its ID and its other members; one
left with no member is listed in ``emptied``), and a changed record still alone keeps the ID
of the entity it was all of. What it does not do: re-estimate the model, or split an existing
entity whose members only held together through the changed record (a full run does both).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.errors import Invalid
from shuzhi.masterdata.features import ENTITY_KEY_COLUMNS, KEY_COLUMNS
from shuzhi.masterdata.linkage import LinkOptions, _run, block_keys, connect, explain, rules

RecordKey = tuple[str, int]  # (source, row)


@dataclass(frozen=True)
class ReviewDecisions:
    """Reviewers' decisions on pairs of records, each record named by its source and row."""

    match: Sequence[tuple[RecordKey, RecordKey]] = ()
    not_match: Sequence[tuple[RecordKey, RecordKey]] = ()


@dataclass(frozen=True)
class MergeCause:
    """The join that made an absorbed entity one with the entity that survives: two records
    and their pair's match probability (None: a reviewer decided the two a match)."""

    left: RecordKey
    right: RecordKey
    probability: float | None


@dataclass
class Delta:
    """What a delta run decided. ``entity`` is one ID per row of ``new``."""

    entity: list[str]
    merges: dict[str, str]  # absorbed entity ID → the ID that survives
    moved: list[tuple[str, int, str, str]]  # (source, row, old entity ID, new entity ID)
    emptied: list[str]  # entity IDs left with no member (their only record moved)
    # Pairs scored at or above the review threshold: both records (source, row), match
    # probability and weight, the decision and the per-comparison explanation.
    pairs: pa.Table
    refused: int  # joins refused across two different verified resident IDs
    stats: dict[str, Any] = field(default_factory=dict)
    causes: dict[str, MergeCause] = field(default_factory=dict)  # absorbed ID → why
    created: dict[str, RecordKey] = field(default_factory=dict)  # new entity ID → its anchor

    def apply(self, entity: Sequence[str]) -> list[str]:
        """The existing records' IDs after the merges."""
        return [self.merges.get(e, e) for e in entity]


def _columns(kind: str) -> list[str]:
    keys = ENTITY_KEY_COLUMNS if kind == "legal_entity" else KEY_COLUMNS
    return ["unique_id", "source", "row", *keys, "ident_ok"]


def _anchor_id(prefix: str, source: str, row: int, salt: int = 0) -> str:
    text = f"{source}\x1f{row}" + (f"\x1f{salt}" if salt else "")
    return prefix + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


_PAIRS = pa.schema(
    [
        ("source_l", pa.string()),
        ("row_l", pa.int64()),
        ("source_r", pa.string()),
        ("row_r", pa.int64()),
        ("match_probability", pa.float64()),
        ("match_weight", pa.float64()),
        ("decision", pa.string()),
        ("explanation", pa.string()),
    ]
)


def _unscored() -> pa.Table:
    return pa.table(
        {
            "unique_id_l": pa.array([], pa.int64()),
            "unique_id_r": pa.array([], pa.int64()),
            "match_probability": pa.array([], pa.float64()),
            "match_weight": pa.array([], pa.float64()),
        }
    )


class _Nodes:
    """Union–find over entities (existing) and new records. Each root holds the verified
    IDs of its records, its records under a reviewer's non-match and the existing entities
    it holds; a join that would hold two different verified IDs, or both records of a
    non-match, is refused. Every join of two roots that both hold existing entities is
    kept with its cause: it is why one of them was merged into the other."""

    def __init__(
        self,
        verified: list[frozenset[str]],
        entities: int,
        apart: Mapping[int, set[int]],
        tags: dict[int, set[int]],
    ) -> None:
        self.parent = list(range(len(verified)))
        self.verified = verified
        self.apart = apart  # record → the records it must not share an entity with
        self.tags = tags  # root → its records that have such a partner
        self.olds: dict[int, set[int]] = {n: {n} for n in range(entities)}
        self.merges: list[tuple[frozenset[int], frozenset[int], int]] = []

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: int, b: int, cause: int) -> str:
        """The decision: merged, same_cluster, refused_two_verified_ids or
        kept_apart_by_review."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return "same_cluster"
        both = self.verified[ra] | self.verified[rb]
        if len(both) > 1:
            return "refused_two_verified_ids"
        ta, tb = self.tags.get(ra), self.tags.get(rb)
        if ta and tb and any(self.apart[x] & tb for x in ta):
            return "kept_apart_by_review"
        if rb < ra:
            ra, rb = rb, ra
            ta, tb = tb, ta
        self.parent[rb] = ra
        self.verified[ra] = both
        if tb:
            self.tags[ra] = (ta or set()) | self.tags.pop(rb)
        held, joining = self.olds.get(ra), self.olds.pop(rb, None)
        if joining:
            if held:
                self.merges.append((frozenset(held), frozenset(joining), cause))
                held |= joining
            else:
                self.olds[ra] = joining
        return "merged"


def link_delta(
    existing: pa.Table,
    entity: Sequence[str],
    new: pa.Table,
    model: Mapping[str, Any],
    source_rank: Mapping[str, int] | None = None,
    options: LinkOptions | None = None,
    kind: str = "person",
    *,
    decisions: ReviewDecisions | None = None,
    changed_from: Sequence[str | None] | None = None,
) -> Delta:
    """Link ``new`` against ``existing`` (whose records belong to ``entity``)."""
    options = options or LinkOptions()
    rank = dict(source_rank or {})
    decisions = decisions or ReviewDecisions()
    if len(entity) != existing.num_rows:
        raise Invalid(
            f"实体编号数（{len(entity)}）与已有记录数（{existing.num_rows}）不一致。",
            f"{len(entity)} entity IDs for {existing.num_rows} existing records.",
        )
    if changed_from is not None and len(changed_from) != new.num_rows:
        raise Invalid(
            f"原实体编号数（{len(changed_from)}）与新记录数（{new.num_rows}）不一致。",
            f"{len(changed_from)} previous entity IDs for {new.num_rows} new records.",
        )
    if new.num_rows == 0 and not decisions.match:
        return Delta([], {}, [], [], _PAIRS.empty_table(), 0, {"new_records": 0})
    cpu = time.process_time()
    columns = _columns(kind)
    prefix = "E" if kind == "legal_entity" else "P"
    old = existing.select(columns).append_column("entity_id", pa.array(list(entity), pa.string()))
    # A new record with the source and row of an existing one replaces it.
    new_sources = new.column("source").to_pylist()
    new_rows = new.column("row").to_pylist()
    new_keys = set(zip(new_sources, new_rows, strict=True))
    sources = old.column("source").to_pylist()
    rows = old.column("row").to_pylist()
    replaced = [(s, r) in new_keys for s, r in zip(sources, rows, strict=True)]
    previous: dict[RecordKey, str] = {}
    if any(replaced):
        for i, gone in enumerate(replaced):
            if gone:
                previous[(sources[i], rows[i])] = entity[i]
        old = old.filter(pc.invert(pa.array(replaced)))
    for s, r, e in zip(new_sources, new_rows, changed_from or (), strict=False):
        if e is not None:
            previous.setdefault((s, r), e)
    first_new = int(max(existing.column("unique_id").to_pylist(), default=-1)) + 1
    fresh = new.select(columns).set_column(
        0, "unique_id", pa.array(range(first_new, first_new + new.num_rows), pa.int64())
    )
    fresh = fresh.append_column("entity_id", pa.nulls(new.num_rows, pa.string()))
    pairs, oversized = _unscored(), 0
    if fresh.num_rows:
        with tempfile.TemporaryDirectory(prefix="shuzhi-delta-") as spill:
            con = connect(options, spill)
            try:
                table, blocks = block_keys(
                    con, pa.concat_tables([old, fresh]), options.max_block_size, kind
                )
                pairs, oversized = _score(con, table, first_new, model, options, kind), len(blocks)
            finally:
                con.close()
    clustering = _Clustering(old, fresh, previous, rank, prefix, decisions)
    delta = clustering.run(pairs, options.threshold, kind, oversized, time.process_time() - cpu)
    delta.stats["existing_records"] = existing.num_rows
    return delta


def _score(
    con: Any, table: str, first_new: int, model: Mapping[str, Any], options: LinkOptions, kind: str
) -> pa.Table:
    """Pairs new × existing and new × new at or above the review threshold, with the
    per-comparison levels and weights an explanation is made of."""
    from splink import DuckDBAPI, Linker

    _run(con, f"CREATE TABLE delta_old AS SELECT * FROM {table} WHERE unique_id < {first_new}")
    _run(con, f"CREATE TABLE delta_new AS SELECT * FROM {table} WHERE unique_id >= {first_new}")
    counts = con.execute(
        "SELECT (SELECT count(*) FROM delta_old), (SELECT count(*) FROM delta_new)"
    ).fetchall()[0]
    db_api = DuckDBAPI(connection=con)
    settings = dict(model)
    settings["blocking_rules_to_generate_predictions"] = [f'l."{k}" = r."{k}"' for k in rules(kind)]
    linker = Linker(db_api.register(table), settings)
    for comparison in settings.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            column = level.get("tf_adjustment_column")
            if column:
                linker.table_management.compute_tf_table(column)
    left, right = db_api.register("delta_old"), db_api.register("delta_new")
    threshold = options.review_threshold
    found = []
    if counts[0]:
        found.append(
            linker.inference.predict_between(left, right, threshold_match_probability=threshold)
        )
    if counts[1] >= 2:
        found.append(linker.inference.predict_within(right, threshold_match_probability=threshold))
    parts = [df.as_pyarrow_table() for df in found]  # type: ignore[no-untyped-call]
    if not parts:
        return _unscored()
    keep = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
    keep += [c for c in parts[0].column_names if c.startswith(("gamma_", "mw_"))]
    return pa.concat_tables([p.select(keep) for p in parts])


class _Clustering:
    """Nodes 0..E-1 are the existing entities, E..E+N-1 the new records."""

    def __init__(
        self,
        old: pa.Table,
        fresh: pa.Table,
        previous: dict[RecordKey, str],
        rank: dict[str, int],
        prefix: str,
        decisions: ReviewDecisions,
    ) -> None:
        self.old, self.fresh, self.previous, self.prefix = old, fresh, previous, prefix
        unranked = len(rank)
        self.old_entity: list[str] = old.column("entity_id").to_pylist()
        self.ids = sorted(set(self.old_entity))
        self.node_of = {e: i for i, e in enumerate(self.ids)}
        verified: list[set[str]] = [set() for _ in self.ids]
        self.anchor: list[tuple[int, str, int]] = [(unranked + 1, "", 0)] * len(self.ids)
        self.size = [0] * len(self.ids)
        self.record_node: dict[int, int] = {}
        self.old_uid: list[int] = old.column("unique_id").to_pylist()
        self.old_src: list[str] = old.column("source").to_pylist()
        self.old_row: list[int] = old.column("row").to_pylist()
        wanted = {k for pair in (*decisions.match, *decisions.not_match) for k in pair}
        self.uid_at: dict[RecordKey, int] = {}
        for uid, e, s, r, ident, ok in zip(
            self.old_uid,
            self.old_entity,
            self.old_src,
            self.old_row,
            old.column("ident").to_pylist(),
            old.column("ident_ok").to_pylist(),
            strict=True,
        ):
            n = self.node_of[e]
            self.record_node[uid] = n
            self.size[n] += 1
            if ok and ident:
                verified[n].add(ident)
            key = (rank.get(s, unranked), s, r)
            if key < self.anchor[n]:
                self.anchor[n] = key
            if wanted and (s, r) in wanted:
                self.uid_at[(s, r)] = uid
        self.base = len(self.ids)
        self.new_uid: list[int] = fresh.column("unique_id").to_pylist()
        self.new_src: list[str] = fresh.column("source").to_pylist()
        self.new_row: list[int] = fresh.column("row").to_pylist()
        for j, (uid, ident, ok) in enumerate(
            zip(
                self.new_uid,
                fresh.column("ident").to_pylist(),
                fresh.column("ident_ok").to_pylist(),
                strict=True,
            )
        ):
            self.record_node[uid] = self.base + j
            self.uid_at[(self.new_src[j], self.new_row[j])] = uid
            verified.append({ident} if ok and ident else set())
            self.anchor.append(
                (rank.get(self.new_src[j], unranked), self.new_src[j], self.new_row[j])
            )
        apart: dict[int, set[int]] = defaultdict(set)
        for a, b in decisions.not_match:
            ua, ub = self.uid_at.get(a), self.uid_at.get(b)
            if ua is not None and ub is not None and ua != ub:
                apart[ua].add(ub)
                apart[ub].add(ua)
        tags: dict[int, set[int]] = {}
        for uid in apart:
            tags.setdefault(self.record_node[uid], set()).add(uid)
        self.nodes = _Nodes([frozenset(v) for v in verified], self.base, apart, tags)
        self.matches = [
            (a, b, self.uid_at[a], self.uid_at[b])
            for a, b in sorted(decisions.match)
            if a in self.uid_at and b in self.uid_at
        ]

    def run(
        self, pairs: pa.Table, threshold: float, kind: str, oversized: int, cpu_so_far: float
    ) -> Delta:
        started = time.process_time()
        nodes, record_node = self.nodes, self.record_node
        # The reviewers' matches first (causes -1, -2, …), then the pairs strongest first.
        matched = 0
        for k, (_a, _b, ua, ub) in enumerate(self.matches):
            if nodes.join(record_node[ua], record_node[ub], -1 - k) == "merged":
                matched += 1
        left = pairs.column("unique_id_l").to_pylist()
        right = pairs.column("unique_id_r").to_pylist()
        prob = pairs.column("match_probability").to_pylist()
        decisions = ["review"] * len(prob)
        for i in sorted(range(len(prob)), key=lambda i: (-prob[i], left[i], right[i])):
            if prob[i] < threshold:
                break
            decisions[i] = nodes.join(record_node[int(left[i])], record_node[int(right[i])], i)
        name, merges, created, absorbed = self._names()
        keys = self._keys({int(u) for u in (*left, *right)})
        causes: dict[str, MergeCause] = {}
        for n, keep in absorbed:
            for held, joining, cause in nodes.merges:
                if (n in held and keep in joining) or (keep in held and n in joining):
                    if cause < 0:
                        a, b, _ua, _ub = self.matches[-1 - cause]
                        causes[self.ids[n]] = MergeCause(a, b, None)
                    else:
                        l_, r_ = int(left[cause]), int(right[cause])
                        causes[self.ids[n]] = MergeCause(keys[l_], keys[r_], float(prob[cause]))
                    break
        assigned = [name[nodes.find(self.base + j)] for j in range(len(self.new_uid))]
        moved = []
        for j, e in enumerate(assigned):
            before = self.previous.get((self.new_src[j], self.new_row[j]))
            if before is not None and merges.get(before, before) != e and before != e:
                moved.append((self.new_src[j], self.new_row[j], before, e))
        left_with = set(self.old_entity)
        kept = left_with | set(assigned)
        emptied = sorted({b for b in self.previous.values() if b not in kept})
        explanation = explain(pairs, True, kind)
        out = pa.table(
            {
                "source_l": pa.array([keys[int(u)][0] for u in left], pa.string()),
                "row_l": pa.array([keys[int(u)][1] for u in left], pa.int64()),
                "source_r": pa.array([keys[int(u)][0] for u in right], pa.string()),
                "row_r": pa.array([keys[int(u)][1] for u in right], pa.int64()),
                "match_probability": pairs.column("match_probability").cast(pa.float64()),
                "match_weight": pairs.column("match_weight").cast(pa.float64()),
                "decision": pa.array(decisions, pa.string()),
                "explanation": pa.array(explanation, pa.string()),
            },
            schema=_PAIRS,
        )
        stats = {
            "new_records": self.fresh.num_rows,
            "replaced": len(self.previous),
            "existing_entities": len(self.ids),
            "entities_joined": len({e for e in assigned if e in self.node_of}),
            "new_entities": len(created),
            "merges": len(merges),
            "moved": len(moved),
            "pairs_scored": out.num_rows,
            "pairs_merged": decisions.count("merged"),
            "refused_two_verified_ids": decisions.count("refused_two_verified_ids"),
            "kept_apart_by_review": decisions.count("kept_apart_by_review"),
            "matches_by_review": matched,
            "oversized_blocks": oversized,
            "cpu_s": round(cpu_so_far + time.process_time() - started, 2),
        }
        refused = decisions.count("refused_two_verified_ids")
        return Delta(assigned, merges, moved, emptied, out, refused, stats, causes, created)

    def _names(
        self,
    ) -> tuple[dict[int, str], dict[str, str], dict[str, RecordKey], list[tuple[int, int]]]:
        """Each root's name: among its existing entities the one with the most records (then
        the first anchor), else a changed record's old ID, else a new ID; the merges, the
        new entities and the (absorbed, surviving) nodes."""
        nodes, ids, base = self.nodes, self.ids, self.base
        groups: dict[int, list[int]] = {}
        for n in range(len(self.anchor)):
            groups.setdefault(nodes.find(n), []).append(n)
        taken = set(ids)
        left_with = set(self.old_entity)
        reused: set[str] = set()
        name: dict[int, str] = {}
        merges: dict[str, str] = {}
        created: dict[str, RecordKey] = {}
        absorbed: list[tuple[int, int]] = []
        for root, members in groups.items():
            olds = [n for n in members if n < base]
            if olds:
                keep = min(olds, key=lambda n: (-self.size[n], self.anchor[n], ids[n]))
                name[root] = ids[keep]
                for n in olds:
                    if n != keep:
                        merges[ids[n]] = ids[keep]
                        absorbed.append((n, keep))
                continue
            # A changed record alone again keeps the ID of the entity it was all of.
            again = sorted(
                self.previous[(self.new_src[n - base], self.new_row[n - base])]
                for n in members
                if (self.new_src[n - base], self.new_row[n - base]) in self.previous
            )
            again = [e for e in again if e not in left_with and e not in reused]
            if again:
                name[root] = again[0]
                reused.add(again[0])
                continue
            _rank, s, r = min(self.anchor[n] for n in members)
            salt = 0
            candidate = _anchor_id(self.prefix, s, r)
            while candidate in taken:  # a changed record that anchored an entity still alive
                salt += 1
                candidate = _anchor_id(self.prefix, s, r, salt)
            taken.add(candidate)
            name[root] = candidate
            created[candidate] = (s, r)
        return name, merges, created, absorbed

    def _keys(self, uids: set[int]) -> dict[int, RecordKey]:
        """(source, row) of the records with these unique IDs."""
        keys: dict[int, RecordKey] = {}
        for j, uid in enumerate(self.new_uid):
            if uid in uids:
                keys[uid] = (self.new_src[j], self.new_row[j])
        if len(keys) < len(uids):
            for i, uid in enumerate(self.old_uid):
                if uid in uids:
                    keys[uid] = (self.old_src[i], self.old_row[i])
        return keys
