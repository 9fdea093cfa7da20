"""Test fixtures: every storage test runs on SQLite and on a real PostgreSQL server.

The databases are created from a migrated template (a copied SQLite file; a PostgreSQL
``TEMPLATE`` database), so each test starts from a clean, fully migrated schema in
milliseconds.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from shuzhi.app import create_app
from shuzhi.context import ANONYMOUS, Actor, Ctx, Role, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.demo import catalog as demo_catalog
from shuzhi.demo.district import build_demo
from shuzhi.settings import Settings
from shuzhi.wiring import register_all
from tests import pg
from tests.scratch import remove_scratch

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
_counter = itertools.count()


def make_settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="t" * 48,
        credentials_key="k" * 48,
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        # No background security monitoring in tests: the tests that need it turn it on.
        secops_evaluate_seconds=0,
    )


@pytest.fixture(scope="session", autouse=True)
def _hook_subscribers() -> None:
    """Tests call services without the app or the CLI: register the same subscribers."""
    register_all()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The tests' scratch directories go with the session (in each worker process)."""
    remove_scratch()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests start first, so parallel workers (``make test``) finish together."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    server = pg.start()
    yield server
    if callable(server.stop):
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("template")
    database = Database(make_settings(directory, f"sqlite:///{directory / 'template.db'}"))
    upgrade(database)
    database.dispose()
    return directory / "template.db"


@pytest.fixture(scope="session")
def pg_template(pg_server: pg.PgServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    name = pg.database_name("shuzhi_template")
    pg.create(pg_server.admin_url, name)
    directory = tmp_path_factory.mktemp("pgtemplate")
    database = Database(make_settings(directory, pg_server.url(name)))
    upgrade(database)
    database.dispose()
    return name


def fresh_database_url(request: pytest.FixtureRequest, template: str) -> str:
    """The URL of a new database copied from ``template`` on the session's server, dropped
    when ``request``'s scope ends."""
    server: pg.PgServer = request.getfixturevalue("pg_server")
    name = pg.database_name(f"shuzhi_test_{next(_counter)}")
    pg.create(server.admin_url, name, template)
    request.addfinalizer(lambda: pg.drop(server.admin_url, name))
    return server.url(name)


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp_path / "shuzhi.db")
        return make_settings(tmp_path, f"sqlite:///{tmp_path / 'shuzhi.db'}")
    template_name: str = request.getfixturevalue("pg_template")
    return make_settings(tmp_path, fresh_database_url(request, template_name))


# The demo district's catalogue in tests: big enough for every state, small enough to build
# quickly (the full-size build is checked once, through the command, in tests/test_cli.py).
SMALL_CATALOGUE = {"TASKS": 120, "PUBLISHED": 100, "SUBMITTED": 5, "DRAFTS": 5}


@dataclass(frozen=True)
class DemoTemplate:
    """A demo district built once per session; tests get copies, never the template itself."""

    data_dir: Path  # credentials file and lake files (and shuzhi.db on SQLite)
    pg_database: str | None = None  # the PostgreSQL template database, None on SQLite


@pytest.fixture
def small_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Demo builds in the test (first or idempotent re-runs) use the small catalogue."""
    for name, value in SMALL_CATALOGUE.items():
        monkeypatch.setattr(demo_catalog, name, value)


def _build_demo_template(settings: Settings, pg_database: str | None = None) -> DemoTemplate:
    database = Database(settings)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SMALL_CATALOGUE.items():
            patch.setattr(demo_catalog, name, value)
        build_demo(database)
    database.dispose()
    return DemoTemplate(data_dir=settings.data_dir, pg_database=pg_database)


@pytest.fixture(scope="session")
def sqlite_demo_template(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> DemoTemplate:
    directory = tmp_path_factory.mktemp("demo-template")
    shutil.copy(sqlite_template, directory / "shuzhi.db")
    return _build_demo_template(make_settings(directory, f"sqlite:///{directory / 'shuzhi.db'}"))


@pytest.fixture(scope="session")
def pg_demo_template(
    pg_server: pg.PgServer, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> DemoTemplate:
    name = pg.database_name("shuzhi_demo_template")
    pg.create(pg_server.admin_url, name, pg_template)
    directory = tmp_path_factory.mktemp("pg-demo-template")
    return _build_demo_template(make_settings(directory, pg_server.url(name)), name)


def copy_demo(request: pytest.FixtureRequest, backend: str, directory: Path) -> Settings:
    """Settings for a fresh copy of the demo district in ``directory`` (on ``backend``)."""
    if backend == "sqlite":
        template: DemoTemplate = request.getfixturevalue("sqlite_demo_template")
        shutil.copytree(template.data_dir, directory, dirs_exist_ok=True)
        settings = make_settings(directory, f"sqlite:///{directory / 'shuzhi.db'}")
    else:
        template = request.getfixturevalue("pg_demo_template")
        assert template.pg_database is not None
        shutil.copytree(template.data_dir, directory, dirs_exist_ok=True)
        settings = make_settings(directory, fresh_database_url(request, template.pg_database))
    # Lake versions are recorded relative to the data directory: the copy serves them as is.
    return settings


@pytest.fixture(params=BACKENDS)
def demo_database(
    request: pytest.FixtureRequest, tmp_path: Path, small_catalogue: None
) -> Iterator[Database]:
    """A private copy of the demo district (small catalogue), on each backend."""
    db = Database(copy_demo(request, request.param, tmp_path))
    yield db
    db.dispose()


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings)
    yield db
    db.dispose()


@pytest.fixture
def app(settings: Settings, database: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, database=database, migrate=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@contextmanager
def acting(database: Database, actor: Actor = ANONYMOUS) -> Iterator[Ctx]:
    """A committed unit of work as ``actor`` (tests call services exactly as routes do)."""
    with unit_of_work(database, actor) as ctx:
        yield ctx


def actor(
    role: Role | None, unit_id: int | None = None, name: str = "tester", kind: str = "user"
) -> Actor:
    return Actor(kind=kind, id=1, name=name, role=role, unit_id=unit_id)  # type: ignore[arg-type]


class Verifications:
    """How many argon2 verifications ran since the fixture started counting."""

    calls = 0


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> type[Verifications]:
    """Counts argon2 verifications; the real ones run (a spy, not a stand-in)."""
    real = PasswordHasher.verify

    def counting(hasher: PasswordHasher, stored: str | bytes, password: str | bytes) -> bool:
        Verifications.calls += 1
        result: bool = real(hasher, stored, password)
        return result

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    Verifications.calls = 0
    return Verifications
