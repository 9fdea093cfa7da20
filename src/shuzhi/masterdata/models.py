"""Base-library tables: definitions, runs and what a run produced.

A **library** (``masterdata_library``) fuses the records of its **members**
(``masterdata_member``: catalogue entries whose aggregated versions live in the lake, each
with a column mapping onto the standard data elements) into entities of one kind (person or
legal entity). Every run (``masterdata_run``) writes its own complete result, tagged with
its id:

- ``masterdata_entity``: one row per entity, its stable ID and golden record, each value
  with its provenance (the member dataset, its unit, the version and its load date, the row
  and the survivorship rule);
- ``masterdata_membership``: which source record (member dataset, version, 1-based row)
  belongs to which entity, with a digest of the record's mapped values (how an incremental
  run tells unchanged records from new, changed and removed ones);
- ``masterdata_event``: entities created, merged, split or retired by the run, with the
  reason;

and only when all of it is written does ``masterdata_library.current_run_id`` move to the
new run, in the same transaction. A run that fails or is killed midway leaves the previous
run current and nothing half-visible. ``masterdata_conflict`` keeps every conflict a golden
record revealed, keyed by a fingerprint so that a conflict found again by a later run is the
same row (and the same quality issue of the source unit), not a new one.

Readers use the current run's rows (``current_run_id``); older runs stay for history and
for comparing runs. The review queue and push-back build on these tables.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class LibraryKind(StrEnum):
    PERSON = "person"
    LEGAL_ENTITY = "legal_entity"


class RunMode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


class RunStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EventKind(StrEnum):
    CREATED = "created"  # a new entity (its first records)
    MERGED = "merged"  # other entities joined this one (the others are retired into it)
    SPLIT = "split"  # a record left this entity for another one
    RETIRED = "retired"  # no record of the entity is left


class ConflictStatus(StrEnum):
    OPEN = "open"  # found by the current run
    GONE = "gone"  # no longer found by the latest run


class MasterdataLibrary(Base):
    """One base library: its kind, owning unit (the bureau) and current run."""

    __tablename__ = "masterdata_library"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[LibraryKind] = mapped_column(StrEnumType(LibraryKind, 20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    threshold: Mapped[float] = mapped_column(default=0.99)
    # The run whose entities readers see; None until the first run succeeds.
    current_run_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MasterdataMember(Base):
    """A dataset feeding a library: its catalogue entry, its unit, its authority rank (lower
    is more authoritative) and the mapping field → column of its versions."""

    __tablename__ = "masterdata_member"
    __table_args__ = (UniqueConstraint("library_id", "resource_code", name="uq_masterdata_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_library.id", ondelete="CASCADE"), index=True
    )
    resource_code: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer, default=100)
    # engine field (name, resident_id, …; see ``schemas.FIELDS``) → column of the version
    mapping: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MasterdataRun(Base):
    """One run of a library with its figures, the member versions it read and the trained
    model (Splink's settings JSON) it linked with."""

    __tablename__ = "masterdata_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_library.id", ondelete="CASCADE"), index=True
    )
    mode: Mapped[RunMode] = mapped_column(StrEnumType(RunMode, 20))
    status: Mapped[RunStatus] = mapped_column(StrEnumType(RunStatus, 20))
    # The run this one continued from (incremental runs), if any.
    base_run_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    records_in: Mapped[int] = mapped_column(Integer, default=0)
    records_linked: Mapped[int] = mapped_column(Integer, default=0)  # scored by this run
    entities_out: Mapped[int] = mapped_column(Integer, default=0)
    links: Mapped[int] = mapped_column(Integer, default=0)  # pairs merged
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    review_pairs: Mapped[int] = mapped_column(Integer, default=0)
    # resource code → {"number": version number, "loaded_at": ISO time}
    versions: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    model: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    error_zh: Mapped[str] = mapped_column(Text, default="")
    error_en: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))


class MasterdataEntity(Base):
    """An entity as one run left it: stable ID, size and golden record.

    ``golden``: attribute → ``{value, resource_code, unit_id, version, loaded_at, row,
    rule}`` (``value`` None when no member supports one); ``ident`` is the golden resident
    ID or USCC, indexed for lookups.
    """

    __tablename__ = "masterdata_entity"
    __table_args__ = (
        UniqueConstraint("run_id", "entity_id", name="uq_masterdata_entity"),
        Index("ix_masterdata_entity_run_ident", "run_id", "ident"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_run.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[str] = mapped_column(String(40))
    members: Mapped[int] = mapped_column(Integer)
    ident: Mapped[str | None] = mapped_column(String(40))
    adcode: Mapped[str | None] = mapped_column(String(12))
    golden: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)


class MasterdataMembership(Base):
    """Source record → entity, as one run assigned it."""

    __tablename__ = "masterdata_membership"
    __table_args__ = (
        Index("ix_masterdata_membership_run_entity", "run_id", "entity_id"),
        Index("ix_masterdata_membership_run_source", "run_id", "resource_code", "row"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("masterdata_run.id", ondelete="CASCADE"))
    entity_id: Mapped[str] = mapped_column(String(40))
    resource_code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    row: Mapped[int] = mapped_column(Integer)  # 1-based row of that version
    digest: Mapped[str] = mapped_column(String(32))  # of the record's mapped values


class MasterdataEvent(Base):
    """A change in an entity's identity made by a run, with its reason."""

    __tablename__ = "masterdata_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_library.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_run.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(StrEnumType(EventKind, 20))
    entity_id: Mapped[str] = mapped_column(String(40), index=True)
    others: Mapped[list[str]] = mapped_column(json_list(), default=list)  # entities involved
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MasterdataConflict(Base):
    """A golden-record conflict charged to the member whose value lost or failed a check.

    ``fingerprint`` (library, member, attribute, kind, the record's digest and the value)
    makes a conflict found again by a later run the same row; ``quality_issue_id`` is the
    quality issue it was reported under (one live issue per member, attribute and kind).
    Values are stored masked.
    """

    __tablename__ = "masterdata_conflict"
    __table_args__ = (UniqueConstraint("library_id", "fingerprint", name="uq_masterdata_conflict"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_library.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    attribute: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(30))  # values_differ, id_check_failed, id_malformed
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    value_masked: Mapped[str] = mapped_column(Text, default="")
    golden_masked: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ConflictStatus] = mapped_column(
        StrEnumType(ConflictStatus, 10), default=ConflictStatus.OPEN, index=True
    )
    quality_issue_id: Mapped[int | None] = mapped_column(Integer)
    first_run_id: Mapped[int] = mapped_column(Integer)
    last_run_id: Mapped[int] = mapped_column(Integer)


class ReviewStatus(StrEnum):
    OPEN = "open"  # waiting for a reviewer
    DECIDED = "decided"  # a reviewer decided; feeds every later run
    GONE = "gone"  # no longer scored for review (a record changed or left)


class ReviewDecision(StrEnum):
    MATCH = "match"
    NOT_MATCH = "not_match"


class MasterdataReviewPair(Base):
    """A pair of source records the engine could not decide (match probability between the
    review and the match threshold), waiting for or carrying a reviewer's decision.

    A record is identified across runs by its member and the digest of its mapped values
    (``left_digest``/``right_digest``; left is the smaller key), so ``fingerprint`` (of the
    two keys) makes a pair scored again the same row: a decided pair does not come back to
    the queue, and a record whose values change is a new record (its old pairs go).
    ``version``/``row`` are where each record was last seen; values are never stored here.
    """

    __tablename__ = "masterdata_review_pair"
    __table_args__ = (
        UniqueConstraint("library_id", "fingerprint", name="uq_masterdata_review_pair"),
        Index("ix_masterdata_review_pair_library_status", "library_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("masterdata_library.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(40))
    left_resource_code: Mapped[str] = mapped_column(String(64))
    left_version: Mapped[int] = mapped_column(Integer)
    left_row: Mapped[int] = mapped_column(Integer)
    left_digest: Mapped[str] = mapped_column(String(32))
    right_resource_code: Mapped[str] = mapped_column(String(64))
    right_version: Mapped[int] = mapped_column(Integer)
    right_row: Mapped[int] = mapped_column(Integer)
    right_digest: Mapped[str] = mapped_column(String(32))
    probability: Mapped[float] = mapped_column()
    weight: Mapped[float] = mapped_column()
    explanation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReviewStatus] = mapped_column(
        StrEnumType(ReviewStatus, 10), default=ReviewStatus.OPEN
    )
    decision: Mapped[ReviewDecision | None] = mapped_column(
        StrEnumType(ReviewDecision, 10), nullable=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    first_run_id: Mapped[int] = mapped_column(Integer)
    last_run_id: Mapped[int] = mapped_column(Integer)
