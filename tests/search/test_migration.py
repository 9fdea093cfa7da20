"""search_0002 converts indexed documents in place, both ways, without changing results."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from alembic import command
from sqlalchemy import text

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.db.migrate import alembic_config, is_current
from shuzhi.search.backends import kind_token
from shuzhi.search.plan import Plan
from shuzhi.search.service import SearchDoc, SearchResult, index_documents, search
from tests.conftest import acting

DOCS = [
    SearchDoc("catalog_entry", "GAJ-001", "常住人口基本信息", "公民身份号码 330182", {"u": "G"}),
    SearchDoc("catalog_entry", "RSJ-001", "社保参保缴费记录", "", {"u": "R"}),
    SearchDoc("open_data", "GAJ-001", "人口开放数据", "信息 330182", {}),
]
QUERIES = ["人口", "信息", "330182", "记录", ""]


def _results(database: Database) -> list[tuple[str, str, SearchResult]]:
    with acting(database, SYSTEM) as ctx:
        return [
            (kind, q, search(ctx, kind, q, facet_fields=["u"], viewer_sees_all=True))
            for kind in ("catalog_entry", "open_data")
            for q in QUERIES
        ]


def _complement_first(self: Plan, decision: str, costs: Mapping[str, float]) -> str:
    return "complement" if "complement" in costs else min(costs, key=lambda k: costs[k])


def test_search_0002_round_trip_keeps_results(database: Database) -> None:
    with acting(database, SYSTEM) as ctx:
        index_documents(ctx, DOCS)
    before = _results(database)
    config = alembic_config(database)
    command.downgrade(config, "search_0001")
    assert not is_current(database)
    if database.capabilities.name == "sqlite":
        with database.engine.connect() as conn:
            bodies = [b for (b,) in conn.execute(text("SELECT body FROM search_fts"))]
        assert not any("\ue000" in body for body in bodies)
    command.upgrade(config, "heads")
    assert is_current(database)
    assert _results(database) == before
    with pytest.MonkeyPatch.context() as patched:  # counts through the migrated kind tokens
        patched.setattr(Plan, "choose", _complement_first)
        assert _results(database) == before
    with acting(database, SYSTEM) as ctx:
        if database.capabilities.name == "sqlite":
            token = f'"{kind_token("open_data")}"'
            found = ctx.db.execute(
                text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :t"), {"t": token}
            )
            assert found.scalar() == 1
