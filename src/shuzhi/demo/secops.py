"""Demo step: three weeks of traced gateway traffic of three connected systems, with one
enumeration attack, one off-hours bulk export (a dataset paged out at night) and one false
positive (a system that moved to a new address); the monitoring rules run over it so the
alerts exist; the enumeration becomes an incident whose key is contained and which is
closed with a review; one drill.

Run after the sharing step (it needs active grants). Each system gets a key of its own for
the story (labelled as such), so the sharing demo's credential is never suspended. Calls go
through the meter's writer (``gateway.meter.write_calls``), each with its audit entry, as
live calls do. About 2,000 calls; idempotent: skipped once the drill exists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from shuzhi.context import Actor, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.gateway.meter import CallRecord, write_calls
from shuzhi.gateway.models import Endpoint, Outcome
from shuzhi.lake.sql import Op
from shuzhi.org import service as org
from shuzhi.secops import service
from shuzhi.secops.schemas import (
    CloseIn,
    ContainmentIn,
    FalsePositiveIn,
    IncidentIn,
    NoteIn,
)
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service as sharing
from shuzhi.sharing.access import authenticate_application
from shuzhi.sharing.schemas import AppKeyIn, GrantOut

SEED = 7_2026
BEIJING = timezone(timedelta(hours=8))
PREFIX = "secdemo-"
DRILL_TITLE = "年度数据泄露应急演练（演练）"
INCIDENT_TITLE = "城西街道基层治理平台密钥枚举查询居民身份信息"
WEEKS = 3
PER_DAY = 30  # calls of one system on a working day
ENUMERATED = 600  # distinct residents looked up in 40 minutes (the threshold is 500)
NIGHT_PAGES, PAGE_ROWS = 32, 500  # 16,000 records paged out at 02:00 (threshold 10,000)
DIGEST_KEY = b"secops-demo" * 3


@dataclass(frozen=True)
class _System:
    grant: GrantOut
    key_id: int
    application_id: int
    consumer_unit_id: int
    provider_unit_id: int
    address: str


def _pick(grants: list[GrantOut]) -> list[GrantOut] | None:
    """Active API grants of three different systems, the first keyed (it is enumerated),
    oldest first."""
    picked: list[GrantOut] = []
    for g in grants:
        if g.status != "active" or "api" not in g.delivery or not g.key_column:
            continue
        if all(p.application_code != g.application_code for p in picked):
            picked.append(g)
    return picked[:3] if len(picked) >= 3 else None


def _systems(database: Database, actor: Actor) -> list[_System] | None:
    with unit_of_work(database, actor) as ctx:
        picked = _pick(sorted(sharing.list_grants(ctx), key=lambda g: g.id))
        if picked is None:
            return None
        units = {
            code: org.unit_id_for_code(ctx, code)
            for g in picked
            for code in (g.consumer_unit_code, g.provider_unit_code)
        }
    systems = []
    for n, g in enumerate(picked):
        with unit_of_work(database, actor) as ctx:
            token = apps.create_app_key(
                ctx, g.application_code, AppKeyIn(label="安全运营演示密钥", expires_in_days=365)
            ).token
        with unit_of_work(database, actor) as ctx:
            principal = authenticate_application(ctx.db, token, utcnow())
        consumer, provider = units[g.consumer_unit_code], units[g.provider_unit_code]
        assert consumer is not None and provider is not None
        systems.append(
            _System(
                g,
                principal.key_id,
                principal.application_id,
                consumer,
                provider,
                f"10.20.1.{11 + n}",
            )
        )
    return systems


def _call(
    s: _System,
    n: int,
    at: datetime,
    endpoint: Endpoint,
    rows: int,
    value: str | None = None,
    client: str | None = None,
    status: int = 200,
) -> CallRecord:
    filters = () if value is None else ((s.grant.key_column or "id", Op.EQ.value, value),)
    return CallRecord(
        call_id=f"{PREFIX}{n:08d}",
        at=at,
        endpoint=endpoint,
        resource_code=s.grant.resource_code,
        consumer_unit_id=s.consumer_unit_id,
        provider_unit_id=s.provider_unit_id,
        application_id=s.application_id,
        application_code=s.grant.application_code,
        key_id=s.key_id,
        grant_id=s.grant.id,
        filters=filters,
        digest_key=DIGEST_KEY,
        rows=rows if status == 200 else 0,
        latency_us=3_000 if endpoint is Endpoint.LOOKUP else 40_000,
        status=status,
        outcome=Outcome.OK if status == 200 else Outcome.NOT_FOUND,
        client=client or s.address,
    )


def _day(now: datetime, days_ago: int, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` Beijing time ``days_ago`` days before today (Beijing), in UTC."""
    local = now.astimezone(BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    return (local - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute)).astimezone(
        UTC
    )


def plan(systems: list[_System], now: datetime) -> tuple[list[CallRecord], dict[str, datetime]]:
    """The calls, and when each story's evaluation runs (the end of its hour)."""
    rng = random.Random(SEED)
    calls: list[CallRecord] = []
    enumerated, exporter, mover = systems
    regulars = [f"3301821980{i:08d}" for i in range(40)]  # a street office's usual cases
    for days_ago in range(WEEKS * 7, 0, -1):
        if _day(now, days_ago, 12).astimezone(BEIJING).weekday() >= 5:
            continue
        for s in systems:
            for _ in range(PER_DAY):
                at = _day(now, days_ago, 9) + timedelta(seconds=rng.randint(0, 8 * 3600))
                if rng.random() < 0.7:
                    calls.append(_call(s, len(calls), at, Endpoint.LOOKUP, 1, rng.choice(regulars)))
                else:
                    calls.append(_call(s, len(calls), at, Endpoint.RECORDS, rng.randint(1, 20)))
    # 1. Enumeration: 600 different residents in 40 minutes, nine days ago, from the usual
    # address (the system itself was misused).
    start = _day(now, 9, 10)
    for i in range(ENUMERATED):
        status = 404 if rng.random() < 0.04 else 200
        value = f"3301821990{i:08d}"
        at = start + timedelta(seconds=4 * i)
        calls.append(_call(enumerated, len(calls), at, Endpoint.LOOKUP, 1, value, status=status))
    # 2. Off-hours bulk: 32 pages of 500 records at 02:10-02:41, five days ago.
    night = _day(now, 5, 2, 10)
    for i in range(NIGHT_PAGES):
        at = night + timedelta(minutes=i)
        calls.append(_call(exporter, len(calls), at, Endpoint.RECORDS, PAGE_ROWS))
    # 3. False positive: the third system calls from a new address (it moved to the
    # government cloud), three days ago.
    moved = _day(now, 3, 9, 30)
    for i in range(25):
        at = moved + timedelta(minutes=i)
        calls.append(
            _call(mover, len(calls), at, Endpoint.LOOKUP, 1, rng.choice(regulars), "10.30.0.9")
        )
    calls = [c for c in calls if c.at < now]
    calls.sort(key=lambda c: c.at)
    runs = {
        "enumeration": start + timedelta(minutes=45),
        "off_hours_bulk": _day(now, 5, 2, 50),
        "new_client": moved + timedelta(minutes=30),
    }
    return calls, runs


def _built(database: Database, actor: Actor) -> bool:
    with unit_of_work(database, actor) as ctx:
        return any(i.title == DRILL_TITLE for i in service.list_incidents(ctx))


def build_secops(database: Database, actor: Actor, now: datetime | None = None) -> int:
    """Build the security story once; returns how many calls were written (0 if present)."""
    if _built(database, actor):
        return 0
    systems = _systems(database, actor)
    if systems is None:
        return 0
    now = (now or utcnow()).astimezone(UTC)
    calls, runs = plan(systems, now)
    write_calls(database, calls)
    alerts: dict[str, int] = {}
    for _rule, at in sorted(runs.items(), key=lambda r: r[1]):
        with unit_of_work(database, actor) as ctx:
            for alert in service.evaluate(ctx, at).new:
                alerts.setdefault(alert.rule, alert.id)
    enumerated, exporter, _mover = systems
    with unit_of_work(database, actor) as ctx:
        if "new_client" in alerts:
            service.mark_false_positive(
                ctx,
                alerts["new_client"],
                FalsePositiveIn(reason="该系统已迁移至政务云新节点，地址变更已向数据局报备"),
            )
        if "off_hours_bulk" in alerts:
            service.acknowledge_alert(ctx, alerts["off_hours_bulk"])
        if "sequential_ids" in alerts:  # the same attack walked neighbouring IDs
            service.acknowledge_alert(ctx, alerts["sequential_ids"])
        if "enumeration" in alerts:
            service.acknowledge_alert(ctx, alerts["enumeration"])
            incident = service.open_incident(
                ctx, IncidentIn(alert_id=alerts["enumeration"], title=INCIDENT_TITLE)
            )
            service.contain(
                ctx,
                ContainmentIn(
                    kind="application_key",
                    id=enumerated.key_id,
                    reason="40 分钟内查询 600 名不同居民，远超业务需要，先行暂停密钥",
                    incident_id=incident.id,
                ),
            )
            service.note_incident(
                ctx,
                incident.id,
                NoteIn(text="经核实为离职人员账号被用于批量比对，已注销账号并通知使用单位"),
            )
            service.close_incident(
                ctx,
                incident.id,
                CloseIn(
                    review="原因：使用单位未及时注销离职人员账号。整改：账号季度清理，"
                    "该密钥保持暂停，另发新密钥；查询量阈值维持 500。"
                ),
            )
    with unit_of_work(database, actor) as ctx:
        drill = service.open_incident(
            ctx,
            IncidentIn(
                title=DRILL_TITLE,
                unit_id=exporter.provider_unit_id,
                drill=True,
                window_hours=24 * 7,
            ),
        )
        service.note_incident(
            ctx, drill.id, NoteIn(text="模拟夜间批量导出告警，值班人员 12 分钟内完成研判")
        )
        service.close_incident(
            ctx,
            drill.id,
            CloseIn(review="演练结论：告警送达及时，处置流程清晰；需补充提供单位夜间联系人名单。"),
        )
    return len(calls)
