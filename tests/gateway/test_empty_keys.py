"""Rows whose lookup key is empty: paging serves them like bulk export does (stored row
order, not key order), keyed lookups cannot reach them, and the grant page says how many."""

from __future__ import annotations

import csv
import io

from fastapi import FastAPI

from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.sharing import service as sharing
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.gateway.helpers import gateway
from tests.lake.helpers import people_rows, write_csv
from tests.scratch import scratch_dir
from tests.sharing.helpers import application, approve, key, request, shared_entry
from tests.web.helpers import login

ROWS, EMPTY = 150, (0, 41, 149)  # the first and the last row among them


def _shared_with_empty_keys(database: Database) -> tuple[str, str, int]:
    seeded = seed_org(database)
    code = shared_entry(database)
    rows = people_rows(ROWS)
    for i in EMPTY:
        rows[i][1] = ""  # no resident ID: the lookup key
    path = write_csv(scratch_dir("shuzhi-keys-") / "people.csv", rows)
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(path))
    app = application(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    token = key(database, app, liaison)
    asked = request(
        database,
        liaison,
        code,
        app,
        columns=["姓名", "公民身份号码", "年龄"],
        delivery=["api", "bulk"],
    )
    out = approve(database, seeded, asked.id)
    assert out.grant_id is not None
    with acting(database, SYSTEM) as ctx:
        assert sharing.get_grant(ctx, out.grant_id).key_column == "公民身份号码"
    return code, token, out.grant_id


def test_paging_serves_rows_without_a_key_like_the_export(app: FastAPI, database: Database) -> None:
    code, token, _ = _shared_with_empty_keys(database)
    auth = {"Authorization": f"Bearer {token}"}
    with gateway(app) as client:
        paged: list[dict[str, object]] = []
        cursor = None
        while True:
            params = {"limit": 40, **({"cursor": cursor} if cursor else {})}
            reply = client.get(f"/api/v1/share/{code}/records", headers=auth, params=params)
            assert reply.status_code == 200
            paged.extend(reply.json()["items"])
            cursor = reply.json()["next"]
            if cursor is None:
                break
        export = client.get(f"/api/v1/share/{code}/export", headers=auth)
        exported = list(csv.DictReader(io.StringIO(export.text)))
        assert len(paged) == len(exported) == ROWS
        keyless = [i for i, r in enumerate(paged) if not r["公民身份号码"]]
        assert keyless == list(EMPTY)  # in stored order, in place
        assert [r["年龄"] for r in paged] == [r["年龄"] for r in exported]
        # A lookup cannot reach them: an empty key is simply not found.
        assert client.get(f"/api/v1/share/{code}/records/%20", headers=auth).status_code in (
            404,
            422,
        )


def test_the_grant_page_says_how_many_rows_have_no_key(app: FastAPI, database: Database) -> None:
    _, _, grant_id = _shared_with_empty_keys(database)
    with acting(database, SYSTEM) as ctx:
        assert sharing.rows_without_key(ctx, grant_id) == len(EMPTY)
    with gateway(app) as client:
        login(client, "a.liaison", PASSWORD)
        page = client.get(f"/sharing/grants/{grant_id}").text
        assert "3 行没有查询主键" in page
        client.get(f"/lang/en?next=/sharing/grants/{grant_id}")
        page = client.get(f"/sharing/grants/{grant_id}").text
        assert "3 rows have no lookup key" in page
