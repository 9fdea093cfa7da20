"""Small time-bounded caches for the hot path (principals, grants, dataset versions)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """Entries live ``ttl`` seconds; the oldest go first when full. Safe under the GIL:
    a race can only cause a duplicate fetch, never a wrong answer."""

    def __init__(
        self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._data: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        found = self._data.get(key)
        if found is None:
            return None
        if found[0] < self._clock():
            self._data.pop(key, None)
            return None
        return found[1]

    def put(self, key: K, value: V) -> None:
        if len(self._data) >= self.max_entries:
            for old in list(self._data)[: max(1, self.max_entries // 10)]:
                self._data.pop(old, None)
        self._data[key] = (self._clock() + self.ttl, value)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
