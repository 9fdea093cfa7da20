"""Org: overview counts and the roster export."""

from __future__ import annotations

import io
from collections import Counter

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, scope_unit
from shuzhi.context import Ctx
from shuzhi.org.events import (
    RosterExported,
)
from shuzhi.org.models import (
    Appointment,
    FilingStatus,
    Person,
    Position,
    Unit,
)
from shuzhi.org.schemas import (
    AppointmentOut,
    OrgOverview,
    UnitBrief,
)
from shuzhi.org.service.common import CDO_POSITIONS, LIVE, _tree_order, unit_brief, unit_id_for_code
from shuzhi.security.cells import seal_workbook


def org_overview(ctx: Ctx) -> OrgOverview:
    """The counts a bureau reports upward: units, CDOs, specialists, filings pending."""
    scope = scope_unit(ctx, "view_org_overview")
    units_q = select(Unit)
    if scope is not None:
        units_q = units_q.where(Unit.id == scope)
    units = list(ctx.db.scalars(units_q))
    unit_ids = [u.id for u in units]
    filed = Counter[str]()
    cdo_units = set()
    status_counts = Counter[str]()
    rows = ctx.db.execute(
        select(Appointment.unit_id, Appointment.position, Appointment.status).where(
            Appointment.unit_id.in_(unit_ids)
        )
    ).all()
    for unit_id, position, status in rows:
        status_counts[status] += 1
        if status == FilingStatus.FILED:
            filed[position] += 1
            if position in CDO_POSITIONS:
                cdo_units.add(unit_id)
    scope_code = "region" if scope is None else units[0].code
    return OrgOverview(
        scope=scope_code,
        units=len(units),
        units_by_kind=dict(Counter(u.kind for u in units)),
        cdos=sum(filed[p] for p in CDO_POSITIONS),
        specialists=filed[Position.DATA_LIAISON],
        filings_pending=status_counts[FilingStatus.SUBMITTED],
        filings_returned=status_counts[FilingStatus.RETURNED],
        units_without_cdo=sorted(u.code for u in units if u.id not in cdo_units),
    )


ROSTER_HEADERS = [
    "单位代码",
    "单位名称",
    "单位类型",
    "统一社会信用代码",
    "姓名",
    "职务",
    "任职类别",
    "任职日期",
    "任命文号",
    "备案状态",
    "联系电话",
    "电子邮箱",
]


POSITION_ZH = {
    "cdo": "首席数据官",
    "cdo_executive": "首席数据执行官",
    "unit_cdo": "部门/街道首席数据官",
    "data_liaison": "数据联络专员",
}


STATUS_ZH = {
    "draft": "草稿",
    "submitted": "待备案",
    "returned": "已退回",
    "filed": "已备案",
    "ended": "已终止",
}


KIND_ZH = {"region": "区域", "department": "部门", "street": "街道", "enterprise": "国有企业"}


def export_roster(ctx: Ctx) -> bytes:
    """The CDO roster as an Excel workbook (own unit only for unit staff)."""
    scope = scope_unit(ctx, "export_roster")
    query = (
        select(Appointment, Person, Unit)
        .join(Person, Person.id == Appointment.person_id)
        .join(Unit, Unit.id == Appointment.unit_id)
        .where(Appointment.status != FilingStatus.ENDED)
    )
    if scope is not None:
        query = query.where(Appointment.unit_id == scope)
    order = {u.id: i for i, u in enumerate(_tree_order(ctx))}
    rows = sorted(
        ctx.db.execute(query).all(), key=lambda r: (order.get(r[2].id, 0), r[0].position, r[1].name)
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "首席数据官名册"
    sheet.append(ROSTER_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for appt, person, unit in rows:
        sheet.append(
            [
                unit.code,
                unit.name,
                KIND_ZH.get(unit.kind, unit.kind),
                unit.uscc or "",
                person.name,
                person.title,
                POSITION_ZH.get(appt.position, appt.position),
                appt.appointed_on.isoformat(),
                appt.document_no,
                STATUS_ZH.get(appt.status, appt.status),
                person.phone,
                person.email,
            ]
        )
    for column, width in zip(
        "ABCDEFGHIJKL", [12, 28, 8, 22, 10, 20, 18, 12, 24, 8, 16, 26], strict=True
    ):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    seal_workbook(book)
    book.save(buffer)
    scope_code = (
        "region"
        if scope is None
        else (unit_brief(ctx, scope) or UnitBrief(id=0, code="?", name="", kind="")).code
    )
    record(ctx, RosterExported(scope=scope_code, rows=len(rows)))
    return buffer.getvalue()


def filing_actions(ctx: Ctx, appt: AppointmentOut) -> list[str]:
    """Which filing steps the actor could take on this appointment now (for showing buttons)."""
    unit_id = unit_id_for_code(ctx, appt.unit_code)
    actions = []
    if appt.status in (FilingStatus.DRAFT, FilingStatus.RETURNED) and allowed(
        ctx, "submit_filing", unit_id
    ):
        actions.append("submit")
    if appt.status == FilingStatus.SUBMITTED and allowed(ctx, "approve_filing", unit_id):
        if appt.submitted_by != ctx.actor.label:
            actions.append("approve")
        actions.append("return")
    if appt.status in LIVE and allowed(ctx, "end_appointment", unit_id):
        actions.append("end")
    return actions
