"""Per-key rate limits: a token bucket per (application key, grant) in each process's memory.

A grant allows ``rate_limit_per_minute`` calls. Every process serving the gateway (each
worker of each API node) holds its own buckets and allows ``ceil(limit / N)`` per minute,
where N is the number of live serving processes registered in ``gateway_node``
(``gateway.nodes``; ``WEB_CONCURRENCY`` until the first heartbeat). With calls spread over
the processes by the load balancer the whole installation stays close to the grant's limit
and never needs a database round trip to decide. Bursts up to a process's share are allowed.
The tolerance across nodes is documented in docs/deploy.md.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from shuzhi.errors import TooManyRequests

MAX_BUCKETS = 100_000


class RateLimiter:
    def __init__(self, workers: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.workers = max(1, workers)
        self._clock = clock
        self._buckets: dict[tuple[int, int], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def share(self, per_minute: int) -> int:
        return max(1, math.ceil(per_minute / self.workers))

    def take(self, key_id: int, grant_id: int, per_minute: int) -> None:
        """Spend one token or raise 429 saying when the next one is due."""
        capacity = float(self.share(per_minute))
        rate = capacity / 60.0
        now = self._clock()
        bucket = (key_id, grant_id)
        with self._lock:
            tokens, last = self._buckets.get(bucket, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[bucket] = (tokens - 1.0, now)
                return
            self._buckets[bucket] = (tokens, now)
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets.clear()
        wait = max(1, math.ceil((1.0 - tokens) / rate))
        raise TooManyRequests(
            f"调用过于频繁：该授权每分钟最多 {per_minute} 次，请 {wait} 秒后再试。",
            f"Too many calls: this grant allows {per_minute} per minute; retry in {wait} s.",
            retry_after=wait,
        )
