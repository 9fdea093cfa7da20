"""What the call log says about consumers' behaviour, for security monitoring.

Read-only aggregate queries over ``gateway_call`` in a time range; every value a caller
looked up is known only as the keyed digest the meter stored (``filter``), so counting
*distinct* lookups needs no raw key. Every read is bounded by the call time ``at``: the
range's calls are found through the index on (key, time) when one key is asked for, through
the index on time otherwise, so a read visits the range's calls only, not the whole day's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, distinct, func, literal, or_, select
from sqlalchemy.orm import Session

from shuzhi.gateway.filters import NEAR_CHARS, NEAR_MARK
from shuzhi.gateway.models import ApiCall, Endpoint

REFUSED = (401, 403, 404)
# Where a lookup's neighbourhood digest sits in its described condition: ``…,"~abcdef"]]``.
NEAR_WIDTH = len(NEAR_MARK) + NEAR_CHARS
NEAR_TAIL = NEAR_WIDTH + 2  # substr start: length − this (the digest, then ``"]]``)


@dataclass(frozen=True)
class KeyActivity:
    """One application key's calls in a range."""

    key_id: int
    application_code: str
    consumer_unit_id: int | None
    provider_unit_id: int | None
    calls: int
    rows: int
    distinct_lookups: int
    refused: int
    first_at: datetime
    last_at: datetime
    # Its densest block of consecutive keys (distinct keys looked up in it) and the blocks
    # holding at least the asked number of them.
    densest_block: int
    dense_blocks: int


@dataclass(frozen=True)
class CallSample:
    call_id: str
    at: datetime
    endpoint: str
    resource_code: str
    status: int
    rows: int
    filter: str
    client: str | None


def _range(since: datetime, until: datetime) -> list[Any]:
    return [ApiCall.at >= since, ApiCall.at < until]


def activity(
    session: Session, since: datetime, until: datetime, least: int = 1
) -> list[KeyActivity]:
    """Per application key: calls, rows served, distinct lookup keys (by digest), refusals,
    and its blocks of consecutive keys holding at least ``least`` distinct lookups."""
    refused = func.sum(case((ApiCall.status.in_(REFUSED), 1), else_=0))
    keyed = [*_range(since, until), ApiCall.key_id.is_not(None)]
    rows = session.execute(
        select(
            ApiCall.key_id,
            func.max(ApiCall.application_code),
            func.max(ApiCall.consumer_unit_id),
            func.max(ApiCall.provider_unit_id),
            func.count(),
            func.coalesce(func.sum(ApiCall.rows), 0),
            refused,
            func.min(ApiCall.at),
            func.max(ApiCall.at),
        )
        .where(*keyed)
        .group_by(ApiCall.key_id)
    ).all()
    lookups = _lookups(session, keyed, least)
    found = []
    for r in rows:
        distinct_keys, densest, blocks = lookups.get(int(r[0]), (0, 0, 0))
        found.append(
            KeyActivity(
                key_id=int(r[0]),
                application_code=r[1] or "",
                consumer_unit_id=r[2],
                provider_unit_id=r[3],
                calls=int(r[4]),
                rows=int(r[5]),
                distinct_lookups=distinct_keys,
                refused=int(r[6] or 0),
                first_at=r[7],
                last_at=r[8],
                densest_block=densest,
                dense_blocks=blocks,
            )
        )
    return found


def _lookups(session: Session, keyed: list[Any], least: int) -> dict[int, tuple[int, int, int]]:
    """Per key: (distinct keys looked up, distinct keys in its densest block of consecutive
    keys, blocks holding at least ``least`` of them).

    One sort serves both counts: lookups are grouped by their neighbourhood digest
    (``filters.near_digest``, the last item of a keyed lookup's one condition, read from the
    described condition's end), a function of the condition, so the groups' distinct counts
    add up to the key's. Only groups of conditions that carry the digest are blocks: nothing
    but "these keys were near each other" is known, never a key or a block.
    """
    near = func.substr(ApiCall.filter, func.length(ApiCall.filter) - NEAR_TAIL, NEAR_WIDTH)
    marked = ApiCall.filter.like(f'%,"{NEAR_MARK}%"]]')
    groups = (
        select(
            ApiCall.key_id.label("key_id"),
            marked.label("marked"),
            func.count(distinct(ApiCall.filter)).label("distinct_keys"),
        )
        .where(*keyed, ApiCall.endpoint == Endpoint.LOOKUP.value)
        .group_by(ApiCall.key_id, marked, near)
        .subquery()
    )
    dense = and_(groups.c.marked, groups.c.distinct_keys >= max(1, least))
    rows = session.execute(
        select(
            groups.c.key_id,
            func.sum(groups.c.distinct_keys),
            func.max(case((dense, groups.c.distinct_keys), else_=0)),
            func.sum(case((dense, 1), else_=0)),
        ).group_by(groups.c.key_id)
    ).all()
    return {
        int(k): (int(n or 0), int(densest or 0), int(blocks or 0)) for k, n, densest, blocks in rows
    }


def calls_per_key(
    session: Session, since: datetime, until: datetime
) -> dict[int, tuple[int, datetime]]:
    """Per key: the number of calls in the range and the first call's time (for baselines)."""
    rows = session.execute(
        select(ApiCall.key_id, func.count(), func.min(ApiCall.at))
        .where(*_range(since, until), ApiCall.key_id.is_not(None))
        .group_by(ApiCall.key_id)
    ).all()
    return {int(k or 0): (int(n), first) for k, n, first in rows}


def rows_in(
    session: Session, spans: Sequence[tuple[datetime, datetime]]
) -> dict[int, tuple[int, int]]:
    """Per key: (rows served, calls) in any of the time spans (e.g. the off-hours ones)."""
    if not spans:
        return {}
    lo, hi = min(s for s, _ in spans), max(u for _, u in spans)
    within = or_(*(and_(ApiCall.at >= s, ApiCall.at < u) for s, u in spans))
    rows = session.execute(
        select(ApiCall.key_id, func.coalesce(func.sum(ApiCall.rows), 0), func.count())
        .where(*_range(lo, hi), within, ApiCall.key_id.is_not(None), ApiCall.status < 400)
        .group_by(ApiCall.key_id)
    ).all()
    return {int(k or 0): (int(r), int(n)) for k, r, n in rows}


def clients_of(
    session: Session, since: datetime, until: datetime, key_ids: Iterable[int] | None = None
) -> dict[int, set[str]]:
    """Per key: the client addresses it called from in the range."""
    query = (
        select(ApiCall.key_id, ApiCall.client)
        .where(*_range(since, until), ApiCall.key_id.is_not(None), ApiCall.client.is_not(None))
        .distinct()
    )
    if key_ids is not None:
        query = query.where(ApiCall.key_id.in_(list(key_ids)))
    found: dict[int, set[str]] = {}
    for key_id, client in session.execute(query):
        found.setdefault(int(key_id or 0), set()).add(client or "")
    return found


def refusals_without_key(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Per client address: refused calls (401/403/404) that no valid key made."""
    rows = session.execute(
        select(ApiCall.client, func.count())
        .where(
            *_range(since, until),
            ApiCall.key_id.is_(None),
            ApiCall.client.is_not(None),
            ApiCall.status.in_(REFUSED),
        )
        .group_by(ApiCall.client)
    ).all()
    return {str(c): int(n) for c, n in rows}


def samples(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    key_id: int | None = None,
    client: str | None = None,
    limit: int = 20,
) -> list[CallSample]:
    """The latest calls of a key (or, without one, of a client address) in the range."""
    query = select(ApiCall).where(*_range(since, until))
    if key_id is not None:
        query = query.where(ApiCall.key_id == key_id)
    if client is not None:
        query = query.where(ApiCall.client == client)
    rows = session.scalars(query.order_by(ApiCall.at.desc(), ApiCall.id.desc()).limit(limit))
    return [
        CallSample(
            call_id=r.call_id,
            at=r.at,
            endpoint=str(r.endpoint),
            resource_code=r.resource_code,
            status=r.status,
            rows=r.rows,
            filter=r.filter,
            client=r.client,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Impact:
    consumer_units: tuple[int, ...]
    applications: tuple[str, ...]
    calls: int
    served: int
    rows: int


def impact(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    key_ids: Sequence[int] = (),
    grant_ids: Sequence[int] = (),
) -> Impact:
    """Who called through these keys or grants in the range, how often, how many records."""
    if not key_ids and not grant_ids:
        return Impact((), (), 0, 0, 0)
    which = or_(ApiCall.key_id.in_(list(key_ids)), ApiCall.grant_id.in_(list(grant_ids)))
    where = [*_range(since, until), which]
    calls, served, rows = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((ApiCall.status < 400, 1), else_=0)), 0),
            func.coalesce(func.sum(ApiCall.rows), 0),
        ).where(*where)
    ).one()
    units = session.scalars(
        select(ApiCall.consumer_unit_id)
        .where(*where, ApiCall.consumer_unit_id.is_not(None))
        .distinct()
    )
    apps = session.scalars(
        select(ApiCall.application_code)
        .where(*where, ApiCall.application_code.is_not(None))
        .distinct()
    )
    return Impact(
        tuple(sorted(int(u or 0) for u in units)),
        tuple(sorted(a for a in apps if a)),
        int(calls),
        int(served or 0),
        int(rows or 0),
    )


def count_calls(
    session: Session,
    after: datetime,
    until: datetime,
    *,
    key_id: int | None = None,
    client: str | None = None,
    refused_only: bool = False,
) -> int:
    """Calls of a key (or of a client address) after ``after`` up to ``until``."""
    where = [*_range(after, until), ApiCall.at > after]
    if key_id is not None:
        where.append(ApiCall.key_id == key_id)
    if client is not None:
        where.append(ApiCall.client == client)
    if refused_only:
        where.append(ApiCall.status.in_(REFUSED))
    return int(session.scalar(select(func.count()).select_from(ApiCall).where(*where)) or 0)


@dataclass(frozen=True)
class ExportActivity:
    """One key's bulk exports in a range."""

    key_id: int
    application_code: str
    provider_unit_id: int | None
    exports: int
    rows: int
    resources: int
    first_at: datetime
    last_at: datetime


def exports(session: Session, since: datetime, until: datetime) -> list[ExportActivity]:
    """Per key: served bulk exports (calls of the export endpoint), records, datasets."""
    rows = session.execute(
        select(
            ApiCall.key_id,
            func.max(ApiCall.application_code),
            func.max(ApiCall.provider_unit_id),
            func.count(),
            func.coalesce(func.sum(ApiCall.rows), 0),
            func.count(distinct(ApiCall.resource_code)),
            func.min(ApiCall.at),
            func.max(ApiCall.at),
        )
        .where(
            *_range(since, until),
            ApiCall.key_id.is_not(None),
            ApiCall.endpoint == Endpoint.EXPORT.value,
            ApiCall.status < 400,
        )
        .group_by(ApiCall.key_id)
    ).all()
    return [
        ExportActivity(
            int(r[0] or 0), r[1] or "", r[2], int(r[3]), int(r[4]), int(r[5]), r[6], r[7]
        )
        for r in rows
    ]


@dataclass(frozen=True)
class GrantUse:
    """How one grant was used in a range: calls in given spans (e.g. off hours) and calls
    whose conditions name each column (from the described conditions, never values)."""

    grant_id: int
    key_id: int | None
    application_code: str
    provider_unit_id: int | None
    calls: int
    calls_in_spans: int
    calls_by_column: dict[str, int]
    first_at: datetime
    last_at: datetime


def grant_use(
    session: Session,
    since: datetime,
    until: datetime,
    spans: Sequence[tuple[datetime, datetime]] = (),
) -> list[GrantUse]:
    """Per grant: calls, calls within ``spans``, and served calls per condition column."""
    inside = or_(*(and_(ApiCall.at >= s, ApiCall.at < u) for s, u in spans)) if spans else None
    in_spans = func.sum(case((inside, 1), else_=0)) if inside is not None else literal(0)
    base = [*_range(since, until), ApiCall.grant_id.is_not(None)]
    found = {
        int(r[0]): r
        for r in session.execute(
            select(
                ApiCall.grant_id,
                func.max(ApiCall.key_id),
                func.max(ApiCall.application_code),
                func.max(ApiCall.provider_unit_id),
                func.count(),
                in_spans,
                func.min(ApiCall.at),
                func.max(ApiCall.at),
            )
            .where(*base)
            .group_by(ApiCall.grant_id)
        ).all()
    }
    columns: dict[int, dict[str, int]] = {}
    for grant_id, text, n in session.execute(
        select(ApiCall.grant_id, ApiCall.filter, func.count())
        .where(
            *base,
            ApiCall.filter != "[]",
            ApiCall.status < 400,
            ApiCall.endpoint != Endpoint.LOOKUP.value,  # by the key column, by definition
        )
        .group_by(ApiCall.grant_id, ApiCall.filter)
    ).all():
        try:
            described = json.loads(text)
        except ValueError:
            continue
        named = {str(item[0]) for item in described if isinstance(item, list) and item}
        per = columns.setdefault(int(grant_id or 0), {})
        for column in named:
            per[column] = per.get(column, 0) + int(n)
    return [
        GrantUse(
            grant_id=g,
            key_id=r[1],
            application_code=r[2] or "",
            provider_unit_id=r[3],
            calls=int(r[4]),
            calls_in_spans=int(r[5] or 0),
            calls_by_column=columns.get(g, {}),
            first_at=r[6],
            last_at=r[7],
        )
        for g, r in found.items()
    ]
