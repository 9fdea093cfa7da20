"""Containing a sandbox grant and an operator agreement (through the hook seam): reversible,
audited, effective at once; something already ended is a 409; lifting needs the bureau."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shuzhi.audit.models import AuditEntry
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.market import service as market
from shuzhi.sandbox.rules import SandboxForbidden
from shuzhi.secops import service
from shuzhi.secops.schemas import ContainmentIn, LiftIn
from shuzhi.sharing import access
from shuzhi.sharing import service as sharing
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.market.helpers import active_agreement, executive, operator_party
from tests.sandbox.helpers import sandbox
from tests.sharing.helpers import application, approve, request, shared_entry


def _actions(database: Database) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_a_contained_sandbox_grant_stops_answering_until_lifted(database: Database) -> None:
    sb = sandbox(database, seed_org(database))
    sql = f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区'
    assert sb.query(sql).status == "done"
    with acting(database, SYSTEM) as ctx:
        grants = [g for g in sharing.list_grants(ctx) if g.resource_code == sb.health]
    grant_id = grants[0].id
    exec_ = executive(sb.seeded)
    with acting(database, exec_) as ctx:
        held = service.contain(
            ctx, ContainmentIn(kind="sandbox_grant", id=grant_id, reason="疑似试探个体，暂停沙箱")
        )
    assert held.kind == "sandbox_grant" and held.active
    with pytest.raises(SandboxForbidden):
        sb.query(sql)
    with pytest.raises(Forbidden), acting(database, sb.seeded.actor(Role.UNIT_CDO)) as ctx:
        service.lift_containment(ctx, held.id, LiftIn(reason="核实无误"))
    with acting(database, exec_) as ctx:
        service.lift_containment(ctx, held.id, LiftIn(reason="核实为正常统计，恢复"))
    assert sb.query(sql).status == "done"
    assert {"secops.contained", "secops.containment_lifted"} <= set(_actions(database))


def test_a_grant_without_the_sandbox_mode_is_no_sandbox_grant(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, unit="B")
    app = application(database)
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, app, columns=["姓名"])
    grant_id = approve(database, seeded, out.id).grant_id
    assert grant_id is not None
    with pytest.raises(Invalid), acting(database, executive(seeded)) as ctx:
        service.contain(
            ctx, ContainmentIn(kind="sandbox_grant", id=grant_id, reason="误选类型测试")
        )


def _agreement_with_grant(database: Database) -> tuple[Org, int, int]:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    entry = shared_entry(database, unit="B")
    app = application(database)
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, app, columns=["姓名"])
    grant_id = approve(database, seeded, out.id).grant_id
    assert grant_id is not None
    agreement = active_agreement(database, seeded, party.id, [entry])
    with acting(database, executive(seeded)) as ctx:
        market.attach_agreement_grant(ctx, agreement.id, grant_id)
    return seeded, agreement.id, grant_id


def test_a_contained_agreement_suspends_it_and_its_grants_until_lifted(
    database: Database,
) -> None:
    seeded, agreement_id, grant_id = _agreement_with_grant(database)
    exec_ = seeded.actor(Role.CDO_EXECUTIVE)
    # A unit's CDO may not contain an operator's agreement with the region.
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.contain(ctx, ContainmentIn(kind="agreement", id=agreement_id, reason="越权尝试"))
    with acting(database, exec_) as ctx:
        held = service.contain(
            ctx, ContainmentIn(kind="agreement", id=agreement_id, reason="运营机构疑似数据外泄")
        )
    assert held.held_grants == [grant_id]
    with acting(database, SYSTEM) as ctx:
        assert market.get_agreement(ctx, agreement_id).status == "suspended"
        assert not market.covers(ctx, agreement_id, sharing.get_grant(ctx, grant_id).resource_code)
        grant = sharing.get_grant(ctx, grant_id)
        assert grant.status == "active"  # suspended, not revoked
    with acting(database, SYSTEM) as ctx:
        assert access.grant_row(ctx.db, grant_id).suspended_at is not None
    # Containing it again is a 409.
    with pytest.raises(Conflict), acting(database, exec_) as ctx:
        service.contain(
            ctx, ContainmentIn(kind="agreement", id=agreement_id, reason="重复处置测试")
        )
    with acting(database, exec_) as ctx:
        service.lift_containment(ctx, held.id, LiftIn(reason="核查完毕，恢复运营"))
    with acting(database, SYSTEM) as ctx:
        assert market.get_agreement(ctx, agreement_id).status == "active"
        assert access.grant_row(ctx.db, grant_id).suspended_at is None
    # The market audits both changes of the agreement; security operations its own.
    actions = _actions(database)
    assert actions.count("market.agreement_changed") >= 4  # approved, active, held, back
    assert {"secops.contained", "secops.containment_lifted"} <= set(actions)


def test_containing_an_ended_agreement_is_a_409(database: Database) -> None:
    seeded, agreement_id, _ = _agreement_with_grant(database)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        market.terminate_agreement(ctx, agreement_id, "运营机构严重违约，依协议终止")
    with pytest.raises(Conflict), acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.contain(
            ctx, ContainmentIn(kind="agreement", id=agreement_id, reason="已终止的协议")
        )
