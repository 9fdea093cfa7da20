"""The server's own evaluator: processes take turns through the claim row, so the rules run
once per interval however many processes serve; a failing run does not stop the thread."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.secops import service
from shuzhi.secops.models import Alert
from shuzhi.secops.runtime import Evaluator
from tests.nodes import wait_for
from tests.secops.helpers import HOUR, lookups, replay


def test_only_one_process_takes_each_turn(database: Database) -> None:
    now = utcnow()
    assert service.claim(database, now, 10)
    assert not service.claim(database, now + timedelta(seconds=5), 10)  # another process
    # A turn longer than the gap still keeps the others out until it ends.
    assert not service.claim(database, now + timedelta(seconds=60), 10)
    service.end_turn(database, now + timedelta(seconds=70))
    assert not service.claim(database, now + timedelta(seconds=75), 10)
    assert service.claim(database, now + timedelta(seconds=81), 10)
    # A clock behind the winner's (skew) does not run a second time either.
    assert not service.claim(database, now, 10)


def test_a_turn_whose_process_died_lets_the_next_run_after_its_lease(
    database: Database,
) -> None:
    now = utcnow()
    assert service.claim(database, now, 10)  # never ended
    assert not service.claim(database, now + service.TURN_LEASE, 10)
    assert service.claim(database, now + service.TURN_LEASE + timedelta(seconds=11), 10)


def test_two_evaluators_raise_one_alert(database: Database) -> None:
    now = utcnow()
    replay(database, lookups(600, now - HOUR / 2, now, (f"d{i}" for i in range(600))))
    first, second = Evaluator(database, 60), Evaluator(database, 60)
    assert first.run_once() == 1
    assert second.run_once() == 0  # not its turn


def test_the_background_thread_runs_the_rules(database: Database) -> None:
    now = utcnow()
    replay(database, lookups(600, now - HOUR / 2, now, (f"d{i}" for i in range(600))))
    evaluator = Evaluator(database, 0.2)
    evaluator.start()
    try:

        def raised() -> bool:
            with database.sessions() as session:
                return bool(session.scalar(select(func.count()).select_from(Alert)))

        assert wait_for(raised, 20) < 20
    finally:
        evaluator.close()


def test_the_evaluator_process_runs_the_rules(database: Database) -> None:
    """The server's mode: the rules run in a child process over the same database, which
    stops with the evaluator."""
    now = utcnow()
    replay(database, lookups(600, now - HOUR / 2, now, (f"d{i}" for i in range(600))))
    evaluator = Evaluator(database, 0.2, process=True)
    evaluator.start()
    try:

        def raised() -> bool:
            with database.sessions() as session:
                return bool(session.scalar(select(func.count()).select_from(Alert)))

        assert wait_for(raised, 60) < 60
        child = evaluator._child
        assert child is not None and child.is_alive()
    finally:
        evaluator.close()
    assert not child.is_alive()


SERVER = """
import pickle, sys, time
from shuzhi.db.engine import Database
from shuzhi.secops.runtime import Evaluator

evaluator = Evaluator(Database(pickle.load(open(sys.argv[1], "rb"))), 0.2, process=True)
evaluator.start()
while evaluator._child is None or evaluator._child.pid is None:
    time.sleep(0.05)
print(evaluator._child.pid, flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    """Whether the process runs (an ended one not yet reaped by its new parent does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_the_evaluator_process_ends_when_its_server_is_killed(
    database: Database, tmp_path: Path
) -> None:
    """A serving process killed outright (out of memory, SIGKILL) cannot tell its evaluator to
    stop: the evaluator ends by itself instead of running on, orphaned, for good."""
    settings = tmp_path / "settings.pickle"
    settings.write_bytes(pickle.dumps(database.settings))
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(settings)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        child = int(server.stdout.readline())
        time.sleep(1.0)  # a few turns
        assert _running(child)
    finally:
        server.kill()
        server.wait()
    try:
        assert wait_for(lambda: not _running(child), 30) < 30
    finally:
        if _running(child):
            os.kill(child, signal.SIGKILL)


CLOSED_BY_SIGNAL = """
import pickle, signal, sys, time
from shuzhi.db.engine import Database
from shuzhi.secops.runtime import Evaluator

evaluator = Evaluator(Database(pickle.load(open(sys.argv[1], "rb"))), 600, process=True)
evaluator.start()
while evaluator._child is None or evaluator._child.pid is None:
    time.sleep(0.05)
evaluator.close()
print("closed", flush=True)
# How a uvicorn worker ends once its shutdown is done: by the signal it was sent, with the
# default action, so no exit handler runs.
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.raise_signal(signal.SIGTERM)
"""


def test_closing_releases_the_evaluator_process_semaphores(
    database: Database, tmp_path: Path
) -> None:
    """A server stopped gracefully leaves no semaphore of its evaluator behind, even though its
    worker processes end by their signal (their exit handlers do not run): the resource
    tracker, which outlives them and writes to the same stderr, has nothing to report."""
    settings = tmp_path / "settings.pickle"
    settings.write_bytes(pickle.dumps(database.settings))
    server = subprocess.run(
        [sys.executable, "-c", CLOSED_BY_SIGNAL, str(settings)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert server.stdout.strip() == "closed", server.stderr
    assert server.returncode == -signal.SIGTERM
    assert "leaked semaphore" not in server.stderr, server.stderr
