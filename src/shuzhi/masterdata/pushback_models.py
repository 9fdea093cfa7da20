"""Push-back tables (反哺基层): what a library delivers to a street, how each delivery went,
and what the street reported wrong.

A **push-back** (``masterdata_pushback``) belongs to a library and names its target unit (a
street), the area it covers (a county-level division code, the street (乡镇街道) and
optionally one community, matched on each golden record's parsed address), the golden
attributes it delivers, an optional special-group filter (structured conditions, never SQL)
and stricter masking. It is delivered through the platform's own machinery: a catalogue
entry owned by the library's unit, a lake dataset with one version per delivery, and a
sharing grant to an application of the street. The row keeps the latest delivery's figures
for the status pages; ``masterdata_pushback_delivery`` keeps every attempt.

A **report** (``masterdata_pushback_report``) is a street's note that a delivered value is
wrong; it is routed to the unit that supplied that golden value (its provenance) as a
quality issue of that unit's dataset.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class PushbackStatus(StrEnum):
    PENDING = "pending"  # defined; nothing delivered yet
    OK = "ok"  # the last delivery succeeded
    FAILED = "failed"  # the last delivery failed (the previous version stays)
    RETIRED = "retired"  # no longer delivered; its grant revoked


class DeliveryStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"


class MasterdataPushback(Base):
    """A push-back of a library's golden records to a street, with its latest delivery."""

    __tablename__ = "masterdata_pushback"
    __table_args__ = (UniqueConstraint("library_id", "name", name="uq_masterdata_pushback"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_library.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    target_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    division_code: Mapped[str] = mapped_column(String(6))  # county (or county-less prefecture)
    street: Mapped[str] = mapped_column(String(40))
    community: Mapped[str | None] = mapped_column(String(40))
    # golden attributes delivered, in order (the entity ID always comes first)
    columns: Mapped[list[str]] = mapped_column(json_list(), default=list)
    # the special group: [{kind, min_age, max_age, attribute, value, resource_code}, …] (AND)
    conditions: Mapped[list[Any]] = mapped_column(json_list(), default=list)
    # attribute → masking level, stricter than the column category's default
    masking: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    application_code: Mapped[str] = mapped_column(String(40))
    grant_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[PushbackStatus] = mapped_column(
        StrEnumType(PushbackStatus, 10), default=PushbackStatus.PENDING
    )
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    rows: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None]
    error_zh: Mapped[str] = mapped_column(Text, default="")
    error_en: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MasterdataPushbackDelivery(Base):
    """One delivery attempt: the run it delivered, the rows, the lake version or the error."""

    __tablename__ = "masterdata_pushback_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pushback_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_pushback.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(StrEnumType(DeliveryStatus, 10))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20), default="")  # created, unchanged
    error_zh: Mapped[str] = mapped_column(Text, default="")
    error_en: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MasterdataPushbackReport(Base):
    """A street's report of a wrong delivered value, routed to the value's source unit.

    ``resource_code``/``unit_id``/``version``/``row`` are the golden value's provenance when
    the report was filed; ``quality_issue_id`` the issue the source unit received."""

    __tablename__ = "masterdata_pushback_report"
    __table_args__ = (Index("ix_masterdata_pushback_report_pushback", "pushback_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pushback_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_pushback.id", ondelete="CASCADE")
    )
    run_id: Mapped[int] = mapped_column(Integer)
    entity_id: Mapped[str] = mapped_column(String(40))
    attribute: Mapped[str] = mapped_column(String(40))
    problem: Mapped[str] = mapped_column(Text)
    proposed: Mapped[str] = mapped_column(Text, default="")
    resource_code: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    row: Mapped[int | None] = mapped_column(Integer)
    quality_issue_id: Mapped[int] = mapped_column(Integer)
    reported_by: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
