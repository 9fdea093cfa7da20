"""Sharing: status changes of share requests and the grants their decisions issue."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from shuzhi.audit.service import record
from shuzhi.catalog.schemas import ShareType
from shuzhi.context import SYSTEM, Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, ErrorCollector, Invalid
from shuzhi.sharing.events import (
    RequestArbitrated,
    RequestDecided,
)
from shuzhi.sharing.models import (
    Outcome,
    RequestStatus,
    ShareRequest,
)
from shuzhi.sharing.schemas import (
    DecisionIn,
)
from shuzhi.sharing.service.common import STAFF_ROLES, S
from shuzhi.sharing.service.issuing import _issue_grant
from shuzhi.sharing.service.notices import _link, _log, _notify
from shuzhi.sharing.terms import (
    decided_terms,
    entry_columns,
)
from shuzhi.validation import required_reason


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
    note: dict[str, object] = (
        {"arbitration_note": data.reason} if arbitration else {"decision_reason": data.reason}
    )
    if data.outcome == Outcome.REFUSE:
        if not automatic:
            _check_refusal(req, data, arbitration)
        basis = data.basis or None
        note["arbitration_basis" if arbitration else "decision_basis"] = basis
        _transition(ctx, req, allowed_from, S.REFUSED, outcome=Outcome.REFUSE, **who, **note)
    else:
        cols = entry_columns(ctx, req.resource_code)
        terms = decided_terms(ctx, cols, req, data, from_form)
        _transition(ctx, req, allowed_from, _TO[data.outcome], outcome=data.outcome, **who, **note)
        req.grant_id = _issue_grant(ctx, req, cols, terms).id
        ctx.db.flush()
    _announce(ctx, req, data, arbitration=arbitration, automatic=automatic)


def _check_refusal(req: ShareRequest, data: DecisionIn, arbitration: bool) -> None:
    """A refusal gives a meaningful reason; refusing a conditional entry cites its basis."""
    errors = ErrorCollector()
    try:
        required_reason(data.reason, "维持拒绝" if arbitration else "拒绝", "A refusal")
    except Invalid as exc:
        errors.errors.extend(exc.errors)
    if req.share_type == ShareType.CONDITIONAL and len(data.basis.strip()) < 2:
        errors.add(
            "basis",
            "拒绝有条件共享的申请须引用依据：法律法规、政策文件条款或目录登记的共享条件。",
            "Refusing a conditional-sharing request must cite its basis: the law, regulation"
            " or policy provision, or the share condition in the catalogue entry.",
        )
    errors.raise_if_any()


def _announce(
    ctx: Ctx, req: ShareRequest, data: DecisionIn, *, arbitration: bool, automatic: bool
) -> None:
    """History, audit record and notifications of a decision or an arbitration."""
    outcome_zh = _OUTCOME_ZH[data.outcome]
    basis = f"（依据：{data.basis}）" if data.outcome == Outcome.REFUSE and data.basis else ""
    _log(
        ctx,
        req,
        "arbitrated" if arbitration else "decided",
        f"{outcome_zh}：{data.reason}{basis}".rstrip("："),
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
