"""Engine and session factory; backend differences live in one capabilities object."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from shuzhi.settings import Settings

log = logging.getLogger("shuzhi.db")

# How long an SQLite connection waits for the write lock before giving up.
SQLITE_BUSY_MS = 30_000
# Size of SQLite's write-ahead log beyond which continuous writers truncate it.
WAL_TRIM_BYTES = 64 * 1024 * 1024
WAL_TRIM_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class BackendCapabilities:
    """What differs between metadata backends, as data rather than ``if`` statements."""

    name: str
    connect_args: dict[str, Any]
    pragmas: tuple[str, ...] = ()
    pool_pre_ping: bool = False
    # Statement that opens every transaction, when the driver's own handling is unsuitable.
    begin_statement: str | None = None
    # Statement that opens a read unit's transaction (see ``context.unit_of_work``).
    read_begin_statement: str | None = None
    # Statement taking a transaction-scoped lock on the integer ``:key`` (e.g. to serialise
    # login attempts per account across workers); None where transactions already serialise.
    xact_lock_statement: str | None = None


SQLITE = BackendCapabilities(
    name="sqlite",
    connect_args={"check_same_thread": False, "timeout": 30},
    pragmas=(
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={SQLITE_BUSY_MS}",
        "PRAGMA synchronous=NORMAL",
    ),
    # pysqlite left alone only emits BEGIN before the first write, so a SAVEPOINT taken
    # before any write runs outside a transaction and its RELEASE commits: all-or-nothing
    # breaks. We open every transaction ourselves, IMMEDIATE so that a transaction which
    # reads first and writes later never fails on a stale snapshot (writers queue on
    # busy_timeout instead; readers are never blocked in WAL mode).
    begin_statement="BEGIN IMMEDIATE",
    # A read unit never writes (its writes are queued and done in a transaction of their
    # own), so a deferred BEGIN is safe there and takes no write lock.
    read_begin_statement="BEGIN",
)
POSTGRESQL = BackendCapabilities(
    name="postgresql",
    connect_args={},
    pool_pre_ping=True,
    xact_lock_statement="SELECT pg_advisory_xact_lock(:key)",
)


def capabilities_for(url: str) -> BackendCapabilities:
    if url.startswith("sqlite"):
        return SQLITE
    if url.startswith("postgresql"):
        return POSTGRESQL
    raise ValueError(f"unsupported metadata database URL scheme: {url.split(':', 1)[0]}")


def _normalise(url: str) -> str:
    # psycopg 3 is the one PostgreSQL driver we ship.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 (its WAL and SHM files inherit the mode) or tighten it."""
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if path.parent.is_dir() and not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            if companion.exists() and companion.stat().st_mode & 0o077:
                companion.chmod(0o600)
        except OSError:  # not ours to change: leave it to the administrator
            pass


# Execution option marking the connections of read units.
READ_UNIT = "shuzhi_read_unit"
_WRITE_VERBS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "MERGE", "CREATE", "DROP", "ALTER"}
)


class WriteInReadUnit(RuntimeError):
    """A read unit tried to write: a programming error (queue the write with ``ctx.write``)."""


def _is_write(statement: str, context: Any) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        return True
    words = statement.lstrip().split(None, 1)
    return bool(words) and words[0].upper() in _WRITE_VERBS


def _guard_reads(engine: Engine) -> None:
    """Refuse any write statement on a read unit's connection, on every backend."""

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse(
        conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if conn.get_execution_options().get(READ_UNIT) and _is_write(statement, context):
            raise WriteInReadUnit(
                "write inside a read unit of work (queue it with ctx.write): "
                + " ".join(statement.split())[:200]
            )


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    changed = [*session.new, *session.dirty, *session.deleted]
    if changed:
        names = ", ".join(sorted({type(o).__name__ for o in changed}))
        raise WriteInReadUnit(
            f"flush of changed {names} inside a read unit of work (queue it with ctx.write)"
        )


class Database:
    """Owns the engine and hands out sessions; created by the app or the CLI, never at import."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.capabilities = capabilities_for(settings.database_url)
        self._trim_after = 0.0  # monotonic time before which trim_wal does not try again
        if self.capabilities is SQLITE:
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private_sqlite_file(settings.database_url)
        self.engine: Engine = create_engine(
            _normalise(settings.database_url),
            connect_args=self.capabilities.connect_args,
            pool_pre_ping=self.capabilities.pool_pre_ping,
            # A failed statement's error would quote its parameters (names, ID numbers,
            # search terms) into whatever logs or shows it.
            hide_parameters=True,
        )
        pragmas, begin = self.capabilities.pragmas, self.capabilities.begin_statement
        if pragmas or begin:

            @event.listens_for(self.engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                if begin:
                    dbapi_conn.isolation_level = None  # the driver must not issue BEGIN itself
                cursor = dbapi_conn.cursor()
                for pragma in pragmas:
                    cursor.execute(pragma)
                cursor.close()

        read_begin = self.capabilities.read_begin_statement
        if begin:

            @event.listens_for(self.engine, "begin")
            def _on_begin(conn: Any) -> None:
                reading = conn.get_execution_options().get(READ_UNIT)
                conn.exec_driver_sql(read_begin if read_begin and reading else begin)

        _guard_reads(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Read units: same pool, connections marked so their transactions begin as reads.
        self.read_sessions = sessionmaker(
            self.engine.execution_options(**{READ_UNIT: True}), expire_on_commit=False
        )
        event.listen(self.read_sessions, "before_flush", _refuse_flush)

    def trim_wal(self, max_bytes: int = WAL_TRIM_BYTES, wait_ms: int = 1000) -> bool:
        """SQLite: checkpoint the write-ahead log and truncate it once it outgrows
        ``max_bytes``; True when it was truncated.

        SQLite's automatic checkpoints copy pages back but restart the log only when no
        reader is using it, which never happens under steady reads and writes (a serving
        gateway): the log then grows without end and every read slows down as it grows.
        Continuous writers (the gateway's meter) call this after their commits. The
        checkpoint waits for the write lock (another writer's batch) and then, holding it,
        for older readers: at most ``wait_ms`` in all, and when it could not finish it is not
        tried again for ``WAL_TRIM_RETRY_SECONDS``. Elsewhere (PostgreSQL) it does nothing.
        """
        name = self.engine.url.database
        if self.capabilities is not SQLITE or not name or name == ":memory:":
            return False
        if time.monotonic() < self._trim_after:
            return False
        try:
            size = os.stat(f"{name}-wal").st_size
        except OSError:
            return False
        if size <= max_bytes:
            return False
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                # First copy what can be copied without waiting for anyone (most of the
                # log), so that the truncating checkpoint has little left to do while it
                # holds the write lock and waits for the readers.
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                cursor.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
                busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
                cursor.close()
        finally:
            raw.close()
        if busy:
            self._trim_after = time.monotonic() + WAL_TRIM_RETRY_SECONDS
            log.info("the write-ahead log holds %d bytes and is busy; trying later", size)
        return not busy

    def dispose(self) -> None:
        self.engine.dispose()
