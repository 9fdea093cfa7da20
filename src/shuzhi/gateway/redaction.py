"""What the gateway lets a log say about a caller's values: the keyed-lookup path and the
short keyed digest the call log shows instead of a value (the access log uses the same)."""

from __future__ import annotations

import re

from shuzhi.security import digests

# A keyed lookup: the last path segment is a full key value (a resident ID, a credit code…).
LOOKUP_PATH = re.compile(r"^/api/v1/share/(?P<resource_code>.*)/records/(?P<key>[^/]+)$")


def digest_key(secret_key: str) -> bytes:
    """The key of the call log's value digests (``security.digests``)."""
    return digests.digest_key(secret_key)


def digest(value: object, key: bytes) -> str:
    """A value as the call log shows it."""
    return digests.digest(value, key)
