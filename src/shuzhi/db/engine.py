"""Engine and session factory; backend differences live in one capabilities object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

from shuzhi.settings import Settings


@dataclass(frozen=True)
class BackendCapabilities:
    """What differs between metadata backends, as data rather than ``if`` statements."""

    name: str
    connect_args: dict[str, Any]
    pragmas: tuple[str, ...] = ()
    pool_pre_ping: bool = False


SQLITE = BackendCapabilities(
    name="sqlite",
    connect_args={"check_same_thread": False, "timeout": 30},
    pragmas=(
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
        "PRAGMA synchronous=NORMAL",
    ),
)
POSTGRESQL = BackendCapabilities(name="postgresql", connect_args={}, pool_pre_ping=True)


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


class Database:
    """Owns the engine and hands out sessions; created by the app or the CLI, never at import."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.capabilities = capabilities_for(settings.database_url)
        if self.capabilities is SQLITE:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(
            _normalise(settings.database_url),
            connect_args=self.capabilities.connect_args,
            pool_pre_ping=self.capabilities.pool_pre_ping,
        )
        if self.capabilities.pragmas:
            pragmas = self.capabilities.pragmas

            @event.listens_for(self.engine, "connect")
            def _set_pragmas(dbapi_conn: Any, _record: Any) -> None:
                cursor = dbapi_conn.cursor()
                for pragma in pragmas:
                    cursor.execute(pragma)
                cursor.close()

        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()
