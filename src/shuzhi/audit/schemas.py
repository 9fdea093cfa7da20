"""Audit I/O shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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


class VerifyReport(BaseModel):
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None
    # Entries from before the audit key (plain SHA-256, sealed) and anchors checked.
    legacy_entries: int = 0
    anchors: int = 0
