"""What a run reads and returns: member versions, the previous run's records, events,
conflicts, review findings and decisions, the run's result; reading a member's version, the
records' digests, fresh entity IDs and the feature cache of the previous run."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.lake.readers import text_value
from shuzhi.masterdata.features import build_features
from shuzhi.masterdata.golden import GoldenRecord
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


def id_prefix(kind: str) -> str:
    return "E" if kind == "legal_entity" else "P"


def fresh_id(kind: str, resource_code: str, version: int, row: int) -> str:
    text = f"{resource_code}\x1f{version}\x1f{row}"
    return id_prefix(kind) + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass
class Loaded:
    records: list[SourceRecord]
    versions: list[int]
    digests: list[str]
    rank: dict[str, int]


def load_members(members: Sequence[MemberVersion]) -> Loaded:
    records: list[SourceRecord] = []
    versions: list[int] = []
    for m in sorted(members, key=lambda m: (m.rank, m.resource_code)):
        rows = read_member(m)
        records += rows
        versions += [m.number] * len(rows)
    return Loaded(
        records,
        versions,
        [digest(r.fields) for r in records],
        {m.resource_code: m.rank for m in members},
    )


def features_with_cache(kind: str, loaded: Loaded, cached: pa.Table | None) -> tuple[pa.Table, int]:
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
