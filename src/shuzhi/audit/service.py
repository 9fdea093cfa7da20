"""Writing and checking the audit log.

Every entry's hash is a keyed MAC (HMAC-SHA-256, ``chain.py``) over its own fields and the
previous entry's hash, so altering, deleting or reordering any row breaks the chain from
that row on, and nobody without the audit key (which is not in the database) can re-chain
the rows after a change. Anchors of the head outside the database (``anchors.py``) reveal
entries cut from the end. Appenders serialise on the single ``audit_head`` row, inside the
caller's transaction: the entry commits or rolls back together with the change it describes.

A transaction that appends many entries (an import, the demo) remembers the head it wrote
last and advances it with one conditional UPDATE that names the old (seq, hash): it succeeds
only when the head is still exactly that, so the values are the ones a fresh read would give.
After a rollback, or another writer's commit, the condition fails and the head is read again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from shuzhi import hooks
from shuzhi.audit import anchors, archive
from shuzhi.audit import export as audit_export
from shuzhi.audit import texts as audit_texts
from shuzhi.audit.chain import ALG_MAC, canonical, chain_mac
from shuzhi.audit.events import (
    AuditArchived,
    AuditEvent,
    AuditExported,
    AuditVerified,
    OperationDenied,
)
from shuzhi.audit.models import AuditEntry, AuditHead
from shuzhi.audit.schemas import AuditEntryOut, AuditFilter, AuditPage, VerifyReport
from shuzhi.audit.verification import ChainBroken, link_checker
from shuzhi.audit.verification import check_chain as check_chain
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.context import Actor, Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import affected
from shuzhi.errors import Conflict, ErrorCollector, Invalid

MAX_PAGE = 500
PAGE_SIZES = (25, 50, 100, 200, 500)
EXPORT_LIMIT = 100_000
OUTCOMES = ("ok", "denied", "failed")


# Core statements on the tables, built once: appending happens on every state change, so it
# skips the ORM's unit-of-work bookkeeping and statement construction.
_HEAD: Table = AuditHead.__table__  # type: ignore[assignment]
_ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]
_TAKE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq + 1)
    .returning(_HEAD.c.seq, _HEAD.c.last_hash)
)
_SET_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=bindparam("new_hash"))
_MOVE_HEAD = (
    update(_HEAD)
    .where(
        _HEAD.c.id == 1,
        _HEAD.c.seq == bindparam("old_seq"),
        _HEAD.c.last_hash == bindparam("old_hash"),
    )
    .values(seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))
)
_APPEND = insert(_ENTRIES)
# Session info key: the (seq, hash) this session last wrote to the head.
_LAST_KEY = "audit.last_written"


def _entry_for(
    ctx: Ctx, event: AuditEvent, outcome: str, at: datetime, seq: int, prev: str
) -> dict[str, Any]:
    entry = SimpleNamespace(
        seq=seq,
        at=at,
        actor=ctx.actor.label,
        actor_role=str(ctx.actor.role) if ctx.actor.role else None,
        unit_id=event.unit_id,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        outcome=outcome,
        details=canonical(event.details()),
        prev_hash=prev,
        alg=ALG_MAC,
    )
    entry.hash = chain_mac(ctx.settings)(entry)
    return vars(entry)


def _follow_last(ctx: Ctx, event: AuditEvent, outcome: str, at: datetime) -> dict[str, Any] | None:
    """The next entry after the one this session wrote last, if the head still points at it."""
    last = ctx.db.info.get(_LAST_KEY)
    if not isinstance(last, tuple):
        return None
    old_seq, old_hash = last
    entry = _entry_for(ctx, event, outcome, at, old_seq + 1, old_hash)
    moved = ctx.db.connection().execute(
        _MOVE_HEAD,
        {
            "old_seq": old_seq,
            "old_hash": old_hash,
            "new_seq": entry["seq"],
            "new_hash": entry["hash"],
        },
    )
    return entry if affected(moved) == 1 else None


def record(ctx: Ctx, event: AuditEvent, outcome: str = "ok") -> None:
    """Append one event to the chain in the current transaction (a read unit: after its reads)."""
    at = utcnow()
    ctx.write(lambda c: _append(c, event, outcome, at))


def _append(ctx: Ctx, event: AuditEvent, outcome: str, at: datetime) -> None:
    entry = _follow_last(ctx, event, outcome, at)
    # On the session's connection: the log's tables are no ORM objects, so there is nothing
    # to flush first (the change being audited is flushed with the transaction either way).
    conn = ctx.db.connection()
    if entry is None:
        row = conn.execute(_TAKE_HEAD).first()  # takes the write lock on the head
        if row is None:
            raise RuntimeError("audit_head row missing: the database was not created by migrations")
        entry = _entry_for(ctx, event, outcome, at, int(row[0]), str(row[1]))
        conn.execute(_SET_HASH, {"new_hash": entry["hash"]})
    conn.execute(_APPEND, entry)
    ctx.db.info[_LAST_KEY] = (entry["seq"], entry["hash"])
    anchors.note_appended(ctx.db, ctx.database, entry["seq"], entry["seq"])


@dataclass(frozen=True)
class Pending:
    """An event recorded later, in a batch, on behalf of the actor who caused it."""

    actor: Actor
    event: AuditEvent
    at: datetime
    outcome: str = "ok"


def record_batch(ctx: Ctx, items: Sequence[Pending]) -> int:
    """Append many events with one turn of the head lock (buffered writers, e.g. metering);
    returns the sequence number of the first (0 when ``items`` is empty).

    The chain stays exact: entries get consecutive sequence numbers in ``items`` order and
    each MAC links to the one before. (The gateway's meter calls this in its writer process,
    which has the same settings, hence the same audit key.)
    """
    if not items:
        return 0
    row = ctx.db.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(seq=_HEAD.c.seq + len(items))
        .returning(_HEAD.c.seq, _HEAD.c.last_hash)
    ).first()
    if row is None:
        raise RuntimeError("audit_head row missing: the database was not created by migrations")
    seq, prev = int(row[0]) - len(items), str(row[1])
    first, mac = seq + 1, chain_mac(ctx.settings)
    entries = []
    for item in items:
        seq += 1
        entry = SimpleNamespace(
            seq=seq,
            at=item.at,
            actor=item.actor.label,
            actor_role=str(item.actor.role) if item.actor.role else None,
            unit_id=item.event.unit_id,
            action=item.event.action,
            target_type=item.event.target_type,
            target_id=item.event.target_id,
            outcome=item.outcome,
            details=canonical(item.event.details()),
            prev_hash=prev,
            alg=ALG_MAC,
        )
        entry.hash = prev = mac(entry)
        entries.append(vars(entry))
    ctx.db.execute(insert(_ENTRIES), entries)
    ctx.db.execute(update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=prev))
    anchors.note_appended(ctx.db, ctx.database, first, seq)
    return first


def record_denied(ctx: Ctx, operation: str, target: str) -> None:
    record(ctx, OperationDenied(operation=operation, target=target), outcome="denied")


def on_operation_refused(ctx: Ctx, event: hooks.OperationRefused) -> None:
    """Subscriber: every refusal (``require``, ``deny``) is in the log."""
    record_denied(ctx, event.operation, event.target)


def _out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        actor_role=entry.actor_role,
        unit_id=entry.unit_id,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        outcome=entry.outcome,
        details=json.loads(entry.details),
        hash=entry.hash,
    )


def _like(words: str) -> str:
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _named(prefix: str, words: str) -> list[str]:
    """Codes (actions, target kinds) whose Chinese or English name contains ``words``."""
    folded = words.casefold()
    return [
        key[len(prefix) :]
        for key, (zh, en) in audit_texts.TEXTS.items()
        if key.startswith(prefix) and (folded in zh.casefold() or folded in en.casefold())
    ]


def check_filter(f: AuditFilter) -> None:
    """Raise ``Invalid`` naming every field of the filter that cannot match as meant."""
    errors = ErrorCollector()
    if f.since and f.until and _utc(f.since) > _utc(f.until):
        errors.add(
            "since", "起始时间晚于截止时间。", "The start is after the end of the time range."
        )
    if f.outcome and f.outcome not in OUTCOMES:
        errors.add(
            "outcome",
            f"结果只能是 {'、'.join(OUTCOMES)} 之一。",
            f"The outcome must be one of {', '.join(OUTCOMES)}.",
        )
    errors.raise_if_any()


def _utc(moment: datetime) -> datetime:
    """Times without a zone are UTC, as the log shows them."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _where(query: Select[Any], f: AuditFilter, scope: int | None) -> Select[Any]:
    e = AuditEntry
    if scope is not None:  # staff limited to their unit see its entries only
        query = query.where(e.unit_id == scope)
    if f.since:
        query = query.where(e.at >= _utc(f.since))
    if f.until:
        query = query.where(e.at <= _utc(f.until))
    if f.actor:
        query = query.where(or_(e.actor == f.actor, e.actor.ilike(_like(f.actor), escape="\\")))
    if f.unit_id is not None:
        query = query.where(e.unit_id == f.unit_id)
    if f.action:
        if f.action.endswith("."):
            query = query.where(e.action.startswith(f.action, autoescape=True))
        else:
            query = query.where(e.action == f.action)
    if f.target_type:
        query = query.where(e.target_type == f.target_type)
    if f.target_id:
        query = query.where(e.target_id == f.target_id)
    if f.target:
        kinds = _named("audit.target_type.", f.target)
        query = query.where(
            or_(
                e.target_id.ilike(_like(f.target), escape="\\"),
                e.target_type.ilike(_like(f.target), escape="\\"),
                e.target_type.in_(kinds),
            )
        )
    if f.outcome:
        query = query.where(e.outcome == f.outcome)
    if f.q:
        pattern = _like(f.q)
        query = query.where(
            or_(
                e.actor.ilike(pattern, escape="\\"),
                e.action.ilike(pattern, escape="\\"),
                e.action.in_(_named("audit.act.", f.q)),
                e.target_type.in_(_named("audit.target_type.", f.q)),
                e.target_id.ilike(pattern, escape="\\"),
                e.details.ilike(pattern, escape="\\"),
            )
        )
    return query


def view_audit(
    ctx: Ctx,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
    filters: AuditFilter | None = None,
    before: int | None = None,
    after: int | None = None,
) -> AuditPage:
    """Newest first, filtered; reading the log is itself not audited to keep it readable.

    Paging by keyset: ``before`` gives the entries older than that sequence number,
    ``after`` those newer (the page nearest to it); ``offset`` is kept for old callers.
    """
    scope = scope_unit(ctx, "view_audit")
    f = filters or AuditFilter()
    f = f.model_copy(
        update={
            k: v
            for k, v in {
                "action": action,
                "actor": actor,
                "target_type": target_type,
                "target_id": target_id,
            }.items()
            if v
        }
    )
    check_filter(f)
    limit = max(1, min(limit, MAX_PAGE))
    query = _where(select(AuditEntry), f, scope)
    total = ctx.db.scalar(select(func.count()).select_from(query.subquery())) or 0
    seq = AuditEntry.seq
    if after is not None:
        rows = list(ctx.db.scalars(query.where(seq > after).order_by(seq).limit(limit + 1)))
        more_newer = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        more_older = bool(rows) and _exists(ctx, query.where(seq < rows[-1].seq))
    else:
        query_page = query.where(seq < before) if before is not None else query
        rows = list(
            ctx.db.scalars(query_page.order_by(seq.desc()).limit(limit + 1).offset(max(0, offset)))
        )
        more_older = len(rows) > limit
        rows = rows[:limit]
        more_newer = bool(rows) and (
            offset > 0 or (before is not None and _exists(ctx, query.where(seq > rows[0].seq)))
        )
    return AuditPage(
        total=total,
        items=[_out(r) for r in rows],
        older=rows[-1].seq if rows and more_older else None,
        newer=rows[0].seq if rows and more_newer else None,
        archived_through=archive.archived_through(ctx)[0],
    )


def _exists(ctx: Ctx, query: Select[Any]) -> bool:
    return ctx.db.scalar(select(query.limit(1).exists())) or False


def export_audit(
    ctx: Ctx,
    filters: AuditFilter,
    file_format: str,
    unit_names: Mapping[int, tuple[str, str]],
) -> bytes:
    """The filtered entries as CSV or XLSX (no cell can be a formula); the export is audited.

    ``unit_names`` maps unit ids to (code, name) for the unit columns.
    """
    require(ctx, "export_audit")
    scope = scope_unit(ctx, "view_audit")
    check_filter(filters)
    if file_format not in ("csv", "xlsx"):
        raise Invalid.field("format", "只能导出 CSV 或 XLSX。", "Export as CSV or XLSX only.")
    query = _where(select(AuditEntry), filters, scope)
    total = ctx.db.scalar(select(func.count()).select_from(query.subquery())) or 0
    if total > EXPORT_LIMIT:
        raise Invalid.field(
            "q",
            f"符合条件的记录有 {total} 条，超过一次导出的上限 {EXPORT_LIMIT} 条，请缩小筛选范围。",
            f"{total} entries match, more than the {EXPORT_LIMIT} one export may hold;"
            " narrow the filter.",
        )
    # Plain rows, streamed: an export of many thousand entries builds no ORM objects.
    rows = ctx.db.execute(
        _where(select(_ENTRIES), filters, scope).order_by(AuditEntry.seq.desc()),
        execution_options={"yield_per": 2000},
    )
    data = audit_export.write(rows, file_format, unit_names, ctx.locale, audit_texts.TEXTS)
    record(
        ctx,
        AuditExported(
            rows=total,
            format=file_format,
            filters=canonical(filters.model_dump(mode="json", exclude_none=True)),
        ),
    )
    return data


def history(ctx: Ctx, target_type: str, target_id: str) -> list[AuditEntryOut]:
    """Entries about one object, oldest first (used by detail pages; callers check access)."""
    rows = ctx.db.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == target_type, AuditEntry.target_id == target_id)
        .order_by(AuditEntry.seq)
    )
    return [_out(r) for r in rows]


def verify_audit(ctx: Ctx, *, full: bool = False) -> VerifyReport:
    """Check the chain on behalf of a person and record that the check was made
    (``full=False``: from the newest checkpoint, see ``check_chain``)."""
    require(ctx, "verify_audit")
    report = check_chain(ctx, full=full)
    record(ctx, AuditVerified(entries=report.entries, ok=report.ok))
    return report


def archive_audit(ctx: Ctx, before: datetime) -> archive.ArchiveReport:
    """Move the entries up to the newest checkpoint written before ``before`` to an archive
    file, checked link by link on the way; the rows are deleted afterwards by
    ``archive.finish_removal`` (in batches, after the caller commits this)."""
    require(ctx, "archive_audit")
    moment = _utc(before)
    after, prev = archive.archived_through(ctx)
    cp = archive.boundary(ctx, after, moment)
    if cp is None:
        raise Conflict(
            "该日期之前没有可归档的条目：归档须止于一个已签名的检查点。",
            "Nothing to archive before that date: an archive must end at a signed checkpoint.",
        )
    link = link_checker(ctx, after, prev)
    try:
        path = archive.write_file(ctx, after, cp, link.step)
    except ChainBroken as bad:
        raise Conflict(
            f"审计日志在第 {bad.seq} 条处被破坏，未归档：{bad.reason}",
            f"The audit log is broken at entry {bad.seq}; nothing was archived: {bad.reason}",
        ) from None
    if link.count != cp.seq or link.prev != cp.hash:
        path.unlink()
        raise Conflict(
            f"第 {cp.seq} 条与其检查点不一致，未归档。",
            f"Entry {cp.seq} differs from its checkpoint; nothing was archived.",
        )
    size, digest = path.stat().st_size, archive.sha256(path)
    ctx.db.add(
        archive.AuditArchive(
            first_seq=after + 1,
            last_seq=cp.seq,
            last_hash=cp.hash,
            file=path.name,
            sha256=digest,
            bytes=size,
            archived_at=utcnow(),
        )
    )
    record(
        ctx,
        AuditArchived(first=after + 1, last=cp.seq, file=path.name, sha256=digest, bytes=size),
    )
    return archive.ArchiveReport(after + 1, cp.seq, path, size, cp.seq - after)


def quick_check(ctx: Ctx) -> VerifyReport:
    """The quick chain check (from the newest checkpoint) for a monitor that runs it on a
    schedule: not an operation of a person, so it records nothing itself."""
    return check_chain(ctx, full=False)


@dataclass(frozen=True)
class Logged:
    """One entry as a monitor reads it."""

    at: datetime
    actor: str
    unit_id: int | None
    target_id: str
    details: dict[str, Any]


def entries_between(
    session: Session, action: str, since: datetime, until: datetime, limit: int = 100_000
) -> list[Logged]:
    """The entries of one action in [since, until), oldest first, for a monitor that reads
    the log on a schedule (security operations): not an operation of a person, so it
    records nothing itself; authorisation is the caller's."""
    rows = session.execute(
        select(
            AuditEntry.at,
            AuditEntry.actor,
            AuditEntry.unit_id,
            AuditEntry.target_id,
            AuditEntry.details,
        )
        .where(AuditEntry.at >= since, AuditEntry.at < until, AuditEntry.action == action)
        .order_by(AuditEntry.seq)
        .limit(limit)
    ).all()
    found = []
    for at, actor, unit_id, target_id, details in rows:
        try:
            parsed = json.loads(details)
        except ValueError:
            parsed = {}
        found.append(
            Logged(at, actor, unit_id, target_id, parsed if isinstance(parsed, dict) else {})
        )
    return found
