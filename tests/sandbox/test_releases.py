"""Releases: figures leave the sandbox only after every provider approved (or through a
template the provider pre-approved), as answered, formula-safe, audited."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from shuzhi.audit.models import AuditEntry as AuditRow
from shuzhi.context import Actor, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid, NotFound
from shuzhi.sandbox import releases
from shuzhi.sandbox.schemas import (
    QueryIn,
    QueryOut,
    ReleaseDecisionIn,
    ReleaseIn,
    TemplateIn,
    TemplateRunIn,
)
from tests.conftest import acting
from tests.factories import seed_org
from tests.sandbox.helpers import Sandbox, sandbox
from tests.sharing.helpers import provider_account

REASON = "涉及个人健康信息，发布范围须经卫健委主任会议审议后再定"


def _cdo(sb: Sandbox, unit: str) -> Actor:
    return Actor(
        kind="user",
        id=900 + ord(unit),
        name=f"{unit.lower()}.cdo",
        role=Role.UNIT_CDO,
        unit_id=sb.seeded.unit_ids[unit],
    )


def _ask(sb: Sandbox, sql: str) -> QueryOut:
    principal = sb.principal()
    actor = Actor(
        kind="api_key",
        id=principal.key_id,
        name=f"app:{principal.application_code}",
        role=Role.CONSUMER,
        unit_id=principal.unit_id,
    )
    with acting(sb.database, actor) as ctx:
        return releases.answer_query(ctx, QueryIn(sql=sql), application=principal)


def _joined(sb: Sandbox) -> str:
    return (
        f'SELECT h.社区, COUNT(*) AS n FROM "{sb.health}" h JOIN "{sb.population}" p'
        " ON h.身份证号 = p.身份证号 WHERE p.独居 = '是' GROUP BY h.社区"
    )


def test_every_provider_approves_before_the_figures_leave(database: Database) -> None:
    sb = sandbox(database, seed_org(database))
    answer = _ask(sb, _joined(sb))
    analyst = sb.analyst
    with acting(database, analyst) as ctx:
        release = releases.request_release(
            ctx, ReleaseIn(query_id=answer.id, purpose="独居老人走访排班", target="download")
        )
    assert release.status == "pending"
    assert release.rows == answer.rows and release.columns == answer.columns
    assert {r.provider_unit_id for r in release.reviews} == {
        sb.seeded.unit_ids["B"],
        sb.seeded.unit_ids["S"],
    }
    with acting(database, analyst) as ctx, pytest.raises(NotFound):
        releases.release_file(ctx, release.id, "csv")
    # Not a provider of the data, not the requester's own review, not a bare "no".
    with acting(database, _cdo(sb, "A")) as ctx, pytest.raises(Forbidden):
        releases.decide_release(ctx, release.id, ReleaseDecisionIn(approve=True))
    with acting(database, _cdo(sb, "B")) as ctx, pytest.raises(Invalid):
        releases.decide_release(ctx, release.id, ReleaseDecisionIn(approve=False, reason="不行"))
    with acting(database, _cdo(sb, "B")) as ctx:
        half = releases.decide_release(ctx, release.id, ReleaseDecisionIn(approve=True))
    assert half.status == "pending"
    with acting(database, _cdo(sb, "B")) as ctx, pytest.raises(Conflict):
        releases.decide_release(ctx, release.id, ReleaseDecisionIn(approve=True))
    with acting(database, analyst) as ctx, pytest.raises(NotFound):
        releases.release_file(ctx, release.id, "csv")
    with acting(database, _cdo(sb, "S")) as ctx:
        done = releases.decide_release(ctx, release.id, ReleaseDecisionIn(approve=True))
    assert done.status == "approved" and done.decided_at is not None
    with acting(database, analyst) as ctx:
        content, media, name = releases.release_file(ctx, release.id, "csv")
    assert media.startswith("text/csv") and name.endswith(".csv")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0] == answer.columns
    assert [[r[0], int(r[1])] for r in table[1:]] == answer.rows
    # Another unit's staff cannot take it.
    other = sb.seeded.other_unit_actor(Role.DATA_LIAISON)
    with acting(database, other) as ctx, pytest.raises(Forbidden):
        releases.release_file(ctx, release.id, "csv")
    with acting(database, analyst) as ctx:
        actions = [
            e.action
            for e in ctx.db.scalars(select(AuditRow).where(AuditRow.target_id == str(release.id)))
        ]
    assert actions.count("sandbox.release_reviewed") == 2
    assert "sandbox.release_requested" in actions and "sandbox.release_downloaded" in actions


def test_one_refusal_refuses_and_no_self_approval(database: Database) -> None:
    sb = sandbox(database, seed_org(database))
    answer = _ask(sb, f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区')
    requester = _cdo(sb, "B")  # the only provider of the health data
    with acting(database, sb.analyst) as ctx:
        release = releases.request_release(ctx, ReleaseIn(query_id=answer.id, purpose="排班"))
    with acting(database, sb.analyst) as ctx, pytest.raises(Forbidden):
        releases.decide_release(ctx, release.id, ReleaseDecisionIn(approve=True))
    with acting(database, requester) as ctx:
        refused = releases.decide_release(
            ctx, release.id, ReleaseDecisionIn(approve=False, reason=REASON)
        )
    assert refused.status == "refused" and refused.reviews[0].reason == REASON
    with acting(database, sb.analyst) as ctx, pytest.raises(NotFound):
        releases.release_file(ctx, release.id, "xlsx")
    # A query not kept (refused) cannot be released.
    with acting(database, sb.analyst) as ctx:
        listed = releases.list_releases(ctx)
    assert [r.id for r in listed] == [release.id]


def test_template_runs_are_released_without_review(database: Database) -> None:
    sb = sandbox(database, seed_org(database))
    sql = f'SELECT 社区, COUNT(*) AS n FROM "{sb.health}" WHERE 慢病 = {{chronic}} GROUP BY 社区'
    with acting(database, _cdo(sb, "B")) as ctx:
        with pytest.raises(Invalid):
            releases.create_template(
                ctx, TemplateIn(name="x", sql=sql, parameters={"other": ["是"]})
            )
        template = releases.create_template(
            ctx, TemplateIn(name="慢病人数", sql=sql, parameters={"chronic": ["是", "否"]})
        )
    principal = sb.principal()
    actor = Actor(
        kind="api_key",
        id=principal.key_id,
        name=f"app:{principal.application_code}",
        role=Role.CONSUMER,
        unit_id=principal.unit_id,
    )
    with acting(database, actor) as ctx, pytest.raises(Invalid):
        releases.run_template(
            ctx,
            template.id,
            TemplateRunIn(parameters={"chronic": "x' OR '1'='1"}, purpose="排班"),
            application=principal,
        )
    with acting(database, actor) as ctx:
        run = releases.run_template(
            ctx,
            template.id,
            TemplateRunIn(parameters={"chronic": "是"}, purpose="排班"),
            application=principal,
        )
    assert run.release.status == "approved" and run.release.rows == run.answer.rows
    assert sb.withheld(run.answer) == 1
    with acting(database, actor) as ctx:
        content, _, _ = releases.release_file(ctx, run.release.id, "xlsx", application=principal)
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None and [c.value for c in sheet[1]] == ["社区", "n"]


def test_api_release_flow_and_formula_safe_file(client: TestClient, database: Database) -> None:
    from tests.factories import PASSWORD
    from tests.web.helpers import csrf, login

    sb = sandbox(database, seed_org(database))
    auth = {"Authorization": f"Bearer {sb.token}"}
    sql = f'SELECT 社区 AS "=cmd", COUNT(*) AS n FROM "{sb.health}" GROUP BY 社区'
    answer = client.post("/api/v1/sandbox/queries", json={"sql": sql}, headers=auth).json()
    reply = client.post(
        "/api/v1/sandbox/releases",
        json={"query_id": answer["id"], "purpose": "走访", "target": "download"},
        headers=auth,
    )
    assert reply.status_code == 201, reply.text
    release = reply.json()
    file_url = f"/api/v1/sandbox/releases/{release['id']}/file?format=csv"
    assert client.get(file_url, headers=auth).status_code == 404
    login(client, provider_account(database), PASSWORD)
    token = csrf(client)
    decided = client.post(
        f"/api/v1/sandbox/releases/{release['id']}/decision",
        json={"approve": True},
        headers={"X-CSRF-Token": token},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    client.cookies.clear()
    got = client.get(file_url, headers=auth)
    assert got.status_code == 200
    first = got.content.decode("utf-8-sig").splitlines()[0]
    assert first.startswith("'=cmd")


def test_cockpit_shows_sandbox_use_per_unit(database: Database) -> None:
    from shuzhi.cockpit import service as cockpit
    from shuzhi.sandbox.rules import QueryRefused

    seeded = seed_org(database)
    sb = sandbox(database, seeded)
    answer = _ask(sb, f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区')
    with pytest.raises(QueryRefused):
        _ask(sb, f'SELECT * FROM "{sb.health}"')
    with acting(database, sb.analyst) as ctx:
        releases.request_release(ctx, ReleaseIn(query_id=answer.id, purpose="排班"))
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        region = cockpit.cockpit_summary(ctx)
    (use,) = region.sandbox
    assert (use.unit_code, use.answered, use.refused) == ("A", 1, 1)
    assert (use.releases_requested, use.releases_approved) == (1, 0)
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        assert cockpit.cockpit_summary(ctx).sandbox == []
    with acting(database, sb.analyst) as ctx:
        assert [u.unit_code for u in releases.use_per_unit(ctx)] == ["A"]


def test_a_noisy_answer_is_released_with_its_intervals(database: Database) -> None:
    from tests.sandbox import helpers
    from tests.sandbox.test_private import DP_TERMS, _rows
    from tests.sharing.helpers import application, key

    seeded = seed_org(database)
    health = helpers._entry(database, "B", helpers.HEALTH, _rows())
    app = application(database, "A")
    helpers.grant(database, seeded.actor(Role.DATA_LIAISON), health, app, DP_TERMS)
    sb = Sandbox(database, seeded, health, "", app, key(database, app))
    answer = _ask(
        sb, f'SELECT 社区, COUNT(*) AS n, SUM(医疗费用) AS s FROM "{sb.health}" GROUP BY 社区'
    )
    assert answer.epsilon_spent is not None and answer.intervals and answer.suppressed is None
    with acting(database, sb.analyst) as ctx:
        release = releases.request_release(ctx, ReleaseIn(query_id=answer.id, purpose="排班"))
    assert release.rows == answer.rows and release.intervals == answer.intervals
    assert release.suppressed is None and release.epsilon_spent == answer.epsilon_spent
    with acting(database, _cdo(sb, "B")) as ctx:
        assert releases.decide_release(ctx, release.id, ReleaseDecisionIn(approve=True)).status == (
            "approved"
        )
    with acting(database, sb.analyst) as ctx:
        content, _, _ = releases.release_file(ctx, release.id, "csv")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0] == [
        "社区",
        "n",
        "n 95% 下限 low",
        "n 95% 上限 high",
        "s",
        "s 95% 下限 low",
        "s 95% 上限 high",
    ]
    first = answer.rows[0]
    low, high = answer.intervals[0][1] or [0.0, 0.0]
    assert table[1][0] == first[0] and float(table[1][2]) == low and float(table[1][3]) == high
