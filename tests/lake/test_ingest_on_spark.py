"""Ingest analysis (profile, classification sample, grade, quality) through the Spark engine:
the same version as on DuckDB, and a Spark job killed mid-way leaves no version behind."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shuzhi import hooks
from shuzhi.audit import service as audit
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Unavailable
from shuzhi.lake import service as lake
from shuzhi.lake.models import VersionStatus
from shuzhi.lake.readers import FileSource
from shuzhi.settings import Settings
from tests.conftest import acting, make_settings
from tests.engines import SPARK_MARKS, SPARK_MASTER, make_engine
from tests.factories import seed_org
from tests.lake.helpers import people_rows, published_entry, write_csv

pytestmark = SPARK_MARKS


@pytest.fixture
def spark_database(settings: Settings) -> Iterator[Database]:
    make_engine("spark", settings.data_dir)  # the session's Spark, or its explicit opt-out
    database = Database(settings.with_overrides(query_engine="spark", spark_master=SPARK_MASTER))
    yield database
    lake.close_engine(database)
    database.dispose()


def _files(directory: Path) -> set[str]:
    return {p.name for p in directory.rglob("*") if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_ingest_on_spark_gives_the_version_duckdb_gives(
    spark_database: Database, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = write_csv(tmp_path / "people.csv", people_rows(300), encoding="gbk")
    other = tmp_path_factory.mktemp("on-duckdb")
    shutil.copy(spark_database.settings.database_url.removeprefix("sqlite:///"), other)
    duck_database = Database(make_settings(other, f"sqlite:///{other / 'shuzhi.db'}"))
    found = []
    try:
        for database in (spark_database, duck_database):
            seeded = seed_org(database)
            code = published_entry(database)
            with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
                found.append(lake.ingest(ctx, code, FileSource(source)).version)
    finally:
        lake.close_engine(duck_database)
        duck_database.dispose()
    on_spark, on_duckdb = found
    assert lake.open_engine(spark_database).capabilities.name == "spark"
    assert on_spark.status is VersionStatus.CURRENT and on_spark.row_count == 300
    assert on_spark.profile == on_duckdb.profile
    assert on_spark.classification == on_duckdb.classification
    assert on_spark.grade == on_duckdb.grade
    assert on_spark.schema_check == on_duckdb.schema_check


def _killer(stop: threading.Event, killed: list[int]) -> hooks.Finish:
    """Cancel the analysis' Spark jobs as an operator would, until one of them has failed by
    it: a job may finish between being seen running and the cancel, and then the next one is
    cancelled instead."""
    from shuzhi.lake.spark import spark_session

    context = spark_session(SPARK_MASTER).sparkContext
    tracker = context.statusTracker()
    deadline = time.monotonic() + 120
    while not stop.is_set() and time.monotonic() < deadline:
        running = tracker.getActiveJobsIds()
        if running:
            context.cancelAllJobs()
            while set(running) & set(tracker.getActiveJobsIds()):
                time.sleep(0.005)
            states = [tracker.getJobInfo(job) for job in running]
            if any(info is not None and info.status == "FAILED" for info in states):
                killed.extend(running)
                break
        time.sleep(0.005)
    return lambda ctx, event: None


def test_a_spark_job_killed_mid_analysis_leaves_no_version(
    spark_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = seed_org(spark_database)
    code = published_entry(spark_database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    stop, killed = threading.Event(), list[int]()

    def subscriber(ctx: Any, event: hooks.VersionWritten) -> None:
        event.alongside.append(lambda: _killer(stop, killed))

    listed = hooks.REGISTRY.subscribers(hooks.VersionWritten)
    monkeypatch.setitem(
        hooks.REGISTRY._subscribers,  # a fault injected for this test only
        hooks.VersionWritten,
        [*listed, subscriber],
    )
    datasets = spark_database.settings.data_dir / "datasets"
    before = _files(datasets)
    source = write_csv(tmp_path / "people.csv", people_rows(200))
    try:
        with pytest.raises(Unavailable) as refused, acting(spark_database, liaison) as ctx:
            lake.ingest(ctx, code, FileSource(source))
    finally:
        stop.set()
    assert killed
    assert "Spark" in refused.value.message.en and "SHUZHI_SPARK_MASTER" in refused.value.message.zh
    assert _files(datasets) == before  # neither data, manifest nor rejects are left
    with acting(spark_database, seeded.actor(Role.AUDITOR)) as ctx:
        assert audit.view_audit(ctx, action="lake.ingest_failed").total == 1
        assert audit.view_audit(ctx, action="lake.version_ingested").total == 0
    monkeypatch.undo()
    with acting(spark_database, liaison) as ctx:  # the next load, unhindered, succeeds
        again = lake.ingest(ctx, code, FileSource(source))
    assert again.version.number == 1 and again.version.status is VersionStatus.CURRENT
