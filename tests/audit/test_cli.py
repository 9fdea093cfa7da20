"""``shuzhi audit anchor`` and ``shuzhi audit verify`` on a data directory."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shuzhi.audit import anchors
from shuzhi.audit.service import record
from shuzhi.auth.events import LoggedOut
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.test_cli import run


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """The commands on the test's data directory, with its keys, anchoring only on request."""
    return {
        "SHUZHI_DATA_DIR": str(settings.data_dir),
        "SHUZHI_DATABASE_URL": settings.database_url,
        "SHUZHI_SECRET_KEY": settings.secret_key,
        "SHUZHI_AUDIT_ANCHOR_EVERY": "0",
        "SHUZHI_AUDIT_ANCHOR_SECONDS": "0",
    }


def test_anchor_then_cut_the_tail(
    cli_env: dict[str, str], database: Database, settings: Settings
) -> None:
    code, out = run(cli_env, "audit", "anchor")
    assert code == 0 and "nothing to anchor" in out
    with acting(database, SYSTEM) as ctx:
        for i in range(5):
            record(ctx, LoggedOut(username=f"u{i}"))
    code, out = run(cli_env, "audit", "anchor")
    assert code == 0 and "Anchored entry 5" in out
    # The CLI keys the chain with the same key as the server (here: from the secret key).
    code, out = run(cli_env, "audit", "verify")
    assert code == 0 and "1 anchors match" in out
    assert [a.seq for a in anchors.read_anchors(settings)] == [5]
    with database.engine.begin() as conn:  # verify appended entry 6; cut 4..6
        conn.execute(text("DELETE FROM audit_entry WHERE seq > 3"))
        last = conn.execute(text("SELECT hash FROM audit_entry WHERE seq = 3")).scalar_one()
        conn.execute(text("UPDATE audit_head SET seq = 3, last_hash = :h"), {"h": last})
    code, out = run(cli_env, "audit", "verify")
    assert code == 1 and "BROKEN at entry 4" in out and "anchor" in out
    code, out = run(cli_env, "audit", "anchor")  # the head still has its entry: anchoring works
    assert code == 0


def test_a_wrong_audit_key_fails_verification(cli_env: dict[str, str], database: Database) -> None:
    assert run(cli_env, "audit", "verify")[0] == 0
    code, out = run({**cli_env, "SHUZHI_AUDIT_KEY": "k" * 40}, "audit", "verify")
    assert code == 1 and "BROKEN at entry 1" in out and "MAC" in out
