"""Audit events are small dataclasses; each capability declares its own and records them with
``shuzhi.audit.service.record``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class AuditEvent:
    action: ClassVar[str]
    target_type: ClassVar[str]

    @property
    def target_id(self) -> str:
        raise NotImplementedError

    @property
    def unit_id(self) -> int | None:
        return None

    def details(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OperationDenied(AuditEvent):
    action: ClassVar[str] = "operation.denied"
    target_type: ClassVar[str] = "operation"
    operation: str
    target: str

    @property
    def target_id(self) -> str:
        return self.operation


@dataclass(frozen=True)
class AuditVerified(AuditEvent):
    action: ClassVar[str] = "audit.verified"
    target_type: ClassVar[str] = "audit_log"
    entries: int
    ok: bool

    @property
    def target_id(self) -> str:
        return "chain"
