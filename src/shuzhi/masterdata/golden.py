"""Golden records by survivorship, each value with its provenance, and the conflicts.

For each entity and attribute the candidates are the members' values the evidence supports
(``features.GOLDEN_COLUMNS``: a resident ID only when valid, a birth date or sex declared or
read from a valid ID). The value that survives is, in order:

1. from the most authoritative source for that attribute (``priority``: attribute → sources,
   best first, 一数一源; unlisted sources after listed ones, as equals);
2. then the most recent (the record's ``updated`` column, when the extract has one);
3. then the most frequent among the members;
4. then the smallest (source, row), so a re-run picks the same value.

Each golden value carries the source and row it came from and the rule that decided
(``authority``, ``recency``, ``frequency``, ``order``; ``agreed`` when every candidate
holds the same value, ``only`` for a single candidate). Conflicts are listed, never
resolved silently: two different candidate values of an identifying attribute (resident ID,
birth date, sex, name), and a resident ID written in a member record that fails its check
character or is malformed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa

ATTRIBUTES = ("name", "resident_id", "sex", "birth_date", "phone", "address")
# Attributes on which two different candidate values are a conflict (phones and addresses
# change over time; a difference there is not an error).
IDENTIFYING = ("name", "resident_id", "sex", "birth_date")
ENTITY_ATTRIBUTES = (
    "name",
    "uscc",
    "org_code",
    "registration_number",
    "legal_representative",
    "address",
)
# A legal representative changes; the name changes too, but two names at once is worth a look.
ENTITY_IDENTIFYING = ("name", "uscc", "org_code", "registration_number")


def attributes(kind: str = "person") -> tuple[str, ...]:
    return ENTITY_ATTRIBUTES if kind == "legal_entity" else ATTRIBUTES


# (value, source, row, updated)
Candidate = tuple[str, str, int, str | None]


@dataclass(frozen=True)
class GoldenValue:
    value: str | None
    source: str | None
    row: int | None
    rule: str  # authority, recency, frequency, order, agreed, only, none


@dataclass(frozen=True)
class Conflict:
    entity_id: str
    attribute: str
    kind: str  # values_differ, id_check_failed, id_malformed
    detail: str  # "source:row=value; …"


@dataclass(frozen=True)
class GoldenRecord:
    entity_id: str
    members: int
    values: dict[str, GoldenValue]
    adcode: str | None


def _date_key(updated: str | None) -> str:
    """Recency compared as text after removing separators (ISO dates and times sort)."""
    return "".join(ch for ch in updated if ch.isdigit()) if updated else ""


def survive(
    candidates: Sequence[Candidate],
    ranking: Sequence[str],
) -> GoldenValue:
    """The surviving value among ``(value, source, row, updated)`` candidates."""
    if not candidates:
        return GoldenValue(None, None, None, "none")
    if len(candidates) == 1:
        value, source, row, _ = candidates[0]
        return GoldenValue(value, source, row, "only")
    rank = {s: i for i, s in enumerate(ranking)}
    pool = list(candidates)
    for rule in ("authority", "recency", "frequency"):
        pool = _narrow(pool, rule, rank)
        if len({c[0] for c in pool}) == 1:
            chosen = min(pool, key=lambda c: (c[1], c[2]))
            distinct_before = len({c[0] for c in candidates}) > 1
            return GoldenValue(
                chosen[0], chosen[1], chosen[2], rule if distinct_before else "agreed"
            )
    chosen = min(pool, key=lambda c: (c[1], c[2]))
    return GoldenValue(chosen[0], chosen[1], chosen[2], "order")


def _narrow(pool: list[Candidate], rule: str, rank: dict[str, int]) -> list[Candidate]:
    """The candidates that are best by ``rule``."""
    if rule == "authority":
        worst = len(rank)
        best_rank = min(rank.get(c[1], worst) for c in pool)
        return [c for c in pool if rank.get(c[1], worst) == best_rank]
    if rule == "recency":
        latest = max(_date_key(c[3]) for c in pool)
        return [c for c in pool if _date_key(c[3]) == latest]
    counts = Counter(c[0] for c in pool)
    most = max(counts.values())
    return [c for c in pool if counts[c[0]] == most]


def golden_records(
    features: pa.Table,
    entity: Sequence[str],
    priority: Mapping[str, Sequence[str]] | None = None,
    kind: str = "person",
) -> tuple[list[GoldenRecord], list[Conflict]]:
    """One golden record per entity (in order of entity ID) and every conflict found."""
    priority = priority or {}
    names = attributes(kind)
    identifying = ENTITY_IDENTIFYING if kind == "legal_entity" else IDENTIFYING
    id_attribute = "uscc" if kind == "legal_entity" else "resident_id"
    cols = features.select(
        ["source", "row", "updated", "id_state", "id_raw", "g_adcode"] + [f"g_{a}" for a in names]
    ).to_pydict()
    members: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(entity):
        members[e].append(i)
    records: list[GoldenRecord] = []
    conflicts: list[Conflict] = []
    for entity_id in sorted(members):
        idx = members[entity_id]
        values: dict[str, GoldenValue] = {}
        for attribute in names:
            column = cols[f"g_{attribute}"]
            candidates = [
                (column[i], cols["source"][i], cols["row"][i], cols["updated"][i])
                for i in idx
                if column[i] is not None
            ]
            values[attribute] = survive(candidates, priority.get(attribute, ()))
            if attribute in identifying and len({c[0] for c in candidates}) > 1:
                conflicts.append(
                    Conflict(entity_id, attribute, "values_differ", _detail(candidates))
                )
        for i in idx:
            state = cols["id_state"][i]
            if state in ("check_failed", "malformed"):
                kind_ = "id_check_failed" if state == "check_failed" else "id_malformed"
                detail = f"{cols['source'][i]}:{cols['row'][i]}={cols['id_raw'][i]}"
                conflicts.append(Conflict(entity_id, id_attribute, kind_, detail))
        address = values["address"]
        adcode = None
        if address.source is not None:
            for i in idx:
                if (cols["source"][i], cols["row"][i]) == (address.source, address.row):
                    adcode = cols["g_adcode"][i]
        records.append(GoldenRecord(entity_id, len(idx), values, adcode))
    return records, conflicts


def _detail(candidates: Sequence[Candidate]) -> str:
    return "; ".join(
        f"{s}:{r}={v}" for v, s, r, _ in sorted(candidates, key=lambda c: (c[1], c[2]))
    )
