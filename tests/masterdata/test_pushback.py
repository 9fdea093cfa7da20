"""Push-back to the grass roots: definitions validated, deliveries after runs made current
(exactly the street's records, special groups, masking per the street's grant through the
gateway and the console's read path), failed deliveries and failed runs that leave the
previous version, retirement."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from shuzhi.catalog.models import CatalogEntry
from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.lake import service as lake
from shuzhi.masterdata import pushback, pushback_delivery, pushback_reports, service
from shuzhi.masterdata.pushback_models import (
    DeliveryStatus,
    MasterdataPushback,
    MasterdataPushbackDelivery,
    PushbackStatus,
)
from shuzhi.masterdata.pushback_schemas import ConditionOut
from shuzhi.org import service as org
from shuzhi.security.masking import redact
from shuzhi.sharing import service as sharing
from shuzhi.sharing.models import Application
from tests.conftest import acting, actor
from tests.gateway.helpers import gateway
from tests.masterdata.helpers import load
from tests.masterdata.pushback_helpers import (
    DIALYSIS,
    HEADER,
    RESIDENTS,
    define,
    definition,
    population,
    resident,
    rid,
    run,
)
from tests.sharing.helpers import key


def _street(database: Database, role: Role = Role.DATA_LIAISON, unit: str = "S") -> Actor:
    with acting(database, SYSTEM) as ctx:
        unit_id = org.unit_id_for_code(ctx, unit)
    return actor(role, unit_id, name=f"{unit}.{role.value}")


def _delivered(database: Database, resource_code: str) -> tuple[int, list[dict[str, str]]]:
    """The push-back dataset's current version: (number, rows)."""
    with acting(database, SYSTEM) as ctx:
        current = lake.current_version(ctx, resource_code)
    assert current is not None
    version, files = current
    return version.number, pq.read_table(files.data_path).to_pylist()


def _residents(rows: list[dict[str, str]]) -> set[int]:
    """Which residents (by number) the rows are, read from their resident IDs."""
    by_id = {rid(i): i for i in range(RESIDENTS)}
    return {by_id[r["公民身份号码"]] for r in rows}


def test_definition_names_every_problem_and_writes_nothing(database: Database) -> None:
    population(database)
    bad = definition(
        target_unit_code="A",  # a department, not a street
        division_code="330100",  # 杭州市: a prefecture with counties
        street="文三路",
        columns=["姓名", "身高"],
        conditions=[
            {"kind": "age", "min_age": 90, "max_age": 80},
            {"kind": "equals", "attribute": "住址", "value": "x"},
            {"kind": "equals", "attribute": "性别", "value": "未知值"},
            {"kind": "in_dataset", "resource_code": "999/000001"},
        ],
        masking={"姓名": "none"},
    )
    with acting(database, SYSTEM) as ctx, pytest.raises(Invalid) as raised:
        pushback.define_masterdata_pushback(ctx, "population", bad)
    fields = {e.field for e in raised.value.errors}
    assert fields == {
        "target_unit_code",
        "division_code",
        "columns",
        "conditions.0.max_age",
        "conditions.1.attribute",
        "conditions.2.value",
        "conditions.3.resource_code",
        "masking.姓名",
    }
    assert all(e.message.zh and e.message.en for e in raised.value.errors)
    # A street name that is not one, in a valid county, is named as such.
    with acting(database, SYSTEM) as ctx, pytest.raises(Invalid) as raised:
        pushback.define_masterdata_pushback(ctx, "population", definition(street="北山"))
    assert [e.field for e in raised.value.errors] == ["street"]
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(func.count(MasterdataPushback.id))) == 0
        entries = ctx.db.scalar(select(func.count(CatalogEntry.id)))
        assert ctx.db.scalar(select(func.count(Application.id))) == 0
    assert entries == 2  # the two members' entries only


def test_only_the_librarys_unit_defines(database: Database) -> None:
    population(database)
    others = (_street(database), _street(database, Role.UNIT_CDO, "A"), _street(database, Role.CDO))
    for who in others:
        with pytest.raises(Forbidden), acting(database, who) as ctx:
            pushback.define_masterdata_pushback(ctx, "population", definition())


def test_a_run_delivers_exactly_the_area_and_the_special_group(database: Database) -> None:
    lib = population(database)
    street = define(database)
    community = define(database, name="保俶路社区居民", community="保俶路社区居民委员会")
    group = define(
        database,
        name="高龄透析患者",
        columns=["姓名", "出生日期"],
        conditions=[
            {"kind": "age", "min_age": 80},
            {"kind": "in_dataset", "resource_code": lib.dialysis},
        ],
    )
    women = define(
        database,
        name="未透析女性居民",
        community="保俶路社区",
        conditions=[
            {"kind": "equals", "attribute": "性别", "value": "女"},
            {"kind": "not_in_dataset", "resource_code": lib.dialysis},
        ],
    )
    with acting(database, SYSTEM) as ctx:
        pending = pushback.list_masterdata_pushbacks(ctx, "population")
    assert {p.status for p in pending} == {PushbackStatus.PENDING}
    run(database)
    number, rows = _delivered(database, street.resource_code)
    # The street's village and community; not 西溪街道, not 上城区's 北山街道, not the
    # address without a county.
    assert number == 1 and _residents(rows) == set(range(16))
    assert list(rows[0]) == ["实体标识", "姓名", "公民身份号码", "出生日期", "联系电话", "住址"]
    assert [r["实体标识"] for r in rows] == sorted(r["实体标识"] for r in rows)
    assert _residents(_delivered(database, community.resource_code)[1]) == set(range(10))
    elders = _delivered(database, group.resource_code)[1]
    assert list(elders[0]) == ["实体标识", "姓名", "出生日期"]
    over_80_on_dialysis = {i for i in DIALYSIS if i % 2 == 0}  # born 1935
    assert {r["出生日期"] for r in elders} == {resident(i)[3] for i in over_80_on_dialysis}
    # Resident 2's name is blank in A's register: the golden name is B's.
    assert resident(2)[0] in {r["姓名"] for r in elders}
    female = _delivered(database, women.resource_code)[1]
    # Even residents have an even sequence digit: women; 0 and 2 are on dialysis.
    assert _residents(female) == {4, 6, 8}
    with acting(database, SYSTEM) as ctx:
        status = pushback.get_masterdata_pushback(ctx, "population", street.id)
    assert (status.status, status.rows, status.version, status.last_run_id) == (
        PushbackStatus.OK,
        16,
        1,
        1,
    )
    assert status.deliveries[0].outcome == "created" and status.grant_status == "active"
    assert [c.text_zh for c in pushback_out_conditions(database, group.id)] == [
        "年龄 ≥ 80 岁",
        f"在「{dataset_name(database, lib.dialysis)}」（{lib.dialysis}）中有记录",
    ]


def pushback_out_conditions(database: Database, pushback_id: int) -> list[ConditionOut]:
    with acting(database, SYSTEM) as ctx:
        return pushback.get_masterdata_pushback(ctx, "population", pushback_id).conditions


def dataset_name(database: Database, code: str) -> str:
    with acting(database, SYSTEM) as ctx:
        return lake.entry_facts(ctx, code)[1]


def test_incremental_runs_deliver_and_unchanged_selections_keep_their_version(
    database: Database,
) -> None:
    lib = population(database)
    street = define(database, name="北山街道居民")
    run(database)
    run(database, incremental=True)  # nothing changed: the same content, the same version
    assert _delivered(database, street.resource_code)[0] == 1
    rows = [resident(i) for i in range(RESIDENTS)]
    rows[2][0] = ""
    rows.append(resident(RESIDENTS))  # a newcomer …
    rows[-1][4] = "浙江省杭州市西湖区北山街道保俶路社区保俶路77号"  # … in 北山街道
    load(database, lib.register, rows, HEADER)
    run(database, incremental=True)
    number, delivered = _delivered(database, street.resource_code)
    assert number == 2 and len(delivered) == 17
    assert resident(RESIDENTS)[1] in {r["公民身份号码"] for r in delivered}
    with acting(database, SYSTEM) as ctx:
        history = pushback.get_masterdata_pushback(ctx, "population", street.id).deliveries
    assert [(d.run_id, d.version, d.outcome) for d in history] == [
        (3, 2, "created"),
        (2, 1, "unchanged"),
        (1, 1, "created"),
    ]


def test_a_failed_delivery_keeps_the_previous_version_and_the_others_go_on(
    database: Database,
) -> None:
    lib = population(database)
    beishan = define(database, name="北山街道居民")
    xixi = define(database, name="西溪街道居民", street="西溪街道")
    run(database)
    # Everyone of 北山街道 moves to 西溪街道: 北山街道's selection is empty.
    rows = [resident(i) for i in range(RESIDENTS)]
    rows[2][0] = ""
    for r in rows:
        r[4] = r[4].replace("北山街道", "西溪街道")
    load(database, lib.register, rows, HEADER)
    run(database)
    assert _delivered(database, beishan.resource_code)[0] == 1
    number, delivered = _delivered(database, xixi.resource_code)
    assert number == 2 and _residents(delivered) == set(range(22))
    with acting(database, SYSTEM) as ctx:
        failed = pushback.get_masterdata_pushback(ctx, "population", beishan.id)
        library = service.get_masterdata_library(ctx, "population")
    assert failed.status == PushbackStatus.FAILED and failed.version == 1 and failed.rows == 16
    assert "湖仓不接收空版本" in failed.error_zh and "no empty version" in failed.error_en
    assert [(d.status, d.run_id) for d in failed.deliveries] == [
        (DeliveryStatus.FAILED, 2),
        (DeliveryStatus.OK, 1),
    ]
    # The run itself stands: it is current.
    assert library.current_run is not None and library.current_run.id == 2


def test_a_failed_run_delivers_nothing(database: Database) -> None:
    lib = population(database)
    street = define(database)
    run(database)
    with acting(database, SYSTEM) as ctx:
        service.remove_masterdata_member(ctx, "population", lib.register)
        service.remove_masterdata_member(ctx, "population", lib.dialysis)
    with pytest.raises(Invalid), acting(database, SYSTEM) as ctx:
        service.run_masterdata_library(ctx, "population")
    with acting(database, SYSTEM) as ctx:
        deliveries = ctx.db.scalar(select(func.count(MasterdataPushbackDelivery.id)))
        status = pushback.get_masterdata_pushback(ctx, "population", street.id)
    assert deliveries == 1 and status.last_run_id == 1 and status.status == PushbackStatus.OK
    assert _delivered(database, street.resource_code)[0] == 1


def test_the_street_reads_its_records_masked_per_its_grant(
    app: FastAPI, database: Database
) -> None:
    population(database)
    street = define(database, masking={"联系电话": "redact"})
    run(database)
    liaison = _street(database)
    token = key(database, street.application_code, liaison)
    target = rid(4)
    with gateway(app) as client:
        answer = client.get(
            f"/api/v1/share/{street.resource_code}/records/{target}",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200, answer.text
    record = answer.json()
    assert record["公民身份号码"] == target[:10] + "*" * 8
    assert record["联系电话"] == redact(resident(4)[2]) and "139" not in record["联系电话"]
    assert record["姓名"][0] == resident(4)[0][0] and set(record["姓名"][1:]) == {"*"}
    with acting(database, liaison) as ctx:
        page = pushback_reports.read_masterdata_pushback(ctx, "population", street.id, limit=5)
    assert page.total == 16 and len(page.rows) == 5 and page.next_after is not None
    assert page.masked["联系电话"] == "redact" and page.masked["公民身份号码"] == "partial"
    with acting(database, liaison) as ctx:
        rest = pushback_reports.read_masterdata_pushback(
            ctx, "population", street.id, after=page.next_after, limit=500
        )
    seen = {r["实体标识"]: r for r in [*page.rows, *rest.rows]}
    # The console shows what the gateway serves: the same columns, masked alike.
    assert len(seen) == 16 and seen[record["实体标识"]] == record
    # Another unit's staff, and the bureau's readers, do not read the street's records.
    for who in (_street(database, Role.DATA_LIAISON, "A"), _street(database, Role.CDO, "R")):
        with pytest.raises(Forbidden), acting(database, who) as ctx:
            pushback_reports.read_masterdata_pushback(ctx, "population", street.id)


def test_retiring_revokes_the_grant_and_stops_deliveries(database: Database) -> None:
    population(database)
    street = define(database)
    run(database)
    with acting(database, SYSTEM) as ctx, pytest.raises(Invalid):
        pushback.retire_masterdata_pushback(ctx, "population", street.id, "不用")
    with acting(database, SYSTEM) as ctx:
        retired = pushback.retire_masterdata_pushback(
            ctx, "population", street.id, "街道已撤并，不再需要反哺数据"
        )
        grant = sharing.get_grant(ctx, street.grant_id or 0)
    assert retired.status == PushbackStatus.RETIRED and grant.status == "revoked"
    run(database)
    with acting(database, SYSTEM) as ctx:
        deliveries = ctx.db.scalar(select(func.count(MasterdataPushbackDelivery.id)))
    assert deliveries == 1
    with pytest.raises(Conflict), acting(database, _street(database)) as ctx:
        pushback_reports.read_masterdata_pushback(ctx, "population", street.id)


def test_refresh_delivers_at_once_and_needs_a_run(database: Database) -> None:
    population(database)
    street = define(database)
    with acting(database, SYSTEM) as ctx, pytest.raises(Invalid):
        pushback_delivery.refresh_masterdata_pushbacks(ctx, "population")
    run(database)
    later = define(database, name="保俶路社区", community="保俶路社区")
    with acting(database, SYSTEM) as ctx:
        done = pushback_delivery.refresh_masterdata_pushbacks(ctx, "population", later.id)
    assert [(p.id, p.status, p.rows) for p in done] == [(later.id, PushbackStatus.OK, 10)]
    with pytest.raises(Forbidden), acting(database, _street(database)) as ctx:
        pushback_delivery.refresh_masterdata_pushbacks(ctx, "population")
    assert _delivered(database, street.resource_code)[0] == 1


def test_who_sees_which_pushbacks(database: Database) -> None:
    population(database)
    define(database)
    with acting(database, _street(database)) as ctx:
        mine = pushback.delivered_pushbacks(ctx)
        listed = pushback.list_masterdata_pushbacks(ctx, "population")
    assert [p.name for p in mine] == [p.name for p in listed] == ["北山街道居民"]
    with pytest.raises(Forbidden), acting(database, _street(database, unit="A")) as ctx:
        pushback.list_masterdata_pushbacks(ctx, "population")
    with acting(database, _street(database, unit="A")) as ctx:
        assert pushback.delivered_pushbacks(ctx) == []
    with acting(database, _street(database, Role.AUDITOR, "R")) as ctx:
        assert len(pushback.list_masterdata_pushbacks(ctx, "population")) == 1
        assert pushback.pushback_figures(ctx).pushbacks == 1


def test_names_are_unique_per_library(database: Database) -> None:
    population(database)
    define(database)
    with pytest.raises(Conflict), acting(database, SYSTEM) as ctx:
        pushback.define_masterdata_pushback(ctx, "population", definition(street="西溪街道"))
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(func.count(MasterdataPushback.id))) == 1


def test_a_grant_that_ran_out_is_issued_again_at_the_next_delivery(database: Database) -> None:
    from datetime import timedelta

    from shuzhi.db.base import utcnow
    from shuzhi.sharing.models import Grant

    population(database)
    street = define(database)
    with acting(database, SYSTEM) as ctx:
        grant = ctx.db.get(Grant, street.grant_id)
        assert grant is not None
        grant.expires_at = utcnow() - timedelta(days=1)
    run(database)
    with acting(database, SYSTEM) as ctx:
        renewed = pushback.get_masterdata_pushback(ctx, "population", street.id)
        old = sharing.get_grant(ctx, street.grant_id or 0)
    assert renewed.grant_id != street.grant_id and renewed.grant_status == "active"
    assert old.status == "superseded" and renewed.status == PushbackStatus.OK
