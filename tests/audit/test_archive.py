"""Archiving closed stretches of the audit log to files, and checking them afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from shuzhi.audit import anchors, archive
from shuzhi.audit.service import archive_audit, check_chain, record
from shuzhi.auth.events import LoggedOut
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden
from shuzhi.settings import Settings
from tests.audit.test_cli import cli_env  # noqa: F401  (fixture)
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.test_cli import run
from tests.web.helpers import csrf, login


@pytest.fixture
def every5(settings: Settings) -> Iterator[Database]:
    """A database whose head is anchored and checkpointed every fifth entry."""
    db = Database(settings.with_overrides(audit_anchor_every=5, audit_anchor_seconds=0))
    yield db
    db.dispose()


def _write(database: Database, n: int) -> None:
    with acting(database, SYSTEM) as ctx:
        for i in range(n):
            record(ctx, LoggedOut(username=f"用户{i}"))
            ctx.db.commit()


def _archive(database: Database, *, remove: bool = True) -> archive.ArchiveReport:
    with acting(database, SYSTEM) as ctx:
        report = archive_audit(ctx, utcnow())
    if remove:
        with acting(database, SYSTEM) as ctx:
            archive.finish_removal(ctx)
    return report


def _verify(database: Database, *, full: bool):  # type: ignore[no-untyped-def]
    with acting(database, SYSTEM) as ctx:
        return check_chain(ctx, full=full)


def _stored(database: Database) -> list[int]:
    with database.engine.connect() as conn:
        return list(conn.execute(text("SELECT seq FROM audit_entry ORDER BY seq")).scalars())


def test_entries_up_to_the_newest_checkpoint_move_to_a_file(every5: Database) -> None:
    _write(every5, 23)
    report = _archive(every5)
    assert (report.first, report.last) == (1, 20)
    assert report.file.name == "000000000001-000000000020.parquet"
    assert [e.seq for e in archive.read_archive(report.file)] == list(range(1, 21))
    stored = _stored(every5)
    assert stored[0] == 21 and 20 not in stored
    full = _verify(every5, full=True)
    assert full.ok, full.reason
    assert full.checked == stored[-1]  # every entry, archived or not, was walked
    quick = _verify(every5, full=False)
    assert quick.ok, quick.reason


def test_a_second_archive_continues_the_first(every5: Database) -> None:
    _write(every5, 12)
    first = _archive(every5)
    _write(every5, 15)
    second = _archive(every5)
    assert second.first == first.last + 1
    with acting(every5, SYSTEM) as ctx:
        assert [(a.first_seq, a.last_seq) for a in archive.archives(ctx)] == [
            (first.first, first.last),
            (second.first, second.last),
        ]
    assert _verify(every5, full=True).ok
    assert _verify(every5, full=False).ok


def test_an_archived_entry_altered_in_its_file_fails_the_full_check(every5: Database) -> None:
    _write(every5, 12)
    report = _archive(every5)
    table = pq.read_table(report.file)
    details = table.column("details").to_pylist()
    details[6] = details[6].replace("用户", "他人")
    pq.write_table(
        table.set_column(table.schema.get_field_index("details"), "details", pa.array(details)),
        report.file,
    )
    changed = _verify(every5, full=True)
    assert not changed.ok and "changed after archiving" in changed.reason
    # someone who can also rewrite the recorded digest still cannot re-chain without the key
    with every5.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_archive SET sha256 = :d"), {"d": archive.sha256(report.file)}
        )
    rechained = _verify(every5, full=True)
    assert not rechained.ok
    assert rechained.first_bad_seq == 7 and "MAC" in rechained.reason


def test_a_missing_archive_file_fails_the_full_check(every5: Database) -> None:
    _write(every5, 12)
    report = _archive(every5)
    report.file.unlink()
    broken = _verify(every5, full=True)
    assert not broken.ok and broken.first_bad_seq == 1 and "missing" in broken.reason
    assert _verify(every5, full=False).ok  # the quick check starts after the archive


def test_rows_left_by_an_interrupted_removal_are_ignored_then_removed(
    every5: Database,
) -> None:
    _write(every5, 12)
    report = _archive(every5, remove=False)
    assert _stored(every5)[0] == 1  # archived and still stored
    assert _verify(every5, full=True).ok
    assert _verify(every5, full=False).ok
    with acting(every5, SYSTEM) as ctx:
        assert archive.finish_removal(ctx) == report.last
    assert _stored(every5)[0] == report.last + 1
    assert _verify(every5, full=True).ok


def test_a_broken_chain_is_not_archived(every5: Database) -> None:
    _write(every5, 12)
    with every5.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET details = '{}' WHERE seq = 3"))
    with acting(every5, SYSTEM) as ctx, pytest.raises(Conflict) as refused:
        archive_audit(ctx, utcnow())
    assert "entry 3" in refused.value.message.en and "第 3 条" in refused.value.message.zh
    assert _stored(every5)[:3] == [1, 2, 3]
    with acting(every5, SYSTEM) as ctx:
        assert archive.archives(ctx) == []
    assert not list(Path(every5.settings.data_dir / archive.ARCHIVE_DIR).glob("*"))


def test_nothing_before_the_first_checkpoint_is_archived(every5: Database) -> None:
    _write(every5, 3)
    with acting(every5, SYSTEM) as ctx, pytest.raises(Conflict) as refused:
        archive_audit(ctx, utcnow())
    assert "checkpoint" in refused.value.message.en
    _write(every5, 4)
    with acting(every5, SYSTEM) as ctx, pytest.raises(Conflict):
        archive_audit(ctx, utcnow() - timedelta(days=1))  # before every entry


def test_only_the_machine_operator_archives(every5: Database) -> None:
    org = seed_org(every5)
    with acting(every5, org.actor(Role.CDO_EXECUTIVE)) as ctx, pytest.raises(Forbidden):
        archive_audit(ctx, utcnow())


def test_archive_on_the_command_line(
    cli_env: dict[str, str],  # noqa: F811
    every5: Database,
) -> None:
    _write(every5, 12)
    tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d")
    code, out = run(cli_env, "audit", "archive", "--before", tomorrow)
    assert code == 0, out
    assert "Archived entries 1–10" in out and "10 rows removed" in out
    code, out = run(cli_env, "audit", "verify", "--full")
    assert code == 0 and "chain intact" in out
    code, out = run(cli_env, "audit", "archive", "--before", "2020-01-01")
    assert code != 0 and "signed checkpoint" in out
    code, out = run(cli_env, "audit", "archive", "--before", "yesterday")
    assert code != 0


def test_the_audit_page_says_what_was_archived(client: TestClient) -> None:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    seed_org(database)
    _write(database, 3)
    assert anchors.write_anchor(database) is not None
    _write(database, 2)
    report = _archive(database)
    login(client, "auditor", PASSWORD)
    page = client.get("/audit")
    assert page.status_code == 200
    assert f"第 1–{report.last} 条已归档" in page.text
    shown = client.get("/api/v1/audit/entries").json()
    assert min(e["seq"] for e in shown["items"]) == report.last + 1
    assert shown["archived_through"] == report.last
    headers = {"X-CSRF-Token": csrf(client, "/audit")}
    full = client.post("/api/v1/audit/verify?full=true", headers=headers).json()
    assert full["ok"] and full["checked"] == full["entries"]
