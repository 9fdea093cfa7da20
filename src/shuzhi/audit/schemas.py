"""Audit I/O shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    actor_role: str | None
    unit_id: int | None
    action: str
    target_type: str
    target_id: str
    outcome: str
    details: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    total: int
    items: list[AuditEntryOut]
    # Keyset cursors: ``before=older`` gives the next older page, ``after=newer`` the newer one.
    older: int | None = None
    newer: int | None = None
    # Entries up to this number were moved to archive files (``shuzhi audit archive``).
    archived_through: int = 0


class AuditFilter(BaseModel):
    """Which entries to show or export; every field narrows, none given means all."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = Field(default=None, max_length=200)
    unit_id: int | None = None
    action: str | None = Field(
        default=None, max_length=80, description="an action, or a capability ending in '.'"
    )
    target_type: str | None = Field(default=None, max_length=60)
    target_id: str | None = Field(default=None, max_length=200)
    target: str | None = Field(default=None, max_length=200, description="words in the target")
    outcome: str | None = Field(default=None, max_length=20)
    q: str | None = Field(default=None, max_length=200, description="words anywhere")

    def is_empty(self) -> bool:
        return not any(v not in (None, "") for v in self.model_dump().values())


class VerifyReport(BaseModel):
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None
    # Entries from before the audit key (plain SHA-256, sealed) and anchors checked.
    legacy_entries: int = 0
    anchors: int = 0
    # Entries read (all of them on a full check) and the checkpoint a quick check began after.
    checked: int = 0
    from_checkpoint: int | None = None
    # Entries sealing records kept outside the log, and the records checked against them.
    seals: int = 0
    sealed_records: int = 0
