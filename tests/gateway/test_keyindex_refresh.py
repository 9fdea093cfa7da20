"""Key indexes and new versions: a load indexes the new version before it becomes current,
and a lookup whose index is missing answers 503 with Retry-After, never by scanning."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.gateway.keyindex import INDEX_DIR, SUFFIX
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from tests.conftest import acting
from tests.factories import seed_org
from tests.gateway.helpers import AUTH, TEST_OPTIONS, FakeGrants, gateway, make_grant, share
from tests.lake.helpers import HEADER, people_rows, write_csv
from tests.sharing.helpers import shared_entry


def _indexes(database: Database) -> list[Path]:
    return sorted((database.settings.data_dir / INDEX_DIR).glob(f"*{SUFFIX}"))


def test_a_lookup_without_its_index_answers_503_until_it_is_built(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    seed_org(database)
    code = shared_entry(database)
    rows = people_rows(12)
    with acting(database, SYSTEM) as ctx:  # no grant offers lookups yet: nothing indexed
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p.csv", rows, HEADER)))
    assert _indexes(database) == []
    grants = FakeGrants(make_grant(code))
    url = f"/api/v1/share/{code}/records/{rows[4][1]}"
    with gateway(app, replace(TEST_OPTIONS, key_index=False), grants) as client:
        expected = client.get(url, headers=AUTH)
    assert expected.status_code == 200

    background = replace(TEST_OPTIONS, key_index_background=True)
    with gateway(app, background, grants) as client:
        first = client.get(url, headers=AUTH)
        assert first.status_code == 503, first.text
        assert int(first.headers["Retry-After"]) > 0
        problem = first.json()
        assert "键索引" in str(problem) and "key index" in str(problem)
        deadline = time.monotonic() + 60  # generous: proves "does not hang"
        while not _indexes(database) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _indexes(database)
        later = client.get(url, headers=AUTH)
    assert later.status_code == 200
    assert later.json() == expected.json()


def test_a_load_indexes_the_new_version_before_it_is_served(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    shared = share(database, rows=10)  # loaded before the grant existed: not indexed
    old_key = people_rows(10)[3][1]
    with gateway(app) as client:  # builds the index (synchronously, in tests)
        url = f"/api/v1/share/{shared.code}/records/{old_key}"
        assert client.get(url, headers=shared.auth).status_code == 200
    first = _indexes(database)
    assert len(first) == 1
    background = replace(TEST_OPTIONS, key_index_background=True)

    with acting(database, SYSTEM) as ctx:  # a new version: indexed within its load
        source = FileSource(write_csv(tmp_path / "p2.csv", people_rows(15), HEADER))
        lake.ingest(ctx, shared.code, source)
    both = _indexes(database)
    assert len(both) == 2 and first[0] in both  # the earlier one serves until the switch
    new_key = people_rows(15)[12][1]
    with gateway(app, background) as client:  # never a 503: the index was ready
        answer = client.get(f"/api/v1/share/{shared.code}/records/{new_key}", headers=shared.auth)
        assert answer.status_code == 200, answer.text
    assert _indexes(database) == [p for p in both if p != first[0]]


def test_a_build_removes_what_a_killed_build_left(tmp_path: Path) -> None:
    from shuzhi.gateway.keyindex import ensure, index_path
    from shuzhi.lake.writer import write_version

    source = write_csv(tmp_path / "p.csv", people_rows(6), HEADER)
    version = write_version(FileSource(source), tmp_path / "datasets" / "A" / "1").version
    target = index_path(tmp_path, version, "公民身份号码")
    target.parent.mkdir(parents=True)
    left = target.with_name(f".{target.name}.99.1.tmp")
    spill = target.with_name(f".{target.name}.99.1.spill")
    left.write_bytes(b"half")
    spill.mkdir()
    assert ensure(tmp_path, version, "公民身份号码") == target
    assert target.exists() and not left.exists() and not spill.exists()
