"""Authorisation agreements: states, ``covers`` and the grants that end with an agreement."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shuzhi.audit import service as audit
from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.market import service
from shuzhi.market.schemas import AgreementIn
from shuzhi.sharing import service as sharing
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.market.helpers import (
    active_agreement,
    agreement_data,
    executive,
    figures_entry,
    operator_party,
)
from tests.sharing.helpers import application, approve, request, shared_entry


def _grant_to_a(database: Database, seeded: Org, entry: str) -> int:
    app = application(database)
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, app, columns=["姓名"])
    decided = approve(database, seeded, out.id)
    assert decided.grant_id is not None
    return decided.grant_id


def test_states_and_who_moves_them(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database, loaded=False)
    with acting(database, executive(seeded)) as ctx:
        drafted = service.draft_agreement(
            ctx, AgreementIn.model_validate(agreement_data(party.id, [code]))
        )
        assert drafted.status == "draft"
        # nothing is in force before approval and activation
        assert not service.covers(ctx, drafted.id, code)
        with pytest.raises(Conflict):
            service.activate_agreement(ctx, drafted.id)
    with pytest.raises(Forbidden), acting(database, executive(seeded)) as ctx:
        service.approve_agreement(ctx, drafted.id)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        assert service.approve_agreement(ctx, drafted.id).status == "approved"
    with acting(database, executive(seeded)) as ctx:
        active = service.activate_agreement(ctx, drafted.id)
        assert active.status == "active"
        assert service.covers(ctx, active.id, code)
        service.suspend_agreement(ctx, active.id, "运营机构未履行安全义务")
        assert not service.covers(ctx, active.id, code)
        assert service.activate_agreement(ctx, active.id).status == "active"
    with acting(database, SYSTEM) as ctx:
        changes = [
            (e.details["before"], e.details["after"])
            for e in audit.view_audit(ctx, action="market.agreement_changed").items
        ]
    assert ("approved", "active") in changes and ("active", "suspended") in changes


def test_covers_names_why_not(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    inside = figures_entry(database, loaded=False)
    outside = figures_entry(database, loaded=False)
    agreement = active_agreement(database, seeded, party.id, [inside])
    with acting(database, SYSTEM) as ctx:
        assert service.covers(ctx, agreement.id, inside)
        assert service.operator_may_use(ctx, seeded.unit_ids["A"], inside)
        assert not service.operator_may_use(ctx, seeded.unit_ids["B"], inside)
        assert not service.operator_may_use(ctx, seeded.unit_ids["A"], outside)
        reason = service.why_not_covered(ctx, agreement.id, outside)
        assert reason is not None and "授权范围" in reason[0] and "outside" in reason[1]
        after_end = agreement.ends_on + timedelta(days=1)
        assert not service.covers(ctx, agreement.id, inside, on=after_end)
        assert not service.covers(ctx, 999_999, inside)


def test_draft_is_validated(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    today = utcnow().date()
    bad = agreement_data(
        party.id,
        ["NO-SUCH-ENTRY"],
        starts_on=str(today),
        ends_on=str(today + timedelta(days=6 * 366)),
    )
    with pytest.raises(Invalid) as caught, acting(database, executive(seeded)) as ctx:
        service.draft_agreement(ctx, AgreementIn.model_validate(bad))
    fields = {e.field for e in caught.value.errors}
    assert fields == {"resources", "ends_on"}
    with acting(database, SYSTEM) as ctx:
        assert service.list_agreements(ctx) == []
        refused = audit.view_audit(ctx, action="market.refused").items
    assert refused and refused[0].details["operation"] == "draft_agreement"


def test_what_may_be_authorised_is_the_services_answer(database: Database) -> None:
    """Published entries of every unit, ordered by unit then code; an entry still in draft
    or withdrawn is not offered and is refused when named (the API sends codes)."""
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    first = figures_entry(database, unit="B", loaded=False)
    second = figures_entry(database, unit="A", loaded=False)
    with acting(database, executive(seeded)) as ctx:
        offered = service.authorisable_resources(ctx)
    codes = [r.code for r in offered]
    assert codes.index(second) < codes.index(first)  # department A comes first
    by_code = {r.code: r for r in offered}
    assert by_code[first].unit_code == "B" and by_code[first].name.startswith("人口数据")
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        service.authorisable_resources(ctx)
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        catalog.withdraw_entry(ctx, first, "资源已合并到新目录")
    with acting(database, executive(seeded)) as ctx:
        assert first not in [r.code for r in service.authorisable_resources(ctx)]
    with pytest.raises(Invalid) as caught, acting(database, executive(seeded)) as ctx:
        service.draft_agreement(
            ctx, AgreementIn.model_validate(agreement_data(party.id, [first, second]))
        )
    (error,) = caught.value.errors
    assert error.field == "resources" and f"目录 {first} 已撤销" in error.message.zh
    assert "withdrawn" in error.message.en


def test_agreement_end_revokes_its_grants(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)  # department A's organisation
    entry = shared_entry(database, unit="B")
    other = shared_entry(database, unit="B")
    grant_id = _grant_to_a(database, seeded, entry)
    untouched = _grant_to_a(database, seeded, other)
    agreement = active_agreement(database, seeded, party.id, [entry])
    # the other entry is outside the agreement
    with pytest.raises(Conflict), acting(database, executive(seeded)) as ctx:
        service.attach_agreement_grant(ctx, agreement.id, untouched)
    with acting(database, executive(seeded)) as ctx:
        linked = service.attach_agreement_grant(ctx, agreement.id, grant_id)
        assert linked.grant_ids == [grant_id]
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        ended = service.terminate_agreement(ctx, agreement.id, "运营机构严重违约，依协议终止")
        assert ended.status == "terminated"
    with acting(database, SYSTEM) as ctx:
        revoked = sharing.get_grant(ctx, grant_id)
        assert revoked.status == "revoked"
        assert revoked.revoke_reason is not None and "授权运营协议" in revoked.revoke_reason
        assert sharing.get_grant(ctx, untouched).status == "active"
        assert not service.covers(ctx, agreement.id, entry)
    with pytest.raises(Conflict), acting(database, executive(seeded)) as ctx:
        service.activate_agreement(ctx, agreement.id)


def test_expiry_sweep_ends_agreements_and_their_grants(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    entry = shared_entry(database, unit="B")
    grant_id = _grant_to_a(database, seeded, entry)
    agreement = active_agreement(database, seeded, party.id, [entry])
    with acting(database, executive(seeded)) as ctx:
        service.attach_agreement_grant(ctx, agreement.id, grant_id)
        assert service.expire_agreements(ctx) == []
    with acting(database, executive(seeded)) as ctx:
        assert service.expire_agreements(ctx, on=agreement.ends_on + timedelta(days=1)) == [
            agreement.id
        ]
    with acting(database, SYSTEM) as ctx:
        assert service.get_agreement(ctx, agreement.id).status == "expired"
        assert sharing.get_grant(ctx, grant_id).status == "revoked"


def test_revoking_the_operator_terminates_its_agreements(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    code = figures_entry(database, loaded=False)
    agreement = active_agreement(database, seeded, party.id, [code])
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.revoke_market_party(ctx, party.id, "以欺骗手段取得运营资格")
    with acting(database, SYSTEM) as ctx:
        assert service.get_agreement(ctx, agreement.id).status == "terminated"


def test_operator_sees_only_its_own_agreements(database: Database) -> None:
    seeded = seed_org(database)
    mine = operator_party(database, seeded, unit="A")
    theirs = operator_party(database, seeded, unit="B", name="乙方运营有限公司")
    code = figures_entry(database, loaded=False)
    own = active_agreement(database, seeded, mine.id, [code])
    other = active_agreement(database, seeded, theirs.id, [code])
    with acting(database, seeded.actor(Role.OPERATOR)) as ctx:
        assert [a.id for a in service.list_agreements(ctx)] == [own.id]
        with pytest.raises(Forbidden):
            service.get_agreement(ctx, other.id)
