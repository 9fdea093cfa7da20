"""Bulk CSV exports never carry a live formula; numbers are written as numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi import FastAPI

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.security.cells import needs_guard, unguard
from tests.conftest import acting
from tests.factories import seed_org
from tests.gateway.helpers import AUTH, FakeGrants, gateway, make_grant
from tests.lake.helpers import HEADER, people_rows, write_csv
from tests.sharing.helpers import shared_entry

MALICIOUS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(1)", "\t=1"]


def test_export_csv_guards_text_and_keeps_numbers(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    rows = people_rows(len(MALICIOUS))
    for row, value in zip(rows, MALICIOUS, strict=True):
        row[0] = value  # a name someone typed into the source system
        row[4] = "-5"  # a numeric column (the lake keeps it as text)
    seed_org(database)
    code = shared_entry(database)
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p.csv", rows, HEADER)))
    with gateway(app, grants=FakeGrants(make_grant(code))) as client:
        response = client.get(f"/api/v1/share/{code}/export", headers=AUTH)
        assert response.status_code == 200, response.text
    got = list(csv.reader(io.StringIO(response.text)))
    assert got[0] == ["姓名", "公民身份号码", "年龄"]
    names = sorted(r[0] for r in got[1:])
    assert names == sorted("'" + v for v in MALICIOUS)
    assert not any(needs_guard(cell) for r in got for cell in r)
    assert sorted(unguard(n) for n in names) == sorted(MALICIOUS)
    assert {r[2] for r in got[1:]} == {"-5"}
