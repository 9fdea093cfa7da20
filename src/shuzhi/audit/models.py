"""Audit tables: the entries, the head of the MAC chain and its signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base

GENESIS = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_target", "target_type", "target_id"),
        # The audit page's time range (unit and action have their own; its actor filter
        # matches words anywhere in the name, which no B-tree index serves).
        Index("ix_audit_entry_at", "at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str | None] = mapped_column(String(40))
    unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    target_type: Mapped[str] = mapped_column(String(60))
    target_id: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # How ``hash`` was made: "hmac-sha256" (keyed) or "sha256" (entries from before the key).
    alg: Mapped[str] = mapped_column(String(16))


class AuditHead(Base):
    """One row: the last sequence number and hash; updating it serialises appenders."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed statement that entries 1..``seq`` were verified, ending in ``hash``.

    Written with every anchor (``anchors.write_anchor``), after the anchor line, and MAC'ed
    under the anchor key, so ``shuzhi audit verify`` can start from the newest one instead
    of re-reading the whole log; the full check (``--full``) still reads everything.
    """

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(40))
    mac: Mapped[str] = mapped_column(String(64))


class AuditArchive(Base):
    """Entries ``first_seq``..``last_seq`` moved to ``DATA_DIR/audit/archive/<file>``.

    ``last_seq`` is always a checkpoint's entry and ``last_hash`` its hash, so the entries
    still in the database continue a signed chain; ``sha256`` is the file's digest.
    """

    __tablename__ = "audit_archive"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_seq: Mapped[int] = mapped_column(Integer, unique=True)
    last_seq: Mapped[int] = mapped_column(Integer, unique=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    archived_at: Mapped[datetime]
