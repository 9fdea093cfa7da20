"""Portal: usage statistics, counted per process and written in batches."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from shuzhi.auth.permissions import require
from shuzhi.catalog.schemas import OpenType
from shuzhi.context import SYSTEM, Ctx, unit_of_work
from shuzhi.db.cas import affected
from shuzhi.db.engine import Database
from shuzhi.errors import (
    Forbidden,
)
from shuzhi.org import service as org
from shuzhi.portal import tally
from shuzhi.portal.models import (
    Publication,
    PublicationStatus,
    UsageCount,
    UsageKind,
    Visitor,
)
from shuzhi.portal.schemas import (
    DayFigures,
    PortalFigures,
    UnitFigures,
)


def seed_usage(ctx: Ctx, counts: dict[tuple[str, UsageKind, date], int]) -> None:
    """Past usage in one go (the demo; figures carried over from a previous portal)."""
    if ctx.actor.kind != "system":
        raise Forbidden(operation="seed_usage")
    units = dict(
        ctx.db.execute(
            select(Publication.resource_code, Publication.unit_id).where(
                Publication.resource_code.in_({code for code, _, _ in counts})
            )
        ).all()
    )
    existing = {
        (r.resource_code, r.kind, r.day)
        for r in ctx.db.execute(
            select(UsageCount.resource_code, UsageCount.kind, UsageCount.day).where(
                UsageCount.resource_code.in_(units)
            )
        )
    }
    fresh = []
    for (code, kind, day), n in counts.items():
        if code not in units:
            continue
        if (code, kind.value, day) in existing:
            ctx.db.execute(
                update(UsageCount)
                .where(
                    UsageCount.day == day,
                    UsageCount.resource_code == code,
                    UsageCount.kind == kind.value,
                )
                .values(count=UsageCount.count + n)
            )
        else:
            fresh.append(
                {
                    "day": day,
                    "resource_code": code,
                    "unit_id": units[code],
                    "kind": kind,
                    "count": n,
                }
            )
    if fresh:
        ctx.db.execute(insert(UsageCount), fresh)


def count_use(
    ctx: Ctx, p: Publication, kind: UsageKind, n: int = 1, day: date | None = None
) -> None:
    """Add to a day's count for a dataset (one row per dataset, kind and day).

    Views and API reads of a read request go to the process's tally, written in batches
    (see ``tally``); a download is audited, so its request writes anyway and its count
    goes with the audit record.
    """
    today = day or datetime.now(UTC).date()
    code, unit_id = p.resource_code, p.unit_id
    if not ctx.reading or kind is UsageKind.DOWNLOAD:
        ctx.write(lambda c: _add_use(c, code, unit_id, kind, n, today))
        return
    pending = tally.tally_for(ctx.database)
    if pending.add((today, code, unit_id, kind), n):
        ctx.write(lambda c: _write_counts(c, pending.take()))


def _write_counts(ctx: Ctx, counts: dict[tally.Key, int]) -> None:
    for (day, code, unit_id, kind), n in sorted(counts.items()):
        _add_use(ctx, code, unit_id, kind, n, day)


def flush_usage(database: Database) -> int:
    """Write the usage counts this process still holds (at shutdown); how many were held."""
    pending = tally.forget(database)
    counts = pending.take() if pending is not None else {}
    if counts:
        with unit_of_work(database, SYSTEM) as ctx:
            _write_counts(ctx, counts)
    return len(counts)


def _add_use(ctx: Ctx, code: str, unit_id: int, kind: UsageKind, n: int, day: date) -> None:
    where = (
        UsageCount.day == day,
        UsageCount.resource_code == code,
        UsageCount.kind == kind.value,
    )
    done = ctx.db.execute(update(UsageCount).where(*where).values(count=UsageCount.count + n))
    if affected(done):
        return
    try:
        with ctx.db.begin_nested():
            ctx.db.add(UsageCount(day=day, resource_code=code, unit_id=unit_id, kind=kind, count=n))
    except IntegrityError:  # another request created today's row first
        ctx.db.execute(update(UsageCount).where(*where).values(count=UsageCount.count + n))


def count_api_use(ctx: Ctx, resource_code: str) -> None:
    """A CKAN or data API read of one open dataset."""
    p = ctx.db.scalar(select(Publication).where(Publication.resource_code == resource_code))
    if p is not None:
        count_use(ctx, p, UsageKind.API)


def visitor_digest(secret: str, day: date, client: str) -> str:
    """A day-bound keyed digest of a client address: counts visitors, identifies nobody."""
    message = f"{day.isoformat()}|{client}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def count_visitor(ctx: Ctx) -> None:
    """Remember today's visitor by digest only (the address itself is never stored)."""
    if not ctx.client:
        return
    today = datetime.now(UTC).date()
    digest = visitor_digest(ctx.settings.secret_key, today, ctx.client)
    seen = ctx.db.scalar(select(Visitor.id).where(Visitor.day == today, Visitor.digest == digest))
    if seen is None:
        ctx.write(lambda c: _add_visitor(c, today, digest))


def _add_visitor(ctx: Ctx, day: date, digest: str) -> None:
    try:
        with ctx.db.begin_nested():
            ctx.db.add(Visitor(day=day, digest=digest))
    except IntegrityError:  # seen by a concurrent request
        pass


def _unit_figures(ctx: Ctx) -> list[UnitFigures]:
    units = {u.id: u for u in org.all_unit_briefs(ctx)}
    opened = ctx.db.execute(
        select(
            Publication.unit_id, func.count(), func.coalesce(func.sum(Publication.record_count), 0)
        )
        .where(Publication.status == PublicationStatus.OPEN)
        .group_by(Publication.unit_id)
    ).all()
    used = ctx.db.execute(
        select(UsageCount.unit_id, UsageCount.kind, func.sum(UsageCount.count)).group_by(
            UsageCount.unit_id, UsageCount.kind
        )
    ).all()
    counts: dict[tuple[int, str], int] = {(u, k): int(n) for u, k, n in used}
    out = []
    for unit_id, brief in units.items():
        entries, records = next(((int(e), int(r)) for u, e, r in opened if u == unit_id), (0, 0))
        views = counts.get((unit_id, UsageKind.VIEW), 0)
        downloads = counts.get((unit_id, UsageKind.DOWNLOAD), 0)
        calls = counts.get((unit_id, UsageKind.API), 0)
        if entries or views or downloads or calls:
            out.append(
                UnitFigures(
                    unit_id=unit_id,
                    unit_code=brief.code,
                    unit_name=brief.name,
                    open_entries=entries,
                    open_records=records,
                    views=views,
                    downloads=downloads,
                    api_calls=calls,
                )
            )
    return out


def _figures(ctx: Ctx, days: int) -> PortalFigures:
    units = _unit_figures(ctx)
    conditional = ctx.db.scalar(
        select(func.count()).where(
            Publication.status == PublicationStatus.OPEN,
            Publication.open_type == OpenType.CONDITIONAL,
        )
    )
    return PortalFigures(
        open_entries=sum(u.open_entries for u in units),
        conditional_entries=int(conditional or 0),
        open_records=sum(u.open_records for u in units),
        views=sum(u.views for u in units),
        downloads=sum(u.downloads for u in units),
        api_calls=sum(u.api_calls for u in units),
        units=units,
        days=_daily(ctx, days),
    )


def _daily(ctx: Ctx, days: int) -> list[DayFigures]:
    """Every day of the last ``days``, ending today (zeros where nothing was counted): a
    chart of it has no gaps, and the window is as long whatever the hour. Empty for 0."""
    if days <= 0:
        return []
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    per_day: dict[date, dict[str, int]] = {}
    for day, kind, n in ctx.db.execute(
        select(UsageCount.day, UsageCount.kind, func.sum(UsageCount.count))
        .where(UsageCount.day >= since)
        .group_by(UsageCount.day, UsageCount.kind)
    ).all():
        per_day.setdefault(day, {})[kind] = int(n)
    visitors = dict(
        ctx.db.execute(
            select(Visitor.day, func.count()).where(Visitor.day >= since).group_by(Visitor.day)
        ).all()
    )
    return [
        DayFigures(
            day=d,
            views=per_day.get(d, {}).get(UsageKind.VIEW, 0),
            downloads=per_day.get(d, {}).get(UsageKind.DOWNLOAD, 0),
            api_calls=per_day.get(d, {}).get(UsageKind.API, 0),
            visitors=int(visitors.get(d, 0)),
        )
        for d in (since + timedelta(days=n) for n in range(days))
    ]


def portal_figures(ctx: Ctx, days: int = 30) -> PortalFigures:
    """Open entries, records, downloads and API calls, per unit and per day (the cockpit)."""
    require(ctx, "view_portal_figures")
    return _figures(ctx, days)


def home_figures(ctx: Ctx) -> PortalFigures:
    """The public home page's counts (totals are public; anyone may read them)."""
    return _figures(ctx, 0)
