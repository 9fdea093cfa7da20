"""Audit events of the compile-template import (exports use ``events.CatalogExported``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class CatalogImported(AuditEvent):
    action: ClassVar[str] = "catalog.workbook_imported"
    target_type: ClassVar[str] = "catalog"
    filename: str
    unit: int | None
    created: int
    updated: int
    revised: int
    unchanged: int
    items: int

    @property
    def target_id(self) -> str:
        return self.filename or "workbook"

    @property
    def unit_id(self) -> int | None:
        return self.unit


@dataclass(frozen=True)
class CatalogImportRejected(AuditEvent):
    """Kept although the import rolled back: who tried to load what, and how bad it was."""

    action: ClassVar[str] = "catalog.workbook_rejected"
    target_type: ClassVar[str] = "catalog"
    filename: str
    unit: int | None
    errors: int

    @property
    def target_id(self) -> str:
        return self.filename or "workbook"

    @property
    def unit_id(self) -> int | None:
        return self.unit
