"""Gateway tables: one row per metered call, sealed in batches by the audit log.

No foreign keys into the sharing tables: calls are a log, kept after applications, keys and
grants are gone, and the gateway's migration branch stays independent of the workflow's.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType


class Endpoint(StrEnum):
    RECORDS = "records"
    LOOKUP = "lookup"
    EXPORT = "export"


class Outcome(StrEnum):
    """How a call ended, coarser than the HTTP status (what statistics group by)."""

    OK = "ok"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    BUSY = "busy"  # refused while the call records were behind (503)
    ERROR = "error"


class ApiCall(Base):
    """One call through the gateway (接口调用); written in batches, never updated."""

    __tablename__ = "gateway_call"
    __table_args__ = (
        Index("ix_gateway_call_day_resource", "day", "resource_code"),
        Index("ix_gateway_call_day_consumer", "day", "consumer_unit_id"),
        Index("ix_gateway_call_seal", "seal", "id"),
        # One key's calls in a time range (security monitoring's evidence and counts).
        Index("ix_gateway_call_key_at", "key_id", "at"),
        # The calls of a time range in the order they were made (security monitoring's
        # aggregates over the last hour and its baselines).
        Index("ix_gateway_call_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(32), unique=True)
    at: Mapped[datetime]
    day: Mapped[date] = mapped_column(Date)
    endpoint: Mapped[Endpoint] = mapped_column(StrEnumType(Endpoint, 20))
    resource_code: Mapped[str] = mapped_column(String(64))
    consumer_unit_id: Mapped[int | None] = mapped_column(Integer)
    provider_unit_id: Mapped[int | None] = mapped_column(Integer)
    application_id: Mapped[int | None] = mapped_column(Integer)
    application_code: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[int | None] = mapped_column(Integer)
    grant_id: Mapped[int | None] = mapped_column(Integer)
    # The caller's conditions with every value replaced by a keyed digest (no personal data).
    filter: Mapped[str] = mapped_column(Text, default="[]")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    latency_us: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[Outcome] = mapped_column(StrEnumType(Outcome, 20))
    client: Mapped[str | None] = mapped_column(String(64))
    # The sequence number of the audit entry sealing the batch this row was written in
    # (``gateway.sealing``); none for rows written before batches were sealed, each of which
    # has an audit entry of its own.
    seal: Mapped[int | None] = mapped_column(Integer)


# The latencies the call statistics report, in steps of this many microseconds: what they
# show (milliseconds with two decimals).
LATENCY_STEP_US = 10


class CallLatency(Base):
    """How many calls took each latency (in ``LATENCY_STEP_US`` steps), per day, dataset,
    consumer and provider: what the statistics' percentiles are read from. Written with each
    batch of calls, in the same transaction; an index of the calls by latency instead had
    each batch dirty about one page per call anywhere in the day's range, which made the
    meter's writing dearer as a day's calls grew (docs/benchmarks-history.md)."""

    __tablename__ = "gateway_call_latency"
    __table_args__ = (
        UniqueConstraint(
            "day",
            "resource_code",
            "consumer_unit_id",
            "provider_unit_id",
            "step",
            name="uq_gateway_call_latency_group",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    resource_code: Mapped[str] = mapped_column(String(64))
    # 0 for a call without one (refused before its key was known): NULLs would never meet
    # in the unique constraint, and every such call would take a row of its own.
    consumer_unit_id: Mapped[int] = mapped_column(Integer)
    provider_unit_id: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)  # latency_us / LATENCY_STEP_US, rounded
    calls: Mapped[int] = mapped_column(Integer)


class GatewayNode(Base):
    """A serving process that answers gateway calls (one row per process, refreshed every few
    seconds): how many share a grant's rate limit. Rows of stopped processes are deleted at
    their shutdown; those of killed ones stop counting once their heartbeat is old."""

    __tablename__ = "gateway_node"

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime] = mapped_column(index=True)
