"""An insider with full database access cannot rewrite the audit log undetected.

Each attack below edits the tables directly, the way someone holding the database password
would, and then repairs everything that is stored in the database: later links, hashes and
the head. Verification must still fail, naming the problem.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, inspect, select, text

from shuzhi.audit import anchors
from shuzhi.audit.models import AuditEntry
from shuzhi.audit.service import check_chain, record
from shuzhi.auth.events import LoggedOut
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from tests.conftest import acting

_TABLE: Table = AuditEntry.__table__  # type: ignore[assignment]
FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_role",
    "unit_id",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "details",
)


def _write(database: Database, n: int) -> None:
    with acting(database, SYSTEM) as ctx:
        for i in range(n):
            record(ctx, LoggedOut(username=f"user{i}"))


def _anchor(database: Database) -> None:
    anchors.write_anchor(database)


def _canonical_fields(row: dict[str, Any], prev: str) -> bytes:
    at = row["at"]
    values = [row[f] if f != "at" else at.isoformat() for f in FIELDS] + [prev]
    return json.dumps(
        values, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode("utf-8")


def plain_sha256(row: dict[str, Any], prev: str) -> str:
    return hashlib.sha256(_canonical_fields(row, prev)).hexdigest()


def wrong_key_mac(row: dict[str, Any], prev: str) -> str:
    return hmac.new(b"not the audit key" * 2, _canonical_fields(row, prev), "sha256").hexdigest()


def _has_alg(database: Database) -> bool:
    return "alg" in {c["name"] for c in inspect(database.engine).get_columns("audit_entry")}


def _rewrite(
    database: Database,
    start: int,
    digest: Callable[[dict[str, Any], str], str],
    *,
    details: str | None = None,
    alg: str | None = None,
) -> None:
    """Change entry ``start`` (its details) and re-chain it and every later one with
    ``digest``; set the head to the new last hash."""
    set_alg = alg is not None and _has_alg(database)
    with database.engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(_TABLE).order_by(_TABLE.c.seq)).all()]
        prev = next((r["hash"] for r in rows if r["seq"] == start - 1), "0" * 64)
        for row in rows:
            if row["seq"] < start:
                continue
            if row["seq"] == start and details is not None:
                row["details"] = details
            new = digest(row, prev)
            values: dict[str, Any] = {"seq": row["seq"], "d": row["details"], "p": prev, "h": new}
            extra = ""
            if set_alg:
                extra, values["alg"] = ", alg = :alg", alg
            conn.execute(
                text(
                    f"UPDATE audit_entry SET details = :d, prev_hash = :p, hash = :h{extra} "
                    "WHERE seq = :seq"
                ),
                values,
            )
            prev = new
        conn.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": prev})


def _cut_tail(database: Database, keep: int) -> None:
    """Delete every entry after ``keep`` and point the head at entry ``keep``."""
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq > :k"), {"k": keep})
        last = conn.execute(text("SELECT hash FROM audit_entry WHERE seq = :k"), {"k": keep})
        conn.execute(
            text("UPDATE audit_head SET seq = :k, last_hash = :h WHERE id = 1"),
            {"k": keep, "h": last.scalar_one()},
        )


def _verify(database: Database) -> Any:
    with acting(database, SYSTEM) as ctx:
        return check_chain(ctx)


def test_rewriting_with_plain_sha256_is_detected(database: Database) -> None:
    """(a) the old attack: edit a row, recompute every later hash with SHA-256, fix the head."""
    _write(database, 6)
    _rewrite(database, 3, plain_sha256, details='{"username":"mallory"}')
    report = _verify(database)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert report.reason


def test_rewriting_with_plain_sha256_marked_as_legacy_is_detected(database: Database) -> None:
    """(a') the same, also marking the rewritten entries as old SHA-256 entries."""
    _write(database, 6)
    _rewrite(database, 3, plain_sha256, details='{"username":"mallory"}', alg="sha256")
    report = _verify(database)
    assert not report.ok
    assert report.first_bad_seq == 3


def test_rewriting_the_whole_log_as_legacy_is_detected(database: Database) -> None:
    """(a'') every entry re-hashed with SHA-256 and marked as written before MACs."""
    _write(database, 4)
    _rewrite(database, 1, plain_sha256, details='{"username":"mallory"}', alg="sha256")
    report = _verify(database)
    assert not report.ok


def test_cutting_the_tail_and_fixing_the_head_is_detected_by_the_anchor(
    database: Database,
) -> None:
    """(b) delete the newest entries and point the head at the new last one."""
    _write(database, 6)
    _anchor(database)
    _cut_tail(database, 4)
    report = _verify(database)
    assert not report.ok
    assert report.first_bad_seq == 5
    assert report.reason and "anchor" in report.reason


def test_rewriting_with_a_wrong_key_is_detected(database: Database) -> None:
    """(c) re-MAC everything from the edited entry on with a key that is not the audit key."""
    _write(database, 6)
    _rewrite(database, 2, wrong_key_mac, details='{"username":"mallory"}')
    report = _verify(database)
    assert not report.ok
    assert report.first_bad_seq == 2
