"""A daily delta linked against an existing linkage, without relinking everything.

``link_delta(existing, entity, new, model)`` takes

- ``existing``: the feature table of the records already linked (``build_features``), and
  ``entity``: their entity IDs, one per row;
- ``new``: the feature table of the new and changed records (a record whose ``source`` and
  ``row`` are already in ``existing`` replaces that record);
- ``model``: the fitted model of the run that produced ``entity``
  (``Linkage.stats["model"]``), so the delta is scored as the full run scored.

The steps are those of the full run restricted to the pairs that involve a new record:
blocking keys over all records with the same skewed-block bound (a key whose block is over
``max_block_size`` in the whole library is dropped for that key), scoring of new against
existing and new against new, then clustering at entity level, strongest pair first, with
the same cannot-link rule (two different verified resident IDs never join).

What it promises: every existing entity keeps its ID unless a new record proves it is the
same as another entity (a **merge**: the ID of the entity whose anchor record ranks first
survives, the other is listed in ``merges``); a new record joins the entity it links to or
starts an entity named as the full run names one (a hash of its anchor's source and row);
a changed record that now belongs elsewhere is listed in ``moved`` (the entity it left
keeps its ID and its other members; one left with no member is listed in ``emptied``).
What it does not do: re-estimate the model, or split an existing entity whose members only
held together through the changed record (a full run does both).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shuzhi.errors import Invalid
from shuzhi.masterdata.features import ENTITY_KEY_COLUMNS, KEY_COLUMNS
from shuzhi.masterdata.linkage import LinkOptions, _run, block_keys, connect, rules


@dataclass
class Delta:
    """What a delta run decided. ``entity`` is one ID per row of ``new``."""

    entity: list[str]
    merges: dict[str, str]  # absorbed entity ID → the ID that survives
    moved: list[tuple[str, int, str, str]]  # (source, row, old entity ID, new entity ID)
    emptied: list[str]  # entity IDs left with no member (their only record moved)
    pairs: pa.Table  # pairs scored at or above the review threshold, with a decision
    refused: int  # joins refused across two different verified resident IDs
    stats: dict[str, Any] = field(default_factory=dict)

    def apply(self, entity: Sequence[str]) -> list[str]:
        """The existing records' IDs after the merges."""
        return [self.merges.get(e, e) for e in entity]


def _columns(kind: str) -> list[str]:
    keys = ENTITY_KEY_COLUMNS if kind == "legal_entity" else KEY_COLUMNS
    return ["unique_id", "source", "row", *keys, "ident_ok"]


def _anchor_id(prefix: str, source: str, row: int, salt: int = 0) -> str:
    text = f"{source}\x1f{row}" + (f"\x1f{salt}" if salt else "")
    return prefix + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class _Nodes:
    """Union–find over entities (existing) and new records, each node with the verified
    IDs it holds; refuses a join that would hold two different verified IDs."""

    def __init__(self, verified: list[frozenset[str]]) -> None:
        self.parent = list(range(len(verified)))
        self.verified = verified

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: int, b: int) -> bool | None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        both = self.verified[ra] | self.verified[rb]
        if len(both) > 1:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.verified[ra] = both
        return True


def link_delta(
    existing: pa.Table,
    entity: Sequence[str],
    new: pa.Table,
    model: Mapping[str, Any],
    source_rank: Mapping[str, int] | None = None,
    options: LinkOptions | None = None,
    kind: str = "person",
) -> Delta:
    """Link ``new`` against ``existing`` (whose records belong to ``entity``)."""
    options = options or LinkOptions()
    rank = dict(source_rank or {})
    if len(entity) != existing.num_rows:
        raise Invalid(
            f"实体编号数（{len(entity)}）与已有记录数（{existing.num_rows}）不一致。",
            f"{len(entity)} entity IDs for {existing.num_rows} existing records.",
        )
    if new.num_rows == 0:
        empty = pa.table(
            {
                "unique_id_l": pa.array([], pa.int64()),
                "unique_id_r": pa.array([], pa.int64()),
                "match_probability": pa.array([], pa.float64()),
                "match_weight": pa.array([], pa.float64()),
                "decision": pa.array([], pa.string()),
            }
        )
        return Delta([], {}, [], [], empty, 0, {"new_records": 0})
    cpu = time.process_time()
    columns = _columns(kind)
    prefix = "E" if kind == "legal_entity" else "P"
    old = existing.select(columns).append_column("entity_id", pa.array(list(entity), pa.string()))
    # A new record with the source and row of an existing one replaces it.
    new_keys = set(
        zip(new.column("source").to_pylist(), new.column("row").to_pylist(), strict=True)
    )
    sources = old.column("source").to_pylist()
    rows = old.column("row").to_pylist()
    replaced = [(s, r) in new_keys for s, r in zip(sources, rows, strict=True)]
    previous: dict[tuple[str, int], str] = {}
    if any(replaced):
        for i, gone in enumerate(replaced):
            if gone:
                previous[(sources[i], rows[i])] = entity[i]
        old = old.filter(pc.invert(pa.array(replaced)))
    first_new = int(max(existing.column("unique_id").to_pylist(), default=-1)) + 1
    fresh = new.select(columns).set_column(
        0, "unique_id", pa.array(range(first_new, first_new + new.num_rows), pa.int64())
    )
    fresh = fresh.append_column("entity_id", pa.nulls(new.num_rows, pa.string()))
    both = pa.concat_tables([old, fresh])
    with tempfile.TemporaryDirectory(prefix="shuzhi-delta-") as spill:
        con = connect(options, spill)
        try:
            table, oversized = block_keys(con, both, options.max_block_size, kind)
            pairs = _score(con, table, first_new, model, options, kind)
        finally:
            con.close()
    return _cluster(
        old,
        fresh,
        pairs,
        previous,
        rank,
        options,
        prefix,
        len(oversized),
        time.process_time() - cpu,
    )


def _score(
    con: Any, table: str, first_new: int, model: Mapping[str, Any], options: LinkOptions, kind: str
) -> pa.Table:
    """Pairs new × existing and new × new at or above the review threshold."""
    from splink import DuckDBAPI, Linker

    _run(con, f"CREATE TABLE delta_old AS SELECT * FROM {table} WHERE unique_id < {first_new}")
    _run(con, f"CREATE TABLE delta_new AS SELECT * FROM {table} WHERE unique_id >= {first_new}")
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
    between = linker.inference.predict_between(left, right, threshold_match_probability=threshold)
    within = linker.inference.predict_within(right, threshold_match_probability=threshold)
    keep = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
    parts = [
        df.as_pyarrow_table().select(keep)  # type: ignore[no-untyped-call]
        for df in (between, within)
    ]
    return pa.concat_tables(parts)


def _cluster(
    old: pa.Table,
    fresh: pa.Table,
    pairs: pa.Table,
    previous: dict[tuple[str, int], str],
    rank: dict[str, int],
    options: LinkOptions,
    prefix: str,
    oversized: int,
    cpu_so_far: float,
) -> Delta:
    started = time.process_time()
    unranked = len(rank)
    # Nodes 0..E-1: existing entities; E..E+N-1: new records.
    old_entity = old.column("entity_id").to_pylist()
    ids = sorted(set(old_entity))
    node_of = {e: i for i, e in enumerate(ids)}
    verified: list[set[str]] = [set() for _ in ids]
    anchor: list[tuple[int, str, int]] = [(unranked + 1, "", 0)] * len(ids)
    record_node: dict[int, int] = {}
    for uid, e, s, r, ident, ok in zip(
        old.column("unique_id").to_pylist(),
        old_entity,
        old.column("source").to_pylist(),
        old.column("row").to_pylist(),
        old.column("ident").to_pylist(),
        old.column("ident_ok").to_pylist(),
        strict=True,
    ):
        n = node_of[e]
        record_node[uid] = n
        if ok and ident:
            verified[n].add(ident)
        key = (rank.get(s, unranked), s, r)
        anchor[n] = min(anchor[n], key)
    base = len(ids)
    new_uid = fresh.column("unique_id").to_pylist()
    new_src = fresh.column("source").to_pylist()
    new_row = fresh.column("row").to_pylist()
    for j, (uid, ident, ok) in enumerate(
        zip(
            new_uid,
            fresh.column("ident").to_pylist(),
            fresh.column("ident_ok").to_pylist(),
            strict=True,
        )
    ):
        record_node[uid] = base + j
        verified.append({ident} if ok and ident else set())
        anchor.append((rank.get(new_src[j], unranked), new_src[j], new_row[j]))
    nodes = _Nodes([frozenset(v) for v in verified])
    left = pairs.column("unique_id_l").to_pylist()
    right = pairs.column("unique_id_r").to_pylist()
    prob = pairs.column("match_probability").to_pylist()
    decisions = ["review"] * len(prob)
    order = sorted(range(len(prob)), key=lambda i: (-prob[i], left[i], right[i]))
    for i in order:
        if prob[i] < options.threshold:
            break
        joined = nodes.join(record_node[int(left[i])], record_node[int(right[i])])
        decisions[i] = {True: "merged", None: "same_cluster", False: "refused_two_verified_ids"}[
            joined
        ]
    # Each root's name: its existing entity with the first anchor, else a new ID.
    groups: dict[int, list[int]] = {}
    for n in range(len(anchor)):
        groups.setdefault(nodes.find(n), []).append(n)
    taken = set(ids)
    left_with = set(old_entity)
    reused: set[str] = set()
    name: dict[int, str] = {}
    merges: dict[str, str] = {}
    for root, members in groups.items():
        olds = [n for n in members if n < base]
        if olds:
            keep = min(olds, key=lambda n: (anchor[n], ids[n]))
            name[root] = ids[keep]
            merges.update({ids[n]: ids[keep] for n in olds if n != keep})
            continue
        # A changed record alone again keeps the ID of the entity it was all of.
        again = sorted(
            previous[(new_src[n - base], new_row[n - base])]
            for n in members
            if (new_src[n - base], new_row[n - base]) in previous
        )
        again = [e for e in again if e not in left_with and e not in reused]
        if again:
            name[root] = again[0]
            reused.add(again[0])
            continue
        first = min(members, key=lambda n: anchor[n])
        _rank, s, r = anchor[first]
        salt = 0
        candidate = _anchor_id(prefix, s, r)
        while candidate in taken:  # a changed record that anchored an entity still alive
            salt += 1
            candidate = _anchor_id(prefix, s, r, salt)
        taken.add(candidate)
        name[root] = candidate
    assigned = [name[nodes.find(base + j)] for j in range(len(new_uid))]
    moved = []
    for j, e in enumerate(assigned):
        before = previous.get((new_src[j], new_row[j]))
        if before is not None and merges.get(before, before) != e and before != e:
            moved.append((new_src[j], new_row[j], before, e))
    emptied = sorted({b for b in previous.values() if b not in left_with and b not in reused})
    pairs = pairs.append_column("decision", pa.array(decisions, pa.string()))
    stats = {
        "existing_records": old.num_rows + len(previous),
        "new_records": fresh.num_rows,
        "replaced": len(previous),
        "existing_entities": len(ids),
        "entities_joined": len({e for e in assigned if e in node_of}),
        "new_entities": len({e for e in assigned if e not in node_of}),
        "merges": len(merges),
        "moved": len(moved),
        "pairs_scored": pairs.num_rows,
        "pairs_merged": decisions.count("merged"),
        "oversized_blocks": oversized,
        "cpu_s": round(cpu_so_far + time.process_time() - started, 2),
    }
    return Delta(
        assigned, merges, moved, emptied, pairs, decisions.count("refused_two_verified_ids"), stats
    )
