"""The server's own evaluator: runs the monitoring rules every few seconds in a background
thread, off the request path (like the gateway's revision poll and node heartbeat).

Several serving processes share one database: each run first claims the turn
(``service.claim``), so the rules run once per interval however many processes serve.
"""

from __future__ import annotations

import logging
import threading

from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.secops import review, service

log = logging.getLogger("shuzhi.secops")


class Evaluator:
    def __init__(self, database: Database, interval: float) -> None:
        self.database = database
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="shuzhi-secops", daemon=True)
        self._thread.start()

    def run_once(self) -> int:
        """One turn if this process wins the claim; the number of new alerts."""
        now = utcnow()
        if not service.claim(self.database, now, self.interval * 0.8):
            return 0
        # The rules' scans in a read unit (no write lock held while they run); the alerts
        # they raise in a short write unit after them.
        with unit_of_work(self.database, SYSTEM, read=True) as ctx:
            found = service.find(ctx, now)
        with unit_of_work(self.database, SYSTEM) as ctx:
            new = len(service.raise_alerts(ctx, found, now).new)
        # The risk register: subjects whose facts changed are re-assessed here, off the
        # request path (docs/secops.md, Risk register).
        with unit_of_work(self.database, SYSTEM) as ctx:
            service.reassess_due(ctx, now)
        with unit_of_work(self.database, SYSTEM) as ctx:
            review.sweep_grant_reviews(ctx, now)
        return new

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:
                log.exception("the security monitoring run failed; trying again next turn")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
