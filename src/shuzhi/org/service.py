"""Units, people, appointments and the two-level filing workflow.

Filing: a unit (its liaison or CDO) creates an appointment and submits it; the region's
CDO executive (or CDO) approves it, which files it, or returns it with a reason; a returned
appointment can be corrected and submitted again. Every step is kept as history and audited.
Status changes are conditional updates, so two people deciding at once cannot both win.
"""

from __future__ import annotations

import io
from collections import Counter

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, deny, require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, ErrorCollector, NotFound
from shuzhi.org.events import (
    AppointmentCreated,
    AppointmentEnded,
    FilingApproved,
    FilingReturned,
    FilingSubmitted,
    PersonCreated,
    RosterExported,
    UnitCreated,
    UnitUpdated,
)
from shuzhi.org.models import (
    Appointment,
    FilingEvent,
    FilingStatus,
    Person,
    Position,
    Unit,
    UnitKind,
)
from shuzhi.org.schemas import (
    AppointmentCreate,
    AppointmentOut,
    FilingEventOut,
    OrgOverview,
    PersonCreate,
    PersonOut,
    UnitBrief,
    UnitCreate,
    UnitOut,
    UnitUpdate,
)
from shuzhi.security.cells import seal_workbook
from shuzhi.standards.identifiers import is_valid_org_code, is_valid_uscc

REGION_POSITIONS = {Position.CDO, Position.CDO_EXECUTIVE}
CDO_POSITIONS = {Position.CDO, Position.CDO_EXECUTIVE, Position.UNIT_CDO}
# Positions a unit may hold only once at a time (the older one must be ended first).
SINGLE_HOLDER = {Position.CDO, Position.CDO_EXECUTIVE, Position.UNIT_CDO}
LIVE = (FilingStatus.DRAFT, FilingStatus.SUBMITTED, FilingStatus.RETURNED, FilingStatus.FILED)


# ---------------------------------------------------------------- lookups for other capabilities


def unit_id_for_code(ctx: Ctx, code: str) -> int | None:
    return ctx.db.scalar(select(Unit.id).where(Unit.code == code.strip()))


def unit_brief(ctx: Ctx, unit_id: int) -> UnitBrief | None:
    unit = ctx.db.get(Unit, unit_id)
    if unit is None:
        return None
    return UnitBrief(id=unit.id, code=unit.code, name=unit.name, kind=unit.kind, uscc=unit.uscc)


def all_unit_briefs(ctx: Ctx) -> list[UnitBrief]:
    """Every unit, in tree order (no permission needed: unit names are not protected)."""
    return [
        UnitBrief(id=u.id, code=u.code, name=u.name, kind=u.kind, uscc=u.uscc)
        for u in _tree_order(ctx)
    ]


def _unit(ctx: Ctx, code: str) -> Unit:
    unit = ctx.db.scalar(select(Unit).where(Unit.code == code.strip()))
    if unit is None:
        raise NotFound(f"单位 {code} 不存在。", f"Unit {code} does not exist.")
    return unit


# ---------------------------------------------------------------- units


def _tree_order(ctx: Ctx) -> list[Unit]:
    units = list(ctx.db.scalars(select(Unit)))
    children: dict[int | None, list[Unit]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    ordered: list[Unit] = []

    def visit(parent: int | None) -> None:
        for u in sorted(children.get(parent, []), key=lambda x: (x.sort_order, x.code)):
            ordered.append(u)
            visit(u.id)

    visit(None)
    return ordered


def _depths(units: list[Unit]) -> dict[int, int]:
    by_id = {u.id: u for u in units}
    depth: dict[int, int] = {}
    for u in units:
        d, p = 0, u.parent_id
        while p is not None and p in by_id:
            d, p = d + 1, by_id[p].parent_id
        depth[u.id] = d
    return depth


def _unit_out(unit: Unit, parent: Unit | None, depth: int = 0) -> UnitOut:
    return UnitOut(
        code=unit.code,
        name=unit.name,
        name_en=unit.name_en,
        kind=unit.kind,
        parent_code=parent.code if parent else None,
        parent_name=parent.name if parent else None,
        uscc=unit.uscc,
        org_code=unit.org_code,
        sort_order=unit.sort_order,
        depth=depth,
    )


def list_units(ctx: Ctx) -> list[UnitOut]:
    """The unit tree, depth-first, each unit with its depth."""
    require(ctx, "view_units")
    units = _tree_order(ctx)
    by_id = {u.id: u for u in units}
    depth = _depths(units)
    return [_unit_out(u, by_id.get(u.parent_id or 0), depth[u.id]) for u in units]


def get_unit(ctx: Ctx, code: str) -> UnitOut:
    require(ctx, "view_units")
    unit = _unit(ctx, code)
    parent = ctx.db.get(Unit, unit.parent_id) if unit.parent_id else None
    return _unit_out(unit, parent)


def parent_choices(ctx: Ctx, code: str | None = None) -> list[UnitOut]:
    """Units that may become the parent of ``code`` (not itself or its descendants)."""
    require(ctx, "manage_units")
    units = list_units(ctx)
    if code is None:
        return units
    excluded, out = None, []
    for u in units:  # depth-first order: a subtree is the run of deeper units after its root
        if excluded is not None and u.depth > excluded:
            continue
        excluded = u.depth if u.code == code else None
        if excluded is None:
            out.append(u)
    return out


def _check_identifiers(
    ctx: Ctx,
    uscc: str | None,
    org_code: str | None,
    errors: ErrorCollector,
    own_id: int | None = None,
) -> None:
    if uscc:
        if not is_valid_uscc(uscc):
            errors.add(
                "uscc",
                "统一社会信用代码无效（格式、登记管理部门或校验码有误）。",
                "Invalid unified social credit code (format, authority or check character).",
            )
        else:
            other = ctx.db.scalar(select(Unit.id).where(Unit.uscc == uscc.upper()))
            if other is not None and other != own_id:
                errors.add(
                    "uscc",
                    "已有单位使用该统一社会信用代码。",
                    "Another unit already has this credit code.",
                )
    if org_code and not is_valid_org_code(org_code):
        errors.add(
            "org_code",
            "组织机构代码无效（校验码有误）。",
            "Invalid organisation code (check character).",
        )


def _check_parent(
    ctx: Ctx,
    kind: str,
    parent_code: str | None,
    errors: ErrorCollector,
    moving_id: int | None = None,
) -> Unit | None:
    if kind == UnitKind.REGION:
        if parent_code:
            errors.add(
                "parent_code",
                "区域是最高层级，不能有上级单位。",
                "A region is the top level and has no parent.",
            )
        return None
    if not parent_code:
        errors.add("parent_code", "请选择上级单位。", "Choose a parent unit.")
        return None
    parent = ctx.db.scalar(select(Unit).where(Unit.code == parent_code))
    if parent is None:
        errors.add(
            "parent_code",
            f"上级单位 {parent_code} 不存在。",
            f"Parent unit {parent_code} does not exist.",
        )
        return None
    # Walk up from the new parent: meeting the unit being moved would close a cycle.
    seen: set[int] = set()
    node: Unit | None = parent
    while node is not None and moving_id is not None:
        if node.id == moving_id:
            errors.add(
                "parent_code",
                "不能把单位移到它自己或其下级单位之下（会形成循环）。",
                "A unit cannot be placed under itself or its own sub-unit (cycle).",
            )
            break
        if node.id in seen:
            break
        seen.add(node.id)
        node = ctx.db.get(Unit, node.parent_id) if node.parent_id else None
    return parent


def create_unit(ctx: Ctx, data: UnitCreate) -> UnitOut:
    require(ctx, "manage_units")
    errors = ErrorCollector()
    if unit_id_for_code(ctx, data.code) is not None:
        errors.add(
            "code", f"单位代码 {data.code} 已存在。", f"Unit code {data.code} already exists."
        )
    parent = _check_parent(ctx, data.kind, data.parent_code, errors)
    _check_identifiers(ctx, data.uscc, data.org_code, errors)
    errors.raise_if_any()
    unit = Unit(
        code=data.code,
        name=data.name,
        name_en=data.name_en,
        kind=data.kind,
        parent_id=parent.id if parent else None,
        uscc=data.uscc.upper() if data.uscc else None,
        org_code=data.org_code.upper() if data.org_code else None,
        sort_order=data.sort_order,
    )
    ctx.db.add(unit)
    ctx.db.flush()
    record(
        ctx, UnitCreated(code=unit.code, unit=unit.id, name=unit.name, parent_code=data.parent_code)
    )
    return _unit_out(unit, parent)


def update_unit(ctx: Ctx, code: str, data: UnitUpdate) -> UnitOut:
    require(ctx, "manage_units", target=code)
    unit = _unit(ctx, code)
    errors = ErrorCollector()
    parent = _check_parent(ctx, unit.kind, data.parent_code, errors, moving_id=unit.id)
    _check_identifiers(ctx, data.uscc, data.org_code, errors, own_id=unit.id)
    errors.raise_if_any()
    new = {
        "name": data.name,
        "name_en": data.name_en,
        "parent_id": parent.id if parent else None,
        "uscc": data.uscc.upper() if data.uscc else None,
        "org_code": data.org_code.upper() if data.org_code else None,
        "sort_order": data.sort_order,
    }
    changes: dict[str, list[object]] = {}
    for field, value in new.items():
        old = getattr(unit, field)
        if old != value:
            changes[field] = [old, value]
            setattr(unit, field, value)
    if changes:
        ctx.db.flush()
        record(ctx, UnitUpdated(code=unit.code, unit=unit.id, changes=changes))
    return _unit_out(unit, parent)


# ---------------------------------------------------------------- people


def _person_out(person: Person, unit_code: str) -> PersonOut:
    return PersonOut(
        id=person.id,
        unit_code=unit_code,
        name=person.name,
        title=person.title,
        phone=person.phone,
        email=person.email,
    )


def list_people(ctx: Ctx, unit_code: str | None = None) -> list[PersonOut]:
    scope = scope_unit(ctx, "view_people")
    query = select(Person, Unit.code).join(Unit, Unit.id == Person.unit_id)
    if unit_code:
        unit = _unit(ctx, unit_code)
        require(ctx, "view_people", unit.id, target=unit_code)
        query = query.where(Person.unit_id == unit.id)
    elif scope is not None:
        query = query.where(Person.unit_id == scope)
    rows = ctx.db.execute(query.order_by(Unit.code, Person.name)).all()
    return [_person_out(p, code) for p, code in rows]


def create_person(ctx: Ctx, data: PersonCreate) -> PersonOut:
    unit = _unit(ctx, data.unit_code)
    require(ctx, "manage_people", unit.id, target=data.unit_code)
    person = Person(
        unit_id=unit.id, name=data.name, title=data.title, phone=data.phone, email=data.email
    )
    ctx.db.add(person)
    ctx.db.flush()
    record(ctx, PersonCreated(person_id=person.id, unit=unit.id, name=person.name))
    return _person_out(person, unit.code)


# ---------------------------------------------------------------- appointments and filing


def _appointment(ctx: Ctx, appointment_id: int) -> Appointment:
    appt = ctx.db.get(Appointment, appointment_id)
    if appt is None:
        raise NotFound("任职记录不存在。", "No such appointment.")
    return appt


def _appointment_out(ctx: Ctx, appt: Appointment, with_history: bool = False) -> AppointmentOut:
    person = ctx.db.get(Person, appt.person_id)
    unit = ctx.db.get(Unit, appt.unit_id)
    assert person is not None and unit is not None
    history = []
    if with_history:
        events = ctx.db.scalars(
            select(FilingEvent)
            .where(FilingEvent.appointment_id == appt.id)
            .order_by(FilingEvent.id)
        )
        history = [
            FilingEventOut(action=e.action, actor=e.actor, note=e.note, at=e.at) for e in events
        ]
    return AppointmentOut(
        id=appt.id,
        person_id=person.id,
        person_name=person.name,
        person_title=person.title,
        unit_code=unit.code,
        unit_name=unit.name,
        position=Position(appt.position),
        appointed_on=appt.appointed_on,
        document_no=appt.document_no,
        status=FilingStatus(appt.status),
        submitted_by=appt.submitted_by,
        submitted_at=appt.submitted_at,
        decided_by=appt.decided_by,
        decided_at=appt.decided_at,
        return_reason=appt.return_reason,
        history=history,
    )


def _log(ctx: Ctx, appt: Appointment, action: str, note: str = "") -> None:
    ctx.db.add(FilingEvent(appointment_id=appt.id, action=action, actor=ctx.actor.label, note=note))


def create_appointment(ctx: Ctx, data: AppointmentCreate) -> AppointmentOut:
    """Record an appointment as a draft of the person's unit; it is filed only after approval."""
    person = ctx.db.get(Person, data.person_id)
    if person is None:
        raise NotFound("人员不存在。", "No such person.")
    require(ctx, "create_appointment", person.unit_id, target=f"person:{person.id}")
    unit = ctx.db.get(Unit, person.unit_id)
    assert unit is not None
    errors = ErrorCollector()
    is_region = unit.kind == UnitKind.REGION
    if data.position in REGION_POSITIONS and not is_region:
        errors.add(
            "position",
            "首席数据官和首席数据执行官只能在区域一级任命。",
            "CDO and CDO executive are appointed at region level only.",
        )
    if data.position == Position.UNIT_CDO and is_region:
        errors.add(
            "position",
            "区域一级请任命首席数据官或首席数据执行官。",
            "At region level appoint a CDO or a CDO executive.",
        )
    if data.position in SINGLE_HOLDER:
        holder = ctx.db.scalar(
            select(Appointment.id).where(
                Appointment.unit_id == unit.id,
                Appointment.position == data.position,
                Appointment.status.in_(LIVE),
            )
        )
        if holder is not None:
            errors.add(
                "position",
                "该单位已有此职务的在任或在办任职，请先终止原任职。",
                "This unit already has a live appointment to this position; end it first.",
            )
    errors.raise_if_any()
    appt = Appointment(
        person_id=person.id,
        unit_id=unit.id,
        position=data.position,
        appointed_on=data.appointed_on,
        document_no=data.document_no,
        status=FilingStatus.DRAFT,
    )
    ctx.db.add(appt)
    ctx.db.flush()
    _log(ctx, appt, "created")
    record(
        ctx,
        AppointmentCreated(
            appointment_id=appt.id, unit=unit.id, position=appt.position, person_id=person.id
        ),
    )
    return _appointment_out(ctx, appt)


def _transition(
    ctx: Ctx,
    appt: Appointment,
    allowed_from: tuple[FilingStatus, ...],
    to: FilingStatus,
    **values: object,
) -> None:
    """Move status only if it is still what we read: a racing decision makes this a Conflict."""
    if not compare_and_set(ctx.db, appt, Appointment.status.in_(allowed_from), status=to, **values):
        raise Conflict(
            f"该任职当前状态为「{FilingStatus(appt.status)}」，不能执行此操作。",
            f"The appointment is '{appt.status}'; this step is not possible now.",
        )


def submit_filing(ctx: Ctx, appointment_id: int) -> AppointmentOut:
    appt = _appointment(ctx, appointment_id)
    require(ctx, "submit_filing", appt.unit_id, target=f"appointment:{appointment_id}")
    _transition(
        ctx,
        appt,
        (FilingStatus.DRAFT, FilingStatus.RETURNED),
        FilingStatus.SUBMITTED,
        submitted_by=ctx.actor.label,
        submitted_at=utcnow(),
        return_reason=None,
    )
    _log(ctx, appt, "submitted")
    record(ctx, FilingSubmitted(appointment_id=appt.id, unit=appt.unit_id))
    return _appointment_out(ctx, appt, with_history=True)


def approve_filing(ctx: Ctx, appointment_id: int, note: str = "") -> AppointmentOut:
    """File a submitted appointment (region level); nobody approves their own submission."""
    appt = _appointment(ctx, appointment_id)
    target = f"appointment:{appointment_id}"
    require(ctx, "approve_filing", appt.unit_id, target=target)
    if appt.submitted_by == ctx.actor.label and ctx.actor.kind != "system":
        raise deny(
            "approve_filing",
            target,
            "不能审批自己提交的备案。",
            "You cannot approve a filing you submitted.",
        )
    _transition(
        ctx,
        appt,
        (FilingStatus.SUBMITTED,),
        FilingStatus.FILED,
        decided_by=ctx.actor.label,
        decided_at=utcnow(),
    )
    _log(ctx, appt, "approved", note)
    record(ctx, FilingApproved(appointment_id=appt.id, unit=appt.unit_id, note=note))
    return _appointment_out(ctx, appt, with_history=True)


def return_filing(ctx: Ctx, appointment_id: int, reason: str) -> AppointmentOut:
    appt = _appointment(ctx, appointment_id)
    require(ctx, "return_filing", appt.unit_id, target=f"appointment:{appointment_id}")
    reason = reason.strip()
    if len(reason) < 2:
        errors = ErrorCollector()
        errors.add("reason", "退回时必须写明理由。", "Give a reason when returning a filing.")
        errors.raise_if_any()
    _transition(
        ctx,
        appt,
        (FilingStatus.SUBMITTED,),
        FilingStatus.RETURNED,
        decided_by=ctx.actor.label,
        decided_at=utcnow(),
        return_reason=reason,
    )
    _log(ctx, appt, "returned", reason)
    record(ctx, FilingReturned(appointment_id=appt.id, unit=appt.unit_id, reason=reason))
    return _appointment_out(ctx, appt, with_history=True)


def end_appointment(ctx: Ctx, appointment_id: int, reason: str) -> AppointmentOut:
    appt = _appointment(ctx, appointment_id)
    require(ctx, "end_appointment", appt.unit_id, target=f"appointment:{appointment_id}")
    _transition(ctx, appt, LIVE, FilingStatus.ENDED)
    _log(ctx, appt, "ended", reason.strip())
    record(ctx, AppointmentEnded(appointment_id=appt.id, unit=appt.unit_id, reason=reason.strip()))
    return _appointment_out(ctx, appt, with_history=True)


def list_appointments(
    ctx: Ctx, *, status: FilingStatus | None = None, unit_code: str | None = None
) -> list[AppointmentOut]:
    scope = scope_unit(ctx, "view_appointments")
    query = select(Appointment)
    if unit_code:
        unit = _unit(ctx, unit_code)
        require(ctx, "view_appointments", unit.id, target=unit_code)
        query = query.where(Appointment.unit_id == unit.id)
    elif scope is not None:
        query = query.where(Appointment.unit_id == scope)
    if status:
        query = query.where(Appointment.status == status)
    rows = ctx.db.scalars(
        query.order_by(Appointment.submitted_at.desc().nulls_last(), Appointment.id.desc())
    )
    return [_appointment_out(ctx, a) for a in rows]


def get_appointment(ctx: Ctx, appointment_id: int) -> AppointmentOut:
    appt = _appointment(ctx, appointment_id)
    require(ctx, "view_appointments", appt.unit_id, target=f"appointment:{appointment_id}")
    return _appointment_out(ctx, appt, with_history=True)


# ---------------------------------------------------------------- overview and roster


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
