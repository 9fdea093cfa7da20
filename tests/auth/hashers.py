"""A real argon2id hasher that keeps a record of its work, put where the code takes its
hasher from (``shuzhi.auth.passwords.hasher``): every hash and verification still runs."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher

from shuzhi.auth import passwords
from shuzhi.settings import Settings


class RecordingHasher(PasswordHasher):
    """The settings' costs; ``hashed`` counts hashes made, ``verified`` lists the stored
    hashes passwords were checked against, in order."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost
        )
        self.hashed = 0
        self.verified: list[str] = []

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)

    def forget(self) -> None:
        self.hashed = 0
        self.verified = []


def record_argon2(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> RecordingHasher:
    """Make every password hash and check of ``shuzhi.auth.passwords`` go through one
    ``RecordingHasher`` for the rest of the test."""
    recorder = RecordingHasher(settings)
    monkeypatch.setattr(passwords, "hasher", lambda _settings: recorder)
    return recorder
