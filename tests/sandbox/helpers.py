"""Sandbox test data: a health dataset of department B and a population dataset of the
street office S (typed Parquet), sandbox grants to an application of department A."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.sandbox import service
from shuzhi.sandbox.schemas import QueryIn, QueryOut, SandboxRequestIn
from shuzhi.sharing.access import authenticate_application
from shuzhi.sharing.grants import AppPrincipal
from tests.catalog.helpers import item
from tests.conftest import acting
from tests.factories import Org
from tests.lake.helpers import published_entry, resident_id
from tests.scratch import Scratch
from tests.sharing.helpers import application, key

_n = count()
_dir = Scratch("shuzhi-sandbox-")

# Community → how many residents (南苑 is below k = 10: always suppressed).
COMMUNITIES = {"东苑": 40, "西苑": 25, "南苑": 3}
K = 10


def people(sizes: dict[str, int] = COMMUNITIES) -> list[dict[str, Any]]:
    """Residents per community (``sizes``: community → how many)."""
    rows: list[dict[str, Any]] = []
    n = 0
    for community, size in sizes.items():
        for i in range(size):
            n += 1
            rows.append(
                {
                    "身份证号": resident_id(n, birth=f"19{40 + n % 40:02d}0101"),
                    "社区": community,
                    "年龄": 60 + n % 35,
                    "慢病": "是" if i % 2 == 0 else "否",
                    "独居": "是" if i % 3 != 0 else "否",
                    "医疗费用": float(1000 + n * 13),
                    "诊断": f"诊断{n}",
                }
            )
    return rows


HEALTH = ["身份证号", "社区", "年龄", "慢病", "医疗费用", "诊断"]
POPULATION = ["身份证号", "独居"]


def _parquet(columns: list[str], rows: list[dict[str, Any]] | None = None) -> Path:
    rows = people() if rows is None else rows
    table = pa.table({c: [r[c] for r in rows] for c in columns})
    path = _dir / f"d{next(_n)}.parquet"
    pq.write_table(table, path)
    return path


def _entry(
    database: Database, unit: str, columns: list[str], rows: list[dict[str, Any]] | None = None
) -> str:
    code = published_entry(
        database, unit, items=[item(c) for c in columns], share_type="unconditional"
    )
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(_parquet(columns, rows)))
    return code


HEALTH_TERMS: dict[str, Any] = {
    "columns": {
        "身份证号": "join_key",
        "社区": "dimension",
        "年龄": "dimension",
        "慢病": "dimension",
        "医疗费用": "aggregate",
    },
    "extremes": [],
    "entity_column": "身份证号",
    "k": K,
}
POPULATION_TERMS: dict[str, Any] = {
    "columns": {"身份证号": "join_key", "独居": "dimension"},
    "entity_column": "身份证号",
    "k": K,
}


@dataclass
class Sandbox:
    database: Database
    seeded: Org
    health: str
    population: str
    app: str
    token: str

    @property
    def analyst(self) -> Actor:
        return self.seeded.actor(Role.DATA_LIAISON)

    def principal(self) -> AppPrincipal:
        from shuzhi.db.base import utcnow

        with acting(self.database, SYSTEM) as ctx:
            return authenticate_application(ctx.db, self.token, utcnow())

    def query(self, sql: str) -> QueryOut:
        principal = self.principal()
        actor = Actor(
            kind="api_key",
            id=principal.key_id,
            name=f"app:{principal.application_code}",
            role=Role.CONSUMER,
            unit_id=principal.unit_id,
        )
        with acting(self.database, actor) as ctx:
            return service.run_query(ctx, QueryIn(sql=sql), application=principal)

    def withheld(self, answer: QueryOut) -> int:
        """How many groups the answer left out for being under k: kept for the providers,
        never told to the analyst."""
        from shuzhi.sandbox.models import SandboxQuery

        assert answer.suppressed is None
        with acting(self.database, SYSTEM) as ctx:
            row = ctx.db.get(SandboxQuery, answer.id)
            assert row is not None
            return row.suppressed


def grant(database: Database, actor: Actor, code: str, app: str, terms: dict[str, Any]) -> int:
    data = SandboxRequestIn.model_validate(
        {
            "resource_code": code,
            "application_code": app,
            "purpose": "统计独居慢病老人分布",
            "legal_basis": "《政务数据共享条例》",
            "terms": terms,
        }
    )
    with acting(database, actor) as ctx:
        out = service.request_sandbox(ctx, data)
    assert out.grant_id is not None
    return out.grant_id


def sandbox(database: Database, seeded: Org, health_terms: dict[str, Any] | None = None) -> Sandbox:
    health = _entry(database, "B", HEALTH)
    population = _entry(database, "S", POPULATION)
    app = application(database, "A")
    token = key(database, app)
    analyst = seeded.actor(Role.DATA_LIAISON)
    grant(database, analyst, health, app, health_terms or HEALTH_TERMS)
    grant(database, analyst, population, app, POPULATION_TERMS)
    return Sandbox(database, seeded, health, population, app, token)
