"""Sharing: filing, deciding, appealing, withdrawing and escalating share requests."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import exists, or_, select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, deny, require, scope_unit
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryOut, ShareType
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, ErrorCollector, Invalid
from shuzhi.lake.query import Filter
from shuzhi.org import service as org
from shuzhi.sharing import filters
from shuzhi.sharing.apps_service import application_for
from shuzhi.sharing.calendar import local_day
from shuzhi.sharing.calendar_service import count_deadline, jurisdiction_of, policy_for
from shuzhi.sharing.events import (
    RequestAppealed,
    RequestEscalated,
    RequestSubmitted,
    RequestWithdrawn,
)
from shuzhi.sharing.grants import DeliveryMode
from shuzhi.sharing.models import (
    Application,
    Notification,
    Outcome,
    RequestKind,
    RequestStatus,
    ShareRequest,
)
from shuzhi.sharing.schemas import (
    DecisionIn,
    RequestCreate,
    RequestOut,
)
from shuzhi.sharing.service.common import (
    EXEC_ROLES,
    STAFF_ROLES,
    WAITING,
    S,
    _is_region_actor,
    _request,
    _request_out,
    _require_either,
    _unit_name,
)
from shuzhi.sharing.service.notices import _link, _log, _notify
from shuzhi.sharing.service.transitions import _as_platform, _conclude, _transition
from shuzhi.sharing.terms import (
    Columns,
    check_shareable,
    column_keys,
    entry_columns,
    parse_filter,
    route,
)
from shuzhi.validation import required_reason

logger = logging.getLogger(__name__)


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
        columns=[cols.item_names[k] for k in keys],
        row_filter=filters.encode(row_filter),
        masking=masking,
        delivery=[d.value for d in delivery],
        duration_days=duration_days,
        rate_limit_per_minute=rate_limit,
        status=S.PENDING,
        requested_by=ctx.actor.label,
        requested_at=now,
        jurisdiction=jurisdiction,
    )
    deadline = None
    if routed == ShareType.CONDITIONAL:
        days = policy_for(ctx, jurisdiction).decision_working_days
        req.decision_days = days
        deadline = count_deadline(ctx, jurisdiction, local_day(now), days)
        req.due_on, req.due_provisional = deadline.due_on, deadline.provisional
    ctx.db.add(req)
    ctx.db.flush()
    _log(ctx, req, "renewal_requested" if kind == RequestKind.RENEWAL else "submitted")
    if deadline is not None and deadline.provisional:
        _warn_provisional(ctx, req, deadline.unseeded_years)
    record(
        ctx,
        RequestSubmitted(
            request_id=req.id,
            unit=consumer,
            kind=kind,
            resource_code=req.resource_code,
            provider_unit=provider,
            application=app.code,
            columns=list(req.columns),
            route=routed,
            due_on=req.due_on.isoformat() if req.due_on else None,
            unseeded_years=list(deadline.unseeded_years) if deadline else None,
        ),
    )
    _route_filed(ctx, req, entry, consumer, provider, routed)
    return req


def _warn_provisional(ctx: Ctx, req: ShareRequest, years: tuple[int, ...]) -> None:
    """The deadline was counted over a year whose holidays are not all entered: say so on the
    request, to the bureau, and in the log."""
    listed = "、".join(str(y) for y in years)
    listed_en = ", ".join(str(y) for y in years)
    _log(
        ctx,
        req,
        "deadline_provisional",
        f"{listed} 年节假日安排尚未完整录入，期限 {req.due_on} 暂按周一至周五计算",
    )
    logger.warning(
        "share request %s: deadline %s counted over unseeded calendar year(s) %s (%s)",
        req.id,
        req.due_on,
        listed_en,
        req.jurisdiction,
    )
    _notify(
        ctx,
        "deadline_provisional",
        None,
        EXEC_ROLES,
        f"共享申请 #{req.id}（{req.entry_name}）的审批期限 {req.due_on} 落在 {listed} 年，"
        f"该年节假日安排尚未完整录入，期限暂按周一至周五计算。请在工作日历中录入并确认完整。",
        f"Share request #{req.id} ({req.resource_code}) is due {req.due_on}, in {listed_en},"
        " whose holidays are not all entered: the deadline counts Monday to Friday for now."
        " Enter that year in the working-day calendar and declare it complete.",
        f"/sharing/calendar?jurisdiction={req.jurisdiction}&year={years[0]}",
        request_id=req.id,
    )


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
                DecisionIn(
                    outcome=Outcome.REFUSE,
                    reason=f"该目录不予共享。依据：{basis}",
                    basis=entry.not_shared_basis,
                ),
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
    reason = required_reason(reason, "申诉", "An appeal")
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


def _remind(ctx: Ctx, today: date) -> None:
    """Tell the provider unit once that a pending request falls due today or tomorrow."""
    reminded = exists().where(
        Notification.request_id == ShareRequest.id, Notification.kind == "request_due_soon"
    )
    soon = ctx.db.scalars(
        select(ShareRequest)
        .where(
            ShareRequest.status == S.PENDING,
            ShareRequest.due_on >= today,
            ShareRequest.due_on <= today + timedelta(days=1),
            ~reminded,
        )
        .order_by(ShareRequest.id)
    )
    for req in list(soon):
        when_zh, when_en = ("今天", "today") if req.due_on == today else ("明天", "tomorrow")
        _notify(
            ctx,
            "request_due_soon",
            req.provider_unit_id,
            STAFF_ROLES,
            f"共享申请 #{req.id}（{req.entry_name}）审批期限为{when_zh}（{req.due_on}），"
            "逾期将上报首席数据执行官。",
            f"Share request #{req.id} ({req.resource_code}) is due {when_en} ({req.due_on});"
            " after that it is escalated.",
            _link(req),
            request_id=req.id,
        )


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
    """Escalate every pending request whose deadline has passed, and remind the provider
    of those falling due today or tomorrow (CLI, scheduler, executive)."""
    require(ctx, "escalate_overdue")
    moment = now or utcnow()
    _remind(ctx, local_day(moment))
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
        out.status == S.PENDING
        and out.due_on is not None
        and out.original_due_on is None
        and not out.overdue
        and ctx.settings.sharing_extension_days > 0
        and allowed(ctx, "extend_share_request", provider)
    ):
        actions.append("extend")
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
