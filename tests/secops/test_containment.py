"""Containment in one step: a suspended key or grant is refused by the gateway within
seconds (the caches obey the grants revision), lifting restores exactly what was suspended,
a revoked subject cannot be contained, lifting needs the bureau; incidents record it all."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi.audit.models import AuditEntry
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.portal import service as portal
from shuzhi.portal.models import Publication
from shuzhi.secops import service
from shuzhi.secops.schemas import CloseIn, ContainmentIn, IncidentIn, LiftIn, NoteIn
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service as sharing
from shuzhi.sharing.models import AppKey, Grant
from tests.conftest import acting
from tests.factories import seed_org
from tests.gateway.helpers import fresh_app, gateway, ids, share
from tests.nodes import wait_for
from tests.portal.helpers import open_entry, opened, provider
from tests.secops.helpers import HOUR, evaluate, lookups, replay

REACH_SECONDS = 5.0


def _key_id(database: Database, token: str) -> int:
    prefix = token.split("_")[1]
    with database.sessions() as session:
        return int(session.scalar(select(AppKey.id).where(AppKey.prefix == prefix)) or 0)


def _grant_id(database: Database) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(Grant.id).order_by(Grant.id.desc())) or 0)


def _actions(database: Database) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_a_contained_key_stops_working_and_lifting_restores_it(database: Database) -> None:
    shared = share(database)
    executive = shared.seeded.actor(Role.CDO_EXECUTIVE)
    key_id = _key_id(database, shared.token)
    url = f"/api/v1/share/{shared.code}/records/{ids(1)[0]}"
    with gateway(fresh_app(database)) as client:
        for _ in range(2):  # principal and grant cached
            assert client.get(url, headers=shared.auth).status_code == 200
        with acting(database, executive) as ctx:
            held = service.contain(
                ctx,
                ContainmentIn(
                    kind="application_key", id=key_id, reason="疑似枚举攻击，先行暂停密钥"
                ),
            )
        assert held.active and held.kind == "application_key"
        took = wait_for(lambda: client.get(url, headers=shared.auth).status_code == 401, 30)
        assert took <= REACH_SECONDS
        assert "suspended" in client.get(url, headers=shared.auth).text
        # Containing it twice, or lifting without the bureau's role, is refused.
        with pytest.raises(Conflict), acting(database, executive) as ctx:
            service.contain(
                ctx,
                ContainmentIn(kind="application_key", id=key_id, reason="再次暂停同一密钥以防万一"),
            )
        with pytest.raises(Forbidden), acting(database, shared.seeded.actor(Role.UNIT_CDO)) as ctx:
            service.lift_containment(ctx, held.id, LiftIn(reason="核实无误"))
        assert "operation.denied" in _actions(database)
        with acting(database, executive) as ctx:
            lifted = service.lift_containment(ctx, held.id, LiftIn(reason="核实为误报，恢复使用"))
        assert not lifted.active and lifted.lifted_by == "user:exec"
        took = wait_for(lambda: client.get(url, headers=shared.auth).status_code == 200, 30)
        assert took <= REACH_SECONDS
        with pytest.raises(Conflict), acting(database, executive) as ctx:
            service.lift_containment(ctx, held.id, LiftIn())
    actions = _actions(database)
    assert "secops.contained" in actions and "secops.containment_lifted" in actions


def test_a_contained_grant_is_refused_and_a_suspension_is_not_a_revocation(
    database: Database,
) -> None:
    shared = share(database)
    executive = shared.seeded.actor(Role.CDO_EXECUTIVE)
    grant_id = _grant_id(database)
    url = f"/api/v1/share/{shared.code}/records?limit=1"
    with gateway(fresh_app(database)) as client:
        assert client.get(url, headers=shared.auth).status_code == 200
        with acting(database, executive) as ctx:
            held = service.contain(
                ctx, ContainmentIn(kind="grant", id=grant_id, reason="授权用途外的批量导出，暂停")
            )
        wait_for(lambda: client.get(url, headers=shared.auth).status_code == 403, REACH_SECONDS)
        with acting(database, executive) as ctx:
            grant = next(g for g in sharing.list_grants(ctx) if g.id == grant_id)
            assert grant.status == "active"  # suspended, not revoked
            service.lift_containment(ctx, held.id, LiftIn(reason="用途核实完毕"))
        wait_for(lambda: client.get(url, headers=shared.auth).status_code == 200, REACH_SECONDS)


def test_containing_something_already_revoked_is_a_clear_error(database: Database) -> None:
    shared = share(database)
    executive = shared.seeded.actor(Role.CDO_EXECUTIVE)
    key_id = _key_id(database, shared.token)
    with acting(database, SYSTEM) as ctx:
        apps.revoke_app_key(ctx, shared.app, shared.token.split("_")[1])
    with pytest.raises(Conflict) as refused, acting(database, executive) as ctx:
        service.contain(
            ctx,
            ContainmentIn(kind="application_key", id=key_id, reason="疑似枚举攻击，先行暂停密钥"),
        )
    assert "revoked" in refused.value.message.en and "吊销" in refused.value.message.zh
    with pytest.raises(Invalid), acting(database, executive) as ctx:  # a reason is required
        service.contain(ctx, ContainmentIn(kind="grant", id=_grant_id(database), reason="停"))


def test_an_incident_from_an_alert_with_containment_impact_and_review(database: Database) -> None:
    shared = share(database)
    executive = shared.seeded.actor(Role.CDO_EXECUTIVE)
    key_id = _key_id(database, shared.token)
    url = f"/api/v1/share/{shared.code}/records/"
    with gateway(fresh_app(database)) as client:
        for resident in ids(30):
            assert client.get(url + resident, headers=shared.auth).status_code == 200
    from shuzhi.db.base import utcnow

    now = utcnow()
    replay(database, lookups(600, now - HOUR, now, (f"d{i}" for i in range(600)), key_id=key_id))
    (alert,) = [a for a in evaluate(database, now).new if a.rule == "enumeration"]
    with acting(database, executive) as ctx:
        incident = service.open_incident(ctx, IncidentIn(alert_id=alert.id))
        service.contain(
            ctx,
            ContainmentIn(
                kind="application_key",
                id=key_id,
                reason="枚举攻击进行中，暂停密钥",
                incident_id=incident.id,
            ),
        )
        service.note_incident(ctx, incident.id, NoteIn(text="已通知甲局核查其业务系统"))
        with pytest.raises(Invalid):
            service.close_incident(ctx, incident.id, CloseIn(review="好"))
        closed = service.close_incident(
            ctx, incident.id, CloseIn(review="甲局系统被植入脚本，已清除并更换密钥，复盘完成")
        )
        seen = service.get_incident(ctx, incident.id)
    assert closed.status == "closed" and not seen.drill
    assert [e.kind for e in seen.timeline] == ["opened", "contained", "note", "closed"]
    assert [c.subject_id for c in seen.containments] == [key_id]
    assert seen.impact is not None
    assert seen.impact.calls == 630 and seen.impact.served_calls == 630
    assert seen.impact.records == 630  # 30 real lookups of one record each, 600 replayed
    with acting(database, executive) as ctx:
        drill = service.open_incident(
            ctx, IncidentIn(title="季度攻防演练：密钥泄露", drill=True, unit_id=None)
        )
    assert drill.drill and drill.status == "open"


def test_a_contained_publication_leaves_the_portal_until_lifted(database: Database) -> None:
    seeded = seed_org(database)
    code = open_entry(database, rows=5)
    opened(database, seeded, code)
    with database.sessions() as session:
        publication_id = session.scalar(
            select(Publication.id).where(Publication.resource_code == code)
        )
    assert publication_id is not None
    executive = seeded.actor(Role.CDO_EXECUTIVE)
    page = f"/open/datasets/{code.replace('/', '-')}"
    with TestClient(fresh_app(database)) as client:
        assert client.get(page).status_code == 200
        with acting(database, executive) as ctx:
            held = service.contain(
                ctx,
                ContainmentIn(
                    kind="publication", id=publication_id, reason="开放数据疑含未脱敏个人信息"
                ),
            )
        assert client.get(page).status_code == 404
        # The provider cannot reopen it around the containment.
        with pytest.raises(Conflict), acting(database, provider(seeded)) as ctx:
            portal.open_dataset(ctx, code)
        with acting(database, executive) as ctx:
            service.lift_containment(ctx, held.id, LiftIn(reason="核查后确认已脱敏，恢复开放"))
        assert client.get(page).status_code == 200
    with pytest.raises(Conflict), acting(database, executive) as ctx:  # closed: nothing to hold
        portal.close_dataset(ctx, code, "数据已过时，停止开放该目录")
        service.contain(
            ctx,
            ContainmentIn(
                kind="publication", id=publication_id, reason="开放数据疑含未脱敏个人信息"
            ),
        )
