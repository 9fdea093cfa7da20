"""The server's own evaluator: runs the monitoring rules every few seconds, off the request
path: in a child process of the serving process (``process=True``, what the server does),
or in a background thread (tests, tools).

The rules read an hour of the gateway's call log at every turn; in a thread of a serving
worker their Python work (building rows, comparing) held the worker's interpreter lock and
took CPU from the calls it serves. The child runs at a lower scheduling priority (nice 5) and
holds no lock of the worker; a thread of the worker starts it again if it dies, and it ends
by itself when the worker is killed (it would otherwise run on, orphaned).

Several serving processes share one database: each run first claims the turn
(``service.claim``), so the rules run once per interval however many processes serve.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from datetime import datetime
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as ProcessEvent

from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.secops import review, service
from shuzhi.settings import Settings

log = logging.getLogger("shuzhi.secops")
# The child's scheduling priority relative to the serving process (it yields to requests,
# but not so far that a busy server delays detection by minutes).
NICENESS = 5


def _child(
    settings: Settings, interval: float, stop: ProcessEvent, niceness: int, parent: int
) -> None:
    """The evaluator process: the same loop as the thread, over its own connections. It ends
    when told to, and when the serving process ``parent`` is gone without telling it (killed):
    it is then no longer this process's parent."""
    from shuzhi.wiring import register_all  # the alerts' hook subscribers, as in the server

    register_all()
    if niceness:
        os.nice(niceness)
    database = Database(settings)
    try:
        evaluator = Evaluator(database, interval)
        while not stop.wait(interval) and os.getppid() == parent:
            try:
                evaluator.run_once()
            except Exception:
                log.exception("the security monitoring run failed; trying again next turn")
    finally:
        database.dispose()


class Evaluator:
    def __init__(self, database: Database, interval: float, *, process: bool = False) -> None:
        self.database = database
        self.interval = interval
        self.process = process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._context = multiprocessing.get_context("spawn")
        self._child_stop: ProcessEvent | None = None
        self._child: BaseProcess | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        target = self._watch if self.process else self._run
        self._thread = threading.Thread(target=target, name="shuzhi-secops", daemon=True)
        self._thread.start()

    def _spawn(self) -> None:
        self._child_stop = self._context.Event()
        self._child = self._context.Process(
            target=_child,
            args=(self.database.settings, self.interval, self._child_stop, NICENESS, os.getpid()),
            name="shuzhi-secops-evaluator",
            daemon=True,
        )
        self._child.start()

    def _watch(self) -> None:
        """Keep the evaluator process running (started again if it died)."""
        while not self._stop.is_set():
            if self._child is None or not self._child.is_alive():
                if self._child is not None:
                    log.error("the security monitoring process stopped; starting it again")
                try:
                    self._spawn()
                except Exception:
                    log.exception("the security monitoring process could not start")
            self._stop.wait(max(self.interval, 1.0))

    def run_once(self) -> int:
        """One turn if this process wins the claim; the number of new alerts."""
        now = utcnow()
        if not service.claim(self.database, now, self.interval * 0.8):
            return 0
        try:
            return self._turn(now)
        finally:
            service.end_turn(self.database, utcnow())

    def _turn(self, now: datetime) -> int:
        # The rules' scans in a read unit (no write lock held while they run; ``find`` takes
        # a fresh snapshot for each family of rules and each finding); the alerts they raise
        # in a short write unit after them.
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
        child, stop = self._child, self._child_stop
        if child is not None and stop is not None:
            stop.set()
            child.join(timeout=30)
            if child.is_alive():  # a run still scanning: nothing it holds needs it to finish
                child.kill()
                child.join()
        # Release the stop event's semaphores now (their names are unlinked when the event is
        # collected). A serving worker ends by its signal once its shutdown is done, as
        # uvicorn's do, which runs no exit handlers: otherwise its resource tracker finds
        # them still registered and reports them leaked at every shutdown.
        self._child = self._child_stop = None
