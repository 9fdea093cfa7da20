"""The last stage of every run: golden records by survivorship and the conflicts charged
to member records (with the security category each attribute's values are masked by)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from shuzhi.masterdata.golden import GoldenRecord, attributes, golden_records
from shuzhi.masterdata.runner.records import ConflictFinding, Event, Loaded, RunResult


def finish(
    kind: str,
    loaded: Loaded,
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
