"""Audit events of the gateway: every call, served or refused, is one entry (written in
batches by the meter, in the order the calls finished), except calls turned away unread
while the meter was behind, which are counted (``CallsShed``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class _CallEvent(AuditEvent):
    target_type: ClassVar[str] = "dataset"
    target_fields: ClassVar[tuple[str, ...]] = ("resource_code",)
    unit_field: ClassVar[str | None] = "provider_unit"
    call_id: str
    resource_code: str
    endpoint: str
    provider_unit: int | None
    application: str | None
    grant_id: int | None
    filter: str
    rows: int
    status: int


@dataclass(frozen=True)
class DataServed(_CallEvent):
    """Rows of a dataset left the server through the gateway (masked per grant)."""

    action: ClassVar[str] = "gateway.data_served"


@dataclass(frozen=True)
class CallRefused(_CallEvent):
    """A call was refused (bad key, no grant, bad input, throttled) and nothing was served."""

    action: ClassVar[str] = "gateway.call_refused"


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
