"""The gateway end to end with real grants: request → approval → key → calls."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI

from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.gateway import keyindex
from shuzhi.gateway import service as gateway_service
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service as sharing
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.gateway.helpers import (
    TEST_OPTIONS,
    call_count,
    calls,
    fresh_app,
    gateway,
    ids,
    phones,
    sealed,
    share,
)
from tests.lake.helpers import people_rows, write_csv
from tests.sharing.helpers import application, approve, key, request, shared_entry
from tests.web.helpers import login


def test_lookup_returns_the_masked_granted_record(app: FastAPI, database: Database) -> None:
    shared = share(database)
    target = ids(30)[4]
    with gateway(app) as client:
        response = client.get(f"/api/v1/share/{shared.code}/records/{target}", headers=shared.auth)
        assert response.status_code == 200, response.text
        record = response.json()
        assert set(record) == {"姓名", "公民身份号码", "年龄"}
        assert record["公民身份号码"] == target[:10] + "*" * 8
        assert record["姓名"][0] != "*" and set(record["姓名"][1:]) == {"*"}
        assert record["年龄"] == "24"
        missing = client.get(
            f"/api/v1/share/{shared.code}/records/110101199001011234", headers=shared.auth
        )
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
    # Shutting the app down wrote both calls, sealed by an audit entry.
    logged = calls(database)
    assert [(c.endpoint, c.status, c.rows, c.outcome) for c in logged] == [
        ("lookup", 200, 1, "ok"),
        ("lookup", 404, 0, "not_found"),
    ]
    assert logged[0].consumer_unit_id == shared.seeded.unit_ids["A"]
    assert logged[0].provider_unit_id == shared.seeded.unit_ids["B"]
    assert logged[0].application_code == shared.app
    assert target not in logged[0].filter  # the key itself is not logged, only its digest
    with acting(database, SYSTEM) as ctx:
        assert audit.check_chain(ctx).ok
    assert sealed(database) == (1, 1)


def test_answers_with_personal_data_are_kept_by_no_cache(app: FastAPI, database: Database) -> None:
    shared = share(database, request_over={"delivery": ["api", "bulk"]})
    base = f"/api/v1/share/{shared.code}"
    with gateway(app) as client:
        answers = [
            client.get(f"{base}/records/{ids(30)[3]}", headers=shared.auth),  # before routing
            client.get(f"{base}/records/110101199001011234", headers=shared.auth),  # 404
            client.get(f"{base}/records", headers=shared.auth, params={"limit": 5}),
            client.get(f"{base}/export", headers=shared.auth),
        ]
    assert [a.status_code for a in answers] == [200, 404, 200, 200]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_lookup_is_answered_before_routing_and_fails_like_any_route(
    app: FastAPI, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = share(database)
    target = ids(30)[2]
    # The fast path answers without consulting the router (a broken router changes nothing).
    with gateway(app) as client:
        app.router.routes.clear()
        answer = client.get(f"/api/v1/share/{shared.code}/records/{target}", headers=shared.auth)
        assert answer.status_code == 200 and answer.json()["公民身份号码"].startswith(target[:10])
        assert client.get("/healthz").status_code == 404  # everything else is routed

    async def broken(*_args: object) -> bytes:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(gateway_service, "lookup_record", broken)
    with gateway(fresh_app(database)) as client:
        failed = client.get(f"/api/v1/share/{shared.code}/records/{target}", headers=shared.auth)
    assert failed.status_code == 500
    assert failed.headers["content-type"].startswith("application/problem+json")
    assert failed.json()["detail_en"].startswith("Internal error") and "exploded" not in failed.text


def test_records_are_paged_filtered_and_masked(app: FastAPI, database: Database) -> None:
    shared = share(database, rows=25)
    with gateway(app) as client:
        seen: list[dict[str, str]] = []
        url = f"/api/v1/share/{shared.code}/records"
        cursor = None
        pages = 0
        while True:
            params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
            page = client.get(url, headers=shared.auth, params=params).json()
            seen.extend(page["items"])
            pages += 1
            cursor = page["next"]
            if cursor is None:
                break
        assert pages == 3 and len(seen) == 25
        assert all(r["公民身份号码"].endswith("*" * 8) for r in seen)
        old = client.get(
            f"/api/v1/share/{shared.code}/records",
            headers=shared.auth,
            params={"f": ["年龄:ge:40"], "fields": "年龄"},
        ).json()
        assert old["items"] and all(
            set(r) == {"年龄"} and int(r["年龄"]) >= 40 for r in old["items"]
        )


def test_columns_outside_the_grant_never_leave(app: FastAPI, database: Database) -> None:
    shared = share(database)
    secret_values = phones(30)
    base = f"/api/v1/share/{shared.code}/records"
    with gateway(app) as client:
        asked = client.get(base, headers=shared.auth, params={"fields": "联系电话"})
        invented = client.get(base, headers=shared.auth, params={"fields": "不存在的列"})
        filtered = client.get(base, headers=shared.auth, params={"f": "联系电话:like_prefix:138"})
        bodies = [asked, invented, filtered]
        assert [r.status_code for r in bodies] == [422, 422, 422]
        # A granted-but-hidden column reads exactly like one that does not exist.
        assert asked.json()["errors"][0]["message_en"].replace("联系电话", "X") == (
            invented.json()["errors"][0]["message_en"].replace("不存在的列", "X")
        )
        everything = [
            client.get(base, headers=shared.auth, params={"limit": 1000}),
            client.get(f"{base}/{ids(30)[0]}", headers=shared.auth),
            client.get(f"{base}/{ids(30)[0]}", headers=shared.auth, params={"fields": "联系电话"}),
        ]
        text = "".join(r.text for r in bodies + everything)
        assert "联系电话" not in everything[0].text
        assert not any(p in text for p in secret_values)
        assert "出生日期" not in text


def test_injection_attempts_are_plain_values(app: FastAPI, database: Database) -> None:
    shared = share(database)
    base = f"/api/v1/share/{shared.code}/records"
    with gateway(app) as client:
        for value in ["' OR '1'='1", 'x"; DROP TABLE t; --', "王%", "1) OR (1=1"]:
            response = client.get(base, headers=shared.auth, params={"f": f"年龄:eq:{value}"})
            assert response.status_code == 200 and response.json()["items"] == []
            # 姓名 is masked for this caller: no condition on it at all, value never echoed.
            masked = client.get(base, headers=shared.auth, params={"f": f"姓名:eq:{value}"})
            assert masked.status_code == 403 and value not in masked.text
        assert client.get(f"{base}/1' OR '1'='1", headers=shared.auth).status_code == 404
        bad_column = client.get(base, headers=shared.auth, params={"f": '姓名" OR 1=1 --:eq:x'})
        assert bad_column.status_code == 422


def test_refusals(app: FastAPI, database: Database) -> None:
    shared = share(database)
    base = f"/api/v1/share/{shared.code}/records"
    other_app = application(database)
    other_token = key(database, other_app, shared.seeded.actor(Role.DATA_LIAISON))
    with gateway(app) as client:
        assert client.get(base).status_code == 401
        assert client.get(base).headers["www-authenticate"] == "Bearer"
        assert (
            client.get(base, headers={"Authorization": "Bearer sza_nope_nope"}).status_code == 401
        )
        # A key of another application has no grant for this entry.
        assert (
            client.get(base, headers={"Authorization": f"Bearer {other_token}"}).status_code == 403
        )
        assert client.get("/api/v1/share/NO/SUCH/records", headers=shared.auth).status_code == 404
        assert client.get(base, headers=shared.auth, params={"limit": 5000}).status_code == 422
        assert client.get(base, headers=shared.auth, params={"cursor": "AAAA"}).status_code == 422
        first = client.get(base, headers=shared.auth, params={"limit": 2}).json()
        # A cursor belongs to its query: reusing it with other conditions is refused.
        reused = client.get(
            base,
            headers=shared.auth,
            params={"limit": 2, "cursor": first["next"], "f": "年龄:ge:1"},
        )
        assert reused.status_code == 422
        # Bulk export is not part of this grant (API only).
        assert (
            client.get(f"/api/v1/share/{shared.code}/export", headers=shared.auth).status_code
            == 403
        )
    outcomes = Counter(str(c.outcome) for c in calls(database))
    assert outcomes["unauthenticated"] == 3
    assert outcomes["forbidden"] == 2 and outcomes["not_found"] == 1
    with acting(database, SYSTEM) as ctx:
        assert audit.check_chain(ctx).ok


def test_revoked_key_and_grant_stop_working_at_the_next_revision(
    app: FastAPI, database: Database
) -> None:
    shared = share(database)
    url = f"/api/v1/share/{shared.code}/records/{ids(30)[0]}"
    with gateway(app) as client:
        runtime = app.state.gateway
        assert client.get(url, headers=shared.auth).status_code == 200
        with acting(database, shared.seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
            grant_id = sharing.list_grants(ctx)[0].id
            sharing.revoke_grant(ctx, grant_id, "业务终止，停止共享接口")
        runtime.check_revision()
        assert client.get(url, headers=shared.auth).status_code == 403
        prefix = shared.token.split("_")[1]
        with acting(database, shared.seeded.actor(Role.DATA_LIAISON)) as ctx:
            apps.revoke_app_key(ctx, shared.app, prefix)
        runtime.check_revision()
        assert client.get(url, headers=shared.auth).status_code == 401


def test_rate_limit_answers_429_with_retry_after(app: FastAPI, database: Database) -> None:
    shared = share(database, outcome="partly_approve", reason="限流测试", rate_limit_per_minute=2)
    url = f"/api/v1/share/{shared.code}/records/{ids(30)[0]}"
    with gateway(app) as client:
        assert [client.get(url, headers=shared.auth).status_code for _ in range(2)] == [200, 200]
        limited = client.get(url, headers=shared.auth)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
    assert calls(database)[-1].outcome == "rate_limited"


def test_bulk_export_streams_masked_csv_and_parquet(app: FastAPI, database: Database) -> None:
    shared = share(database, request_over={"delivery": ["api", "bulk"]})
    base = f"/api/v1/share/{shared.code}/export"
    with gateway(app) as client:
        response = client.get(base, headers=shared.auth, params={"f": "年龄:lt:40"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["姓名", "公民身份号码", "年龄"]
        assert rows[1:] and all(int(r[2]) < 40 and r[1].endswith("*" * 8) for r in rows[1:])
        parquet = client.get(base, headers=shared.auth, params={"format": "parquet"})
        assert parquet.status_code == 200
        table = pq.read_table(io.BytesIO(parquet.content))
        assert table.num_rows == 30 and table.column_names == ["姓名", "公民身份号码", "年龄"]
        assert all(v.endswith("*" * 8) for v in table.column("公民身份号码").to_pylist())
        assert (
            client.get(base, headers=shared.auth, params={"f": "联系电话:eq:1"}).status_code == 422
        )
    exported = calls(database, endpoint="export", status=200)
    assert sorted(c.rows for c in exported) == sorted([len(rows) - 1, 30])


def test_stats_api_counts_the_calls(app: FastAPI, database: Database) -> None:
    shared = share(database)
    with gateway(app) as client:
        for target in ids(30)[:3]:
            client.get(f"/api/v1/share/{shared.code}/records/{target}", headers=shared.auth)
        client.get(f"/api/v1/share/{shared.code}/records/nobody", headers=shared.auth)
        app.state.gateway.meter.flush()
        login(client, "exec", PASSWORD)
        stats = client.get("/api/v1/gateway/stats", params={"days": 7}).json()
        assert stats["calls"] == 4 and stats["rows"] == 3 and stats["errors"] == 1
        assert stats["top_entries"][0]["key"] == shared.code
        assert stats["top_consumers"][0]["label"] == "区甲局"
        assert stats["top_applications"][0]["label"] == shared.app
        assert stats["outcomes"] == {"ok": 3, "not_found": 1}
        assert stats["days"][-1]["calls"] == 4 and stats["days"][-1]["p99_ms"] is not None
        page = client.get("/gateway/stats")
        assert page.status_code == 200 and shared.app in page.text and "<svg" in page.text
    assert call_count(database) == 4
    assert json.loads(calls(database)[0].filter)[0][:2] == ["公民身份号码", "eq"]


@pytest.mark.parametrize("use_index", [True, False], ids=["key index", "engine"])
def test_a_partial_approval_that_drops_a_column_keeps_its_conditions(
    app: FastAPI, database: Database, use_index: bool
) -> None:
    # Asked: people younger than 25, with their age; granted: without the age column. The
    # condition stays (a partial approval may only narrow) and the age is never served.
    seeded = seed_org(database)
    code = shared_entry(database, loaded=True, rows=30)
    app_code = application(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    auth = {"Authorization": f"Bearer {key(database, app_code, liaison)}"}
    asked = request(
        database,
        liaison,
        code,
        app_code,
        columns=["姓名", "公民身份号码", "年龄"],
        row_filter=[{"column": "年龄", "op": "lt", "value": "25"}],
        delivery=["api", "bulk"],
    )
    decided = approve(
        database,
        seeded,
        asked.id,
        outcome="partly_approve",
        reason="不提供年龄列",
        columns=["姓名", "公民身份号码"],
    )
    assert decided.status == "partly_approved"
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        (grant,) = sharing.list_grants(ctx)
    people = people_rows(30)
    young = {r[1] for r in people if r[4] < "25"}
    assert 0 < len(young) < len(people)
    assert grant.columns == ["姓名", "公民身份号码"]
    assert [c.text for c in grant.row_filter] == ["年龄 lt 25"]
    base = f"/api/v1/share/{code}"
    granted = {"姓名", "公民身份号码"}
    with gateway(app, replace(TEST_OPTIONS, key_index=use_index)) as client:
        page = client.get(f"{base}/records", headers=auth, params={"limit": 1000})
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        assert len(items) == len(young) and all(set(item) == granted for item in items)
        export = list(csv.reader(io.StringIO(client.get(f"{base}/export", headers=auth).text)))
        assert export[0] == ["姓名", "公民身份号码"] and len(export) == len(young) + 1
        found = {}
        for person in people:
            answer = client.get(f"{base}/records/{person[1]}", headers=auth)
            assert answer.status_code in (200, 404), answer.text
            if answer.status_code == 200:
                found[person[1]] = answer.json()
        assert set(found) == young and all(set(record) == granted for record in found.values())
        widened = client.get(f"{base}/records", headers=auth, params={"f": "年龄:ge:25"})
        assert widened.status_code == 422 and "年龄" in widened.text  # not granted
    index_dir = database.settings.data_dir / keyindex.INDEX_DIR
    assert any(index_dir.glob(f"*{keyindex.SUFFIX}")) == use_index


def test_a_grant_s_masks_follow_a_stricter_classification_of_its_data(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    # 年龄 was granted in clear; a later load puts resident IDs under it, and then the
    # provider's CDO files it as health data. Each time the grant is tightened, and the
    # gateway serves what the data is now, never what it was when decided.
    seeded = seed_org(database)
    code = shared_entry(database, loaded=True, rows=30)
    app_code = application(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    auth = {"Authorization": f"Bearer {key(database, app_code, liaison)}"}
    asked = request(database, liaison, code, app_code, columns=["公民身份号码", "年龄"])
    approve(database, seeded, asked.id)
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        (grant,) = sharing.list_grants(ctx)
    assert {m.column: m.level for m in grant.masking}["年龄"] == "none"
    base = f"/api/v1/share/{code}"
    people = people_rows(30)
    with gateway(app, TEST_OPTIONS) as client:
        first = client.get(f"{base}/records/{people[0][1]}", headers=auth).json()
        assert first["年龄"] == people[0][4]  # in clear, as decided

    ids = [[*r[:4], r[1]] for r in people]
    with acting(database, SYSTEM) as ctx:
        loaded = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "v2.csv", ids)))
    assert {c.name: c.category for c in loaded.version.classification}["年龄"] == "resident_id"
    if loaded.version.status != "current":  # a new kind of personal data waits for review
        with gateway(app, TEST_OPTIONS) as client:  # meanwhile the decided version serves
            kept = client.get(f"{base}/records/{people[0][1]}", headers=auth).json()
            assert kept["年龄"] == people[0][4]
        with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
            lake.accept_drift(ctx, code, loaded.version.number, "核对无误")
    with gateway(app, TEST_OPTIONS) as client:
        served = client.get(f"{base}/records/{people[0][1]}", headers=auth).json()["年龄"]
        page = client.get(f"{base}/records", headers=auth, params={"limit": 100}).json()
    assert served != ids[0][4] and served[:6] == ids[0][4][:6] and "*" in served
    assert len(page["items"]) == 30
    assert not {p[4] for p in ids} & {item["年龄"] for item in page["items"]}

    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        lake.override_classification(ctx, code, "年龄", "health", "病历号")
    with gateway(app, TEST_OPTIONS) as client:
        served = client.get(f"{base}/records/{people[0][1]}", headers=auth).json()["年龄"]
    assert ids[0][4][:6] not in served
    with acting(database, SYSTEM) as ctx:
        tightened = audit.view_audit(ctx, action="sharing.grant_masks_tightened").items
    assert [e.details["masking"]["年龄"].split(":")[0] for e in reversed(tightened)] == [
        "resident_id",
        "health",
    ]
