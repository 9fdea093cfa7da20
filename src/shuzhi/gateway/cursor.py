"""Page cursors: opaque, encrypted and authenticated.

A cursor carries the last key of a page, which may be personal data (a resident ID) that
the caller only ever sees masked — so it is encrypted, not just signed: HMAC-SHA256 as the
keystream in counter mode under a random nonce, then an HMAC over nonce and ciphertext
(encrypt-then-MAC, separate keys). It is bound to the query it continues (grant, resource,
conditions, fields); any change or tampering makes it invalid.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from shuzhi.errors import Invalid
from shuzhi.security.digests import derive_key

NONCE_BYTES = 12
TAG_BYTES = 16
MAX_CURSOR_CHARS = 4096


@dataclass(frozen=True)
class Position:
    """Where the next page starts: rows after ``after`` plus ``skip`` rows equal to it."""

    after: Any
    skip: int


def _bad() -> Invalid:
    return Invalid.field(
        "cursor",
        "分页游标无效或已不适用于本次查询，请从第一页重新开始。",
        "The cursor is invalid or belongs to another query; start again from the first page.",
    )


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._enc = derive_key(secret, "shuzhi.gateway.cursor.encrypt")
        self._mac = derive_key(secret, "shuzhi.gateway.cursor.mac")

    def _stream(self, nonce: bytes, length: int) -> bytes:
        out = bytearray()
        counter = 0
        while len(out) < length:
            out += hmac.new(self._enc, nonce + counter.to_bytes(4, "big"), "sha256").digest()
            counter += 1
        return bytes(out[:length])

    def _tag(self, binding: str, body: bytes) -> bytes:
        return hmac.new(self._mac, binding.encode() + b"\x00" + body, "sha256").digest()[:TAG_BYTES]

    def encode(self, position: Position, binding: str) -> str:
        plain = json.dumps([position.after, position.skip], ensure_ascii=False).encode()
        nonce = os.urandom(NONCE_BYTES)
        cipher = bytes(a ^ b for a, b in zip(plain, self._stream(nonce, len(plain)), strict=True))
        body = nonce + cipher
        token = body + self._tag(binding, body)
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def decode(self, cursor: str, binding: str) -> Position:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise _bad()
        try:
            token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (ValueError, TypeError):
            raise _bad() from None
        if len(token) < NONCE_BYTES + TAG_BYTES:
            raise _bad()
        body, tag = token[:-TAG_BYTES], token[-TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(binding, body)):
            raise _bad()
        nonce, cipher = body[:NONCE_BYTES], body[NONCE_BYTES:]
        plain = bytes(a ^ b for a, b in zip(cipher, self._stream(nonce, len(cipher)), strict=True))
        try:
            after, skip = json.loads(plain)
        except (ValueError, TypeError):
            raise _bad() from None
        if not isinstance(skip, int) or skip < 0:
            raise _bad()
        return Position(after, skip)
