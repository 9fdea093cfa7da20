"""What the market's services share: refusals that are audited, party and unit look-ups."""

from __future__ import annotations

from datetime import date

from shuzhi.audit.service import record
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, Invalid, NotFound, ShuzhiError
from shuzhi.market.events import MarketRefused
from shuzhi.market.models import Agreement, Party, Product, Registration


def refused(operation: str, target: str, err: ShuzhiError) -> ShuzhiError:
    """``err``, to be raised: after the rollback its reason is kept in the audit log."""
    reason = err.message.en[:500]
    if isinstance(err, Invalid) and err.errors:
        reason = "; ".join(f"{e.field}: {e.message.en}" for e in err.errors)[:500]
    event = MarketRefused(operation=operation, target=target[:200], reason=reason)
    previous = err.after_rollback

    def keep(ctx: Ctx) -> None:
        if previous is not None:
            previous(ctx)
        record(ctx, event, outcome="refused")

    err.after_rollback = keep
    return err


def conflict(operation: str, target: str, zh: str, en: str) -> ShuzhiError:
    return refused(operation, target, Conflict(zh, en))


def invalid(operation: str, target: str, field: str, zh: str, en: str) -> ShuzhiError:
    return refused(operation, target, Invalid.field(field, zh, en))


def today() -> date:
    return utcnow().date()


def party_row(ctx: Ctx, party_id: int) -> Party:
    party = ctx.db.get(Party, party_id)
    if party is None:
        raise NotFound(f"市场主体 {party_id} 不存在。", f"Market party {party_id} does not exist.")
    return party


def agreement_row(ctx: Ctx, agreement_id: int) -> Agreement:
    row = ctx.db.get(Agreement, agreement_id)
    if row is None:
        raise NotFound(
            f"授权运营协议 {agreement_id} 不存在。",
            f"Authorisation agreement {agreement_id} does not exist.",
        )
    return row


def product_row(ctx: Ctx, product_id: int) -> Product:
    row = ctx.db.get(Product, product_id)
    if row is None:
        raise NotFound(
            f"数据产品 {product_id} 不存在。", f"Data product {product_id} does not exist."
        )
    return row


def registration_row(ctx: Ctx, number: str) -> Registration:
    from sqlalchemy import select

    row = ctx.db.scalar(select(Registration).where(Registration.number == number.strip()))
    if row is None:
        raise NotFound(f"登记编号 {number} 不存在。", f"Registration {number} does not exist.")
    return row
