"""Decisions that say something: a refusal (and every other reason that must be given) is at
least ten characters after trimming, a refusal of a conditional entry cites its basis, and
what people wrote is kept as typed (full-width punctuation included)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.sharing import service
from shuzhi.sharing.schemas import DecisionIn
from shuzhi.validation import MIN_REASON_WIDTH
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.sharing.helpers import application, provider_cdo, request, shared_entry

# Every full-width mark that used to be rewritten to ASCII.
TYPED = "用途与所列信息项不符，缺少授权文件（见第三条）；请补充：授权书"
BASIS = "《政务数据共享条例》；目录共享条件：仅限依法履职需要"


def _pending(database: Database, seeded: Org, share: str = "conditional") -> int:
    entry = shared_entry(database, share)
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, application(database))
    return out.id


def _refuse(database: Database, seeded: Org, request_id: int, **data: object):  # type: ignore[no-untyped-def]
    with acting(database, provider_cdo(seeded)) as ctx:
        return service.decide_share_request(
            ctx, request_id, DecisionIn.model_validate({"outcome": "refuse", **data})
        )


@pytest.mark.parametrize(
    "reason", ["不行", "  不行      ", "不同意。", "x" * (MIN_REASON_WIDTH - 1), "材料不全"]
)
def test_a_bare_no_is_not_a_refusal_reason(database: Database, reason: str) -> None:
    seeded = seed_org(database)
    request_id = _pending(database, seeded)
    with pytest.raises(Invalid) as err:
        _refuse(database, seeded, request_id, reason=reason, basis=BASIS)
    (problem,) = err.value.errors
    assert problem.field == "reason"
    assert "10" in problem.message.zh and "10" in problem.message.en
    with acting(database, provider_cdo(seeded)) as ctx:
        assert service.get_share_request(ctx, request_id).status == "pending"


def test_refusing_a_conditional_request_cites_its_basis(database: Database) -> None:
    seeded = seed_org(database)
    request_id = _pending(database, seeded)
    with pytest.raises(Invalid) as err:
        _refuse(database, seeded, request_id, reason="不行")
    # both problems at once, each in Chinese and English
    assert {e.field for e in err.value.errors} == {"reason", "basis"}
    assert all(e.message.zh and e.message.en for e in err.value.errors)
    refused = _refuse(database, seeded, request_id, reason=TYPED, basis=BASIS)
    assert refused.status == "refused"
    assert refused.decision_reason == TYPED and refused.decision_basis == BASIS
    assert BASIS in refused.history[-1].note


def test_appeal_arbitration_and_revocation_reasons_say_something(database: Database) -> None:
    seeded = seed_org(database)
    request_id = _pending(database, seeded, "not_shared")  # refused by the platform
    liaison = seeded.actor(Role.DATA_LIAISON)
    with pytest.raises(Invalid), acting(database, liaison) as ctx:
        service.appeal_share_request(ctx, request_id, "申诉")
    appeal = "为核发补贴确需核验身份（民政部门依职权）；请仲裁"
    with acting(database, liaison) as ctx:
        assert service.appeal_share_request(ctx, request_id, appeal).appeal_reason == appeal
    executive = seeded.actor(Role.CDO_EXECUTIVE)
    with pytest.raises(Invalid), acting(database, executive) as ctx:
        service.arbitrate_share_request(
            ctx, request_id, DecisionIn(outcome="refuse", reason="维持")
        )
    with acting(database, executive) as ctx:
        final = service.arbitrate_share_request(
            ctx, request_id, DecisionIn(outcome="refuse", reason=TYPED)
        )
    assert final.arbitration_note == TYPED
    # a grant cannot be revoked with a word either
    entry = shared_entry(database, "unconditional")
    granted = request(database, liaison, entry, application(database))
    assert granted.grant_id is not None
    with pytest.raises(Invalid), acting(database, provider_cdo(seeded)) as ctx:
        service.revoke_grant(ctx, granted.grant_id, "停止")


def test_approvals_need_no_reason_and_text_is_kept_as_typed(database: Database) -> None:
    seeded = seed_org(database)
    purpose = "核验办事群众身份（社会救助）：仅限本局使用；不得转交"
    entry = shared_entry(database, "conditional")
    out = request(
        database,
        seeded.actor(Role.DATA_LIAISON),
        entry,
        application(database),
        purpose=purpose,
        legal_basis=BASIS,
    )
    assert out.purpose == purpose and out.legal_basis == BASIS
    with acting(database, provider_cdo(seeded)) as ctx:
        done = service.decide_share_request(
            ctx, out.id, DecisionIn(outcome="approve", reason="同意（限一年）")
        )
    assert done.status == "approved" and done.decision_reason == "同意（限一年）"


def test_escalated_request_refused_by_the_executive_with_a_basis(database: Database) -> None:
    seeded = seed_org(database)
    request_id = _pending(database, seeded)
    with acting(database, SYSTEM) as ctx:
        service.escalate_overdue(ctx, utcnow() + timedelta(days=60))
    executive = seeded.actor(Role.CDO_EXECUTIVE)
    with pytest.raises(Invalid) as err, acting(database, executive) as ctx:
        service.decide_share_request(
            ctx, request_id, DecisionIn(outcome="refuse", reason="超期未决，依职权拒绝共享")
        )
    assert [e.field for e in err.value.errors] == ["basis"]
