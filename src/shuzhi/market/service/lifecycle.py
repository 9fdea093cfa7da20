"""An agreement's state transitions, shared by the agreement and party services.

Ending an agreement (expired, terminated) publishes ``hooks.AgreementEnded`` with the grants
issued under it, so sharing revokes them in the same transaction."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.market.events import AgreementChanged
from shuzhi.market.models import Agreement, AgreementGrant, AgreementStatus
from shuzhi.market.service.common import conflict

S = AgreementStatus
# state → the states it may move to
MOVES: dict[AgreementStatus, frozenset[AgreementStatus]] = {
    S.DRAFT: frozenset({S.APPROVED, S.TERMINATED}),
    S.APPROVED: frozenset({S.ACTIVE, S.TERMINATED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.EXPIRED, S.TERMINATED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.EXPIRED, S.TERMINATED}),
    S.EXPIRED: frozenset(),
    S.TERMINATED: frozenset(),
}
ENDED = frozenset({S.EXPIRED, S.TERMINATED})


def grants_of(ctx: Ctx, agreement_id: int) -> tuple[int, ...]:
    return tuple(
        ctx.db.scalars(
            select(AgreementGrant.grant_id)
            .where(AgreementGrant.agreement_id == agreement_id)
            .order_by(AgreementGrant.grant_id)
        )
    )


def change_state(
    ctx: Ctx, agreement: Agreement, to: AgreementStatus, reason: str = "", operation: str = ""
) -> None:
    """Move an agreement to ``to`` (conditional update; refused, audited, if not allowed)."""
    before = agreement.status
    values: dict[str, object] = {"status": to, "updated_at": utcnow()}
    if reason:
        values["status_reason"] = reason
    if to == S.APPROVED:
        values["approved_by"] = ctx.actor.label
    if to not in MOVES[before] or not compare_and_set(
        ctx.db, agreement, Agreement.status == before, **values
    ):
        raise conflict(
            operation or f"{to}_agreement",
            f"agreement:{agreement.id}",
            f"授权运营协议当前状态为「{agreement.status}」，不能改为「{to}」。",
            f"The agreement is '{agreement.status}'; it cannot become '{to}'.",
        )
    record(
        ctx,
        AgreementChanged(
            agreement_id=agreement.id,
            unit=agreement.operator_unit_id,
            before=str(before),
            after=str(to),
            reason=reason[:200],
        ),
    )
    if to in ENDED:
        hooks.publish(
            ctx,
            hooks.AgreementEnded(
                agreement_id=agreement.id,
                operator_unit_id=agreement.operator_unit_id,
                grant_ids=grants_of(ctx, agreement.id),
                reason=reason or str(to),
            ),
        )
