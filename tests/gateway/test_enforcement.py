"""Enforcement against a hand-made grant (exact control): row filters, expiry, delivery,
exact paging in stored row order (duplicate and missing keys included), and key-index
lookups equal to engine lookups."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI

from shuzhi.context import SYSTEM
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.gateway.keyindex import SUFFIX
from shuzhi.lake import service as lake
from shuzhi.lake.query import Filter, Op
from shuzhi.lake.readers import FileSource
from shuzhi.lake.service.review import accept_drift
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing.grants import ColumnMask, DeliveryMode
from tests.conftest import acting
from tests.factories import seed_org
from tests.gateway.helpers import AUTH, TEST_OPTIONS, FakeGrants, calls, gateway, make_grant
from tests.lake.helpers import HEADER, people_rows, write_csv
from tests.sharing.helpers import shared_entry


def _loaded(database: Database, tmp_path: Path, rows: list[list[str]]) -> str:
    seed_org(database)
    code = shared_entry(database)
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p.csv", rows, HEADER)))
    return code


def _rows_with_duplicates() -> list[list[str]]:
    rows = people_rows(23)
    dup = rows[5][1]
    for i in (6, 7, 8, 15):  # five rows share one key, differing elsewhere
        rows[i][1] = dup
    rows[20][1] = ""  # no key: not addressable by lookup, still listed
    return rows


def test_pages_cover_every_row_exactly_once(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    rows = _rows_with_duplicates()
    code = _loaded(database, tmp_path, rows)
    grants = FakeGrants(make_grant(code))
    # Pages follow the stored row order, so rows sharing a key, and a row without one, are
    # each listed exactly once (a blank key is read as null).
    expected = [(r[0], r[1] or None, r[4]) for r in rows]
    for size in (1, 2, 3, 7, 100):
        with gateway(app, grants=grants) as client:
            seen, cursor = [], None
            while True:
                params = {"limit": size, **({"cursor": cursor} if cursor else {})}
                page = client.get(f"/api/v1/share/{code}/records", headers=AUTH, params=params)
                assert page.status_code == 200, page.text
                seen += [(r["姓名"], r["公民身份号码"], r["年龄"]) for r in page.json()["items"]]
                cursor = page.json()["next"]
                if cursor is None:
                    break
        assert seen == expected, size


def test_row_filter_binds_every_endpoint(app: FastAPI, database: Database, tmp_path: Path) -> None:
    rows = people_rows(20)
    code = _loaded(database, tmp_path, rows)
    grant = make_grant(code, row_filter=(Filter("年龄", Op.LT, "30"),))
    young = [r for r in rows if r[4] < "30"]
    old = [r for r in rows if r[4] >= "30"]
    for use_index in (True, False):
        options = replace(TEST_OPTIONS, key_index=use_index)
        with gateway(app, options, FakeGrants(grant)) as client:
            base = f"/api/v1/share/{code}"
            listed = client.get(f"{base}/records", headers=AUTH, params={"limit": 1000}).json()
            assert sorted(r["公民身份号码"] for r in listed["items"]) == sorted(r[1] for r in young)
            assert client.get(f"{base}/records/{young[0][1]}", headers=AUTH).status_code == 200
            # A row outside the filter is "not found", exactly like a key that does not exist.
            hidden = client.get(f"{base}/records/{old[0][1]}", headers=AUTH)
            assert hidden.status_code == 404
            # The caller's own conditions cannot widen the grant.
            widened = client.get(f"{base}/records", headers=AUTH, params={"f": "年龄:ge:30"})
            assert widened.json()["items"] == []
            export = client.get(f"{base}/export", headers=AUTH)
            assert export.text.count("\n") == len(young) + 1


def test_key_index_answers_like_the_engine(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    rows = _rows_with_duplicates()
    code = _loaded(database, tmp_path, rows)
    grants = FakeGrants(make_grant(code))
    keys = [r[1] for r in rows[:12]] + ["330106000000000000", "x' OR 1=1"]
    answers = []
    for use_index in (True, False):
        options = replace(TEST_OPTIONS, key_index=use_index)
        with gateway(app, options, grants) as client:
            answers.append(
                [
                    (r.status_code, r.json() if r.status_code == 200 else None)
                    for r in (
                        client.get(f"/api/v1/share/{code}/records/{k}", headers=AUTH) for k in keys
                    )
                ]
            )
    assert answers[0] == answers[1]
    assert any((database.settings.data_dir / "gateway" / "keys").glob(f"*{SUFFIX}"))


def test_a_new_version_s_key_index_replaces_the_earlier_one(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    code = _loaded(database, tmp_path, people_rows(10))
    grants = FakeGrants(make_grant(code))
    index_dir = database.settings.data_dir / "gateway" / "keys"
    first_key, new_key = people_rows(10)[3][1], people_rows(15)[12][1]
    with gateway(app, grants=grants) as client:
        assert client.get(f"/api/v1/share/{code}/records/{first_key}", headers=AUTH).is_success
    first = sorted(index_dir.glob(f"*{SUFFIX}"))
    assert len(first) == 1

    with acting(database, SYSTEM) as ctx:  # a second load of the same entry
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p2.csv", people_rows(15), HEADER)))
    with gateway(app, grants=grants) as client:
        assert client.get(f"/api/v1/share/{code}/records/{new_key}", headers=AUTH).is_success
    second = sorted(index_dir.glob(f"*{SUFFIX}"))
    assert len(second) == 1 and second != first
    assert second[0].name.split("-")[0] == first[0].name.split("-")[0]  # same dataset family


def test_expiry_delivery_and_unknown_entries(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    code = _loaded(database, tmp_path, people_rows(5))
    expired = make_grant(code, expires_at=utcnow() - timedelta(seconds=1))
    bulk_only = make_grant(code, delivery=frozenset({DeliveryMode.BULK}))
    with gateway(app, grants=FakeGrants(expired)) as client:
        assert client.get(f"/api/v1/share/{code}/records", headers=AUTH).status_code == 403
    with gateway(app, grants=FakeGrants(bulk_only)) as client:
        assert client.get(f"/api/v1/share/{code}/records", headers=AUTH).status_code == 403
        assert client.get(f"/api/v1/share/{code}/export", headers=AUTH).status_code == 200
        assert client.get("/api/v1/share/NO-SUCH/records", headers=AUTH).status_code == 404
        assert client.get("/api/v1/share/OTHER/records", headers=AUTH).status_code == 403


@pytest.mark.parametrize(
    "condition",
    [Filter("已删除的列", Op.EQ, "x"), Filter("年龄", Op.LT, 30)],
    ids=["column gone", "value of another type"],  # 年龄 is text in this version
)
def test_unappliable_row_filter_fails_closed(
    app: FastAPI, database: Database, tmp_path: Path, condition: Filter
) -> None:
    code = _loaded(database, tmp_path, people_rows(5))
    grant = make_grant(code, row_filter=(condition,))
    key = people_rows(5)[0][1]
    with gateway(app, grants=FakeGrants(grant)) as client:
        response = client.get(f"/api/v1/share/{code}/records", headers=AUTH)
        assert response.status_code == 409
        assert condition.column not in response.text
        assert client.get(f"/api/v1/share/{code}/records/{key}", headers=AUTH).status_code == 409
        assert client.get(f"/api/v1/share/{code}/export", headers=AUTH).status_code == 409
    assert calls(database)[0].rows == 0


def _typed_entry(database: Database, tmp_path: Path) -> str:
    """An entry loaded from Parquet that keeps its types: row i is 年龄 ``20+i.1`` (a
    decimal) and 出生日期 ``2000-01-(1+i)`` at midnight UTC (a time-zone-aware timestamp)."""
    seed_org(database)
    code = shared_entry(database)
    people = people_rows(20)
    table = pa.table(
        {
            "姓名": [r[0] for r in people],
            "公民身份号码": [r[1] for r in people],
            "联系电话": [r[2] for r in people],
            "出生日期": pa.array(
                [dt.datetime(2000, 1, 1 + i, tzinfo=dt.UTC) for i in range(20)],
                pa.timestamp("us", tz="UTC"),
            ),
            "年龄": pa.array(
                [decimal.Decimal(f"{20 + i}.1") for i in range(20)], pa.decimal128(5, 1)
            ),
        }
    )
    pq.write_table(table, tmp_path / "typed.parquet")
    with acting(database, SYSTEM) as ctx:
        loaded = lake.ingest(ctx, code, FileSource(tmp_path / "typed.parquet"))
        if loaded.version.status != "current":  # the types differ from the entry's: accepted
            accept_drift(ctx, code, loaded.version.number, "按类型加载")
    return code


MIDNIGHT_5TH = dt.datetime(2000, 1, 5)  # naive, as a decision stores "2000-01-05T00:00:00"
# (row filter, the row it leaves out, a row it keeps): row i holds 年龄 20+i.1, 出生日期 the
# (1+i)th of January 2000 at midnight UTC.
TYPED_CONDITIONS = [
    (Filter("年龄", Op.LT, 30.1), 10, 9),  # 30.1 is not below 30.1; 29.1 is
    (Filter("年龄", Op.NE, 25.1), 5, 4),
    (Filter("年龄", Op.NOT_IN, (25.1, 31.1)), 5, 4),
    (Filter("出生日期", Op.NE, MIDNIGHT_5TH), 4, 3),
    (Filter("出生日期", Op.NOT_IN, (MIDNIGHT_5TH,)), 4, 3),
    (Filter("出生日期", Op.LT, MIDNIGHT_5TH), 4, 3),
]


@pytest.mark.parametrize("use_index", [True, False], ids=["key index", "engine"])
def test_keyed_lookups_keep_to_a_row_filter_on_typed_columns(
    app: FastAPI, database: Database, tmp_path: Path, use_index: bool
) -> None:
    code = _typed_entry(database, tmp_path)
    keys = [r[1] for r in people_rows(20)]
    base = f"/api/v1/share/{code}"
    options = replace(TEST_OPTIONS, key_index=use_index)
    for condition, outside, inside in TYPED_CONDITIONS:
        grant = make_grant(
            code,
            columns=("姓名", "公民身份号码", "年龄", "出生日期"),
            masking={**make_grant(code).masking, "出生日期": ColumnMask("none", MaskLevel.NONE)},
            row_filter=(condition,),
        )
        with gateway(app, options, FakeGrants(grant)) as client:
            hidden = client.get(f"{base}/records/{keys[outside]}", headers=AUTH)
            assert hidden.status_code == 404, condition
            assert client.get(f"{base}/records/{keys[inside]}", headers=AUTH).is_success
            # A lookup serves exactly the rows a page lists.
            page = client.get(f"{base}/records", headers=AUTH, params={"limit": 100}).json()
            listed = {r["公民身份号码"] for r in page["items"]}
            served = {k for k in keys if client.get(f"{base}/records/{k}", headers=AUTH).is_success}
            assert keys[outside] not in listed and served == listed, condition
    indexes = (database.settings.data_dir / "gateway" / "keys").glob(f"*{SUFFIX}")
    assert any(indexes) == use_index
