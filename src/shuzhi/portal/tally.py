"""Usage counts of read requests, summed per process and written in batches.

A page view would otherwise write to the database on every request: on SQLite each such
write takes the single write lock, and under load the waits make up the page's latency
tail. Read requests add their views and API reads to this tally instead (downloads are
audited, so their requests write anyway and count at once); the first read request that
finds it due (its oldest count older than ``MAX_AGE_SECONDS``, or ``MAX_KEYS`` distinct
counts) writes all of it in its queued write, and the application writes what is left at
shutdown.
Usage figures are statistics: a process killed without a clean shutdown loses the counts
it held (at most the last ``MAX_AGE_SECONDS`` of its traffic). Audit records never go
through here.
"""

from __future__ import annotations

import threading
import time
import weakref
from datetime import date

from shuzhi.portal.models import UsageKind

MAX_AGE_SECONDS = 5.0
MAX_KEYS = 1000

# (day, resource code, unit id, kind)
Key = tuple[date, str, int, UsageKind]


class UsageTally:
    """Counts waiting to be written; thread-safe, one per database and process."""

    def __init__(self, max_age: float = MAX_AGE_SECONDS, max_keys: int = MAX_KEYS) -> None:
        self._lock = threading.Lock()
        self._counts: dict[Key, int] = {}
        self._since = 0.0
        self.max_age, self.max_keys = max_age, max_keys

    def add(self, key: Key, n: int = 1) -> bool:
        """Count; True when the tally is due to be written."""
        now = time.monotonic()
        with self._lock:
            if not self._counts:
                self._since = now
            self._counts[key] = self._counts.get(key, 0) + n
            return now - self._since >= self.max_age or len(self._counts) >= self.max_keys

    def take(self) -> dict[Key, int]:
        """Everything counted so far (the caller writes it; the tally starts afresh)."""
        with self._lock:
            counts, self._counts = self._counts, {}
            return counts

    def __len__(self) -> int:
        return len(self._counts)


_TALLIES: weakref.WeakKeyDictionary[object, UsageTally] = weakref.WeakKeyDictionary()
_TALLIES_LOCK = threading.Lock()


def tally_for(database: object) -> UsageTally:
    with _TALLIES_LOCK:
        found = _TALLIES.get(database)
        if found is None:
            found = _TALLIES[database] = UsageTally()
        return found


def forget(database: object) -> UsageTally | None:
    """Detach a database's tally (at shutdown; the caller writes what it holds)."""
    with _TALLIES_LOCK:
        return _TALLIES.pop(database, None)
