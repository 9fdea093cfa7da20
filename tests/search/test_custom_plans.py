"""Every search on PostgreSQL is planned for its own words and filters.

The driver prepares a statement on the server the fifth time a connection runs it, and from
then on PostgreSQL may run it on one plan made for any parameters. A search's best plan
depends on how many documents its words match: at 100,000 entries, once the autovacuum
daemon had analysed the tables, a faceted keyword search on such a plan took about 600 ms
instead of 26 (``benchmarks.search_bench``, "postgresql, vacuumed").
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.search.service import SearchDoc, index_documents, search
from tests.conftest import acting

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("settings", ["postgresql"], indirect=True),
]

KIND = "catalog_entry"
WORDS = ("人口", "信息", "分局", "登记", "人口 信息")


def test_repeated_searches_never_run_on_a_generic_plan(database: Database) -> None:
    docs = [
        SearchDoc(
            KIND,
            f"E-{n:05d}",
            f"人口信息{n}" if n % 3 else f"企业登记{n}",
            f"区公安分局 第{n}项",
            {"unit": f"U{n % 7}", "share_type": "conditional" if n % 2 else "open"},
        )
        for n in range(600)
    ]
    with acting(database, SYSTEM) as ctx:
        index_documents(ctx, docs)
    with acting(database, SYSTEM) as ctx:  # one connection: its prepared statements
        for _ in range(4):
            for word in WORDS:
                search(
                    ctx,
                    KIND,
                    word,
                    filters={"share_type": ["conditional"]},
                    facet_fields=("unit", "share_type"),
                    viewer_unit_id=3,
                )
        plans = [
            p
            for p in ctx.db.execute(
                text("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
            )
            if p.statement.lstrip().startswith(("SELECT", "WITH"))  # the searches' reads
        ]
    # The searches' statements were prepared and run many times...
    assert max(p.custom_plans + p.generic_plans for p in plans) >= 10
    # ...each time on a plan made for its parameters.
    assert [(p.statement, p.generic_plans) for p in plans if p.generic_plans] == []
