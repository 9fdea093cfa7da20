"""A log written before the audit key: its entries stay checkable and are sealed on upgrade."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect, text

from shuzhi.audit.chain import ALG_LEGACY, ALG_MAC, canonical, legacy_hash
from shuzhi.audit.models import GENESIS
from shuzhi.audit.service import check_chain, record
from shuzhi.auth.events import LoggedOut
from shuzhi.context import SYSTEM
from shuzhi.db.base import UTCDateTime, utcnow
from shuzhi.db.engine import Database
from shuzhi.db.migrate import alembic_config, is_current, upgrade
from shuzhi.settings import Settings
from tests.audit.test_insider import _cut_tail, plain_sha256
from tests.conftest import acting

# The entry table as it was before the marker column.
_OLD_ENTRY = sa.table(
    "audit_entry",
    sa.column("seq", sa.Integer()),
    sa.column("at", UTCDateTime(timezone=True)),
    *(sa.column(name, sa.String()) for name in ("actor", "actor_role")),
    sa.column("unit_id", sa.Integer()),
    *(
        sa.column(name, sa.String())
        for name in ("action", "target_type", "target_id", "outcome", "details")
    ),
    *(sa.column(name, sa.String()) for name in ("prev_hash", "hash")),
)


def _before_the_key(database: Database, n: int) -> None:
    """Take the audit branch back before the key and write ``n`` entries as the code then did."""
    command.downgrade(alembic_config(database), "audit@-3")  # before archives, checkpoints, key
    prev = GENESIS
    with database.engine.begin() as conn:
        for seq in range(1, n + 1):
            entry = SimpleNamespace(
                seq=seq,
                at=utcnow(),
                actor="user:alice",
                actor_role="cdo",
                unit_id=None,
                action="auth.logged_out",
                target_type="account",
                target_id=f"user{seq}",
                outcome="ok",
                details=canonical({"username": f"user{seq}"}),
                prev_hash=prev,
            )
            entry.hash = prev = legacy_hash(entry)
            conn.execute(_OLD_ENTRY.insert().values(**vars(entry)))
        conn.execute(
            text("UPDATE audit_head SET seq = :s, last_hash = :h WHERE id = 1"),
            {"s": n, "h": prev},
        )


def _rows(database: Database) -> list[dict[str, object]]:
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, action, alg, details FROM audit_entry ORDER BY seq"))
        return [dict(r._mapping) for r in rows]


def _verify(database: Database):  # type: ignore[no-untyped-def]
    with acting(database, SYSTEM) as ctx:
        return check_chain(ctx)


def test_upgrade_marks_old_entries_and_seals_them(database: Database) -> None:
    _before_the_key(database, 5)
    assert "alg" not in {c["name"] for c in inspect(database.engine).get_columns("audit_entry")}
    upgrade(database)
    assert is_current(database)
    rows = _rows(database)
    assert [r["alg"] for r in rows] == [ALG_LEGACY] * 5 + [ALG_MAC]
    assert rows[5]["action"] == "audit.sealed"
    report = _verify(database)
    assert report.ok and report.entries == 6 and report.legacy_entries == 5
    with acting(database, SYSTEM) as ctx:
        record(ctx, LoggedOut(username="after"))
    report = _verify(database)
    assert report.ok and report.entries == 7 and report.legacy_entries == 5


def test_old_entries_are_still_checked_after_the_upgrade(database: Database) -> None:
    _before_the_key(database, 5)
    upgrade(database)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'user:mallory' WHERE seq = 2"))
    report = _verify(database)
    assert not report.ok and report.first_bad_seq == 2


def test_re_hashing_old_entries_breaks_at_the_seal(database: Database) -> None:
    """Old entries can be re-hashed without a key, but the seal after them cannot."""
    _before_the_key(database, 5)
    upgrade(database)
    with database.engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(_OLD_ENTRY).order_by("seq"))]
        prev = rows[0]["hash"]
        for row in rows[1:5]:
            if row["seq"] == 2:
                row["details"] = canonical({"username": "mallory"})
            new = plain_sha256(row, prev)
            conn.execute(
                text(
                    "UPDATE audit_entry SET details = :d, prev_hash = :p, hash = :h WHERE seq = :s"
                ),
                {"d": row["details"], "p": prev, "h": new, "s": row["seq"]},
            )
            prev = new
        conn.execute(text("UPDATE audit_entry SET prev_hash = :p WHERE seq = 6"), {"p": prev})
    report = _verify(database)
    assert not report.ok and report.first_bad_seq == 6


def test_cutting_the_seal_off_is_detected(database: Database) -> None:
    _before_the_key(database, 5)
    upgrade(database)
    _cut_tail(database, 5)
    report = _verify(database)
    assert not report.ok
    assert report.reason and "seal" in report.reason


def test_the_upgrade_without_a_key_changes_nothing(database: Database, settings: Settings) -> None:
    _before_the_key(database, 3)
    keyless = Database(settings.with_overrides(secret_key="", audit_key=""))
    try:
        with pytest.raises(RuntimeError, match="SHUZHI_AUDIT_KEY"):
            upgrade(keyless)
    finally:
        keyless.dispose()
    assert "alg" not in {c["name"] for c in inspect(database.engine).get_columns("audit_entry")}
    assert len(_rows_without_alg(database)) == 3
    upgrade(database)
    assert _verify(database).ok


def _rows_without_alg(database: Database) -> list[object]:
    with database.engine.connect() as conn:
        return list(conn.execute(text("SELECT seq FROM audit_entry")).scalars())


def test_a_new_log_has_no_old_entries_and_no_seal(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        record(ctx, LoggedOut(username="first"))
    assert [r["alg"] for r in _rows(database)] == [ALG_MAC]
    assert _verify(database).legacy_entries == 0


def test_downgrade_refuses_once_entries_are_keyed(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        record(ctx, LoggedOut(username="first"))
    with pytest.raises(RuntimeError, match="cannot be downgraded"):
        command.downgrade(alembic_config(database), "audit@-3")
    assert _verify(database).ok
