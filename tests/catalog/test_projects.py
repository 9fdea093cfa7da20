"""IT projects and the data gate: catalogued and published data, honest 'not yet checkable'."""

from __future__ import annotations

import pytest

from shuzhi.audit import service as audit
from shuzhi.catalog import service
from shuzhi.catalog.projects import service as projects
from shuzhi.catalog.projects.models import GateStage
from shuzhi.catalog.projects.schemas import ProjectCreate, ProjectDecision, ProjectUpdate
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from tests.catalog.helpers import create
from tests.conftest import acting
from tests.factories import PASSWORD, Org, seed_org
from tests.web.helpers import csrf, login


def _published(database: Database, seeded: Org, name: str) -> str:
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        code = service.create_entry(ctx, create(name=name)).resource_code
        service.submit_entry(ctx, code)
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.approve_entry(ctx, code)
    return code


def _draft(database: Database, seeded: Org, name: str) -> str:
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        return service.create_entry(ctx, create(name=name)).resource_code


def _project(
    database: Database, seeded: Org, datasets: list[dict[str, str]], code: str = "XM-1"
) -> None:
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        projects.create_project(
            ctx,
            ProjectCreate.model_validate(
                {"code": code, "name": "智慧社区平台", "budget": "350.50", "datasets": datasets}
            ),
        )


def test_gate_reports_every_reason(database: Database) -> None:
    seeded = seed_org(database)
    published = _published(database, seeded, "户籍人口信息")
    draft = _draft(database, seeded, "出生登记信息")
    _published(database, seeded, "婚姻登记信息")  # found by name, without a code
    _project(
        database,
        seeded,
        [
            {"name": "人口库", "resource_code": published},
            {"name": "出生登记", "resource_code": draft},
            {"name": "婚姻登记信息"},
            {"name": "社区网格数据"},
            {"name": "外部数据", "resource_code": "999999/000001"},
        ],
    )
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        result = projects.check_project_gate(ctx, "XM-1", GateStage.APPROVAL)
    assert result.outcome == "failed"
    by_set = {f.dataset: f for f in result.findings}
    assert by_set["人口库"].status == "passed"
    assert by_set["出生登记"].status == "failed" and "尚未发布" in by_set["出生登记"].reason_zh
    assert by_set["婚姻登记信息"].status == "passed" and by_set["婚姻登记信息"].resource_code
    assert (
        by_set["社区网格数据"].status == "failed" and "未编目" in by_set["社区网格数据"].reason_zh
    )
    assert "不存在" in by_set["外部数据"].reason_zh
    assert all(f.reason_en for f in result.findings)


def test_approval_blocked_then_allowed_and_acceptance_is_incomplete(database: Database) -> None:
    seeded = seed_org(database)
    draft = _draft(database, seeded, "出生登记信息")
    _project(database, seeded, [{"name": "出生登记", "resource_code": draft}])
    executive = seeded.actor(Role.CDO_EXECUTIVE)
    with pytest.raises(Conflict) as refused, acting(database, executive) as ctx:
        projects.approve_project(ctx, "XM-1", ProjectDecision())
    assert "尚未发布" in refused.value.message.zh
    with acting(database, executive) as ctx:
        out = projects.get_project(ctx, "XM-1")
    # The refused approval rolled back, but its failed check is kept as evidence.
    assert out.status == "proposed" and out.last_gate and out.last_gate.outcome == "failed"
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.submit_entry(ctx, draft)
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.approve_entry(ctx, draft)
    with acting(database, executive) as ctx:
        approved = projects.approve_project(ctx, "XM-1", ProjectDecision())
        accepted = projects.accept_project(ctx, "XM-1", ProjectDecision(note="验收"))
    assert approved.approval_date is not None and approved.last_gate.outcome == "passed"  # type: ignore[union-attr]
    assert accepted.status == "accepted"
    gate = accepted.last_gate
    assert gate is not None and gate.stage == "acceptance" and gate.outcome == "incomplete"
    aggregated = [f for f in gate.findings if f.check == "aggregated"]
    assert aggregated and aggregated[0].status == "not_checkable"
    with pytest.raises(Conflict), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        projects.update_project(ctx, "XM-1", ProjectUpdate(name="改名"))
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        actions = {e.action for e in audit.view_audit(ctx).items}
    assert {"catalog.project_gate_checked", "catalog.project_approved"} <= actions


def test_project_without_data_fails_and_input_is_checked(database: Database) -> None:
    seeded = seed_org(database)
    _project(database, seeded, [])
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        result = projects.check_project_gate(ctx, "XM-1", GateStage.ACCEPTANCE)
    assert result.outcome == "failed" and result.findings[0].check == "declared"
    with pytest.raises(Invalid), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        projects.update_project(
            ctx,
            "XM-1",
            ProjectUpdate.model_validate(
                {"name": "项目", "datasets": [{"name": "甲甲"}, {"name": "甲甲"}]}
            ),
        )
    with pytest.raises(Conflict):
        _project(database, seeded, [], code="XM-1")
    with (
        pytest.raises(Forbidden),
        acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx,
    ):
        projects.get_project(ctx, "XM-1")
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        listed = projects.list_projects(ctx)
    assert [p.code for p in listed] == ["XM-1"] and str(listed[0].budget) == "350.5"


def test_api_and_console(client, database: Database) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_org(database)
    published = _published(database, seeded, "户籍人口信息")
    login(client, "a.liaison", PASSWORD)
    token = csrf(client, "/catalog/projects/new")
    response = client.post(
        "/catalog/projects/new",
        data={
            "code": "XM-9",
            "name": "网格治理系统",
            "budget": "120",
            "datasets": f"人口库 | {published}\n网格事件",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    client.post("/catalog/projects/XM-9/gate", data={"stage": "approval", "csrf_token": token})
    listing = client.get("/catalog/projects")
    assert (
        "网格治理系统" in listing.text and "网格事件" in listing.text and "未编目" in listing.text
    )
    detail = client.get("/catalog/projects/XM-9")
    assert published in detail.text
    api = client.get("/api/v1/catalog/projects/XM-9")
    assert api.status_code == 200 and api.json()["last_gate"]["outcome"] == "failed"
    bad = client.post(
        "/catalog/projects/new", data={"code": "坏 编号", "name": "x", "csrf_token": token}
    )
    assert bad.status_code == 422


def test_demo_projects(demo_database: Database) -> None:
    from shuzhi.catalog.projects.demo import build_demo_projects
    from shuzhi.context import SYSTEM

    # demo_database is a built demo district: it built its projects
    assert build_demo_projects(demo_database, SYSTEM) == 0  # idempotent
    with acting(demo_database, SYSTEM) as ctx:
        listed = projects.list_projects(ctx)
    assert len(listed) == 5
    outcomes = {p.last_gate.outcome for p in listed if p.last_gate}
    assert "failed" in outcomes
