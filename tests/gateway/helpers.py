"""Gateway test data: a loaded entry of department B shared with an application of A, and
clients whose gateway builds key indexes synchronously (so results never depend on timing)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuzhi.app import create_app
from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import NotFound
from shuzhi.gateway.models import ApiCall
from shuzhi.gateway.runtime import GatewayOptions, GatewayRuntime, GrantSource
from shuzhi.lake.manifest import ColumnSchema, RejectSummary, Version
from shuzhi.lake.query import Filter
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing.grants import (
    ApplicationKeyRejected,
    AppPrincipal,
    CallGrant,
    ColumnMask,
    DeliveryMode,
    NoActiveGrant,
)
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.lake.helpers import people_rows
from tests.sharing.helpers import application, approve, key, request, shared_entry

COLUMNS = ["姓名", "公民身份号码", "联系电话", "出生日期", "年龄"]
TEST_OPTIONS = GatewayOptions(key_index_background=False, flush_seconds=0.05)


def ids(n: int) -> list[str]:
    """The resident IDs of ``people_rows(n)`` in order."""
    return [r[1] for r in people_rows(n)]


def phones(n: int) -> list[str]:
    return [r[2] for r in people_rows(n)]


@dataclass
class Shared:
    seeded: Org
    code: str
    app: str
    token: str
    request_id: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def share(
    database: Database,
    rows: int = 30,
    columns: list[str] | None = None,
    request_over: dict[str, Any] | None = None,
    **decision: Any,
) -> Shared:
    """Entry of B loaded with ``rows`` people; A's application holds an approved grant."""
    seeded = seed_org(database)
    code = shared_entry(database, loaded=True, rows=rows)
    app = application(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    token = key(database, app, liaison)
    req = request(
        database,
        liaison,
        code,
        app,
        columns=columns or ["姓名", "公民身份号码", "年龄"],
        **(request_over or {}),
    )
    approve(database, seeded, req.id, **decision)
    return Shared(seeded, code, app, token, req.id)


@contextmanager
def gateway(
    app: FastAPI, options: GatewayOptions = TEST_OPTIONS, grants: GrantSource | None = None
) -> Iterator[TestClient]:
    """A client whose app runs the gateway with ``options`` (shut down, i.e. flushed, on exit)."""
    database: Database = app.state.database
    app.state.gateway = GatewayRuntime(database, app.state.query_engine, options, grants)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def fresh_app(database: Database) -> FastAPI:
    return create_app(database.settings, database=database, migrate=False)


def calls(database: Database, **where: Any) -> list[ApiCall]:
    with acting(database, SYSTEM) as ctx:
        query = select(ApiCall).filter_by(**where).order_by(ApiCall.id)
        return list(ctx.db.scalars(query))


def call_count(database: Database) -> int:
    with acting(database, SYSTEM) as ctx:
        return int(ctx.db.scalar(select(func.count()).select_from(ApiCall)) or 0)


def sealed(database: Database) -> tuple[int, int]:
    """Calls served and refused as the audit entries sealing the call rows count them."""
    with acting(database, SYSTEM) as ctx:
        page = audit.view_audit(ctx, action="gateway.calls_sealed", limit=1000)
    assert page.total == len(page.items)
    return (
        sum(int(e.details["served"]) for e in page.items),
        sum(int(e.details["refused"]) for e in page.items),
    )


# ---------------------------------------------------------------- a hand-made grant source


def make_grant(code: str, **over: Any) -> CallGrant:
    base = CallGrant(
        grant_id=7,
        application_id=1,
        consumer_unit_id=2,
        provider_unit_id=3,
        entry_id=4,
        resource_code=code,
        columns=("姓名", "公民身份号码", "年龄"),
        row_filter=(),
        masking={
            "姓名": ColumnMask("person_name", MaskLevel.NONE),
            "公民身份号码": ColumnMask("resident_id", MaskLevel.NONE),
            "年龄": ColumnMask("none", MaskLevel.NONE),
        },
        key_column="公民身份号码",
        delivery=frozenset({DeliveryMode.API, DeliveryMode.BULK}),
        purpose="测试",
        expires_at=utcnow() + timedelta(days=1),
        rate_limit_per_minute=100_000,
    )
    return replace(base, **over)


class FakeGrants:
    """One token, one grant: for enforcement tests that need exact control of the grant."""

    TOKEN = "test-token"

    def __init__(self, grant: CallGrant) -> None:
        self.grant_value = grant
        self.revision_value = 0
        self.principal = AppPrincipal(
            application_id=grant.application_id,
            application_code="FAKE-APP",
            unit_id=grant.consumer_unit_id,
            key_id=11,
        )

    def authenticate(self, session: Session, token: str, now: datetime) -> AppPrincipal:
        if token != self.TOKEN:
            raise ApplicationKeyRejected("unknown", "应用密钥无效。", "Invalid key.")
        return self.principal

    def grant(
        self, session: Session, principal: AppPrincipal, resource_code: str, now: datetime
    ) -> CallGrant:
        if resource_code != self.grant_value.resource_code:
            if resource_code.startswith("NO-"):
                raise NotFound("无此目录。", "No such entry.")
            raise NoActiveGrant("none", "无授权。", "No grant.")
        return self.grant_value

    def revision(self, session: Session) -> object:
        return self.revision_value


AUTH = {"Authorization": f"Bearer {FakeGrants.TOKEN}"}
_ = Filter  # re-exported for tests building row filters


_versions = itertools.count()


def parquet_version(root: Path, table: pa.Table) -> Version:
    """``table`` written as a lake version's Parquet file under ``root``, outside any catalogue
    (its columns as the file stores them)."""
    directory = root / "datasets" / "T" / f"{next(_versions)}"
    directory.mkdir(parents=True)
    pq.write_table(table, directory / "v.parquet")
    schema = pq.read_schema(directory / "v.parquet")
    return Version(
        directory=directory,
        version_id="v000001-000000000000",
        sequence=1,
        created_at="2026-01-01T00:00:00Z",
        data_file="v.parquet",
        data_file_sha256=f"{next(_versions):064d}",
        data_bytes=(directory / "v.parquet").stat().st_size,
        row_count=table.num_rows,
        columns=tuple(ColumnSchema(f.name, str(f.type), f.name) for f in schema),
        content_hash="",
        source={},
        rejects=RejectSummary(),
        timings={},
    )
