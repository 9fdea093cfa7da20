"""An ingest holds no database write lock while it reads, writes Parquet and analyses: console
writes beside it (logins) wait for no more than the short registration at its end.

SQLite only: PostgreSQL takes row locks, not one database-wide write lock (the transaction
structure is the same on both; see ``tests/lake/test_ingest_transactions.py``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from shuzhi import hooks
from shuzhi.app import create_app
from shuzhi.context import SYSTEM, Actor, Ctx
from shuzhi.db.engine import Database
from shuzhi.lake import ingest_cli
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv
from tests.web.helpers import csrf, login

SQLITE_ONLY = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
LOGINS = 50
ROWS = 200_000
COPIES = 10  # 2M rows, about 100 MB: a load of several seconds


def _big_csv(path: Path) -> Path:
    write_csv(path, people_rows(ROWS))
    lines = path.read_bytes().split(b"\n", 1)
    with open(path, "ab") as fh:
        for _ in range(COPIES - 1):
            fh.write(lines[1])
    return path


class WriteWaits:
    """How long each ``BEGIN IMMEDIATE`` (the SQLite write lock) took, outside one thread."""

    def __init__(self, database: Database) -> None:
        self.waits: list[float] = []
        self.excluded: int | None = None
        self._started: dict[int, float] = {}
        engine = database.engine

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn: Any, _c: Any, statement: str, *_args: Any) -> None:
            if statement == "BEGIN IMMEDIATE":
                self._started[threading.get_ident()] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn: Any, _c: Any, statement: str, *_args: Any) -> None:
            me = threading.get_ident()
            if statement == "BEGIN IMMEDIATE" and me in self._started and me != self.excluded:
                self.waits.append(time.perf_counter() - self._started.pop(me))


def _logins_beside(
    app: Any, database: Database, load: Callable[[Callable[[str], None]], None]
) -> tuple[list[float], list[int], float]:
    """Run ``load`` in a thread and log in LOGINS times beside it; (write waits, statuses,
    how long the load took)."""
    waits = WriteWaits(database)
    loading = threading.Event()
    failure: list[BaseException] = []
    took = [0.0]

    def run() -> None:
        waits.excluded = threading.get_ident()
        started = time.perf_counter()
        try:
            load(lambda step: loading.set())
        except BaseException as exc:  # pragma: no cover - reported below
            failure.append(exc)
        finally:
            took[0] = time.perf_counter() - started
            loading.set()

    worker = threading.Thread(target=run)
    worker.start()
    assert loading.wait(120)
    statuses: list[int] = []
    with TestClient(app, base_url="http://testserver") as client:
        while len(statuses) < LOGINS or worker.is_alive():
            response = client.post(
                "/login",
                data={"csrf_token": csrf(client), "username": "cdo", "password": PASSWORD},
                follow_redirects=False,
            )
            statuses.append(response.status_code)
            client.cookies.clear()
    worker.join(300)
    assert not failure, failure
    return waits.waits, statuses, took[0]


def _report(label: str, waits: list[float], took: float) -> None:
    print(f"\n{label}: ingest {took:.2f} s; {len(waits)} write waits, max {max(waits):.3f} s")


@pytest.mark.slow
@SQLITE_ONLY
def test_logins_beside_a_cli_ingest_wait_under_a_second(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    seed_org(database)
    code = published_entry(database)
    source = _big_csv(tmp_path / "big.csv")
    app = create_app(settings, database=database, migrate=False)
    operator = Actor(kind="system", name="cli:test")

    def load(progress: Callable[[str], None]) -> None:
        shown = FileSource(source)
        original = ingest_cli.IngestProgress.step

        def step(self: ingest_cli.IngestProgress, name: str) -> None:
            progress(name)
            original(self, name)

        ingest_cli.IngestProgress.step = step  # type: ignore[method-assign]
        try:
            ingest_cli._run(database, operator, code, shown, 0.01)
        finally:
            ingest_cli.IngestProgress.step = original  # type: ignore[method-assign]

    waits, statuses, took = _logins_beside(app, database, load)
    _report("CLI ingest", waits, took)
    assert len(statuses) >= LOGINS and set(statuses) == {303}
    assert len(waits) >= LOGINS
    assert max(waits) < 1.0


@pytest.mark.slow
@SQLITE_ONLY
def test_logins_beside_a_console_upload_wait_under_a_second(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    seed_org(database)
    code = published_entry(database)
    source = _big_csv(tmp_path / "big.csv")
    app = create_app(settings, database=database, migrate=False)

    def load(progress: Callable[[str], None]) -> None:
        with TestClient(app, base_url="http://testserver") as uploader:
            login(uploader, "a.liaison", PASSWORD)
            token = csrf(uploader, f"/datasets/{code}")
            progress("upload")
            with open(source, "rb") as fh:
                response = uploader.post(
                    f"/datasets/{code}/upload",
                    data={"csrf_token": token},
                    files={"file": ("big.csv", fh, "text/csv")},
                    follow_redirects=False,
                )
            assert response.status_code == 303, response.text[:500]

    waits, statuses, took = _logins_beside(app, database, load)
    _report("console upload", waits, took)
    assert len(statuses) >= LOGINS and set(statuses) == {303}
    assert max(waits) < 1.0


@SQLITE_ONLY
def test_no_write_lock_is_held_while_the_load_waits_for_work_beside_it(
    settings: Settings, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work beside the analysis (a key index build takes minutes at 2 M rows) outlasts the
    analysis; while the load waits for it, another process can take the write lock (the
    gateway's meter writes every call)."""
    seed_org(database)
    code = published_entry(database)
    source = write_csv(tmp_path / "people.csv", people_rows(500))
    path = str(database.engine.url.database)
    took: list[float] = []

    def beside(ctx: Ctx, event: hooks.VersionWritten) -> None:
        def work() -> hooks.Finish:
            time.sleep(1.0)  # the analysis of 500 rows is over by now
            other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
            try:
                started = time.perf_counter()
                other.execute("BEGIN IMMEDIATE")
                took.append(time.perf_counter() - started)
                other.execute("ROLLBACK")
            finally:
                other.close()
            return lambda ctx, loaded: None

        event.alongside.append(work)

    subscribers = dict(hooks.REGISTRY._subscribers)
    subscribers[hooks.VersionWritten] = [*subscribers.get(hooks.VersionWritten, []), beside]  # type: ignore[list-item]
    monkeypatch.setattr(hooks.REGISTRY, "_subscribers", subscribers)
    with acting(database, SYSTEM) as ctx:
        loaded = lake.ingest(ctx, code, FileSource(source))
    assert loaded.version.row_count == 500
    assert len(took) == 1 and took[0] < 0.5
