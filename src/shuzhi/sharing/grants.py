"""What a grant allows on one call, as the gateway sees it.

The workflow (requests, decisions, appeals) decides grants; the gateway only enforces them.
This frozen view is the whole contract between the two: columns outside ``columns`` never
leave the server, ``row_filter`` is ANDed with the caller's own filters, and every column is
masked at least to its ``masking`` level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from shuzhi.errors import Forbidden, Unauthenticated
from shuzhi.lake.query import Filter
from shuzhi.security.masking import MaskLevel


class DeliveryMode(StrEnum):
    API = "api"
    BULK = "bulk"
    # Aggregate questions in the data sandbox only: no row leaves (terms in shuzhi.sandbox).
    SANDBOX = "sandbox"


@dataclass(frozen=True)
class ColumnMask:
    """How one granted column leaves the server: its category decides the masking function."""

    category: str
    level: MaskLevel


@dataclass(frozen=True)
class AppPrincipal:
    """A connected system authenticated by its application key."""

    application_id: int
    application_code: str
    unit_id: int
    key_id: int


@dataclass(frozen=True)
class CallGrant:
    grant_id: int
    application_id: int
    consumer_unit_id: int
    provider_unit_id: int
    entry_id: int
    resource_code: str
    columns: tuple[str, ...]
    row_filter: tuple[Filter, ...]
    masking: Mapping[str, ColumnMask]
    key_column: str | None
    delivery: frozenset[DeliveryMode]
    purpose: str
    expires_at: dt.datetime
    rate_limit_per_minute: int

    def allows(self, column: str) -> bool:
        return column in self.columns


class ApplicationKeyRejected(Unauthenticated):
    """An application key that cannot be used; ``reason`` is a stable code for metering.

    Reasons: ``malformed``, ``unknown`` (no such key, or the secret does not match),
    ``revoked``, ``expired``, ``retired`` (the application was retired).
    """

    def __init__(self, reason: str, zh: str, en: str) -> None:
        super().__init__(zh, en)
        self.reason = reason


class NoActiveGrant(Forbidden):
    """The application holds no usable grant for the entry; ``reason``: ``none`` or ``expired``."""

    def __init__(self, reason: str, zh: str, en: str) -> None:
        super().__init__(zh, en, operation="call_gateway")
        self.reason = reason
