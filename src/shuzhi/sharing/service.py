"""Share requests, decisions and grants (共享申请与授权).

A consumer unit's liaison or CDO asks for a published entry of another unit, naming the
columns (data items), purpose, legal basis, duration, delivery modes and the application
that will call. The entry's share type routes the request — strictest of the entry and the
requested items:

- unconditional → granted at once;
- conditional   → the provider unit CDO's queue, due in N working days (per jurisdiction);
  when the deadline passes the request is escalated to the executive, who may then decide
  (the provider's CDO still may, late);
- not_shared    → refused with the entry's recorded legal basis; the requester may appeal to
  the executive, who arbitrates (but can never grant an item catalogued as not shared).

Decisions: approve (as asked), partly approve (fewer columns, stricter masking, extra row
conditions, shorter expiry, fewer delivery modes, a lower rate limit) or refuse with a
reason. A requester may withdraw before the decision; a grant may be renewed (a new request,
routed the same way) or revoked by the provider's CDO or the executive. Status changes are
conditional updates, so racing decisions and revocations cannot both win; at most one
active grant exists per application and entry. Every step is audited and notified.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import RULES, allowed, deny, require, scope_unit
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryBrief, EntryOut, EntryStatus, ShareType
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, ErrorCollector, Invalid, NotFound
from shuzhi.lake.query import Filter
from shuzhi.org import service as org
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MaskLevel, may_override, strictest
from shuzhi.sharing import filters
from shuzhi.sharing.access import active_key, bump_revision
from shuzhi.sharing.apps_service import application_for
from shuzhi.sharing.calendar import local_day
from shuzhi.sharing.calendar_service import jurisdiction_of, policy_for, work_calendar
from shuzhi.sharing.events import (
    GrantIssued,
    GrantRevoked,
    GrantSuperseded,
    RequestAppealed,
    RequestArbitrated,
    RequestDecided,
    RequestEscalated,
    RequestSubmitted,
    RequestWithdrawn,
)
from shuzhi.sharing.grants import DeliveryMode
from shuzhi.sharing.models import (
    Application,
    Grant,
    GrantStatus,
    Notification,
    NotificationRead,
    Outcome,
    RequestEvent,
    RequestKind,
    RequestStatus,
    ShareRequest,
)
from shuzhi.sharing.notify import Outgoing, queue
from shuzhi.sharing.schemas import (
    ColumnMaskOut,
    ConditionOut,
    DecisionIn,
    GrantOut,
    NotificationOut,
    RenewalIn,
    RequestCreate,
    RequestEventOut,
    RequestOut,
)
from shuzhi.sharing.terms import (
    Columns,
    Terms,
    check_shareable,
    column_keys,
    decided_terms,
    default_level,
    entry_columns,
    parse_filter,
    route,
)

S = RequestStatus
WAITING = (S.PENDING, S.ESCALATED)
STAFF_ROLES = (Role.UNIT_CDO, Role.DATA_LIAISON)
EXEC_ROLES = (Role.CDO_EXECUTIVE, Role.CDO)
# Identifier categories usable for keyed lookups, best first.
KEY_CATEGORIES = (Category.RESIDENT_ID, Category.USCC, Category.ORG_CODE)


# ---------------------------------------------------------------- reading helpers


def _unit_name(ctx: Ctx, unit_id: int) -> tuple[str, str]:
    cache: dict[int, tuple[str, str]] = ctx.db.info.setdefault("sharing.units", {})
    if unit_id not in cache:
        brief = org.unit_brief(ctx, unit_id)
        cache[unit_id] = (brief.code, brief.name) if brief else ("", "")
    return cache[unit_id]


def _app_names(ctx: Ctx, app_id: int) -> tuple[str, str]:
    cache: dict[int, tuple[str, str]] = ctx.db.info.setdefault("sharing.apps", {})
    if app_id not in cache:
        app = ctx.db.get(Application, app_id)
        cache[app_id] = (app.code, app.name) if app else ("", "")
    return cache[app_id]


def _conditions(data: str) -> list[ConditionOut]:
    out = []
    for f, raw in zip(filters.decode(json.loads(data)), json.loads(data), strict=True):
        out.append(
            ConditionOut(column=f.column, op=f.op, value=raw.get("value"), text=filters.describe(f))
        )
    return out


def _request_out(
    ctx: Ctx, req: ShareRequest, with_history: bool = False, now: datetime | None = None
) -> RequestOut:
    consumer, provider = (
        _unit_name(ctx, req.consumer_unit_id),
        _unit_name(ctx, req.provider_unit_id),
    )
    app_code, app_name = _app_names(ctx, req.application_id)
    today = local_day(now or utcnow())
    left: int | None = None
    overdue = False
    if req.status in WAITING and req.due_on is not None:
        overdue = req.status == S.ESCALATED or today > req.due_on
        calendar = work_calendar(ctx, req.jurisdiction)
        left = 0 if overdue else calendar.working_days(today + timedelta(days=1), req.due_on)
    history = []
    if with_history:
        history = [
            RequestEventOut(action=e.action, actor=e.actor, note=e.note, at=e.at)
            for e in ctx.db.scalars(
                select(RequestEvent)
                .where(RequestEvent.request_id == req.id)
                .order_by(RequestEvent.id)
            )
        ]
    return RequestOut(
        id=req.id,
        kind=RequestKind(req.kind),
        renews_grant_id=req.renews_grant_id,
        consumer_unit_code=consumer[0],
        consumer_unit_name=consumer[1],
        provider_unit_code=provider[0],
        provider_unit_name=provider[1],
        application_code=app_code,
        application_name=app_name,
        resource_code=req.resource_code,
        entry_name=req.entry_name,
        entry_version=req.entry_version,
        share_type=ShareType(req.share_type),
        purpose=req.purpose,
        legal_basis=req.legal_basis,
        columns=json.loads(req.columns),
        row_filter=_conditions(req.row_filter),
        delivery=[DeliveryMode(d) for d in json.loads(req.delivery)],
        duration_days=req.duration_days,
        status=S(req.status),
        requested_by=req.requested_by,
        requested_at=req.requested_at,
        jurisdiction=req.jurisdiction,
        decision_days=req.decision_days,
        due_on=req.due_on,
        working_days_left=left,
        overdue=overdue,
        escalated_at=req.escalated_at,
        outcome=Outcome(req.outcome) if req.outcome else None,
        decided_by=req.decided_by,
        decided_at=req.decided_at,
        decision_reason=req.decision_reason,
        appeal_reason=req.appeal_reason,
        appealed_at=req.appealed_at,
        arbitrated_by=req.arbitrated_by,
        arbitrated_at=req.arbitrated_at,
        arbitration_note=req.arbitration_note,
        withdrawn_at=req.withdrawn_at,
        grant_id=req.grant_id,
        history=history,
    )


def grant_status(grant: Grant, now: datetime) -> str:
    if grant.status == GrantStatus.ACTIVE and grant.expires_at <= now:
        return "expired"
    return grant.status


def _grant_out(ctx: Ctx, grant: Grant) -> GrantOut:
    consumer = _unit_name(ctx, grant.consumer_unit_id)
    provider = _unit_name(ctx, grant.provider_unit_id)
    app_code, app_name = _app_names(ctx, grant.application_id)
    return GrantOut(
        id=grant.id,
        request_id=grant.request_id,
        application_code=app_code,
        application_name=app_name,
        consumer_unit_code=consumer[0],
        consumer_unit_name=consumer[1],
        provider_unit_code=provider[0],
        provider_unit_name=provider[1],
        resource_code=grant.resource_code,
        entry_name=grant.entry_name,
        columns=json.loads(grant.columns),
        row_filter=_conditions(grant.row_filter),
        masking=[
            ColumnMaskOut(column=c, category=m["category"], level=MaskLevel(m["level"]))
            for c, m in json.loads(grant.masking).items()
        ],
        key_column=grant.key_column,
        delivery=[DeliveryMode(d) for d in json.loads(grant.delivery)],
        purpose=grant.purpose,
        starts_at=grant.starts_at,
        expires_at=grant.expires_at,
        rate_limit_per_minute=grant.rate_limit_per_minute,
        status=grant_status(grant, utcnow()),
        replaces_grant_id=grant.replaces_grant_id,
        revoked_at=grant.revoked_at,
        revoked_by=grant.revoked_by,
        revoke_reason=grant.revoke_reason,
    )


MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer exist on no backend: not found, not an error


def _request(ctx: Ctx, request_id: int) -> ShareRequest:
    req = ctx.db.get(ShareRequest, request_id) if 0 < request_id <= MAX_ID else None
    if req is None:
        raise NotFound("共享申请不存在。", "No such share request.")
    return req


def _grant(ctx: Ctx, grant_id: int) -> Grant:
    grant = ctx.db.get(Grant, grant_id) if 0 < grant_id <= MAX_ID else None
    if grant is None:
        raise NotFound("授权不存在。", "No such grant.")
    return grant


def _require_either(ctx: Ctx, operation: str, consumer: int, provider: int, target: str) -> None:
    """Staff of either party (and region roles) may read a request or grant."""
    if not allowed(ctx, operation, provider):
        require(ctx, operation, consumer, target=target)


def _is_region_actor(ctx: Ctx, operation: str) -> bool:
    role = ctx.actor.role
    return ctx.actor.kind == "system" or (role is not None and role in RULES[operation].region)


# ---------------------------------------------------------------- history, notifications


def _log(ctx: Ctx, req: ShareRequest, action: str, note: str = "") -> None:
    ctx.db.add(RequestEvent(request_id=req.id, action=action, actor=ctx.actor.label, note=note))


def _notify(
    ctx: Ctx,
    kind: str,
    unit_id: int | None,
    roles: Sequence[str],
    zh: str,
    en: str,
    link: str,
    *,
    request_id: int | None = None,
    grant_id: int | None = None,
) -> None:
    ctx.db.add(
        Notification(
            unit_id=unit_id,
            roles="," + ",".join(roles) + ",",
            kind=kind,
            request_id=request_id,
            grant_id=grant_id,
            message_zh=zh,
            message_en=en,
            link=link,
        )
    )
    unit_code = _unit_name(ctx, unit_id)[0] if unit_id is not None else None
    queue(ctx.db, ctx.database, Outgoing(kind, unit_code, tuple(roles), zh, en, link))


def _audience(ctx: Ctx) -> Any:
    role = ctx.actor.role
    if role is None:
        return Notification.id.is_(None)
    unit = (
        Notification.unit_id.is_(None)
        if role in (Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR)
        else Notification.unit_id == (ctx.actor.unit_id or 0)
    )
    return and_(unit, Notification.roles.like(f"%,{role.value},%"))


def _unread(ctx: Ctx) -> Any:
    return ~exists().where(
        NotificationRead.notification_id == Notification.id,
        NotificationRead.reader == ctx.actor.label,
    )


def list_notifications(ctx: Ctx, limit: int = 50) -> list[NotificationOut]:
    """The actor's console notifications, newest first."""
    require(ctx, "view_notifications")
    read_ids = select(NotificationRead.notification_id).where(
        NotificationRead.reader == ctx.actor.label
    )
    rows = ctx.db.execute(
        select(Notification, Notification.id.in_(read_ids))
        .where(_audience(ctx))
        .order_by(Notification.id.desc())
        .limit(max(1, min(limit, 200)))
    ).all()
    return [
        NotificationOut(
            id=n.id,
            kind=n.kind,
            message=n.message_en if ctx.locale.startswith("en") else n.message_zh,
            link=n.link,
            created_at=n.created_at,
            read=bool(read),
        )
        for n, read in rows
    ]


def unread_count(ctx: Ctx) -> int:
    """For the console badge (0 for anyone without notifications)."""
    if not ctx.actor.is_authenticated or ctx.actor.role is None:
        return 0
    require(ctx, "view_notifications")
    return (
        ctx.db.scalar(
            select(func.count()).select_from(Notification).where(_audience(ctx), _unread(ctx))
        )
        or 0
    )


def mark_notifications_read(ctx: Ctx, ids: Sequence[int] | None = None) -> int:
    """Mark the given notifications (default: all of the actor's) read; returns how many."""
    require(ctx, "view_notifications")
    query = select(Notification.id).where(_audience(ctx), _unread(ctx))
    if ids is not None:
        query = query.where(Notification.id.in_([i for i in ids if 0 < i <= MAX_ID]))
    found = list(ctx.db.scalars(query))
    for nid in found:
        ctx.db.add(NotificationRead(notification_id=nid, reader=ctx.actor.label))
    ctx.db.flush()
    return len(found)


def _link(req: ShareRequest) -> str:
    return f"/sharing/requests/{req.id}"


# ---------------------------------------------------------------- grants


def _grant_masking(cols: Columns, terms: Terms) -> dict[str, dict[str, str]]:
    """Each granted column's category and masking level (the default, or stricter)."""
    masking = {}
    for k in terms.columns:
        category = cols.categories.get(k, Category.NONE.value)
        level = strictest(default_level(category), terms.masking.get(k, MaskLevel.NONE))
        masking[cols.names[k]] = {"category": category, "level": level.value}
    return masking


def _key_column(cols: Columns, terms: Terms) -> str | None:
    """The granted column keyed lookups use: the best identifier category granted."""
    return next(
        (
            cols.names[k]
            for cat in KEY_CATEGORIES
            for k in terms.columns
            if cols.categories.get(k) == cat.value
        ),
        None,
    )


def _grant_start(ctx: Ctx, req: ShareRequest, now: datetime) -> datetime:
    """Now, or for a renewal the end of the grant it renews (which must still be active)."""
    if req.kind != RequestKind.RENEWAL:
        return now
    renewed = ctx.db.get(Grant, req.renews_grant_id or 0)
    if renewed is None or renewed.status != GrantStatus.ACTIVE:
        raise Conflict(
            "被续期的授权已被撤销或替换，不能续期。",
            "The grant being renewed was revoked or replaced; it cannot be renewed.",
        )
    return max(renewed.expires_at, now)


def _issue_grant(ctx: Ctx, req: ShareRequest, cols: Columns, terms: Terms) -> Grant:
    """Create the grant of an approved request, replacing the application's previous one."""
    now = utcnow()
    key = active_key(req.application_id, req.resource_code)
    previous = ctx.db.scalar(select(Grant).where(Grant.active_key == key))
    start = _grant_start(ctx, req, now)
    if previous is not None and not compare_and_set(
        ctx.db,
        previous,
        Grant.status == GrantStatus.ACTIVE,
        status=GrantStatus.SUPERSEDED,
        active_key=None,
        updated_at=now,
    ):
        raise Conflict("授权状态已变化，请刷新后重试。", "The grant changed; reload and retry.")
    masking = _grant_masking(cols, terms)
    grant = Grant(
        request_id=req.id,
        application_id=req.application_id,
        consumer_unit_id=req.consumer_unit_id,
        provider_unit_id=req.provider_unit_id,
        resource_code=req.resource_code,
        entry_id=req.entry_id,
        entry_name=req.entry_name,
        columns=json.dumps([cols.names[k] for k in terms.columns], ensure_ascii=False),
        row_filter=json.dumps(filters.encode(terms.row_filter), ensure_ascii=False),
        masking=json.dumps(masking, ensure_ascii=False),
        key_column=_key_column(cols, terms),
        delivery=json.dumps([d.value for d in terms.delivery]),
        purpose=req.purpose,
        starts_at=now,
        expires_at=start + timedelta(days=terms.duration_days),
        rate_limit_per_minute=terms.rate_limit,
        status=GrantStatus.ACTIVE,
        active_key=key,
        replaces_grant_id=previous.id if previous else None,
    )
    ctx.db.add(grant)
    try:
        ctx.db.flush()
    except IntegrityError:
        raise Conflict(
            "该应用对此目录的授权正被同时处理，请刷新后重试。",
            "Another decision for this application and entry was made at the same time;"
            " reload and retry.",
        ) from None
    bump_revision(ctx.db)
    if previous is not None:
        record(
            ctx, GrantSuperseded(grant_id=previous.id, unit=req.provider_unit_id, by_grant=grant.id)
        )
    record(
        ctx,
        GrantIssued(
            grant_id=grant.id,
            unit=req.provider_unit_id,
            request_id=req.id,
            resource_code=req.resource_code,
            application=_app_names(ctx, req.application_id)[0],
            consumer_unit=req.consumer_unit_id,
            columns=json.loads(grant.columns),
            masking={c: m["level"] for c, m in masking.items()},
            row_filter=[filters.describe(f) for f in terms.row_filter],
            delivery=json.loads(grant.delivery),
            expires_at=grant.expires_at.isoformat(),
            replaces_grant=previous.id if previous else None,
        ),
    )
    return grant


# ---------------------------------------------------------------- status changes


def _transition(
    ctx: Ctx,
    req: ShareRequest,
    allowed_from: Sequence[RequestStatus],
    to: RequestStatus,
    **values: object,
) -> None:
    """Move status only if it is still what we read: a racing step makes this a Conflict."""
    current = ShareRequest.status.in_(list(allowed_from))
    if not compare_and_set(ctx.db, req, current, status=to, updated_at=utcnow(), **values):
        raise Conflict(
            f"该申请当前状态为「{_STATUS_ZH.get(req.status, req.status)}」，不能执行此操作。",
            f"The request is '{req.status}'; this step is not possible now.",
        )


_STATUS_ZH: dict[str, str] = {
    S.PENDING: "待审批",
    S.ESCALATED: "已超期上报",
    S.APPROVED: "已同意",
    S.PARTLY_APPROVED: "部分同意",
    S.REFUSED: "已拒绝",
    S.APPEALED: "申诉中",
    S.WITHDRAWN: "已撤回",
}
_OUTCOME_ZH = {Outcome.APPROVE: "同意", Outcome.PARTLY_APPROVE: "部分同意", Outcome.REFUSE: "拒绝"}
_TO = {
    Outcome.APPROVE: S.APPROVED,
    Outcome.PARTLY_APPROVE: S.PARTLY_APPROVED,
    Outcome.REFUSE: S.REFUSED,
}


def _conclude(
    ctx: Ctx,
    req: ShareRequest,
    data: DecisionIn,
    allowed_from: Sequence[RequestStatus],
    *,
    arbitration: bool,
    automatic: bool = False,
    from_form: bool = False,
) -> None:
    """Apply a decision or an arbitration: move the status, issue the grant, tell people."""
    now = utcnow()
    who = (
        {"arbitrated_by": ctx.actor.label, "arbitrated_at": now}
        if arbitration
        else {
            "decided_by": ctx.actor.label,
            "decided_at": now,
        }
    )
    note = {"arbitration_note": data.reason} if arbitration else {"decision_reason": data.reason}
    if data.outcome == Outcome.REFUSE:
        if len(data.reason) < 2:
            raise Invalid.field("reason", "拒绝时必须写明理由。", "Give a reason when refusing.")
        _transition(ctx, req, allowed_from, S.REFUSED, outcome=Outcome.REFUSE, **who, **note)
    else:
        cols = entry_columns(ctx, req.resource_code)
        terms = decided_terms(ctx, cols, req, data, from_form)
        _transition(ctx, req, allowed_from, _TO[data.outcome], outcome=data.outcome, **who, **note)
        req.grant_id = _issue_grant(ctx, req, cols, terms).id
        ctx.db.flush()
    _announce(ctx, req, data, arbitration=arbitration, automatic=automatic)


def _announce(
    ctx: Ctx, req: ShareRequest, data: DecisionIn, *, arbitration: bool, automatic: bool
) -> None:
    """History, audit record and notifications of a decision or an arbitration."""
    outcome_zh = _OUTCOME_ZH[data.outcome]
    _log(
        ctx,
        req,
        "arbitrated" if arbitration else "decided",
        f"{outcome_zh}：{data.reason}".rstrip("："),
    )
    if arbitration:
        record(
            ctx,
            RequestArbitrated(
                request_id=req.id,
                unit=req.consumer_unit_id,
                outcome=data.outcome,
                reason=data.reason,
            ),
        )
    else:
        record(
            ctx,
            RequestDecided(
                request_id=req.id,
                unit=req.provider_unit_id,
                outcome=data.outcome,
                reason=data.reason,
                automatic=automatic,
            ),
        )
    what = "仲裁结果" if arbitration else "审批结果"
    _notify(
        ctx,
        "request_" + ("arbitrated" if arbitration else "decided"),
        req.consumer_unit_id,
        STAFF_ROLES,
        f"共享申请 #{req.id}（{req.entry_name}）{what}：{outcome_zh}。",
        f"Share request #{req.id} ({req.entry_name}): {data.outcome.value.replace('_', ' ')}.",
        _link(req),
        request_id=req.id,
        grant_id=req.grant_id,
    )
    if arbitration:
        _notify(
            ctx,
            "request_arbitrated",
            req.provider_unit_id,
            STAFF_ROLES,
            f"共享申请 #{req.id}（{req.entry_name}）经申诉仲裁：{outcome_zh}。",
            f"Share request #{req.id} ({req.entry_name}) was arbitrated: {data.outcome.value}.",
            _link(req),
            request_id=req.id,
        )


@contextmanager
def _as_platform(ctx: Ctx) -> Iterator[None]:
    """Steps the rules take by themselves (deadlines passing) are done as the system."""
    actor = ctx.actor
    ctx.actor = SYSTEM
    try:
        yield
    finally:
        ctx.actor = actor


# ---------------------------------------------------------------- requests


def _consumer_unit(ctx: Ctx, unit_code: str | None) -> int:
    if unit_code:
        unit_id = org.unit_id_for_code(ctx, unit_code)
        if unit_id is None:
            raise Invalid.field(
                "unit_code", f"单位 {unit_code} 不存在。", f"Unit {unit_code} does not exist."
            )
        return unit_id
    if ctx.actor.unit_id is None:
        raise Invalid.field("unit_code", "请指定申请单位。", "Name the requesting unit.")
    return ctx.actor.unit_id


def _file(
    ctx: Ctx,
    *,
    kind: RequestKind,
    consumer: int,
    app: Application,
    cols: Columns,
    keys: list[str],
    purpose: str,
    legal_basis: str,
    row_filter: list[Filter],
    masking: dict[str, str],
    delivery: list[DeliveryMode],
    duration_days: int,
    rate_limit: int | None,
    renews: int | None,
) -> ShareRequest:
    """Store a request and route it by share type."""
    entry = cols.entry
    provider = org.unit_id_for_code(ctx, entry.unit_code)
    assert provider is not None
    entry_id = catalog.published_entry_id(ctx.db, entry.resource_code)
    assert entry_id is not None
    routed = route(cols, keys)
    jurisdiction = jurisdiction_of(ctx, provider)
    now = utcnow()
    req = ShareRequest(
        kind=kind,
        renews_grant_id=renews,
        consumer_unit_id=consumer,
        provider_unit_id=provider,
        application_id=app.id,
        resource_code=entry.resource_code,
        entry_id=entry_id,
        entry_name=entry.name,
        entry_version=entry.showing_version or entry.published_version or entry.version,
        share_type=routed,
        purpose=purpose,
        legal_basis=legal_basis,
        columns=json.dumps([cols.item_names[k] for k in keys], ensure_ascii=False),
        row_filter=json.dumps(filters.encode(row_filter), ensure_ascii=False),
        masking=json.dumps(masking, ensure_ascii=False),
        delivery=json.dumps([d.value for d in delivery]),
        duration_days=duration_days,
        rate_limit_per_minute=rate_limit,
        status=S.PENDING,
        requested_by=ctx.actor.label,
        requested_at=now,
        jurisdiction=jurisdiction,
    )
    if routed == ShareType.CONDITIONAL:
        days = policy_for(ctx, jurisdiction).decision_working_days
        req.decision_days = days
        req.due_on = work_calendar(ctx, jurisdiction).add_working_days(local_day(now), days)
    ctx.db.add(req)
    ctx.db.flush()
    _log(ctx, req, "renewal_requested" if kind == RequestKind.RENEWAL else "submitted")
    record(
        ctx,
        RequestSubmitted(
            request_id=req.id,
            unit=consumer,
            kind=kind,
            resource_code=req.resource_code,
            provider_unit=provider,
            application=app.code,
            columns=json.loads(req.columns),
            route=routed,
            due_on=req.due_on.isoformat() if req.due_on else None,
        ),
    )
    _route_filed(ctx, req, entry, consumer, provider, routed)
    return req


def _route_filed(
    ctx: Ctx, req: ShareRequest, entry: EntryOut, consumer: int, provider: int, routed: str
) -> None:
    """Unconditional entries are granted at once, not-shared ones refused at once (both by the
    platform); a conditional request goes to the provider's CDO with its deadline."""
    link = _link(req)
    if routed == ShareType.UNCONDITIONAL:
        with _as_platform(ctx):
            _conclude(
                ctx,
                req,
                DecisionIn(outcome=Outcome.APPROVE, reason="无条件共享，自动授权。"),
                (S.PENDING,),
                arbitration=False,
                automatic=True,
            )
        _notify(
            ctx,
            "grant_issued",
            provider,
            STAFF_ROLES,
            f"{_unit_name(ctx, consumer)[1]} 已获得无条件共享目录「{req.entry_name}」的授权"
            f"（#{req.id}）。",
            f"{_unit_name(ctx, consumer)[0]} was granted unconditional entry {req.resource_code}"
            f" (#{req.id}).",
            link,
            request_id=req.id,
            grant_id=req.grant_id,
        )
    elif routed == ShareType.NOT_SHARED:
        basis = entry.not_shared_basis or "（目录未登记依据）"
        with _as_platform(ctx):
            _conclude(
                ctx,
                req,
                DecisionIn(outcome=Outcome.REFUSE, reason=f"该目录不予共享。依据：{basis}"),
                (S.PENDING,),
                arbitration=False,
                automatic=True,
            )
    else:
        _notify(
            ctx,
            "request_submitted",
            provider,
            STAFF_ROLES,
            f"{_unit_name(ctx, consumer)[1]} 申请共享「{req.entry_name}」（#{req.id}），"
            f"请于 {req.due_on} 前审批。",
            f"{_unit_name(ctx, consumer)[0]} asks to share {req.resource_code} (#{req.id});"
            f" decide by {req.due_on}.",
            link,
            request_id=req.id,
        )


def submit_share_request(ctx: Ctx, data: RequestCreate, *, from_form: bool = False) -> RequestOut:
    """File a request for a published entry of another unit; routed by its share type."""
    consumer = _consumer_unit(ctx, data.unit_code)
    require(ctx, "submit_share_request", consumer, target=data.resource_code)
    cols = entry_columns(ctx, data.resource_code)
    provider = org.unit_id_for_code(ctx, cols.entry.unit_code)
    if provider == consumer:
        raise Invalid.field(
            "resource_code",
            "这是本单位自己的目录，无需申请共享。",
            "This is your own unit's entry; no request is needed.",
        )
    app = application_for(ctx, data.application_code, consumer)
    errors = ErrorCollector()
    keys = column_keys(cols, data.columns, errors, "columns")
    not_shared_entry = ShareType(cols.entry.share_type) == ShareType.NOT_SHARED
    if not not_shared_entry:
        # An entry that is shared may still hold items that are not: those are never asked for.
        check_shareable(cols, keys, errors, "columns")
    row_filter = parse_filter(cols, keys, data.row_filter, errors, "row_filter", from_form)
    errors.raise_if_any()
    waiting = ctx.db.scalar(
        select(ShareRequest.id).where(
            ShareRequest.application_id == app.id,
            ShareRequest.resource_code == cols.entry.resource_code,
            ShareRequest.status.in_([*WAITING, S.APPEALED]),
        )
    )
    if waiting is not None:
        raise Conflict(
            f"该应用对此目录已有处理中的申请（#{waiting}）。",
            f"This application already has a request in progress for the entry (#{waiting}).",
        )
    req = _file(
        ctx,
        kind=RequestKind.NEW,
        consumer=consumer,
        app=app,
        cols=cols,
        keys=keys,
        purpose=data.purpose,
        legal_basis=data.legal_basis,
        row_filter=row_filter,
        masking={},
        delivery=list(dict.fromkeys(data.delivery)),
        duration_days=data.duration_days,
        rate_limit=None,
        renews=None,
    )
    return _request_out(ctx, req, with_history=True)


def withdraw_share_request(ctx: Ctx, request_id: int, reason: str = "") -> RequestOut:
    """The requesting unit takes its request back before it is decided."""
    req = _request(ctx, request_id)
    require(
        ctx, "withdraw_share_request", req.consumer_unit_id, target=f"share_request:{request_id}"
    )
    _transition(ctx, req, (*WAITING, S.APPEALED), S.WITHDRAWN, withdrawn_at=utcnow())
    _log(ctx, req, "withdrawn", reason.strip())
    record(
        ctx, RequestWithdrawn(request_id=req.id, unit=req.consumer_unit_id, reason=reason.strip())
    )
    _notify(
        ctx,
        "request_withdrawn",
        req.provider_unit_id,
        STAFF_ROLES,
        f"共享申请 #{req.id}（{req.entry_name}）已被申请单位撤回。",
        f"Share request #{req.id} ({req.resource_code}) was withdrawn.",
        _link(req),
        request_id=req.id,
    )
    return _request_out(ctx, req, with_history=True)


def decide_share_request(
    ctx: Ctx, request_id: int, data: DecisionIn, *, from_form: bool = False
) -> RequestOut:
    """The provider unit's CDO decides; once escalated, the executive may decide instead."""
    req = _request(ctx, request_id)
    target = f"share_request:{request_id}"
    require(ctx, "decide_share_request", req.provider_unit_id, target=target)
    region = _is_region_actor(ctx, "decide_share_request")
    if req.status == S.PENDING and region and ctx.actor.kind != "system":
        raise deny(
            "decide_share_request",
            target,
            "申请尚未超期，由提供单位首席数据官审批；超期上报后执行官方可决定。",
            "The request is not overdue: the provider unit's CDO decides; the executive"
            " may decide once it is escalated.",
        )
    if req.requested_by == ctx.actor.label and ctx.actor.kind != "system":
        raise deny(
            "decide_share_request",
            target,
            "不能审批自己提交的申请。",
            "You cannot decide your own request.",
        )
    _conclude(ctx, req, data, WAITING, arbitration=False, from_form=from_form)
    return _request_out(ctx, req, with_history=True)


def appeal_share_request(ctx: Ctx, request_id: int, reason: str) -> RequestOut:
    """The requesting unit appeals a refusal to the executive (once)."""
    req = _request(ctx, request_id)
    require(ctx, "appeal_share_request", req.consumer_unit_id, target=f"share_request:{request_id}")
    reason = reason.strip()
    if len(reason) < 2:
        raise Invalid.field("reason", "请写明申诉理由。", "Give the grounds of the appeal.")
    if req.arbitrated_at is not None:
        raise Conflict("该申请已经仲裁，不能再次申诉。", "The request was already arbitrated.")
    _transition(ctx, req, (S.REFUSED,), S.APPEALED, appeal_reason=reason, appealed_at=utcnow())
    _log(ctx, req, "appealed", reason)
    record(ctx, RequestAppealed(request_id=req.id, unit=req.consumer_unit_id, reason=reason))
    _notify(
        ctx,
        "request_appealed",
        None,
        EXEC_ROLES,
        f"{_unit_name(ctx, req.consumer_unit_id)[1]} 就共享申请 #{req.id}（{req.entry_name}）"
        "被拒提出申诉，请仲裁。",
        f"{_unit_name(ctx, req.consumer_unit_id)[0]} appealed the refusal of request #{req.id}"
        f" ({req.resource_code}); please arbitrate.",
        _link(req),
        request_id=req.id,
    )
    return _request_out(ctx, req, with_history=True)


def arbitrate_share_request(
    ctx: Ctx, request_id: int, data: DecisionIn, *, from_form: bool = False
) -> RequestOut:
    """The executive arbitrates an appeal: uphold the refusal, or grant (in full or in part)."""
    req = _request(ctx, request_id)
    target = f"share_request:{request_id}"
    require(ctx, "arbitrate_share_request", target=target)
    if ctx.actor.kind != "system" and ctx.actor.label in (req.decided_by, req.requested_by):
        raise deny(
            "arbitrate_share_request",
            target,
            "您参与了原决定或申请，不能仲裁本申诉，请由其他领导仲裁。",
            "You took part in the decision or the request; another leader must arbitrate.",
        )
    _conclude(ctx, req, data, (S.APPEALED,), arbitration=True, from_form=from_form)
    return _request_out(ctx, req, with_history=True)


def _escalate(ctx: Ctx, now: datetime, triggered_by: str) -> list[ShareRequest]:
    today = local_day(now)
    due = list(
        ctx.db.scalars(
            select(ShareRequest)
            .where(ShareRequest.status == S.PENDING, ShareRequest.due_on < today)
            .order_by(ShareRequest.id)
        )
    )
    done = []
    for req in due:
        pending = ShareRequest.status == S.PENDING
        if not compare_and_set(
            ctx.db, req, pending, status=S.ESCALATED, escalated_at=now, updated_at=now
        ):
            continue  # decided or escalated meanwhile
        assert req.due_on is not None
        _log(ctx, req, "escalated", f"审批期限 {req.due_on} 已过")
        record(
            ctx,
            RequestEscalated(
                request_id=req.id,
                unit=req.provider_unit_id,
                due_on=req.due_on.isoformat(),
                triggered_by=triggered_by,
            ),
        )
        zh = (
            f"共享申请 #{req.id}（{req.entry_name}）超过审批期限 {req.due_on}，"
            "已上报首席数据执行官。"
        )
        en = (
            f"Share request #{req.id} ({req.resource_code}) passed its deadline"
            f" {req.due_on} and was escalated."
        )
        _notify(ctx, "request_escalated", None, EXEC_ROLES, zh, en, _link(req), request_id=req.id)
        _notify(
            ctx,
            "request_escalated",
            req.provider_unit_id,
            STAFF_ROLES,
            zh,
            en,
            _link(req),
            request_id=req.id,
        )
        done.append(req)
    return done


def escalate_overdue(ctx: Ctx, now: datetime | None = None) -> list[RequestOut]:
    """Escalate every pending request whose deadline has passed (CLI, scheduler, executive)."""
    require(ctx, "escalate_overdue")
    moment = now or utcnow()
    return [_request_out(ctx, r, now=moment) for r in _escalate(ctx, moment, ctx.actor.label)]


def _escalate_on_view(ctx: Ctx, now: datetime | None) -> None:
    """Looking at a queue first applies deadlines that passed (no daemon needed)."""
    viewer = ctx.actor.label
    with _as_platform(ctx):
        _escalate(ctx, now or utcnow(), viewer)


def list_share_requests(
    ctx: Ctx,
    *,
    side: str | None = None,
    status: RequestStatus | None = None,
    limit: int = 200,
) -> list[RequestOut]:
    """Requests of the actor's unit as consumer (``side='consumer'``), provider, or both."""
    scope = scope_unit(ctx, "view_share_requests")
    query = select(ShareRequest)
    if scope is not None:
        if side == "consumer":
            query = query.where(ShareRequest.consumer_unit_id == scope)
        elif side == "provider":
            query = query.where(ShareRequest.provider_unit_id == scope)
        else:
            query = query.where(
                or_(ShareRequest.consumer_unit_id == scope, ShareRequest.provider_unit_id == scope)
            )
    if status is not None:
        query = query.where(ShareRequest.status == status)
    rows = ctx.db.scalars(query.order_by(ShareRequest.id.desc()).limit(max(1, min(limit, 1000))))
    return [_request_out(ctx, r) for r in rows]


def decision_queue(ctx: Ctx, now: datetime | None = None) -> list[RequestOut]:
    """Requests waiting for the actor's unit as provider, most urgent first."""
    scope = scope_unit(ctx, "view_share_requests")
    _escalate_on_view(ctx, now)
    query = select(ShareRequest).where(ShareRequest.status.in_(list(WAITING)))
    if scope is not None:
        query = query.where(ShareRequest.provider_unit_id == scope)
    rows = ctx.db.scalars(query.order_by(ShareRequest.due_on, ShareRequest.id))
    return [_request_out(ctx, r, now=now) for r in rows]


def executive_queue(ctx: Ctx, now: datetime | None = None) -> list[RequestOut]:
    """Escalated requests and appeals, for the executive (oldest first)."""
    require(ctx, "view_share_requests")
    _escalate_on_view(ctx, now)
    rows = ctx.db.scalars(
        select(ShareRequest)
        .where(ShareRequest.status.in_([S.ESCALATED, S.APPEALED]))
        .order_by(ShareRequest.updated_at, ShareRequest.id)
    )
    visible = [
        r
        for r in rows
        if allowed(ctx, "view_share_requests", r.provider_unit_id)
        or allowed(ctx, "view_share_requests", r.consumer_unit_id)
    ]
    return [_request_out(ctx, r, now=now) for r in visible]


def get_share_request(ctx: Ctx, request_id: int) -> RequestOut:
    req = _request(ctx, request_id)
    _require_either(
        ctx,
        "view_share_requests",
        req.consumer_unit_id,
        req.provider_unit_id,
        f"share_request:{request_id}",
    )
    return _request_out(ctx, req, with_history=True)


def request_actions(ctx: Ctx, out: RequestOut) -> list[str]:
    """Which steps the actor could take on this request now (for showing buttons)."""
    consumer = org.unit_id_for_code(ctx, out.consumer_unit_code)
    provider = org.unit_id_for_code(ctx, out.provider_unit_code)
    actions = []
    mine = out.requested_by == ctx.actor.label
    if out.status in (*WAITING, S.APPEALED) and allowed(ctx, "withdraw_share_request", consumer):
        actions.append("withdraw")
    if out.status in WAITING and allowed(ctx, "decide_share_request", provider) and not mine:
        region = _is_region_actor(ctx, "decide_share_request")
        if out.status == S.ESCALATED or not region:
            actions.append("decide")
    if (
        out.status == S.REFUSED
        and out.arbitrated_at is None
        and allowed(ctx, "appeal_share_request", consumer)
    ):
        actions.append("appeal")
    if (
        out.status == S.APPEALED
        and allowed(ctx, "arbitrate_share_request")
        and ctx.actor.label not in (out.decided_by, out.requested_by)
    ):
        actions.append("arbitrate")
    return actions


# ---------------------------------------------------------------- grants


def list_grants(
    ctx: Ctx, *, side: str | None = None, include_ended: bool = False
) -> list[GrantOut]:
    """Grants the actor's unit holds (consumer), has given (provider), or both."""
    scope = scope_unit(ctx, "view_grants")
    query = select(Grant)
    if scope is not None:
        if side == "consumer":
            query = query.where(Grant.consumer_unit_id == scope)
        elif side == "provider":
            query = query.where(Grant.provider_unit_id == scope)
        else:
            query = query.where(
                or_(Grant.consumer_unit_id == scope, Grant.provider_unit_id == scope)
            )
    if not include_ended:
        query = query.where(Grant.status == GrantStatus.ACTIVE)
    rows = ctx.db.scalars(query.order_by(Grant.id.desc()))
    return [_grant_out(ctx, g) for g in rows]


def get_grant(ctx: Ctx, grant_id: int) -> GrantOut:
    grant = _grant(ctx, grant_id)
    _require_either(
        ctx, "view_grants", grant.consumer_unit_id, grant.provider_unit_id, f"grant:{grant_id}"
    )
    return _grant_out(ctx, grant)


def grant_actions(ctx: Ctx, out: GrantOut) -> list[str]:
    consumer = org.unit_id_for_code(ctx, out.consumer_unit_code)
    provider = org.unit_id_for_code(ctx, out.provider_unit_code)
    actions = []
    if out.status in ("active", "expired"):
        if allowed(ctx, "renew_grant", consumer):
            actions.append("renew")
        if allowed(ctx, "revoke_grant", provider):
            actions.append("revoke")
    return actions


def renew_grant(ctx: Ctx, grant_id: int, data: RenewalIn) -> RequestOut:
    """Ask to extend a grant: a renewal request, routed like a new one (same terms)."""
    grant = _grant(ctx, grant_id)
    require(ctx, "renew_grant", grant.consumer_unit_id, target=f"grant:{grant_id}")
    if grant.status != GrantStatus.ACTIVE:
        raise Conflict(
            "只能续期有效或已到期的授权（已撤销或已被替换的不能续期）。",
            "Only active or expired grants can be renewed (not revoked or replaced ones).",
        )
    waiting = ctx.db.scalar(
        select(ShareRequest.id).where(
            ShareRequest.renews_grant_id == grant.id, ShareRequest.status.in_(list(WAITING))
        )
    )
    if waiting is not None:
        raise Conflict(
            f"已有处理中的续期申请（#{waiting}）。", f"A renewal is already pending (#{waiting})."
        )
    app = application_for(ctx, _app_names(ctx, grant.application_id)[0], grant.consumer_unit_id)
    cols = entry_columns(ctx, grant.resource_code)
    errors = ErrorCollector()
    keys = column_keys(cols, json.loads(grant.columns), errors, "columns")
    if errors.errors:
        raise Conflict(
            "目录信息项已变更，授权中的列不再存在，请提交新的申请。",
            "The entry's data items changed; submit a new request instead.",
        )
    original = ctx.db.get(ShareRequest, grant.request_id)
    masking = {
        cols.item_names[k]: m["level"]
        for c, m in json.loads(grant.masking).items()
        if (k := cols.key_of(c)) is not None
        and MaskLevel(m["level"]) != default_level(cols.categories.get(k, "none"))
    }
    req = _file(
        ctx,
        kind=RequestKind.RENEWAL,
        consumer=grant.consumer_unit_id,
        app=app,
        cols=cols,
        keys=keys,
        purpose=data.purpose or grant.purpose,
        legal_basis=data.legal_basis or (original.legal_basis if original else grant.purpose),
        row_filter=list(filters.decode(json.loads(grant.row_filter))),
        masking=masking,
        delivery=[DeliveryMode(d) for d in json.loads(grant.delivery)],
        duration_days=data.duration_days,
        rate_limit=grant.rate_limit_per_minute,
        renews=grant.id,
    )
    return _request_out(ctx, req, with_history=True)


def revoke_grant(ctx: Ctx, grant_id: int, reason: str) -> GrantOut:
    """The provider's CDO (or the executive) ends a grant now; the gateway refuses at once."""
    grant = _grant(ctx, grant_id)
    require(ctx, "revoke_grant", grant.provider_unit_id, target=f"grant:{grant_id}")
    reason = reason.strip()
    if len(reason) < 2:
        raise Invalid.field("reason", "撤销授权时必须写明理由。", "Give a reason for revoking.")
    if not _end_grant(ctx, grant, reason, reason):
        raise Conflict(
            f"该授权当前状态为 {grant.status}，不能撤销。",
            f"The grant is '{grant.status}'; it cannot be revoked.",
        )
    return _grant_out(ctx, grant)


def _end_grant(ctx: Ctx, grant: Grant, reason_zh: str, reason_en: str) -> bool:
    """Revoke an active grant (conditional update: False if it was no longer active)."""
    now = utcnow()
    if not compare_and_set(
        ctx.db,
        grant,
        Grant.status == GrantStatus.ACTIVE,
        status=GrantStatus.REVOKED,
        active_key=None,
        revoked_at=now,
        revoked_by=ctx.actor.label,
        revoke_reason=reason_zh,
        updated_at=now,
    ):
        return False
    bump_revision(ctx.db)
    record(ctx, GrantRevoked(grant_id=grant.id, unit=grant.provider_unit_id, reason=reason_zh))
    hooks.publish(
        ctx,
        hooks.GrantRevoked(
            grant.id, grant.resource_code, grant.provider_unit_id, grant.consumer_unit_id
        ),
    )
    _notify(
        ctx,
        "grant_revoked",
        grant.consumer_unit_id,
        STAFF_ROLES,
        f"目录「{grant.entry_name}」的授权 #{grant.id} 已被撤销：{reason_zh}",
        f"Grant #{grant.id} for {grant.resource_code} was revoked: {reason_en}",
        f"/sharing/grants/{grant.id}",
        grant_id=grant.id,
    )
    return True


def _active_grants(ctx: Ctx, resource_code: str) -> list[Grant]:
    return list(
        ctx.db.scalars(
            select(Grant)
            .where(Grant.resource_code == resource_code, Grant.status == GrantStatus.ACTIVE)
            .order_by(Grant.id)
        )
    )


def entry_withdrawn(ctx: Ctx, resource_code: str, reason: str) -> list[int]:
    """End every active grant of an entry taken out of the catalogue (called by the catalogue
    in the withdrawing transaction); returns the revoked grant ids."""
    return [
        grant.id
        for grant in _active_grants(ctx, resource_code)
        if _end_grant(ctx, grant, f"目录已撤销：{reason}", f"the entry was withdrawn: {reason}")
    ]


def entry_republished(ctx: Ctx, resource_code: str) -> list[int]:
    """End the active grants a newly published revision no longer supports: a granted column
    whose item was removed or is now not shared. The consumer asks again for what remains
    (grants are never widened or silently rewritten). Returns the revoked grant ids."""
    grants = _active_grants(ctx, resource_code)
    if not grants:
        return []
    cols = entry_columns(ctx, resource_code)
    shared = {cols.names[k] for k, share in cols.share.items() if share != ShareType.NOT_SHARED}
    ended = []
    for grant in grants:
        lost = [c for c in json.loads(grant.columns) if c not in shared]
        if lost and _end_grant(
            ctx,
            grant,
            "目录修订后以下数据项不再共享：" + "、".join(lost),
            "after a revision of the entry these items are no longer shared: " + ", ".join(lost),
        ):
            ended.append(grant.id)
    return ended


def on_entry_withdrawn(ctx: Ctx, event: hooks.EntryWithdrawn) -> None:
    """Subscriber: a withdrawn entry ends its grants."""
    entry_withdrawn(ctx, event.resource_code, event.reason)


def on_entry_republished(ctx: Ctx, event: hooks.EntryRepublished) -> None:
    """Subscriber: a new revision ends the grants it no longer supports."""
    entry_republished(ctx, event.resource_code)


def grants_for_entry(ctx: Ctx, resource_code: str) -> list[GrantOut]:
    """Active grants of one entry (for its provider and the bureau)."""
    rows = list(
        ctx.db.scalars(
            select(Grant).where(
                Grant.resource_code == resource_code, Grant.status == GrantStatus.ACTIVE
            )
        )
    )
    out = []
    for g in rows:
        if allowed(ctx, "view_grants", g.provider_unit_id):
            out.append(_grant_out(ctx, g))
    return out


# ---------------------------------------------------------------- the request form


@dataclass(frozen=True)
class FormColumn:
    name: str
    share_type: ShareType
    category: str
    category_label: str
    default_mask: MaskLevel
    family: str
    requestable: bool


def _form_column(ctx: Ctx, cols: Columns, key: str, requestable: bool) -> FormColumn:
    category = cols.categories.get(key, Category.NONE.value)
    try:
        info = CATEGORY_INFO[Category(category)]
        label = info.label_en if ctx.locale.startswith("en") else info.label_zh
    except ValueError:
        label = category
    return FormColumn(
        name=cols.item_names[key],
        share_type=cols.share[key],
        category=category,
        category_label=label,
        default_mask=default_level(category),
        family=cols.types[key].value,
        requestable=requestable,
    )


@dataclass(frozen=True)
class RequestForm:
    entry: EntryOut
    columns: list[FormColumn]
    applications: list[tuple[str, str]]
    loaded: bool


def request_form(ctx: Ctx, resource_code: str) -> RequestForm:
    """What the request form shows for an entry: its items and the unit's applications."""
    consumer = _consumer_unit(ctx, None)
    require(ctx, "submit_share_request", consumer, target=resource_code)
    cols = entry_columns(ctx, resource_code)
    entry_shared = ShareType(cols.entry.share_type) != ShareType.NOT_SHARED
    columns = [
        _form_column(ctx, cols, k, cols.share[k] != ShareType.NOT_SHARED or not entry_shared)
        for k in cols.item_names
    ]
    apps = [
        (a.code, a.name)
        for a in ctx.db.scalars(
            select(Application)
            .where(Application.unit_id == consumer, Application.status == "active")
            .order_by(Application.code)
        )
    ]
    return RequestForm(entry=cols.entry, columns=columns, applications=apps, loaded=cols.loaded)


@dataclass(frozen=True)
class RequestPage:
    request: RequestOut
    actions: list[str]
    columns: list[FormColumn]  # the requested columns, for a decision form
    masks: dict[str, list[str]]  # column → masking levels a decision may choose
    grant: GrantOut | None


def request_page(ctx: Ctx, request_id: int) -> RequestPage:
    """A request with the steps the actor may take and what a decision form needs."""
    out = get_share_request(ctx, request_id)
    actions = request_actions(ctx, out)
    columns: list[FormColumn] = []
    masks: dict[str, list[str]] = {}
    if {"decide", "arbitrate"} & set(actions):
        cols = entry_columns(ctx, out.resource_code)
        for name in out.columns:
            k = cols.key_of(name)
            if k is None:
                continue
            column = _form_column(ctx, cols, k, cols.share[k] != ShareType.NOT_SHARED)
            columns.append(column)
            masks[name] = [m.value for m in MaskLevel if may_override(column.default_mask, m)]
    grant = None
    if out.grant_id is not None:
        row = _grant(ctx, out.grant_id)
        if allowed(ctx, "view_grants", row.consumer_unit_id) or allowed(
            ctx, "view_grants", row.provider_unit_id
        ):
            grant = _grant_out(ctx, row)
    return RequestPage(request=out, actions=actions, columns=columns, masks=masks, grant=grant)


def shareable_entries(ctx: Ctx, q: str = "") -> list[EntryBrief]:
    """Published entries of other units the actor's unit may ask for (search by words/codes)."""
    require(ctx, "submit_share_request", ctx.actor.unit_id)
    page = catalog.list_entries(ctx, q, filters={"status": [EntryStatus.PUBLISHED]}, limit=50)
    own = _unit_name(ctx, ctx.actor.unit_id)[0] if ctx.actor.unit_id else None
    return [e for e in page.items if e.unit_code != own]


# ---------------------------------------------------------------- figures for the cockpit


def request_figures(ctx: Ctx, today: date | None = None) -> list[tuple[int, int, str, bool, int]]:
    """For the cockpit: (consumer unit, provider unit, status, decision overdue, count) of
    the requests the actor may see; overdue = escalated, or waiting past its due date.
    Read-only: unlike the queues, it does not apply deadlines first."""
    scope = scope_unit(ctx, "view_share_requests")
    day = today or local_day(utcnow())
    late = or_(
        ShareRequest.status == S.ESCALATED,
        and_(ShareRequest.status == S.PENDING, ShareRequest.due_on < day),
    )
    overdue = case((late, True), else_=False)
    query = select(
        ShareRequest.consumer_unit_id,
        ShareRequest.provider_unit_id,
        ShareRequest.status,
        overdue,
        func.count(),
    ).group_by(
        ShareRequest.consumer_unit_id, ShareRequest.provider_unit_id, ShareRequest.status, overdue
    )
    if scope is not None:
        query = query.where(
            or_(ShareRequest.consumer_unit_id == scope, ShareRequest.provider_unit_id == scope)
        )
    return [(int(c), int(p), str(s), bool(o), int(n)) for c, p, s, o, n in ctx.db.execute(query)]


def active_grant_figures(ctx: Ctx, now: datetime | None = None) -> list[tuple[int, int, int]]:
    """For the cockpit: (consumer unit, provider unit, count) of grants in force now."""
    scope = scope_unit(ctx, "view_grants")
    query = (
        select(Grant.consumer_unit_id, Grant.provider_unit_id, func.count())
        .where(Grant.status == GrantStatus.ACTIVE, Grant.expires_at > (now or utcnow()))
        .group_by(Grant.consumer_unit_id, Grant.provider_unit_id)
    )
    if scope is not None:
        query = query.where(or_(Grant.consumer_unit_id == scope, Grant.provider_unit_id == scope))
    return [(int(c), int(p), int(n)) for c, p, n in ctx.db.execute(query)]
