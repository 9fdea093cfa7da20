"""Small time-bounded caches for the hot path (principals, grants, dataset versions).

An entry is *fresh* for ``ttl`` seconds and may be served *stale* until ``max_age`` while
one background refresh replaces it, so a busy key never waits on the database once warm.
Correctness does not rest on the ages: whoever can narrow an answer (a revocation) clears
the cache, and ``generation`` lets a refresh that started before the clear discard its
now-outdated answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """Safe under the GIL: a race can only cause a duplicate fetch, never a wrong answer."""

    def __init__(
        self,
        ttl: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        max_age: float | None = None,
    ) -> None:
        self.ttl = ttl
        self.max_age = max(ttl, max_age or ttl)
        self.max_entries = max_entries
        self._clock = clock
        self._data: dict[K, tuple[float, V]] = {}
        self.generation = 0

    def lookup(self, key: K) -> tuple[V, bool] | None:
        """(value, fresh) while the entry may be served; None when absent or too old."""
        found = self._data.get(key)
        if found is None:
            return None
        age = self._clock() - found[0]
        if age > self.max_age:
            self._data.pop(key, None)
            return None
        return found[1], age <= self.ttl

    def get(self, key: K) -> V | None:
        """The value while fresh."""
        found = self.lookup(key)
        return found[0] if found is not None and found[1] else None

    def put(self, key: K, value: V, generation: int | None = None) -> None:
        """Store, unless the cache was cleared since ``generation`` was read."""
        if generation is not None and generation != self.generation:
            return
        if len(self._data) >= self.max_entries:
            for old in list(self._data)[: max(1, self.max_entries // 10)]:
                self._data.pop(old, None)
        self._data[key] = (self._clock(), value)

    def clear(self) -> None:
        self.generation += 1
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
