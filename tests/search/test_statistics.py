"""A bulk write to the search index refreshes the planner's statistics in its own unit of
work (PostgreSQL): without them a search right after a catalogue load was planned for empty
tables and took seconds."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from shuzhi.context import SYSTEM, Ctx
from shuzhi.db.engine import Database
from shuzhi.search import store
from shuzhi.search.service import SearchDoc, index_documents, search
from tests.conftest import acting

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("settings", ["postgresql"], indirect=True),
]

KIND = "catalog_entry"
# Far beyond what a bulk write of a few hundred documents takes here (about a second).
WAIT_SECONDS = 30


def _docs(start: int, count: int) -> list[SearchDoc]:
    return [
        SearchDoc(KIND, f"E-{n:05d}", f"人口信息{n}", f"区公安分局 第{n}项", {"unit": f"U{n % 7}"})
        for n in range(start, start + count)
    ]


def _estimated_rows(ctx: Ctx) -> float:
    """What the planner believes ``search_doc`` holds (-1: never analysed)."""
    found = ctx.db.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'search_doc'"))
    return float(found.scalar_one())


def test_a_bulk_write_is_searched_with_statistics_of_its_size(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        index_documents(ctx, _docs(0, store.ANALYZE_FROM - 1))
        # Below the threshold the statistics are left to the database's schedule.
        assert _estimated_rows(ctx) < store.ANALYZE_FROM - 1
        index_documents(ctx, _docs(store.ANALYZE_FROM - 1, 1))
        # Analysed inside the transaction: its own rows are counted before it commits.
        assert _estimated_rows(ctx) == store.ANALYZE_FROM
        index_documents(ctx, _docs(store.ANALYZE_FROM, store.ANALYZE_FROM - 1))
        assert _estimated_rows(ctx) == store.ANALYZE_FROM  # next at twice the count
        index_documents(ctx, _docs(2 * store.ANALYZE_FROM - 1, 1))
        assert _estimated_rows(ctx) == 2 * store.ANALYZE_FROM
        found = search(ctx, KIND, "人口", viewer_sees_all=True, limit=5)
    assert found.total == 2 * store.ANALYZE_FROM


def test_each_unit_of_work_counts_its_own_writes(database: Database) -> None:
    for start in range(0, 2 * store.ANALYZE_FROM, store.ANALYZE_FROM // 2):
        with acting(database, SYSTEM) as ctx:
            index_documents(ctx, _docs(start, store.ANALYZE_FROM // 2))
            assert _estimated_rows(ctx) < start + store.ANALYZE_FROM // 2


def test_a_refresh_another_transaction_holds_is_skipped_not_waited_for(
    database: Database,
) -> None:
    """Two bulk writes at once: the second does not wait for the first's analysis (the
    wait could close a cycle with the first writer's row locks); both are stored."""
    other = [
        SearchDoc("dataset", f"D-{n:05d}", f"企业登记{n}", "区市场监管局", {"unit": f"V{n % 5}"})
        for n in range(store.ANALYZE_FROM)
    ]
    outcome: list[BaseException | None] = []

    def second_writer() -> None:
        try:
            with acting(database, SYSTEM) as second:
                index_documents(second, other)
            outcome.append(None)
        except BaseException as exc:  # reported below
            outcome.append(exc)

    with acting(database, SYSTEM) as first:
        index_documents(first, _docs(0, store.ANALYZE_FROM))
        assert _estimated_rows(first) == store.ANALYZE_FROM  # analysed: its lock is held
        writer = threading.Thread(target=second_writer)
        writer.start()
        writer.join(WAIT_SECONDS)  # a writer waiting for the lock waits until this commits
        finished_alongside = not writer.is_alive()
    writer.join()
    assert finished_alongside, f"the second writer waited for the first's lock ({WAIT_SECONDS} s)"
    assert outcome == [None]
    with acting(database, SYSTEM) as ctx:
        assert search(ctx, KIND, "人口", viewer_sees_all=True).total == store.ANALYZE_FROM
        assert search(ctx, "dataset", "企业", viewer_sees_all=True).total == store.ANALYZE_FROM
