"""Every monitoring rule against a replayed trace that must fire it and one that must not."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, text

from shuzhi.auth.models import LoginFailure
from shuzhi.db.engine import Database
from shuzhi.secops.rules import client_subject, subject_key
from tests.factories import seed_org
from tests.secops.helpers import (
    HOUR,
    NIGHT_NOW,
    WORK_NOW,
    evaluate,
    lookups,
    replay,
    rules_of,
    spread,
)

NOW = WORK_NOW


def _subject(database: Database, prefix: str, client: str) -> str:
    return client_subject(prefix, client, subject_key(database.settings.secret_key))


def test_volume_far_above_the_keys_own_baseline_fires(database: Database) -> None:
    week = NOW - HOUR - timedelta(days=7)
    replay(database, spread(7 * 24 * 5, week, NOW - HOUR, key_id=1))  # ~5 calls an hour
    replay(database, spread(1200, NOW - HOUR, NOW, key_id=1))
    assert ("volume_spike", "key:1") in rules_of(evaluate(database, NOW))


def test_volume_within_the_keys_own_baseline_does_not_fire(database: Database) -> None:
    week = NOW - HOUR - timedelta(days=7)
    replay(database, spread(7 * 24 * 200, week, NOW - HOUR, key_id=2))  # ~200 calls an hour
    replay(database, spread(1200, NOW - HOUR, NOW, key_id=2))  # 6x: below 10x the baseline
    assert not {r for r, _ in rules_of(evaluate(database, NOW))} & {"volume_spike"}


def test_many_distinct_keys_looked_up_in_an_hour_is_enumeration(database: Database) -> None:
    replay(database, lookups(600, NOW - HOUR, NOW, (f"d{i:05d}" for i in range(600))))
    found = evaluate(database, NOW)
    assert ("enumeration", "key:1") in rules_of(found)
    alert = next(a for a in found.new if a.rule == "enumeration")
    assert alert.measure == 600 and alert.count == 600
    # Evidence: the calls, with digests only (never a looked-up value) and masked addresses.
    assert alert.evidence and all(e["client"] == "10.0.*.*" for e in alert.evidence)
    assert all(e["endpoint"] == "lookup" for e in alert.evidence)


def test_many_lookups_of_the_same_few_keys_is_not_enumeration(database: Database) -> None:
    replay(database, lookups(600, NOW - HOUR, NOW, (f"d{i:05d}" for i in range(50))))
    assert "enumeration" not in {r for r, _ in rules_of(evaluate(database, NOW))}


def test_bulk_records_served_at_night_fire(database: Database) -> None:
    replay(database, spread(3, NIGHT_NOW - HOUR, NIGHT_NOW, endpoint="export", rows=5000))
    assert ("off_hours_bulk", "key:1") in rules_of(evaluate(database, NIGHT_NOW))


def test_the_same_bulk_in_working_hours_does_not_fire(database: Database) -> None:
    replay(database, spread(3, NOW - HOUR, NOW, endpoint="export", rows=5000))
    assert "off_hours_bulk" not in {r for r, _ in rules_of(evaluate(database, NOW))}


def test_a_key_with_history_calling_from_a_new_address_fires(database: Database) -> None:
    replay(database, spread(200, NOW - timedelta(days=3), NOW - HOUR, client="10.0.0.1"))
    replay(database, spread(2, NOW - HOUR, NOW, client="192.168.5.5"))
    found = rules_of(evaluate(database, NOW))
    # The subject: the address's network part and a keyed digest, never the address.
    assert ("new_client", _subject(database, "key:1@", "192.168.5.5")) in found
    assert not any("@10.0." in s or "192.168.5.5" in s for _, s in found)


def test_a_new_key_or_a_known_address_does_not_fire(database: Database) -> None:
    replay(database, spread(200, NOW - timedelta(days=3), NOW - HOUR, client="10.0.0.1"))
    replay(database, spread(5, NOW - HOUR, NOW, client="10.0.0.1"))
    replay(database, spread(5, NOW - HOUR, NOW, key_id=9, client="172.16.0.9"))  # no history
    assert "new_client" not in {r for r, _ in rules_of(evaluate(database, NOW))}


def test_a_burst_of_refused_calls_without_a_key_fires_per_address(database: Database) -> None:
    replay(
        database,
        spread(
            150,
            NOW - HOUR,
            NOW,
            key_id=None,
            application_code=None,
            status=401,
            client="203.0.113.7",
        ),
    )
    replay(database, spread(120, NOW - HOUR, NOW, key_id=3, status=403))
    found = rules_of(evaluate(database, NOW))
    assert ("refusal_burst", _subject(database, "client:", "203.0.113.7")) in found
    assert ("refusal_burst", "key:3") in found


def test_a_few_refusals_do_not_fire(database: Database) -> None:
    replay(
        database,
        spread(
            50,
            NOW - HOUR,
            NOW,
            key_id=None,
            application_code=None,
            status=404,
            client="203.0.113.7",
        ),
    )
    replay(database, spread(500, NOW - HOUR, NOW, key_id=3))
    assert "refusal_burst" not in {r for r, _ in rules_of(evaluate(database, NOW))}


def _failures(database: Database, rows: list[tuple[str, str]]) -> None:
    with database.sessions.begin() as session:
        session.execute(
            insert(LoginFailure),
            [
                {"username": u, "client": c, "at": NOW - timedelta(minutes=5 + i)}
                for i, (u, c) in enumerate(rows)
            ],
        )


def test_login_failures_across_accounts_from_one_address_fire(database: Database) -> None:
    _failures(database, [(f"staff:user{i}", "198.51.100.4") for i in range(6)])
    subject = _subject(database, "client:", "198.51.100.4")
    assert subject.startswith("client:198.51.*.*#")
    assert ("login_spray", subject) in rules_of(evaluate(database, NOW))


def test_failures_on_one_account_or_from_many_addresses_do_not_fire(database: Database) -> None:
    _failures(database, [("staff:alice", "198.51.100.4")] * 8)
    _failures(database, [(f"staff:user{i}", f"198.51.100.{10 + i}") for i in range(8)])
    assert "login_spray" not in {r for r, _ in rules_of(evaluate(database, NOW))}


def test_an_altered_audit_entry_fires_the_chain_rule(database: Database) -> None:
    seed_org(database)  # a log with entries
    assert "audit_chain" not in {r for r, _ in rules_of(evaluate(database, NOW))}
    with database.sessions.begin() as session:
        session.execute(
            text(
                "UPDATE audit_entry SET actor = 'user:mallory'"
                " WHERE seq = (SELECT MAX(seq) FROM audit_entry)"
            )
        )
    found = evaluate(database, NOW)
    assert ("audit_chain", "audit_chain") in rules_of(found)
    assert next(a for a in found.new if a.rule == "audit_chain").severity == "critical"


def test_an_intact_chain_does_not_fire(database: Database) -> None:
    seed_org(database)
    replay(database, lookups(600, NOW - HOUR, NOW, (f"d{i:05d}" for i in range(600))))
    evaluate(database, NOW)  # an alert raised and recorded: the chain grows and stays intact
    assert "audit_chain" not in {r for r, _ in rules_of(evaluate(database, NOW))}
