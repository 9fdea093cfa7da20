"""Freshness: loaded datasets against their update cycle, and published entries whose cycle
promises updates but that were never loaded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate, EntryUpdate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.lake.schemas import FreshnessReport, FreshnessState
from tests.catalog.helpers import entry_data
from tests.conftest import acting
from tests.factories import PASSWORD, Org, seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv
from tests.web.helpers import login

FRESH, LATE, N = FreshnessState.FRESH, FreshnessState.OVERDUE, FreshnessState.NEVER_LOADED


def _district(database: Database, tmp_path: Path) -> tuple[Org, dict[str, str]]:
    """Entries in every state the monitor distinguishes (see the assertions below)."""
    seeded = seed_org(database)
    codes = {
        "monthly_loaded": published_entry(database, update_cycle="4"),
        "daily_loaded": published_entry(database, update_cycle="2"),
        "monthly_never": published_entry(database, update_cycle="4"),
        "realtime_never": published_entry(database, update_cycle="1"),
        "irregular_never": published_entry(database, update_cycle="8"),
        "weekly_never_b": published_entry(database, unit="B", update_cycle="3"),
        "withdrawn": published_entry(database, update_cycle="3"),
        "revising": published_entry(database, update_cycle="3"),
    }
    with acting(database, SYSTEM) as ctx:
        draft = catalog.create_entry(
            ctx, EntryCreate.model_validate(entry_data(name="草稿目录", unit_code="A"))
        )
        codes["draft"] = draft.resource_code
        catalog.withdraw_entry(ctx, codes["withdrawn"], "部门不再提供")
        catalog.revise_entry(ctx, codes["revising"])
        catalog.update_entry(
            ctx,
            codes["revising"],
            EntryUpdate.model_validate(entry_data(name="修订中的新名称", update_cycle="8")),
        )
    liaison = seeded.actor(Role.DATA_LIAISON)
    for key in ("monthly_loaded", "daily_loaded"):
        source = write_csv(tmp_path / f"{key}.csv", people_rows(10))
        with acting(database, liaison) as ctx:
            lake.ingest(ctx, codes[key], FileSource(source))
    return seeded, codes


def _later() -> datetime:
    """Three days after the loads: daily is overdue, monthly is not."""
    return datetime.now(UTC) + timedelta(days=3)


def _states(report: FreshnessReport) -> dict[str, FreshnessState]:
    return {r.resource_code: r.state for r in report.rows}


def test_never_loaded_entries_are_reported_with_overdue_ones(
    database: Database, tmp_path: Path
) -> None:
    seeded, codes = _district(database, tmp_path)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        report = lake.freshness_report(ctx, now=_later())
        attention = lake.freshness_report(ctx, overdue_only=True, now=_later())
        never = lake.freshness_report(ctx, state=N, now=_later())
    assert _states(report) == {
        codes["monthly_loaded"]: FRESH,
        codes["daily_loaded"]: LATE,
        codes["monthly_never"]: N,
        codes["realtime_never"]: N,
        codes["weekly_never_b"]: N,
        codes["revising"]: N,  # its published version promises weekly updates
    }
    rows = {r.resource_code: r for r in report.rows}
    revising = rows[codes["revising"]]
    assert revising.name.startswith("人口数据") and revising.update_cycle == "3"
    assert revising.never_loaded and not revising.overdue and revising.last_loaded_at is None
    assert rows[codes["monthly_never"]].update_cycle_label == "每月"
    daily = rows[codes["daily_loaded"]]
    assert daily.overdue and not daily.never_loaded and daily.days_overdue >= 1
    assert set(_states(attention).values()) == {LATE, N} and len(attention.rows) == 5
    assert set(_states(never).values()) == {N} and len(never.rows) == 4
    units = {u.unit_code: (u.entries, u.overdue, u.never_loaded) for u in report.units}
    assert units == {"A": (5, 1, 3), "B": (1, 0, 1)}
    assert never.units == report.units  # the per-unit counts ignore the row filter


def test_a_unit_sees_only_its_own_entries(database: Database, tmp_path: Path) -> None:
    seeded, codes = _district(database, tmp_path)
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        report = lake.freshness_report(ctx, now=_later())
    assert _states(report) == {codes["weekly_never_b"]: N}
    assert [(u.unit_code, u.never_loaded) for u in report.units] == [("B", 1)]


def test_api_and_console_show_never_loaded_entries(
    client: TestClient, database: Database, tmp_path: Path
) -> None:
    _seeded, codes = _district(database, tmp_path)
    login(client, "cdo", PASSWORD)
    body = client.get("/api/v1/freshness", params={"state": "never_loaded"}).json()
    assert {r["resource_code"] for r in body["rows"]} == {
        codes[k] for k in ("monthly_never", "realtime_never", "weekly_never_b", "revising")
    }
    assert all(r["never_loaded"] and r["state"] == "never_loaded" for r in body["rows"])
    assert {u["unit_code"]: u["never_loaded"] for u in body["units"]} == {"A": 3, "B": 1}
    assert client.get("/api/v1/freshness", params={"state": "stale"}).status_code == 422
    page = client.get("/datasets?state=never_loaded")
    assert page.status_code == 200
    assert codes["monthly_never"] in page.text and codes["monthly_loaded"] not in page.text
    assert page.text.count('data-state="never_loaded"') == 4 and "从未归集" in page.text
    everything = client.get("/datasets")
    assert codes["irregular_never"] not in everything.text
    assert codes["draft"] not in everything.text and codes["withdrawn"] not in everything.text
    assert codes["monthly_loaded"] in everything.text
