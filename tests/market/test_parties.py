"""Market parties: application, review, suspension, revocation; operator accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from shuzhi.audit import service as audit
from shuzhi.auth import service as auth
from shuzhi.auth.schemas import UserCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid, NotFound
from shuzhi.market import service
from shuzhi.market.schemas import PartyIn
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.market.helpers import executive, operator_party, party_data


def _refusals(database: Database, operation: str) -> list[dict[str, object]]:
    with acting(database, SYSTEM) as ctx:
        page = audit.view_audit(ctx, action="market.refused")
    return [e.details for e in page.items if e.details["operation"] == operation]


def test_invalid_uscc_is_refused_audited_and_nothing_stored(database: Database) -> None:
    seeded = seed_org(database)
    bad = party_data(uscc="91440101MA5CXXXXX1")
    with pytest.raises(Invalid) as caught, acting(database, executive(seeded)) as ctx:
        service.apply_market_party(ctx, PartyIn.model_validate(bad))
    err = caught.value
    assert err.errors[0].field == "uscc"
    assert (
        "统一社会信用代码" in err.errors[0].message.zh
        and "social credit" in err.errors[0].message.en
    )
    with acting(database, SYSTEM) as ctx:
        assert service.list_market_parties(ctx) == []
    (refusal,) = _refusals(database, "apply_market_party")
    assert "uscc" in str(refusal["reason"])


def test_approval_gives_the_operator_an_organisation_its_accounts_belong_to(
    database: Database,
) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded, unit=None)
    assert party.status == "approved" and party.unit_code is not None
    assert party.unit_code.startswith("MKT")
    with acting(database, SYSTEM) as ctx:
        auth.create_user(
            ctx,
            UserCreate(
                username="citydata.op",
                display_name="城市数据集团运营",
                password=PASSWORD,
                role=Role.OPERATOR,
                unit_code=party.unit_code,
            ),
        )
        actor = auth.login(ctx, "citydata.op", PASSWORD)
    other = operator_party(database, seeded, unit="A", name="另一运营机构有限公司")
    with acting(database, actor) as ctx:
        seen = service.list_market_parties(ctx)
        assert [p.id for p in seen] == [party.id]
        with pytest.raises(Forbidden):
            service.get_market_party(ctx, other.id)


def test_refusal_needs_a_reason_and_frees_the_entity_to_apply_again(database: Database) -> None:
    seeded = seed_org(database)
    data = PartyIn.model_validate(party_data())
    with acting(database, executive(seeded)) as ctx:
        applied = service.apply_market_party(ctx, data)
    with pytest.raises(Invalid), acting(database, executive(seeded)) as ctx:
        service.decide_market_party(ctx, applied.id, approve=False, reason="不行")
    with acting(database, executive(seeded)) as ctx, pytest.raises(Conflict):
        service.apply_market_party(ctx, data)
    with acting(database, executive(seeded)) as ctx:
        refused = service.decide_market_party(
            ctx, applied.id, approve=False, reason="未提交竞争性选择的中标通知书"
        )
        assert refused.status == "refused"
        again = service.apply_market_party(ctx, data)
        assert again.status == "applied"


def test_broker_needs_grade_sector_and_a_licence_still_valid(database: Database) -> None:
    seeded = seed_org(database)
    today = utcnow().date()
    expired = party_data(
        kind="broker",
        licence_grade="B",
        licence_sector="金融",
        licence_valid_from=str(today - timedelta(days=800)),
        licence_valid_until=str(today - timedelta(days=1)),
    )
    with pytest.raises(Invalid) as caught, acting(database, executive(seeded)) as ctx:
        service.apply_market_party(ctx, PartyIn.model_validate(expired))
    assert "过期" in caught.value.errors[0].message.zh
    assert "expired" in caught.value.errors[0].message.en
    bare = party_data(kind="broker")
    with pytest.raises(Invalid) as caught, acting(database, executive(seeded)) as ctx:
        service.apply_market_party(ctx, PartyIn.model_validate(bare))
    assert {e.field for e in caught.value.errors} >= {"licence_grade", "licence_sector"}
    assert _refusals(database, "apply_market_party")


def test_merchant_classes(database: Database) -> None:
    seeded = seed_org(database)
    with pytest.raises(Invalid), acting(database, executive(seeded)) as ctx:
        service.apply_market_party(ctx, PartyIn.model_validate(party_data(kind="merchant")))
    with pytest.raises(ValidationError):
        PartyIn.model_validate(party_data(kind="merchant", merchant_classes=["bank"]))
    with acting(database, executive(seeded)) as ctx:
        merchant = service.apply_market_party(
            ctx,
            PartyIn.model_validate(
                party_data(kind="merchant", merchant_classes=["delivery", "assessment"])
            ),
        )
    assert merchant.merchant_classes == ["delivery", "assessment"]


def test_suspend_reinstate_revoke(database: Database) -> None:
    seeded = seed_org(database)
    party = operator_party(database, seeded)
    with acting(database, executive(seeded)) as ctx:
        assert service.suspend_market_party(ctx, party.id, "未按期报送安全评估").status == (
            "suspended"
        )
        with pytest.raises(Conflict):
            service.suspend_market_party(ctx, party.id, "未按期报送安全评估")
    with acting(database, executive(seeded)) as ctx:
        assert service.reinstate_market_party(ctx, party.id, "已补交安全评估报告").status == (
            "approved"
        )
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        service.revoke_market_party(ctx, party.id, "严重违反安全义务")
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        assert service.revoke_market_party(ctx, party.id, "严重违反安全义务").status == "revoked"
    with pytest.raises(NotFound), acting(database, executive(seeded)) as ctx:
        service.get_market_party(ctx, 10_000)
    with acting(database, SYSTEM) as ctx:
        actions = [e.action for e in audit.view_audit(ctx).items]
    for action in ("party_applied", "party_approved", "party_suspended", "party_revoked"):
        assert f"market.{action}" in actions
