"""What a street does with its push-back: reads the records delivered to it, masked per its
grant, and reports wrong values back (纠错反馈).

**Reading.** The console's read path for the target unit: the push-back dataset's current
version through the lake's query interface, only the columns the street's grant allows and
its row conditions, each column masked to the grant's level (partial masks, redaction, or
the gateway's own keyed pseudonyms, so the console and the gateway show the same values).
Audited as a data access.

**Reports.** A user of the target unit names a record it was delivered (its entity ID in
the dataset's current version), the attribute, what is wrong and optionally the right
value. The report goes to the unit that supplied that golden value — its provenance in the
library's current run — as a quality issue of that unit's dataset in the ordinary quality
workflow (``quality.cross_source``, one issue per report: the unit marks it fixed, the
bureau verifies it). Only the target unit of a push-back reports on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, ErrorCollector, Invalid
from shuzhi.lake import service as lake
from shuzhi.lake.query import Order
from shuzhi.masterdata import runner
from shuzhi.masterdata.models import LibraryKind, MasterdataEntity, MasterdataMember
from shuzhi.masterdata.pushback import (
    golden_attribute,
    library_row,
    pushback_row,
    require_view,
)
from shuzhi.masterdata.pushback_events import PushbackRecordsRead, RecordReported
from shuzhi.masterdata.pushback_models import MasterdataPushbackReport, PushbackStatus
from shuzhi.masterdata.pushback_schemas import RecordsOut, ReportIn, ReportOut
from shuzhi.masterdata.pushback_select import ENTITY_COLUMN, normalised
from shuzhi.masterdata.schemas import ELEMENTS
from shuzhi.org import service as org
from shuzhi.quality import cross_source
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MASKERS, MaskLevel, mask, pseudonym_key, redact
from shuzhi.sharing import access
from shuzhi.sharing import service as sharing
from shuzhi.validation import required_reason

MAX_PAGE = 500
_FREE_TEXT = frozenset({"address", "legal_representative"})


# ------------------------------------------------------------------ reading


def _pseudonym_key(ctx: Ctx) -> bytes:
    """The pseudonym key the gateway uses too (one value, one pseudonym)."""
    return pseudonym_key(ctx.settings.secret_key)


def _masker(category: str, level: MaskLevel, key: bytes) -> Callable[[str], str] | None:
    if level is MaskLevel.NONE:
        return None
    if level is MaskLevel.REDACT or (level is MaskLevel.PARTIAL and category not in MASKERS):
        return redact
    return lambda value: mask(value, category, level, key)


def read_masterdata_pushback(
    ctx: Ctx, code: str, pushback_id: int, after: str | None = None, limit: int = 100
) -> RecordsOut:
    """A page of the delivered records (in order of entity ID, after ``after``), as the
    target unit's grant shows them."""
    library = library_row(ctx, code)
    row = pushback_row(ctx, library, pushback_id)
    target = f"pushback:{row.id}"
    require(ctx, "read_masterdata_pushback", row.target_unit_id, target)
    grant = access.grant_row(ctx.db, row.grant_id) if row.grant_id is not None else None
    if grant is None or sharing.grant_status(grant, utcnow()) != "active" or grant.suspended_at:
        raise Conflict(
            "接收单位对该反哺数据集没有有效的共享授权（已撤销、过期或暂停）。",
            "The target unit holds no active grant on this push-back's dataset (revoked,"
            " expired or suspended).",
        )
    terms = access.call_grant(grant)
    current = lake.current_version(ctx, row.resource_code)
    if current is None:
        return RecordsOut(
            pushback_id=row.id,
            resource_code=row.resource_code,
            version=None,
            columns=[],
            rows=[],
            total=0,
            masked={},
        )
    version, files = current
    present = [c.name for c in files.columns]
    columns = [c for c in present if terms.allows(c)]
    key = _pseudonym_key(ctx)
    how = {c: _masker(m.category, m.level, key) for c, m in terms.masking.items() if c in columns}
    engine = lake.query_engine(ctx)
    filters = list(terms.row_filter)
    page = max(1, min(limit, MAX_PAGE))
    shown: list[dict[str, str | None]] = []
    order = [Order(ENTITY_COLUMN)] if ENTITY_COLUMN in present else []
    for batch in engine.scan(
        files,
        columns,
        filters,
        order_by=order,
        limit=page,
        after_key=[after] if after and order else None,
    ):
        for item in batch.to_pylist():
            out: dict[str, str | None] = {}
            for c in columns:
                value = item.get(c)
                text = None if value is None else str(value)
                fn = how.get(c)
                out[c] = fn(text) if fn is not None and text is not None else text
            shown.append(out)
    total = engine.count(files, filters)
    last = shown[-1].get(ENTITY_COLUMN) if len(shown) == page else None
    record(
        ctx,
        PushbackRecordsRead(
            library.code, row.id, row.target_unit_id, row.resource_code, version.number, len(shown)
        ),
    )
    return RecordsOut(
        pushback_id=row.id,
        resource_code=row.resource_code,
        version=version.number,
        columns=columns,
        rows=shown,
        total=total,
        masked={c: m.level.value for c, m in terms.masking.items() if c in columns},
        next_after=last,
    )


# ------------------------------------------------------------------ reports


def _masked(value: str, category: str) -> str:
    try:
        level = CATEGORY_INFO[Category(category)].default_level
    except ValueError:
        level = MaskLevel.REDACT
    if level is MaskLevel.PSEUDONYM:
        level = MaskLevel.PARTIAL
    return mask(value, category, level) if value else value


def _delivered(ctx: Ctx, resource_code: str, entity_id: str) -> bool:
    """Whether the entity is in the current version the street reads."""
    current = lake.current_version(ctx, resource_code)
    if current is None:
        return False
    found = lake.query_engine(ctx).lookup(
        current[1], ENTITY_COLUMN, entity_id, [ENTITY_COLUMN], limit=1
    )
    return bool(found)


def _report_out(ctx: Ctx, r: MasterdataPushbackReport, kind: LibraryKind, clear: bool) -> ReportOut:
    unit = org.unit_brief(ctx, r.unit_id)
    proposed = r.proposed
    if proposed and not clear:
        proposed = _masked(proposed, runner.category(kind.value, r.attribute))
    return ReportOut(
        id=r.id,
        pushback_id=r.pushback_id,
        run_id=r.run_id,
        entity_id=r.entity_id,
        attribute=r.attribute,
        problem=r.problem,
        proposed=proposed,
        resource_code=r.resource_code,
        unit_code=unit.code if unit else "",
        version=r.version,
        row=r.row,
        quality_issue_id=r.quality_issue_id,
        reported_by=r.reported_by,
        reported_at=r.reported_at,
    )


def _clear(ctx: Ctx, target_unit_id: int) -> bool:
    """Who reads a proposed value in the clear: the reporting street, the bureau's executive
    CDO and the system; everyone else sees the category's default mask."""
    return (
        ctx.actor.kind == "system"
        or ctx.actor.role is Role.CDO_EXECUTIVE
        or ctx.actor.unit_id == target_unit_id
    )


def report_masterdata_record(ctx: Ctx, code: str, pushback_id: int, data: ReportIn) -> ReportOut:
    """A street reports a delivered value wrong; the value's source unit gets a quality issue."""
    library = library_row(ctx, code)
    row = pushback_row(ctx, library, pushback_id)
    target = f"pushback:{row.id}"
    require(ctx, "report_masterdata_record", row.target_unit_id, target)
    if row.status == PushbackStatus.RETIRED:
        raise Conflict("该反哺已停止，不能再反馈。", "This push-back is retired; no more reports.")
    kind = LibraryKind(library.kind)
    errors = ErrorCollector()
    entity_id = data.entity_id.strip()
    attribute = golden_attribute(kind, data.attribute)
    if attribute is None or attribute not in row.columns:
        errors.add(
            "attribute",
            f"「{data.attribute}」不是本反哺交付的属性。",
            f"'{data.attribute}' is not an attribute this push-back delivers.",
        )
    try:
        problem = required_reason(data.problem, "纠错说明", "A report", "problem")
    except Invalid as err:
        errors.errors.extend(err.errors)
        problem = ""
    proposed = data.proposed.strip()
    checked = attribute is not None and attribute not in _FREE_TEXT
    if proposed and checked and normalised(kind, str(attribute), proposed) is None:
        errors.add(
            "proposed",
            f"「{proposed}」不是有效的{ELEMENTS[kind][str(attribute)]}。",
            f"'{proposed}' is not a valid {attribute}.",
        )
    if not _delivered(ctx, row.resource_code, entity_id):
        errors.add(
            "entity_id",
            f"实体 {entity_id} 不在交付给本单位的当前数据中。",
            f"Entity {entity_id} is not in the records currently delivered to this unit.",
        )
    errors.raise_if_any()
    assert attribute is not None
    entity = ctx.db.scalar(
        select(MasterdataEntity).where(
            MasterdataEntity.run_id == (library.current_run_id or -1),
            MasterdataEntity.entity_id == entity_id,
        )
    )
    if entity is None:
        raise Conflict(
            f"实体 {entity_id} 已在基础库最近一次运行中合并或注销，请在数据更新后再反馈。",
            f"Entity {entity_id} was merged or retired by the library's latest run; report"
            " again once the delivery is refreshed.",
        )
    source: dict[str, Any] = dict(entity.golden.get(attribute) or {})
    if not source.get("resource_code") or not source.get("unit_id"):
        raise Invalid.field(
            "attribute",
            f"该实体的{ELEMENTS[kind][attribute]}没有来源取值，无从交来源单位更正。",
            f"No source supplies this entity's {attribute}: there is no record to correct.",
        )
    source_code, source_unit = str(source["resource_code"]), int(source["unit_id"])
    version, line = source.get("version"), source.get("row")
    report = MasterdataPushbackReport(
        pushback_id=row.id,
        run_id=entity.run_id,
        entity_id=entity_id,
        attribute=attribute,
        problem=problem,
        proposed=proposed,
        resource_code=source_code,
        unit_id=source_unit,
        version=version,
        row=line,
        quality_issue_id=0,
        reported_by=ctx.actor.label,
    )
    ctx.db.add(report)
    ctx.db.flush()
    member_column = ctx.db.scalar(
        select(MasterdataMember.mapping).where(
            MasterdataMember.library_id == library.id,
            MasterdataMember.resource_code == source_code,
        )
    )
    column = (member_column or {}).get(attribute)
    street = org.unit_brief(ctx, row.target_unit_id)
    street_name = street.name if street else ""
    element = ELEMENTS[kind][attribute]
    shown = _masked(proposed, runner.category(kind.value, attribute)) if proposed else ""
    summary = (
        f"基层反馈（{street_name}）：基础库 {library.name} 实体 {entity_id} 的{element}"
        f"（第 {version} 版第 {line} 行）有误：{problem}"
        + (f"；建议值 {shown}" if shown else "")
        + f" / street report ({street.code if street else ''}): base library {library.code},"
        f" entity {entity_id}, {attribute} (version {version}, row {line}) reported wrong"
        + (f"; proposed {shown}" if shown else "")
    )
    report.quality_issue_id = cross_source.report_cross_source_issue(
        ctx,
        resource_code=source_code,
        unit_id=source_unit,
        version_number=int(version or 0),
        column=column,
        key=f"{library.code}:report:{report.id}",
        failing=1,
        summary=summary[:4000],
    )
    ctx.db.flush()
    record(
        ctx,
        RecordReported(
            library.code,
            report.id,
            row.target_unit_id,
            row.id,
            entity_id,
            attribute,
            source_unit,
            source_code,
            report.quality_issue_id,
        ),
    )
    return _report_out(ctx, report, kind, clear=True)


def list_masterdata_reports(ctx: Ctx, code: str, pushback_id: int) -> list[ReportOut]:
    """A push-back's reports, newest first (for the library's readers and the street)."""
    library = library_row(ctx, code)
    row = pushback_row(ctx, library, pushback_id)
    require_view(ctx, library, row)
    clear = _clear(ctx, row.target_unit_id)
    reports = ctx.db.scalars(
        select(MasterdataPushbackReport)
        .where(MasterdataPushbackReport.pushback_id == row.id)
        .order_by(MasterdataPushbackReport.id.desc())
        .limit(500)
    )
    return [_report_out(ctx, r, LibraryKind(library.kind), clear) for r in reports]
