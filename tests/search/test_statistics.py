"""A bulk write to the search index refreshes the planner's statistics in its own unit of
work (PostgreSQL): without them a search right after a catalogue load was planned for empty
tables and took seconds."""

from __future__ import annotations

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
