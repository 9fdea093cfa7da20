"""Audit events are small dataclasses; each capability declares its own and records them with
``shuzhi.audit.service.record``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

_SCALARS = (str, int, float, bool, type(None))


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True)
class AuditEvent:
    """An event names, as data, which of its fields identify the target and the owning unit.

    ``target_fields`` are joined with ``:`` into the target id (``("table", "code")`` →
    ``"share_type:1"``); ``unit_field`` names the field holding the unit id, if any.
    """

    action: ClassVar[str]
    target_type: ClassVar[str]
    target_fields: ClassVar[tuple[str, ...]]
    unit_field: ClassVar[str | None] = None

    @property
    def target_id(self) -> str:
        return ":".join(str(getattr(self, name)) for name in self.target_fields)

    @property
    def unit_id(self) -> int | None:
        if self.unit_field is None:
            return None
        unit: int | None = getattr(self, self.unit_field)
        return unit

    def details(self) -> dict[str, Any]:
        """The fields as a dict (flat events, the usual case, without ``asdict``'s deep copy)."""
        out = {name: getattr(self, name) for name in _field_names(type(self))}
        if all(type(v) in _SCALARS for v in out.values()):
            return out
        return asdict(self)


@dataclass(frozen=True)
class OperationDenied(AuditEvent):
    action: ClassVar[str] = "operation.denied"
    target_type: ClassVar[str] = "operation"
    target_fields: ClassVar[tuple[str, ...]] = ("operation",)
    operation: str
    target: str


@dataclass(frozen=True)
class AuditVerified(AuditEvent):
    action: ClassVar[str] = "audit.verified"
    target_type: ClassVar[str] = "audit_log"
    target_fields: ClassVar[tuple[str, ...]] = ("chain",)
    entries: int
    ok: bool
    chain: str = "chain"


@dataclass(frozen=True)
class AuditExported(AuditEvent):
    """Entries of the log were exported (``filters``: the filter used, as canonical JSON)."""

    action: ClassVar[str] = "audit.exported"
    target_type: ClassVar[str] = "audit_log"
    target_fields: ClassVar[tuple[str, ...]] = ("chain",)
    rows: int
    format: str
    filters: str
    chain: str = "chain"


@dataclass(frozen=True)
class AuditSealed(AuditEvent):
    """The first keyed entry after entries hashed with plain SHA-256 (written on upgrade)."""

    action: ClassVar[str] = "audit.sealed"
    target_type: ClassVar[str] = "audit_log"
    target_fields: ClassVar[tuple[str, ...]] = ("chain",)
    legacy_entries: int
    legacy_head: str
    chain: str = "chain"


@dataclass(frozen=True)
class AuditArchived(AuditEvent):
    """Entries ``first``..``last`` moved to an archive file (``sha256``: the file's digest)."""

    action: ClassVar[str] = "audit.archived"
    target_type: ClassVar[str] = "audit_log"
    target_fields: ClassVar[tuple[str, ...]] = ("chain",)
    first: int
    last: int
    file: str
    sha256: str
    bytes: int
    chain: str = "chain"


# Entries of this target type seal records kept outside the log; ``audit verify`` hands them
# to the capability keeping the records (``hooks.SealsChecking``).
SEALED_RECORDS = "sealed_records"


@dataclass(frozen=True)
class RecordsSealed(AuditEvent):
    """Base of the events that seal many records kept outside the log with one entry:
    ``count`` records of kind ``records`` (the target id), ``digest`` the SHA-256 over them in
    the owning capability's canonical form. A subclass names the action and may add fields."""

    target_type: ClassVar[str] = SEALED_RECORDS
    target_fields: ClassVar[tuple[str, ...]] = ("records",)
    records: str
    count: int
    digest: str
