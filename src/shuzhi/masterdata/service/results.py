"""What a run writes besides its run row: entities with their golden records, memberships,
events, and conflicts (stored once per finding, raised as quality issues of the losing
unit)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import insert, select, update

from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.masterdata import runner
from shuzhi.masterdata.models import (
    ConflictStatus,
    EventKind,
    LibraryKind,
    MasterdataConflict,
    MasterdataEntity,
    MasterdataEvent,
    MasterdataLibrary,
    MasterdataMembership,
    MasterdataRun,
)
from shuzhi.masterdata.schemas import ELEMENTS
from shuzhi.masterdata.service.common import mask_value
from shuzhi.quality import cross_source


def write_results(
    ctx: Ctx,
    library: MasterdataLibrary,
    run: MasterdataRun,
    members: list[runner.MemberVersion],
    result: runner.RunResult,
) -> None:
    by_code = {m.resource_code: m for m in members}
    id_attribute = "uscc" if library.kind == LibraryKind.LEGAL_ENTITY else "resident_id"
    entities = []
    for g in result.golden:
        golden: dict[str, Any] = {}
        for attribute, v in g.values.items():
            m = by_code.get(v.source) if v.source else None
            golden[attribute] = {
                "value": v.value,
                "resource_code": v.source,
                "unit_id": m.unit_id if m else None,
                "version": m.number if m else None,
                "loaded_at": m.loaded_at if m else None,
                "row": v.row,
                "rule": v.rule,
            }
        entities.append(
            {
                "run_id": run.id,
                "entity_id": g.entity_id,
                "members": g.members,
                "ident": g.values[id_attribute].value,
                "adcode": g.adcode,
                "golden": golden,
            }
        )
    for chunk in _chunks(entities):
        ctx.db.execute(insert(MasterdataEntity), chunk)
    sources = result.features.column("source").to_pylist()
    rows = result.features.column("row").to_pylist()
    memberships = [
        {
            "run_id": run.id,
            "entity_id": result.entity[i],
            "resource_code": sources[i],
            "version": result.versions[i],
            "row": rows[i],
            "digest": result.digests[i],
        }
        for i in range(len(sources))
    ]
    for chunk in _chunks(memberships):
        ctx.db.execute(insert(MasterdataMembership), chunk)
    events = [
        {
            "library_id": library.id,
            "run_id": run.id,
            "kind": EventKind(e.kind).value,
            "entity_id": e.entity_id,
            "others": list(e.others),
            "reason": e.reason,
            "created_at": utcnow(),
        }
        for e in result.events
    ]
    for chunk in _chunks(events):
        ctx.db.execute(insert(MasterdataEvent), chunk)


def _chunks(items: list[dict[str, Any]], size: int = 5_000) -> list[list[dict[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _fingerprint(library_code: str, c: runner.ConflictFinding) -> str:
    import hashlib

    text = "\x1f".join((library_code, c.resource_code, c.attribute, c.kind, c.digest, c.value))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


_KIND_TEXT = {
    "values_differ": ("与其他来源的取值不一致（未被采信）", "disagree with the value adopted"),
    "id_check_failed": ("校验位错误", "fail their check character"),
    "id_malformed": ("格式错误", "are malformed"),
}


def report_conflicts(
    ctx: Ctx,
    library: MasterdataLibrary,
    run: MasterdataRun,
    members: list[runner.MemberVersion],
    result: runner.RunResult,
) -> int:
    """Store the run's conflicts (one row per finding, kept across runs) and raise one
    quality issue per member, attribute and kind; returns how many issues were raised or
    brought up to date. Findings no longer found are marked gone."""
    by_code = {m.resource_code: m for m in members}
    existing = {
        c.fingerprint: c
        for c in ctx.db.scalars(
            select(MasterdataConflict).where(MasterdataConflict.library_id == library.id)
        )
    }
    seen: set[str] = set()
    groups: dict[tuple[str, str, str], list[MasterdataConflict]] = defaultdict(list)
    for finding in result.conflicts:
        fp = _fingerprint(library.code, finding)
        if fp in seen:
            continue
        seen.add(fp)
        category = runner.category(result.kind, finding.attribute)
        row = existing.get(fp)
        if row is None:
            row = MasterdataConflict(
                library_id=library.id,
                fingerprint=fp,
                attribute=finding.attribute,
                kind=finding.kind,
                resource_code=finding.resource_code,
                unit_id=by_code[finding.resource_code].unit_id,
                first_run_id=run.id,
            )
            ctx.db.add(row)
        row.entity_id, row.row, row.last_run_id = finding.entity_id, finding.row, run.id
        row.value_masked = mask_value(finding.value, category)
        row.golden_masked = mask_value(finding.golden, category)
        row.status = ConflictStatus.OPEN
        groups[(finding.resource_code, finding.attribute, finding.kind)].append(row)
    gone = [c.id for fp, c in existing.items() if fp not in seen]
    if gone:
        ctx.db.execute(
            update(MasterdataConflict)
            .where(MasterdataConflict.id.in_(gone))
            .values(status=ConflictStatus.GONE)
        )
    ctx.db.flush()
    elements = ELEMENTS[LibraryKind(library.kind)]
    for (resource_code, attribute, kind), rows in sorted(groups.items()):
        m = by_code[resource_code]
        zh_kind, en_kind = _KIND_TEXT.get(kind, (kind, kind))
        column = m.mapping.get(attribute)
        summary = (
            f"基础库 {library.name}：{len(rows)} 条记录的{elements.get(attribute, attribute)}"
            f"{zh_kind} / base library {library.code}: {len(rows)} records' {attribute}"
            f" {en_kind} (run {run.id})"
        )
        issue_id = cross_source.report_cross_source_issue(
            ctx,
            resource_code=resource_code,
            unit_id=m.unit_id,
            version_number=m.number,
            column=column,
            key=f"{library.code}:{attribute}:{kind}",
            failing=len(rows),
            summary=summary,
        )
        ids = [r.id for r in rows]
        for i in range(0, len(ids), 5_000):
            ctx.db.execute(
                update(MasterdataConflict)
                .where(MasterdataConflict.id.in_(ids[i : i + 5_000]))
                .values(quality_issue_id=issue_id)
            )
    return len(groups)
