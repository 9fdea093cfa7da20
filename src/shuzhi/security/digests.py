"""Keyed digests: what a log or record says instead of a value it must not hold.

A digest is the first 16 hex characters of an HMAC-SHA256 of the value's JSON text under a
key derived from the platform's secret for this one purpose. The same value always digests
alike (records about one person can be found together by whoever holds the value and the
key); without the key no one can tell which value it was. The gateway's call log, the access
log, the sandbox's audit entries, security alerts and failed logins all use this one digest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from json.encoder import encode_basestring
from typing import Any

DIGEST_PURPOSE = "shuzhi.gateway.filter-digest"  # the name it was first derived under


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose from the application secret (the secret itself is never used)."""
    return hmac.new(secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()


def digest_key(secret_key: str) -> bytes:
    """The key of the value digests."""
    return derive_key(secret_key, DIGEST_PURPOSE)


def digest(value: Any, key: bytes) -> str:
    """A value as a record shows it: a short keyed digest of its JSON text (a string's text
    is what ``json.dumps`` gives, without building an encoder)."""
    if type(value) is str:
        text = encode_basestring(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return hmac.digest(key, text.encode(), "sha256").hex()[:16]
