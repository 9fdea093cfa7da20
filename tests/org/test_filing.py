"""The two-level filing workflow: submit → approve (filed) or return with a reason."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.org import service as org
from shuzhi.org.models import FilingStatus, Position
from shuzhi.org.schemas import AppointmentCreate, PersonCreate
from tests.conftest import acting
from tests.factories import Org, seed_org


def _draft(database: Database, seeded: Org, position: Position = Position.UNIT_CDO) -> int:
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        person = org.create_person(ctx, PersonCreate(unit_code="A", name="周晓明", title="副局长"))
        return org.create_appointment(
            ctx,
            AppointmentCreate(
                person_id=person.id,
                position=position,
                appointed_on=date(2026, 3, 1),
                document_no="甲任〔2026〕3号",
            ),
        ).id


def test_submit_approve_files_and_keeps_history(database: Database) -> None:
    seeded = seed_org(database)
    appt_id = _draft(database, seeded)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert org.submit_filing(ctx, appt_id).status == FilingStatus.SUBMITTED
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        filed = org.approve_filing(ctx, appt_id, "同意备案")
    assert filed.status == FilingStatus.FILED and filed.decided_by == "user:exec"
    assert [e.action for e in filed.history] == ["created", "submitted", "approved"]
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        actions = [e.action for e in audit.history(ctx, "appointment", str(appt_id))]
        overview = org.org_overview(ctx)
    assert actions == ["org.appointment_created", "org.filing_submitted", "org.filing_approved"]
    assert overview.cdos == 1 and overview.filings_pending == 0
    assert "A" not in overview.units_without_cdo


def test_return_needs_a_reason_then_resubmission_works(database: Database) -> None:
    seeded = seed_org(database)
    appt_id = _draft(database, seeded)
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        org.submit_filing(ctx, appt_id)
    with pytest.raises(Invalid), acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        org.return_filing(ctx, appt_id, "  ")
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        assert org.get_appointment(ctx, appt_id).status == FilingStatus.SUBMITTED
        returned = org.return_filing(ctx, appt_id, "缺少任命文件")
    assert returned.status == FilingStatus.RETURNED and returned.return_reason == "缺少任命文件"
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        again = org.submit_filing(ctx, appt_id)
    assert again.status == FilingStatus.SUBMITTED and again.return_reason is None
    assert [e.action for e in again.history] == ["created", "submitted", "returned", "submitted"]


def test_approving_an_already_filed_appointment_is_a_conflict(database: Database) -> None:
    seeded = seed_org(database)
    appt_id = _draft(database, seeded)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        org.submit_filing(ctx, appt_id)
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        org.approve_filing(ctx, appt_id)
    for role in (Role.CDO_EXECUTIVE, Role.CDO):
        with pytest.raises(Conflict), acting(database, seeded.actor(role)) as ctx:
            org.approve_filing(ctx, appt_id)
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        history = org.get_appointment(ctx, appt_id).history
    assert [e.action for e in history].count("approved") == 1


def test_racing_decisions_only_one_wins(database: Database) -> None:
    """Two deciders act on the same submitted filing; the second must get a Conflict."""
    seeded = seed_org(database)
    appt_id = _draft(database, seeded)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        org.submit_filing(ctx, appt_id)
    if database.capabilities.begin_statement:
        # SQLite queues writers (BEGIN IMMEDIATE): the second decision runs after the first.
        with acting(database, seeded.actor(Role.CDO)) as first:
            org.approve_filing(first, appt_id)
        with pytest.raises(Conflict), acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as late:
            org.return_filing(late, appt_id, "重复审核同一备案")
    else:
        # PostgreSQL: the second transaction is open before the first commits.
        with acting(database, seeded.actor(Role.CDO)) as first:
            org.approve_filing(first, appt_id)
            with (
                pytest.raises(Conflict),
                acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as second,
            ):
                second.db.connection()  # start the transaction
                first.db.commit()
                org.return_filing(second, appt_id, "重复审核同一备案")
    with acting(database, SYSTEM) as ctx:
        assert org.get_appointment(ctx, appt_id).status == FilingStatus.FILED


def test_nobody_approves_their_own_submission(database: Database) -> None:
    seeded = seed_org(database)
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        person = org.create_person(ctx, PersonCreate(unit_code="R", name="林立新"))
        appt = org.create_appointment(
            ctx,
            AppointmentCreate(
                person_id=person.id, position=Position.DATA_LIAISON, appointed_on=date(2026, 1, 1)
            ),
        )
        org.submit_filing(ctx, appt.id)
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        org.approve_filing(ctx, appt.id)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        assert org.approve_filing(ctx, appt.id).status == FilingStatus.FILED


def test_position_rules(database: Database) -> None:
    seeded = seed_org(database)
    _draft(database, seeded)  # A now has a live unit_cdo appointment
    with acting(database, SYSTEM) as ctx:
        a_person = org.create_person(ctx, PersonCreate(unit_code="A", name="郭建国")).id
        r_person = org.create_person(ctx, PersonCreate(unit_code="R", name="何红梅")).id
    for person, position in [
        (a_person, Position.CDO),
        (a_person, Position.UNIT_CDO),
        (r_person, Position.UNIT_CDO),
    ]:
        with pytest.raises(Invalid), acting(database, SYSTEM) as ctx:
            org.create_appointment(
                ctx,
                AppointmentCreate(
                    person_id=person, position=position, appointed_on=date(2026, 1, 1)
                ),
            )


def test_roster_export_lists_live_appointments_in_chinese(database: Database) -> None:
    seeded = seed_org(database)
    appt_id = _draft(database, seeded)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        org.submit_filing(ctx, appt_id)
        content = org.export_roster(ctx)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("单位代码", "单位名称", "单位类型", "统一社会信用代码", "姓名")
    assert rows[1][0] == "A" and rows[1][4] == "周晓明"
    assert rows[1][6] == "部门/街道首席数据官" and rows[1][9] == "待备案"
    assert len(rows) == 2


def test_roster_export_cells_never_hold_a_formula(database: Database) -> None:
    seeded = seed_org(database)
    hostile = {"title": '=HYPERLINK("http://evil.example","x")', "phone": "+1+1"}
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        person = org.create_person(ctx, PersonCreate(unit_code="A", name="周晓明", **hostile))
        org.create_appointment(
            ctx,
            AppointmentCreate(
                person_id=person.id,
                position=Position.UNIT_CDO,
                appointed_on=date(2026, 3, 1),
                document_no="-2+3",
            ),
        )
        content = org.export_roster(ctx)
    row = {c.column_letter: c for c in load_workbook(io.BytesIO(content)).active[2]}
    for letter, value in (("F", hostile["title"]), ("I", "-2+3"), ("K", "+1+1")):
        cell = row[letter]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (value, "s", True), letter
    assert row["H"].data_type == "s" and not row["H"].quotePrefix  # 2026-03-01, plain text
