"""Audit events of the gateway. Every call, served or refused, is a row of the call log,
written in batches by the meter; each batch is sealed by one entry (``CallsSealed``). Calls
turned away unread while the meter was behind are counted instead (``CallsShed``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent, RecordsSealed


@dataclass(frozen=True)
class CallsSealed(RecordsSealed):
    """A batch of calls (served or refused) was written to the call log (``gateway_call``)
    and sealed: ``count`` rows, ``digest`` the SHA-256 over them (``gateway.sealing``), each
    row naming this entry's sequence number. Who called, what and when stays in the rows;
    the entry makes them as tamper-evident as the log itself."""

    action: ClassVar[str] = "gateway.calls_sealed"
    served: int
    refused: int
    first_at: str
    last_at: str


@dataclass(frozen=True)
class CallsShed(AuditEvent):
    """Calls turned away unread (503) while the meter's writing was behind: counted per
    dataset and written as one entry per write, so an overload cannot grow the backlog it is
    refused to protect. Nothing was read: these calls stop before the key is checked."""

    action: ClassVar[str] = "gateway.calls_shed"
    target_type: ClassVar[str] = "dataset"
    target_fields: ClassVar[tuple[str, ...]] = ("resource_code",)
    resource_code: str
    calls: int
    first_at: str
    last_at: str
