"""Audit events of the compile-template import (exports use ``events.CatalogExported``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class CatalogImported(AuditEvent):
    action: ClassVar[str] = "catalog.workbook_imported"
    target_type: ClassVar[str] = "catalog"
    target_fields: ClassVar[tuple[str, ...]] = ("filename",)
    unit_field: ClassVar[str | None] = "unit"
    filename: str
    unit: int | None
    created: int
    updated: int
    revised: int
    unchanged: int
    items: int


@dataclass(frozen=True)
class CatalogImportRejected(AuditEvent):
    """Kept although the import rolled back: who tried to load what, and how bad it was."""

    action: ClassVar[str] = "catalog.workbook_rejected"
    target_type: ClassVar[str] = "catalog"
    target_fields: ClassVar[tuple[str, ...]] = ("filename",)
    unit_field: ClassVar[str | None] = "unit"
    filename: str
    unit: int | None
    errors: int
