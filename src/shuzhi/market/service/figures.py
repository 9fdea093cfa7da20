"""The market's figures for the cockpit: products registered, listed and traded, revenue,
agreements about to expire and where the annual disclosures stand. Counts only: not
audited (the cockpit records its own view)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from shuzhi.auth.permissions import allowed
from shuzhi.context import Ctx
from shuzhi.market.books_schemas import ExpiringAgreement, MarketFiguresOut
from shuzhi.market.models import (
    Agreement,
    AgreementStatus,
    Party,
    Registration,
    RegistrationStatus,
    SubjectKind,
)
from shuzhi.market.service.common import today
from shuzhi.market.service.disclosure import disclosure_status, yuan
from shuzhi.market.service.trade_feed import trade_totals

EXPIRING_DAYS = 90


def expiring_agreements(ctx: Ctx, on: date, days: int = EXPIRING_DAYS) -> list[ExpiringAgreement]:
    rows = ctx.db.execute(
        select(Agreement, Party.name)
        .join(Party, Party.id == Agreement.operator_id)
        .where(
            Agreement.status.in_((AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED)),
            Agreement.ends_on >= on,
            Agreement.ends_on <= on + timedelta(days=days),
        )
        .order_by(Agreement.ends_on, Agreement.id)
    )
    return [
        ExpiringAgreement(
            id=a.id,
            title=a.title,
            operator_name=name,
            ends_on=a.ends_on,
            days_left=(a.ends_on - on).days,
        )
        for a, name in rows
    ]


def market_figures(ctx: Ctx, on: date | None = None) -> MarketFiguresOut | None:
    """The figures for the bureau (None for anyone who may not see the disclosure)."""
    if not allowed(ctx, "view_disclosure"):
        return None
    on = on or today()
    registered = ctx.db.scalar(
        select(func.count(Registration.id)).where(
            Registration.subject_kind == SubjectKind.PRODUCT,
            Registration.status == RegistrationStatus.REGISTERED,
        )
    )
    totals = trade_totals(ctx, on.year)
    statuses = [disclosure_status(ctx, y, on) for y in (on.year - 1, on.year)]
    return MarketFiguresOut(
        products_registered=int(registered or 0),
        products_listed=totals.listed,
        products_traded=totals.traded,
        revenue=yuan(totals.revenue_fen),
        agreements_expiring=expiring_agreements(ctx, on),
        disclosures=[s for s in statuses if s.status != "nothing"],
    )
