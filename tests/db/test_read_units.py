"""Read units of work: no writes inside, queued writes after, all or nothing, never blocked."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from shuzhi.app import create_app
from shuzhi.audit.events import AuditVerified
from shuzhi.audit.models import AuditEntry
from shuzhi.audit.service import check_chain, record
from shuzhi.auth.permissions import require
from shuzhi.context import SYSTEM, Ctx, Role, unit_of_work
from shuzhi.db.engine import Database, WriteInReadUnit
from shuzhi.errors import Conflict, Forbidden, NotFound
from shuzhi.org import service as org
from shuzhi.org.models import UnitKind
from shuzhi.org.schemas import UnitCreate
from shuzhi.portal import service as portal
from shuzhi.portal import tally
from shuzhi.portal.models import UsageCount, Visitor
from shuzhi.portal.service import usage as portal_usage
from shuzhi.settings import Settings
from tests.conftest import acting, actor
from tests.factories import seed_org
from tests.portal.helpers import open_entry, opened

REGION = UnitCreate(code="QX", name="试点区", kind=UnitKind.REGION)


def _entries(database: Database) -> list[str]:
    with acting(database, SYSTEM) as ctx:
        return list(ctx.db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _unit_exists(database: Database, code: str) -> bool:
    with acting(database, SYSTEM) as ctx:
        return org.unit_id_for_code(ctx, code) is not None


def _create_region(ctx: Ctx) -> None:
    org.create_unit(ctx, REGION)


def test_an_orm_write_inside_a_read_unit_raises(database: Database) -> None:
    with (
        pytest.raises(WriteInReadUnit, match="read unit"),
        unit_of_work(database, SYSTEM, read=True) as ctx,
    ):
        org.create_unit(ctx, REGION)
    assert not _unit_exists(database, "QX")
    assert _entries(database) == []


def test_a_core_statement_that_writes_inside_a_read_unit_raises(database: Database) -> None:
    with pytest.raises(WriteInReadUnit), unit_of_work(database, SYSTEM, read=True) as ctx:
        ctx.db.execute(text("UPDATE audit_head SET seq = seq + 1"))
    with acting(database, SYSTEM) as ctx:
        assert check_chain(ctx).ok


def test_queued_writes_land_after_the_reads_in_one_transaction(database: Database) -> None:
    with unit_of_work(database, SYSTEM, read=True) as ctx:
        record(ctx, AuditVerified(entries=0, ok=True))
        ctx.write(_create_region)
        assert ctx.reading and len(ctx.queued) == 2
        # Nothing is written while the unit still reads: another unit sees no trace yet.
        assert _entries(database) == [] and not _unit_exists(database, "QX")
    assert _unit_exists(database, "QX")
    assert _entries(database) == ["audit.verified", "org.unit_created"]
    with acting(database, SYSTEM) as ctx:
        assert check_chain(ctx).ok


def test_in_a_write_unit_writes_happen_at_once(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        ctx.write(_create_region)
        assert ctx.queued == [] and org.unit_id_for_code(ctx, "QX") is not None


def test_a_failing_queued_write_undoes_every_queued_write(database: Database) -> None:
    def refuse(ctx: Ctx) -> None:
        raise Conflict("冲突。", "Conflict.")

    with pytest.raises(Conflict), unit_of_work(database, SYSTEM, read=True) as ctx:
        ctx.write(_create_region)
        record(ctx, AuditVerified(entries=0, ok=True))
        ctx.write(refuse)
    assert not _unit_exists(database, "QX")
    assert _entries(database) == []


def test_a_failed_read_drops_its_queued_writes(database: Database) -> None:
    with pytest.raises(NotFound), unit_of_work(database, SYSTEM, read=True) as ctx:
        ctx.write(_create_region)
        raise NotFound()
    assert not _unit_exists(database, "QX") and _entries(database) == []


def test_a_refused_read_is_still_audited(database: Database) -> None:
    """The refusal's own record (an after-rollback hook) is written after the read."""
    consumer = actor(Role.CONSUMER, unit_id=1)
    with pytest.raises(Forbidden), unit_of_work(database, consumer, read=True) as ctx:
        ctx.write(_create_region)
        require(ctx, "view_audit")
    assert _entries(database) == ["operation.denied"]
    assert not _unit_exists(database, "QX")


def _page_request(database: Database, client: TestClient) -> str:
    seeded = seed_org(database)
    code = open_entry(database, rows=5)
    opened(database, seeded, code)
    return f"/open/datasets/{code.replace('/', '-')}"


def _usage(database: Database) -> tuple[int, int]:
    with acting(database, SYSTEM) as ctx:
        views = ctx.db.scalar(select(func.coalesce(func.sum(UsageCount.count), 0)))
        visitors = ctx.db.scalar(select(func.count()).select_from(Visitor))
        return int(views or 0), int(visitors or 0)


def test_page_views_are_counted_after_the_read(database: Database, client: TestClient) -> None:
    page = _page_request(database, client)
    before = _usage(database)
    assert client.get("/open").status_code == 200  # a new visitor: written with the request
    assert client.get(page).status_code == 200  # a view: held in the process's tally
    assert _usage(database) == (before[0], before[1] + 1)
    tally.tally_for(database).max_age = 0  # due at once: the next view writes both
    assert client.get(page).status_code == 200
    assert _usage(database) == (before[0] + 2, before[1] + 1)
    assert client.get(page).status_code == 200
    assert portal.flush_usage(database) == 0  # nothing held any more


def test_counts_held_at_shutdown_are_written(database: Database, settings: Settings) -> None:
    app = create_app(settings, database=database, migrate=False)
    with TestClient(app) as client:
        page = _page_request(database, client)
        before = _usage(database)
        assert client.get(page).status_code == 200
        assert client.get(page).status_code == 200
        assert _usage(database) == before
    assert _usage(database) == (before[0] + 2, before[1])


def test_a_request_whose_queued_write_fails_errors_and_writes_nothing(
    database: Database, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _page_request(database, client)
    before, entries = _usage(database), _entries(database)

    def broken(*_args: object) -> None:
        raise RuntimeError("usage table unavailable")

    monkeypatch.setattr(portal_usage, "_add_use", broken)
    with TestClient(client.app, raise_server_exceptions=False) as failing:
        # The download's audit record and its count go in one transaction: neither lands.
        assert failing.get(f"{page}/download.csv").status_code == 500
    monkeypatch.undo()
    assert _usage(database) == before and _entries(database) == entries


@pytest.fixture
def write_lock(database: Database) -> object:
    """Another connection holding SQLite's write lock (BEGIN IMMEDIATE) for the test."""
    path = database.settings.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    yield holder
    holder.execute("ROLLBACK")
    holder.close()


SQLITE_ONLY = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # SQLite's lock


@SQLITE_ONLY
def test_a_read_unit_is_not_blocked_by_a_held_write_lock(
    database: Database, write_lock: sqlite3.Connection
) -> None:
    with unit_of_work(database, SYSTEM, read=True) as ctx:
        assert org.all_unit_briefs(ctx) == []
    # A write unit would now wait for the lock; its BEGIN fails at once with no busy wait.
    probe = sqlite3.connect(write_lock.execute("PRAGMA database_list").fetchone()[2], timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        probe.execute("BEGIN IMMEDIATE")
    probe.close()


@SQLITE_ONLY
def test_read_requests_complete_while_another_connection_holds_the_write_lock(
    database: Database, client: TestClient
) -> None:
    _page_request(database, client)
    path = database.settings.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        found = client.get("/open/search", params={"q": "公交"})
        assert found.status_code == 200 and "/open/datasets/" in found.text
        listed = client.post("/api/3/action/package_list", json={})
        assert listed.status_code == 200 and len(listed.json()["result"]) == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
