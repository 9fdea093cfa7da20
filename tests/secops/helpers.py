"""Security operations test data: replayed call traces written straight into the call log
(exactly what the meter writes), and a clock fixed inside or outside working hours."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import insert

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.gateway.models import ApiCall
from shuzhi.secops import service
from shuzhi.secops.schemas import EvaluationOut
from tests.conftest import acting

# 10:00 in Beijing (working hours) and 03:00 in Beijing (off hours).
WORK_NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
NIGHT_NOW = datetime(2026, 3, 9, 19, 0, tzinfo=UTC)

_ids = count(1)


def call(at: datetime, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "call_id": f"t{next(_ids):030d}",
        "at": at,
        "day": at.date(),
        "endpoint": "records",
        "resource_code": "R-B-1",
        "consumer_unit_id": None,
        "provider_unit_id": None,
        "application_id": 1,
        "application_code": "app-1",
        "key_id": 1,
        "grant_id": 1,
        "filter": "[]",
        "rows": 1,
        "latency_us": 1000,
        "status": 200,
        "outcome": "ok",
        "client": "10.0.0.1",
    }
    row.update(over)
    if row["status"] >= 400 and "outcome" not in over:
        row["outcome"] = "forbidden"
    return row


def spread(n: int, start: datetime, end: datetime, **over: Any) -> list[dict[str, Any]]:
    """``n`` calls evenly spread over [start, end)."""
    step = (end - start) / max(1, n)
    return [call(start + step * i, **over) for i in range(n)]


def lookups(
    n: int, start: datetime, end: datetime, keys: Iterable[str], **over: Any
) -> list[dict[str, Any]]:
    keys = list(keys)
    step = (end - start) / max(1, n)
    return [
        call(
            start + step * i,
            endpoint="lookup",
            filter=f'[["公民身份号码","eq","{keys[i % len(keys)]}"]]',
            **over,
        )
        for i in range(n)
    ]


def replay(database: Database, rows: list[dict[str, Any]]) -> None:
    with database.sessions.begin() as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(ApiCall), rows[start : start + 2000])


def evaluate(database: Database, now: datetime) -> EvaluationOut:
    with acting(database, SYSTEM) as ctx:
        return service.evaluate(ctx, now)


def rules_of(result: EvaluationOut) -> set[tuple[str, str]]:
    return {(a.rule, a.subject) for a in result.new}


HOUR = timedelta(hours=1)
