"""Street reports (纠错反馈): a delivered value reported wrong becomes a quality issue of the
unit that supplied it; only the target unit reports, only on records it was delivered."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.masterdata import pushback, pushback_reports
from shuzhi.masterdata.pushback_models import MasterdataPushbackReport
from shuzhi.masterdata.pushback_schemas import PushbackOut, ReportIn, ReportOut
from shuzhi.org import service as org
from shuzhi.quality import service as quality
from shuzhi.quality.models import IssueStatus, RuleKind
from tests.conftest import acting, actor
from tests.masterdata.pushback_helpers import define, population, resident, rid, run


def _member(database: Database, role: Role, unit: str) -> Actor:
    with acting(database, SYSTEM) as ctx:
        unit_id = org.unit_id_for_code(ctx, unit)
    return actor(role, unit_id, name=f"{unit}.{role.value}")


def _entity(database: Database, i: int) -> str:
    from shuzhi.masterdata import service

    with acting(database, SYSTEM) as ctx:
        return service.lookup_masterdata_entity(ctx, "population", resident_id=rid(i)).entity_id


def _ready(database: Database) -> tuple[PushbackOut, str, str]:
    lib = population(database)
    street = define(database)
    run(database)
    return street, lib.register, lib.dialysis


def _report(database: Database, who: Actor, pushback_id: int, **data: str) -> ReportOut:
    with acting(database, who) as ctx:
        return pushback_reports.report_masterdata_record(
            ctx, "population", pushback_id, ReportIn.model_validate(data)
        )


def test_reports_go_to_the_unit_that_supplied_the_value(database: Database) -> None:
    street, register, dialysis = _ready(database)
    liaison = _member(database, Role.DATA_LIAISON, "S")
    birth = _report(
        database,
        liaison,
        street.id,
        entity_id=_entity(database, 4),
        attribute="出生日期",
        problem="本人户口本记载的出生日期为1935年5月6日",
        proposed="1935-05-06",
    )
    # Resident 2's name came from B's dialysis register (A's record has it blank).
    name = _report(
        database,
        liaison,
        street.id,
        entity_id=_entity(database, 2),
        attribute="name",
        problem="姓名有错别字，应以身份证为准",
    )
    with acting(database, SYSTEM) as ctx:
        issues = {
            i.id: i for i in quality.list_quality_issues(ctx) if i.kind is RuleKind.CROSS_SOURCE
        }
        reports = pushback_reports.list_masterdata_reports(ctx, "population", street.id)
    first = issues[birth.quality_issue_id]
    assert (first.resource_code, first.unit_code, first.column, first.status) == (
        register,
        "A",
        "出生日期",
        IssueStatus.OPEN,
    )
    assert "城南街道" in first.summary and "第 1 版第 5 行" in first.summary
    assert "1935-**-**" in first.summary and "1935-05-06" not in first.summary
    second = issues[name.quality_issue_id]
    assert (second.resource_code, second.unit_code, second.column) == (dialysis, "B", "姓名")
    assert [(r.attribute, r.unit_code, r.row) for r in reports] == [
        ("name", "B", 3),
        ("birth_date", "A", 5),
    ]
    assert reports[1].proposed == "1935-05-06"  # the system reads it in the clear
    # The library's other readers see the proposed value masked; the street in the clear.
    with acting(database, _member(database, Role.CDO, "R")) as ctx:
        assert pushback_reports.list_masterdata_reports(ctx, "population", street.id)[
            1
        ].proposed == ("1935-**-**")
    with acting(database, liaison) as ctx:
        assert (
            pushback_reports.list_masterdata_reports(ctx, "population", street.id)[1].proposed
            == "1935-05-06"
        )
        assert pushback.get_masterdata_pushback(ctx, "population", street.id).reports == 2
    with acting(database, SYSTEM) as ctx:
        logged = audit.view_audit(ctx, action="masterdata.record_reported")
    assert logged.total == 2


def test_reports_are_validated(database: Database) -> None:
    street, _register, _dialysis = _ready(database)
    liaison = _member(database, Role.DATA_LIAISON, "S")
    with pytest.raises(Invalid) as raised:
        _report(
            database,
            liaison,
            street.id,
            entity_id=_entity(database, 16),  # 西溪街道: not delivered to this street
            attribute="身高",
            problem="错",
        )
    assert {e.field for e in raised.value.errors} == {"entity_id", "attribute", "problem"}
    with pytest.raises(Invalid) as raised:
        _report(
            database,
            liaison,
            street.id,
            entity_id=_entity(database, 4),
            attribute="出生日期",
            problem="出生日期与户口本不一致",
            proposed="1935-13-45",
        )
    assert [e.field for e in raised.value.errors] == ["proposed"]
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(func.count(MasterdataPushbackReport.id))) == 0


def test_only_the_target_unit_reports(database: Database) -> None:
    street, _register, _dialysis = _ready(database)
    entity = _entity(database, 4)
    for who in (
        _member(database, Role.DATA_LIAISON, "A"),  # the source unit itself
        _member(database, Role.UNIT_CDO, "B"),
        _member(database, Role.CDO_EXECUTIVE, "R"),  # the bureau reads, the street reports
        _member(database, Role.CONSUMER, "S"),
    ):
        with pytest.raises(Forbidden):
            _report(
                database,
                who,
                street.id,
                entity_id=entity,
                attribute="姓名",
                problem="姓名与身份证不一致",
            )
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(func.count(MasterdataPushbackReport.id))) == 0
        refused = audit.view_audit(ctx, action="operation.denied")
    assert sum(e.details["operation"] == "report_masterdata_record" for e in refused.items) == 4
    assert resident(4)[0]  # the record exists; the refusals are about who asks
