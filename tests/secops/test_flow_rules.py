"""The rules over further flows, each against a replayed trace that must fire it and one
that must not: sequential IDs (from the meter's neighbourhood digests), a grant used unlike
its purpose, repeated bulk exports, portal downloads and sandbox queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, update

from shuzhi.audit.service import record
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.gateway.filters import describe, near_digest, neighbourhood
from shuzhi.portal.events import OpenDataDownloaded
from shuzhi.sandbox.models import QueryStatus, SandboxQuery
from shuzhi.sharing.models import Grant
from tests.conftest import acting
from tests.factories import seed_org
from tests.gateway.helpers import share
from tests.secops.helpers import HOUR, NIGHT_NOW, WORK_NOW, call, evaluate, replay, rules_of, spread

NOW = WORK_NOW
KEY = b"k" * 32


def _resident(region: str, born: str, seq: int) -> str:
    body = f"{region}{born}{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _lookups_of(
    values: list[str], start: datetime, end: datetime, key_id: int = 1
) -> list[dict[str, Any]]:
    step = (end - start) / max(1, len(values))
    return [
        call(
            start + step * i,
            endpoint="lookup",
            key_id=key_id,
            filter=describe([("公民身份号码", "eq", v)], KEY, near=True),
        )
        for i, v in enumerate(values)
    ]


# ---------------------------------------------------------------- sequential IDs


@given(st.text(max_size=30) | st.integers(min_value=0, max_value=10**20).map(str))
def test_a_neighbourhood_digest_never_shows_the_value(value: str) -> None:
    described = describe([("k", "eq", value)], KEY, near=True)
    digest = near_digest(value, KEY)
    assert (digest is None) == (neighbourhood(value) is None)
    if len(value) >= 4:
        assert value not in described
    if digest is not None:
        assert len(digest) == 7 and digest in described


@given(st.integers(min_value=0, max_value=999), st.integers(min_value=0, max_value=999))
def test_consecutive_resident_ids_share_a_block_other_birth_dates_do_not(a: int, b: int) -> None:
    first = _resident("330102", "19900101", a)
    assert near_digest(first, KEY) == near_digest(_resident("330102", "19900101", b), KEY)
    assert neighbourhood(first) != neighbourhood(_resident("330102", "19900102", b))


def test_walking_through_consecutive_ids_fires_sequential_ids(database: Database) -> None:
    walk = [_resident("330102", "19900101", s) for s in range(60)]
    replay(database, _lookups_of(walk, NOW - HOUR, NOW))
    found = evaluate(database, NOW)
    assert ("sequential_ids", "key:1") in rules_of(found)
    alert = next(a for a in found.new if a.rule == "sequential_ids")
    assert alert.measure == 60 and alert.severity == "high"
    # Well below the enumeration rule's 500 distinct keys: the walk is caught early.
    assert "enumeration" not in {r for r, _ in rules_of(found)}
    assert not any("330102" in str(e) for e in alert.evidence)


def test_as_many_unrelated_people_do_not_fire_sequential_ids(database: Database) -> None:
    # 200 residents of many counties and birth dates, a couple of twins among them.
    people = [
        _resident(f"3301{i % 90:02d}", f"1980{1 + i % 12:02d}{1 + i % 28:02d}", i)
        for i in range(200)
    ]
    people += [_resident("330102", "19900101", 1), _resident("330102", "19900101", 2)]
    replay(database, _lookups_of(people, NOW - HOUR, NOW, key_id=2))
    assert "sequential_ids" not in {r for r, _ in rules_of(evaluate(database, NOW))}


# ---------------------------------------------------------------- a grant's purpose


def _api_grant(database: Database) -> int:
    shared = share(database)
    with database.sessions.begin() as session:
        grant_id = int(session.scalar(Grant.__table__.select().with_only_columns(Grant.id)) or 0)
        session.execute(
            update(Grant)
            .where(Grant.id == grant_id)
            .values(key_column="公民身份号码", delivery=["api"], purpose="窗口办件核验身份")
        )
    assert shared.code
    return grant_id


def test_an_api_grant_called_at_night_fires_purpose_mismatch(database: Database) -> None:
    grant_id = _api_grant(database)
    replay(database, spread(60, NIGHT_NOW - HOUR, NIGHT_NOW, grant_id=grant_id, rows=1))
    found = evaluate(database, NIGHT_NOW)
    assert ("purpose_mismatch", f"grant:{grant_id}#hours") in rules_of(found)


def test_the_same_calls_in_working_hours_do_not(database: Database) -> None:
    grant_id = _api_grant(database)
    replay(database, spread(60, NOW - HOUR, NOW, grant_id=grant_id, rows=1))
    assert "purpose_mismatch" not in {r for r, _ in rules_of(evaluate(database, NOW))}


def test_a_lookup_grant_searched_by_other_columns_fires_purpose_mismatch(
    database: Database,
) -> None:
    grant_id = _api_grant(database)
    searches = [
        call(
            NOW - HOUR + timedelta(minutes=i),
            grant_id=grant_id,
            filter=describe([("姓名", "eq", f"张{i}")], KEY),
        )
        for i in range(25)
    ]
    replay(database, searches)
    found = evaluate(database, NOW)
    assert ("purpose_mismatch", f"grant:{grant_id}#columns") in rules_of(found)
    alert = next(a for a in found.new if a.rule == "purpose_mismatch")
    assert "姓名" in alert.summary_zh and not any("张" in str(e) for e in alert.evidence)


def test_lookups_by_the_key_column_are_its_purpose(database: Database) -> None:
    grant_id = _api_grant(database)
    replay(
        database,
        [
            call(
                NOW - HOUR + timedelta(minutes=i),
                grant_id=grant_id,
                filter=describe([("公民身份号码", "eq", f"x{i}")], KEY),
            )
            for i in range(40)
        ],
    )
    assert "purpose_mismatch" not in {r for r, _ in rules_of(evaluate(database, NOW))}


# ---------------------------------------------------------------- bulk exports


def test_exporting_again_and_again_fires_bulk_export(database: Database) -> None:
    replay(database, spread(5, NOW - HOUR, NOW, endpoint="export", rows=20000, key_id=4))
    assert ("bulk_export", "key:4") in rules_of(evaluate(database, NOW))


def test_one_scheduled_export_and_refused_ones_do_not(database: Database) -> None:
    replay(database, spread(1, NOW - HOUR, NOW, endpoint="export", rows=20000, key_id=4))
    replay(database, spread(5, NOW - HOUR, NOW, endpoint="export", status=403, rows=0, key_id=4))
    assert "bulk_export" not in {r for r, _ in rules_of(evaluate(database, NOW))}


# ---------------------------------------------------------------- portal downloads


def _downloads(database: Database, applicant: int | None, n: int, unit: int) -> None:
    with acting(database, SYSTEM) as ctx:
        for i in range(n):
            record(ctx, OpenDataDownloaded(f"R-B-{i % 3}", unit, "csv", 1, applicant))


def test_an_applicant_downloading_again_and_again_fires(database: Database) -> None:
    seeded = seed_org(database)
    _downloads(database, 7, 25, seeded.unit_ids["B"])
    found = evaluate(database, datetime.now(UTC) + timedelta(seconds=1))
    assert ("portal_downloads", "applicant:7") in rules_of(found)
    alert = next(a for a in found.new if a.rule == "portal_downloads")
    assert alert.unit_id == seeded.unit_ids["B"] and alert.evidence[0]["datasets"]


def test_a_few_downloads_and_anonymous_ones_do_not(database: Database) -> None:
    seeded = seed_org(database)
    _downloads(database, 7, 5, seeded.unit_ids["B"])
    _downloads(database, None, 60, seeded.unit_ids["B"])  # open data: nobody to count by
    found = evaluate(database, datetime.now(UTC) + timedelta(seconds=1))
    assert "portal_downloads" not in {r for r, _ in rules_of(found)}


# ---------------------------------------------------------------- sandbox queries


def _queries(database: Database, unit: int, n: int, refused: int, analyst: str) -> None:
    rows: list[dict[str, Any]] = [
        {
            "analyst": analyst,
            "unit_id": unit,
            "actor": "user:a",
            "sql": "SELECT count(*) FROM t",
            "status": (QueryStatus.REFUSED if i < refused else QueryStatus.DONE).value,
            "rule": "k_anonymity" if i < refused else None,
            "plan": {},
            "rows_released": 0 if i < refused else 3,
            "suppressed": 0,
            "created_at": NOW - HOUR + timedelta(minutes=i % 59),
        }
        for i in range(n)
    ]
    with database.sessions.begin() as session:
        session.execute(insert(SandboxQuery), rows)


def test_refused_sandbox_queries_again_and_again_fire(database: Database) -> None:
    seeded = seed_org(database)
    _queries(database, seeded.unit_ids["A"], 20, 12, "app:3")
    assert ("sandbox_probing", "analyst:app:3") in rules_of(evaluate(database, NOW))


def test_an_ordinary_analysis_does_not(database: Database) -> None:
    seeded = seed_org(database)
    _queries(database, seeded.unit_ids["A"], 40, 2, "app:3")
    assert "sandbox_probing" not in {r for r, _ in rules_of(evaluate(database, NOW))}
