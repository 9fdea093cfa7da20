"""Key indexes and new versions: a load indexes the new version before it becomes current,
and a lookup whose index is missing answers 503 with Retry-After, never by scanning."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

from fastapi import FastAPI

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.gateway.indexing import BUILD_NICENESS
from shuzhi.gateway.keyindex import INDEX_DIR, SUFFIX
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.lake.worker import CHILD_NICENESS
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

    # No wait: the answer while the index is being built (a small one is there within the
    # second a lookup waits by default).
    background = replace(TEST_OPTIONS, key_index_background=True, key_index_wait_seconds=0)
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
    from shuzhi.gateway.keybuild import ensure
    from shuzhi.gateway.keyindex import index_path
    from shuzhi.lake.query import DuckDBEngine
    from shuzhi.lake.writer import write_version

    source = write_csv(tmp_path / "p.csv", people_rows(6), HEADER)
    version = write_version(FileSource(source), tmp_path / "datasets" / "A" / "1").version
    target = index_path(tmp_path, version, "公民身份号码")
    target.parent.mkdir(parents=True)
    left = target.with_name(f".{target.name}.99.1.tmp")
    half = target.with_name(f".{target.name}.99.2.tmp")
    left.write_bytes(b"half")
    half.mkdir()
    (half / "part-00000.blk").write_bytes(b"half")
    engine = DuckDBEngine(tmp_path)
    try:
        assert ensure(engine, tmp_path, version, "公民身份号码") == target
    finally:
        engine.close()
    assert target.is_dir() and not left.exists() and not half.exists()


def test_lake_gc_removes_the_key_indexes_of_versions_that_are_gone(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    from shuzhi.gateway.keybuild import ensure
    from shuzhi.lake.manifest import current_version
    from shuzhi.lake.writer import write_version

    shared = share(database, rows=10)
    key = people_rows(10)[3][1]
    with gateway(app) as client:  # the served version's index
        url = f"/api/v1/share/{shared.code}/records/{key}"
        assert client.get(url, headers=shared.auth).status_code == 200
    served = _indexes(database)
    assert len(served) == 1
    data_dir = database.settings.data_dir
    directory = data_dir / "datasets" / shared.code
    live = current_version(directory)
    assert live is not None
    # A load killed after its version's index was built, before the version was registered.
    source = FileSource(write_csv(tmp_path / "p2.csv", people_rows(12), HEADER))
    orphan = write_version(source, directory).version
    ensure(app.state.query_engine, data_dir, orphan, "公民身份号码")
    keys = data_dir / INDEX_DIR
    former = keys / "0123456789abcdef01234567-v000001-x-abc.sqlite"  # a former format
    former.touch()
    assert len(_indexes(database)) == 2

    with acting(database, SYSTEM) as ctx:
        listed = lake.collect_lake_garbage(ctx)
    derived = sorted(i.path for i in listed.items if i.kind == "derived_file")
    orphan_index = next(p for p in _indexes(database) if p not in served)
    gone = (former, orphan_index, orphan_index.with_suffix(".lock"))
    assert derived == sorted(p.relative_to(data_dir).as_posix() for p in gone)
    assert former.exists() and orphan_index.exists()  # a dry run changes nothing

    with acting(database, SYSTEM) as ctx:
        lake.collect_lake_garbage(ctx, apply=True)
    assert _indexes(database) == served and not former.exists()
    assert not list(keys.glob(f"{orphan_index.stem}*"))  # its lock file too
    with gateway(app) as client:  # the served version still answers from its index
        assert client.get(url, headers=shared.auth).status_code == 200
    with acting(database, SYSTEM) as ctx:
        assert lake.collect_lake_garbage(ctx).items == []


def test_a_lookup_waits_briefly_for_a_small_index_being_built(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    seed_org(database)
    code = shared_entry(database)
    rows = people_rows(12)
    with acting(database, SYSTEM) as ctx:  # no grant offers lookups yet: nothing indexed
        lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p.csv", rows, HEADER)))
    assert _indexes(database) == []
    # Generous: proves the lookup waits for the background build instead of answering 503.
    waiting = replace(TEST_OPTIONS, key_index_background=True, key_index_wait_seconds=30)
    with gateway(app, waiting, FakeGrants(make_grant(code))) as client:
        answer = client.get(f"/api/v1/share/{code}/records/{rows[4][1]}", headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert len(_indexes(database)) == 1


def _build_priority(done: Connection) -> None:
    from shuzhi.gateway import indexing

    os.nice(5)  # where the lake's worker process starts
    indexing._yield_to_serving()
    first = os.nice(0)
    indexing._yield_to_serving()  # never lowered twice
    done.send((first, os.nice(0)))


def test_the_index_build_runs_below_the_load_and_far_below_serving() -> None:
    receive, send = multiprocessing.get_context("spawn").Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=_build_priority, args=(send,))
    child.start()
    assert receive.poll(60)
    assert receive.recv() == (BUILD_NICENESS, BUILD_NICENESS)
    child.join(60)
    assert BUILD_NICENESS > CHILD_NICENESS
