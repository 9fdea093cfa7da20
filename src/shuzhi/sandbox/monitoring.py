"""What security monitoring reads of the sandbox: per analyst, how many queries were asked,
refused and how many rows released in a time range; never a statement's text or an answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shuzhi.sandbox.models import QueryStatus, SandboxQuery, SandboxQueryDataset


@dataclass(frozen=True)
class AnalystActivity:
    """One analyst's sandbox queries in a range (for security monitoring)."""

    analyst: str  # "app:<id>" or "unit:<id>"
    unit_id: int
    provider_unit_id: int | None  # a provider whose data the answered queries read
    queries: int
    refused: int
    rows_released: int
    first_at: datetime
    last_at: datetime


def query_activity(session: Session, since: datetime, until: datetime) -> list[AnalystActivity]:
    """Per analyst: queries asked, refused and rows released in [since, until). Reads no SQL
    text and no answer; authorisation is the caller's (security operations)."""
    provider = (
        select(func.max(SandboxQueryDataset.provider_unit_id))
        .where(SandboxQueryDataset.query_id == SandboxQuery.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            SandboxQuery.analyst,
            func.max(SandboxQuery.unit_id),
            func.max(provider),
            func.count(),
            func.sum(case((SandboxQuery.status == QueryStatus.REFUSED, 1), else_=0)),
            func.coalesce(func.sum(SandboxQuery.rows_released), 0),
            func.min(SandboxQuery.created_at),
            func.max(SandboxQuery.created_at),
        )
        .where(SandboxQuery.created_at >= since, SandboxQuery.created_at < until)
        .group_by(SandboxQuery.analyst)
    ).all()
    return [
        AnalystActivity(
            str(r[0]), int(r[1]), r[2], int(r[3]), int(r[4] or 0), int(r[5]), r[6], r[7]
        )
        for r in rows
    ]
