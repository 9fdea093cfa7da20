"""Sandbox grants: terms validated with every problem at once (bilingual), decided in the
sharing request → decision flow (narrowing only), ended by revocation and expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from shuzhi.audit import service as audit
from shuzhi.context import Actor, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid
from shuzhi.sandbox import service
from shuzhi.sandbox.rules import QueryRefused, SandboxForbidden
from shuzhi.sandbox.schemas import SandboxDecisionIn, SandboxRequestIn
from shuzhi.sharing.models import Grant
from tests.catalog.helpers import item
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import published_entry
from tests.sandbox import helpers
from tests.sandbox.helpers import HEALTH, HEALTH_TERMS, Sandbox, sandbox
from tests.sharing.helpers import application, key


def _request(code: str, app: str, terms: dict[str, Any]) -> SandboxRequestIn:
    return SandboxRequestIn.model_validate(
        {
            "resource_code": code,
            "application_code": app,
            "purpose": "统计独居慢病老人分布",
            "legal_basis": "《政务数据共享条例》",
            "terms": terms,
        }
    )


def test_bad_terms_report_every_problem_bilingually(database: Database) -> None:
    seeded = seed_org(database)
    code = helpers._entry(database, "B", HEALTH)
    app = application(database, "A")
    bad = {
        "columns": {"身份证号": "dimension", "不存在": "aggregate", "社区": "hidden"},
        "extremes": ["社区"],
        "entity_column": "身份证号",
        "dp_required": True,
    }
    with pytest.raises(Invalid) as caught, acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.request_sandbox(ctx, _request(code, app, bad))
    fields = {e.field: e.message for e in caught.value.errors}
    assert set(fields) == {
        "terms.columns.不存在",
        "terms.entity_column",
        "terms.extremes.社区",
        "terms.epsilon",
    }
    assert all(m.zh != m.en and m.zh and m.en for m in fields.values())
    # Out-of-range k and unknown roles are refused by the schema.
    for over in ({"k": 1}, {"k": 100_001}, {"columns": {"社区": "everything"}}, {"epsilon": -1}):
        with pytest.raises(ValueError):
            _request(code, app, {**HEALTH_TERMS, **over})


def test_decision_may_narrow_but_not_widen(database: Database) -> None:
    seeded = seed_org(database)
    code = published_entry(
        database,
        "B",
        items=[item(c, share_type="conditional") for c in HEALTH],
        share_type="conditional",
        share_conditions="仅限依法履职需要",
        not_shared_basis="《政务数据共享条例》",
    )
    from shuzhi.context import SYSTEM
    from shuzhi.lake import service as lake
    from shuzhi.lake.readers import FileSource

    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(helpers._parquet(HEALTH)))
    app = application(database, "A")
    token = key(database, app)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        out = service.request_sandbox(ctx, _request(code, app, HEALTH_TERMS))
    assert out.status == "pending" and out.delivery == ["sandbox"] and out.grant_id is None
    provider = seeded.other_unit_actor(Role.UNIT_CDO)
    wider = {**HEALTH_TERMS, "columns": {**HEALTH_TERMS["columns"], "诊断": "dimension"}, "k": 5}
    with pytest.raises(Invalid) as caught, acting(database, provider) as ctx:
        service.decide_sandbox(
            ctx,
            out.id,
            SandboxDecisionIn.model_validate(
                {"outcome": "partly_approve", "terms": wider, "reason": "按最小必要原则收窄"}
            ),
        )
    assert {e.field for e in caught.value.errors} == {"terms.columns.诊断", "terms.k"}
    narrower = {
        **HEALTH_TERMS,
        "columns": {**HEALTH_TERMS["columns"], "年龄": "hidden"},
        "k": 30,
    }
    with acting(database, provider) as ctx:
        decided = service.decide_sandbox(
            ctx,
            out.id,
            SandboxDecisionIn.model_validate(
                {
                    "outcome": "partly_approve",
                    "terms": narrower,
                    "reason": "年龄列不参与本次统计分析",
                }
            ),
        )
    assert decided.grant_id is not None
    sb = Sandbox(database, seeded, code, code, app, token)
    with pytest.raises(QueryRefused) as refused:
        sb.query(f'SELECT 年龄, COUNT(*) FROM "{code}" GROUP BY 年龄')
    assert refused.value.rule == "hidden_column"
    # k = 30 now: 西苑 (25 people) is suppressed as well.
    answer = sb.query(f'SELECT 社区, COUNT(*) FROM "{code}" GROUP BY 社区')
    assert answer.rows == [["东苑", 40]] and sb.withheld(answer) == 2 and answer.k == 30


def test_strictest_k_wins_across_providers(database: Database) -> None:
    sb = sandbox(database, seed_org(database), {**HEALTH_TERMS, "k": 30})
    joined = sb.query(
        f'SELECT a.社区, COUNT(*) FROM "{sb.health}" a JOIN "{sb.population}" b '
        "ON a.身份证号 = b.身份证号 GROUP BY a.社区"
    )
    assert joined.k == 30 and joined.rows == [["东苑", 40]] and sb.withheld(joined) == 2
    alone = sb.query(f'SELECT 独居, COUNT(*) FROM "{sb.population}" GROUP BY 独居')
    assert alone.k == 10


def test_revocation_is_recorded_and_expiry_stops_queries(database: Database) -> None:
    sb = sandbox(database, seed_org(database))
    from shuzhi.sharing import service as sharing

    grant_id = _grant_of(sb, sb.population)
    with acting(database, sb.seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        sharing.revoke_grant(ctx, grant_id, "数据使用目的已变更，停止授权")
    with acting(database, Actor(kind="user", name="auditor", role=Role.AUDITOR)) as ctx:
        ended = audit.view_audit(ctx, action="sandbox.grant_ended").items
    assert [e.details["grant_id"] for e in ended] == [grant_id]
    with pytest.raises(SandboxForbidden):
        sb.query(f'SELECT 独居, COUNT(*) FROM "{sb.population}" GROUP BY 独居')
    # An expired grant answers nothing either (no state change needed: the clock decides).
    with acting(database, Actor(kind="system", name="shuzhi")) as ctx:
        ctx.db.execute(
            update(Grant)
            .where(Grant.id == _grant_of(sb, sb.health))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(SandboxForbidden) as caught:
        sb.query(f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区')
    assert caught.value.rule == "no_grant"


def _grant_of(sb: Sandbox, code: str) -> int:
    from sqlalchemy import select

    from shuzhi.sandbox.models import SandboxTerms

    with acting(sb.database, Actor(kind="system", name="shuzhi")) as ctx:
        found = ctx.db.scalar(
            select(SandboxTerms.grant_id).where(SandboxTerms.resource_code == code)
        )
    assert found is not None
    return found
