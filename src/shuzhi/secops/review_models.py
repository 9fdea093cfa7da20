"""The periodic grant review's table (docs/secops.md, "Periodic grant review").

One row per review of one grant: opened when the grant is older than the review age (or
that long after its last confirmation), then confirmed by the provider unit, or lapsed and
the grant suspended through a containment, or ended because the grant ended first. Like
the other secops tables it names grants by id, without foreign keys.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType


class ReviewStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    SUSPENDED = "suspended"  # not confirmed within the grace period
    ENDED = "ended"  # the grant was revoked, expired or suspended meanwhile


class GrantReview(Base):
    __tablename__ = "secops_grant_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(Integer, index=True)
    provider_unit_id: Mapped[int] = mapped_column(Integer, index=True)
    consumer_unit_id: Mapped[int] = mapped_column(Integer)
    application_id: Mapped[int] = mapped_column(Integer)
    resource_code: Mapped[str] = mapped_column(String(64))
    entry_name: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(Text, default="")
    grant_started_at: Mapped[datetime]
    status: Mapped[ReviewStatus] = mapped_column(
        StrEnumType(ReviewStatus, 12), default=ReviewStatus.PENDING, index=True
    )
    # "grant:<id>" while pending: at most one open review per grant, however many sweeps.
    open_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    requested_at: Mapped[datetime]
    due_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    containment_id: Mapped[int | None] = mapped_column(Integer)
