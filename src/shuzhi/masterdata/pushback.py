"""Push-back to the grass roots (反哺基层): definitions, status, retirement.

A library's unit defines what a street receives: the target unit (a street of the
organisation), the area (a county-level division, the street and optionally one community,
matched on each golden record's parsed address), the golden attributes delivered, an
optional special group (structured conditions: an age range, an attribute equal to a value,
a record in — or not in — one of the library's member datasets; never SQL) and stricter
masking. Defining one sets up its channel through the platform's own machinery
(``pushback_channel``: a catalogue entry of the library's unit, an application of the
street, a grant to it), in the definer's one transaction. Deliveries follow every run that
becomes current (``pushback_delivery``); reports of wrong values go to the source unit
(``pushback_reports``).

Who: the library's unit (its staff, and the bureau's executive CDO) defines, refreshes and
retires push-backs and sees their status with the library; the bureau's readers see every
push-back; a street's staff see the push-backs delivered to their own unit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, ErrorCollector, NotFound
from shuzhi.lake import service as lake
from shuzhi.masterdata import pushback_channel as channel
from shuzhi.masterdata.golden import attributes
from shuzhi.masterdata.models import LibraryKind, MasterdataLibrary, MasterdataMember
from shuzhi.masterdata.pushback_events import PushbackDefined, PushbackRetired
from shuzhi.masterdata.pushback_models import (
    MasterdataPushback,
    MasterdataPushbackDelivery,
    MasterdataPushbackReport,
    PushbackStatus,
)
from shuzhi.masterdata.pushback_schemas import (
    ConditionIn,
    ConditionKind,
    ConditionOut,
    DeliveryOut,
    PushbackFiguresOut,
    PushbackIn,
    PushbackOut,
)
from shuzhi.masterdata.pushback_select import (
    area_problem,
    column_names,
    delivered_value,
    division_text,
    normalised,
)
from shuzhi.masterdata.schemas import ELEMENTS
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitKind
from shuzhi.security.categories import CATEGORY_INFO
from shuzhi.security.classifier import classify_column
from shuzhi.security.masking import MaskLevel, may_override
from shuzhi.validation import required_reason

# ------------------------------------------------------------------ rows and readers


def library_row(ctx: Ctx, code: str) -> MasterdataLibrary:
    found = ctx.db.scalar(select(MasterdataLibrary).where(MasterdataLibrary.code == code.strip()))
    if found is None:
        raise NotFound(f"基础库 {code} 不存在。", f"Base library {code} does not exist.")
    return found


def pushback_row(ctx: Ctx, library: MasterdataLibrary, pushback_id: int) -> MasterdataPushback:
    row = ctx.db.get(MasterdataPushback, pushback_id)
    if row is None or row.library_id != library.id:
        raise NotFound("该反哺定义不存在。", "No such push-back.")
    return row


def may_view(ctx: Ctx, library: MasterdataLibrary, row: MasterdataPushback) -> bool:
    """The library's readers see its push-backs; a street's staff see theirs."""
    return allowed(ctx, "view_masterdata", library.unit_id) or allowed(
        ctx, "view_masterdata_pushback", row.target_unit_id
    )


def require_view(ctx: Ctx, library: MasterdataLibrary, row: MasterdataPushback) -> None:
    if not may_view(ctx, library, row):
        require(ctx, "view_masterdata_pushback", row.target_unit_id, f"pushback:{row.id}")


def select_members(library_id: int) -> Select[str]:
    """The resource codes of a library's active members."""
    return select(MasterdataMember.resource_code).where(
        MasterdataMember.library_id == library_id, MasterdataMember.active.is_(True)
    )


def golden_attribute(kind: LibraryKind, given: str) -> str | None:
    """A golden attribute named by its field (birth_date) or its data element (出生日期)."""
    elements = ELEMENTS[kind]
    key = given.strip()
    if key in attributes(kind.value):
        return key
    by_element = {e: f for f, e in elements.items() if f in attributes(kind.value)}
    return by_element.get(key)


def _known_attributes(kind: LibraryKind) -> str:
    return "、".join(f"{ELEMENTS[kind][a]}({a})" for a in attributes(kind.value))


def condition_text(ctx: Ctx, kind: LibraryKind, c: dict[str, Any]) -> tuple[str, str]:
    k = ConditionKind(c["kind"])
    if k is ConditionKind.AGE:
        low, high = c.get("min_age"), c.get("max_age")
        if low is not None and high is not None:
            return f"年龄 {low}–{high} 岁", f"aged {low} to {high}"
        if low is not None:
            return f"年龄 ≥ {low} 岁", f"aged {low} or over"
        return f"年龄 ≤ {high} 岁", f"aged {high} or under"
    if k is ConditionKind.EQUALS:
        attribute = str(c.get("attribute"))
        shown = delivered_value(attribute, c.get("value"))
        return (
            f"{ELEMENTS[kind].get(attribute, attribute)} = {shown}",
            f"{attribute} = {shown}",
        )
    code = str(c.get("resource_code"))
    try:
        name = lake.entry_facts(ctx, code)[1]
    except NotFound:
        name = code
    if k is ConditionKind.IN_DATASET:
        return f"在「{name}」（{code}）中有记录", f"has a record in {code} ({name})"
    return f"在「{name}」（{code}）中无记录", f"has no record in {code} ({name})"


def pushback_out(
    ctx: Ctx, library: MasterdataLibrary, row: MasterdataPushback, *, deliveries: bool = False
) -> PushbackOut:
    kind = LibraryKind(library.kind)
    target = org.unit_brief(ctx, row.target_unit_id)
    reports = ctx.db.scalar(
        select(func.count(MasterdataPushbackReport.id)).where(
            MasterdataPushbackReport.pushback_id == row.id
        )
    )
    history: list[DeliveryOut] = []
    if deliveries:
        history = [
            DeliveryOut(
                id=d.id,
                run_id=d.run_id,
                status=d.status,
                rows=d.rows,
                version=d.version,
                outcome=d.outcome,
                error_zh=d.error_zh,
                error_en=d.error_en,
                created_by=d.created_by,
                created_at=d.created_at,
            )
            for d in ctx.db.scalars(
                select(MasterdataPushbackDelivery)
                .where(MasterdataPushbackDelivery.pushback_id == row.id)
                .order_by(MasterdataPushbackDelivery.id.desc())
                .limit(50)
            )
        ]
    conditions = []
    for c in row.conditions:
        zh, en = condition_text(ctx, kind, c)
        conditions.append(ConditionOut.model_validate({**c, "text_zh": zh, "text_en": en}))
    return PushbackOut(
        id=row.id,
        library=library.code,
        name=row.name,
        target_unit_code=target.code if target else "",
        target_unit_name=target.name if target else "",
        division_code=row.division_code,
        division_name=division_text(row.division_code) or row.division_code,
        street=row.street,
        community=row.community,
        columns=list(row.columns),
        delivered_columns=column_names(kind, list(row.columns)),
        conditions=conditions,
        masking={str(k): str(v) for k, v in row.masking.items()},
        resource_code=row.resource_code,
        application_code=row.application_code,
        grant_id=row.grant_id,
        grant_status=channel.grant_state(ctx, row.grant_id, utcnow()),
        status=PushbackStatus(row.status),
        last_run_id=row.last_run_id,
        rows=row.rows,
        version=row.version,
        delivered_at=row.delivered_at,
        error_zh=row.error_zh,
        error_en=row.error_en,
        reports=int(reports or 0),
        created_by=row.created_by,
        created_at=row.created_at,
        deliveries=history,
    )


# ------------------------------------------------------------------ definition


def _conditions(
    ctx: Ctx,
    library: MasterdataLibrary,
    given: list[ConditionIn],
    errors: ErrorCollector,
) -> list[dict[str, Any]]:
    """The conditions as stored (attributes as fields, values normalised); problems to
    ``errors`` under ``conditions.<i>.<field>``."""
    kind = LibraryKind(library.kind)
    members = set(ctx.db.scalars(select_members(library.id)))
    out: list[dict[str, Any]] = []
    for i, c in enumerate(given):
        at = f"conditions.{i}"
        if c.kind is ConditionKind.AGE:
            if kind is not LibraryKind.PERSON:
                errors.add(
                    f"{at}.kind",
                    "年龄条件只适用于人口库。",
                    "An age condition needs a person library.",
                )
            elif c.min_age is None and c.max_age is None:
                errors.add(
                    f"{at}.min_age",
                    "年龄条件须给出最小年龄或最大年龄。",
                    "An age condition needs a minimum or a maximum age.",
                )
            elif c.min_age is not None and c.max_age is not None and c.min_age > c.max_age:
                errors.add(
                    f"{at}.max_age",
                    "最大年龄不能小于最小年龄。",
                    "The maximum age cannot be below the minimum.",
                )
            else:
                out.append({"kind": c.kind.value, "min_age": c.min_age, "max_age": c.max_age})
        elif c.kind is ConditionKind.EQUALS:
            attribute = golden_attribute(kind, c.attribute or "")
            if attribute is None or attribute == "address":
                errors.add(
                    f"{at}.attribute",
                    f"「{c.attribute or ''}」不能用于等值条件（可用：{_known_attributes(kind)}，"
                    "住址除外，辖区由街道和社区限定）。",
                    f"'{c.attribute or ''}' cannot be compared (use one of"
                    f" {_known_attributes(kind)}, except the address: the area is set by the"
                    " street and community).",
                )
                continue
            value = normalised(kind, attribute, c.value or "") if (c.value or "").strip() else None
            if value is None:
                errors.add(
                    f"{at}.value",
                    f"「{c.value or ''}」不是有效的{ELEMENTS[kind][attribute]}。",
                    f"'{c.value or ''}' is not a valid {attribute}.",
                )
                continue
            out.append({"kind": c.kind.value, "attribute": attribute, "value": value})
        else:
            code = (c.resource_code or "").strip()
            if code not in members:
                errors.add(
                    f"{at}.resource_code",
                    f"数据集「{code}」不是基础库 {library.code} 的成员。",
                    f"Dataset '{code}' is not a member of base library {library.code}.",
                )
                continue
            out.append({"kind": c.kind.value, "resource_code": code})
    return out


def _columns(kind: LibraryKind, given: list[str], errors: ErrorCollector) -> list[str]:
    out: list[str] = []
    for name in given:
        attribute = golden_attribute(kind, name)
        if attribute is None:
            errors.add(
                "columns",
                f"「{name}」不是黄金记录的属性（可用：{_known_attributes(kind)}）。",
                f"'{name}' is not a golden attribute (known: {_known_attributes(kind)}).",
            )
        elif attribute not in out:
            out.append(attribute)
    return out


def _masking(
    kind: LibraryKind, data: PushbackIn, columns: list[str], errors: ErrorCollector
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, level in data.masking.items():
        attribute = golden_attribute(kind, name)
        if attribute is None or attribute not in columns:
            errors.add(
                f"masking.{name}",
                f"「{name}」不是本反哺交付的属性。",
                f"'{name}' is not one of the delivered attributes.",
            )
            continue
        element = ELEMENTS[kind][attribute]
        default = CATEGORY_INFO[classify_column(element, []).category].default_level
        if not may_override(default, level):
            errors.add(
                f"masking.{name}",
                f"「{element}」的脱敏只能加强，不能低于默认的 {default.value}。",
                f"Masking of {element} may only be made stricter than its default"
                f" ({default.value}).",
            )
            continue
        out[attribute] = level.value
    return out


def _target(ctx: Ctx, library: MasterdataLibrary, code: str, errors: ErrorCollector) -> int:
    unit_id = org.unit_id_for_code(ctx, code.strip())
    brief = org.unit_brief(ctx, unit_id) if unit_id is not None else None
    if brief is None:
        errors.add("target_unit_code", f"单位 {code} 不存在。", f"Unit {code} does not exist.")
        return 0
    if brief.kind != UnitKind.STREET.value:
        errors.add(
            "target_unit_code",
            f"{brief.name} 不是街道（乡镇）单位：反哺数据只交给街道。",
            f"{brief.name} is not a street (township) unit: push-backs go to streets.",
        )
    elif brief.id == library.unit_id:
        errors.add(
            "target_unit_code",
            "接收单位不能是基础库所属单位。",
            "The target unit cannot be the library's own unit.",
        )
    return brief.id


def _taken(library: str, name: str) -> Conflict:
    return Conflict(
        f"基础库 {library} 已有名为「{name}」的反哺定义。",
        f"Base library {library} already has a push-back named '{name}'.",
    )


def define_masterdata_pushback(ctx: Ctx, code: str, data: PushbackIn) -> PushbackOut:
    """Define a push-back and set up its channel (entry, application, grant), all or nothing.

    Its first delivery comes with the next run that becomes current, or at once with
    ``refresh_masterdata_pushbacks``."""
    library = library_row(ctx, code)
    require(ctx, "define_masterdata_pushback", library.unit_id, library.code)
    kind = LibraryKind(library.kind)
    errors = ErrorCollector()
    target_id = _target(ctx, library, data.target_unit_code, errors)
    street, community = data.street.strip(), (data.community or "").strip() or None
    problem = area_problem(data.division_code, street, community)
    if problem is not None:
        errors.add(*problem)
    columns = _columns(kind, data.columns, errors)
    conditions = _conditions(ctx, library, data.conditions, errors)
    masking = _masking(kind, data, columns, errors)
    errors.raise_if_any()
    name = data.name.strip()
    taken = ctx.db.scalar(
        select(MasterdataPushback.id).where(
            MasterdataPushback.library_id == library.id, MasterdataPushback.name == name
        )
    )
    if taken is not None:
        raise _taken(library.code, name)
    target = org.unit_brief(ctx, target_id)
    assert target is not None
    row = MasterdataPushback(
        library_id=library.id,
        name=name,
        target_unit_id=target_id,
        division_code=data.division_code,
        street=street,
        community=community,
        columns=columns,
        conditions=conditions,
        masking=masking,
        resource_code="",
        application_code="",
        status=PushbackStatus.PENDING,
        created_by=ctx.actor.label,
    )
    ctx.db.add(row)
    try:
        ctx.db.flush()
    except IntegrityError:  # the same name defined at the same moment
        raise _taken(library.code, name) from None
    area = f"{division_text(row.division_code)}{street}{community or ''}"
    names = column_names(kind, columns)
    row.resource_code = channel.create_entry(ctx, library, name, target.name, area, names)
    row.application_code = channel.register_application(ctx, row.id, name, target.code)
    row.grant_id = channel.issue_grant(
        ctx,
        resource_code=row.resource_code,
        app_code=row.application_code,
        target_code=target.code,
        library_name=library.name,
        name=name,
        columns=names,
        masking={ELEMENTS[kind][a]: MaskLevel(level) for a, level in masking.items()},
    )
    ctx.db.flush()
    out = pushback_out(ctx, library, row)
    record(
        ctx,
        PushbackDefined(
            library.code,
            row.id,
            library.unit_id,
            target_id,
            name,
            f"{row.division_code} {street} {community or ''}".strip(),
            ", ".join(columns),
            "; ".join(c.text_en for c in out.conditions)[:1000],
            row.resource_code,
            row.grant_id,
        ),
    )
    return out


# ------------------------------------------------------------------ reading


def list_masterdata_pushbacks(ctx: Ctx, code: str) -> list[PushbackOut]:
    """A library's push-backs with their delivery status: all of them for the library's
    readers, a street's own for its staff."""
    library = library_row(ctx, code)
    rows = list(
        ctx.db.scalars(
            select(MasterdataPushback)
            .where(MasterdataPushback.library_id == library.id)
            .order_by(MasterdataPushback.id)
        )
    )
    if not allowed(ctx, "view_masterdata", library.unit_id):
        own = [r for r in rows if allowed(ctx, "view_masterdata_pushback", r.target_unit_id)]
        if not own:
            require(ctx, "view_masterdata", library.unit_id, library.code)
        rows = own
    return [pushback_out(ctx, library, r) for r in rows]


def get_masterdata_pushback(ctx: Ctx, code: str, pushback_id: int) -> PushbackOut:
    """One push-back with its recent deliveries."""
    library = library_row(ctx, code)
    row = pushback_row(ctx, library, pushback_id)
    require_view(ctx, library, row)
    return pushback_out(ctx, library, row, deliveries=True)


def delivered_pushbacks(ctx: Ctx) -> list[PushbackOut]:
    """Push-backs delivered to the reader's unit (every one for the bureau's readers; none
    for a role that sees no push-back, as the list of libraries shows none)."""
    if ctx.actor.is_authenticated and not allowed(ctx, "view_masterdata_pushback"):
        return []
    unit_id = scope_unit(ctx, "view_masterdata_pushback")
    query = select(MasterdataPushback, MasterdataLibrary).join(
        MasterdataLibrary, MasterdataLibrary.id == MasterdataPushback.library_id
    )
    if unit_id is not None:
        query = query.where(MasterdataPushback.target_unit_id == unit_id)
    rows = ctx.db.execute(query.order_by(MasterdataPushback.id)).all()
    return [pushback_out(ctx, library, row) for row, library in rows]


def pushback_figures(ctx: Ctx) -> PushbackFiguresOut:
    """Totals over the push-backs of the libraries the reader may see (for the cockpit)."""
    rows = ctx.db.execute(
        select(MasterdataPushback, MasterdataLibrary.unit_id).join(
            MasterdataLibrary, MasterdataLibrary.id == MasterdataPushback.library_id
        )
    ).all()
    seen = [
        r
        for r, unit_id in rows
        if r.status != PushbackStatus.RETIRED and allowed(ctx, "view_masterdata", unit_id)
    ]
    ids = [r.id for r in seen]
    reports = 0
    if ids:
        reports = int(
            ctx.db.scalar(
                select(func.count(MasterdataPushbackReport.id)).where(
                    MasterdataPushbackReport.pushback_id.in_(ids)
                )
            )
            or 0
        )
    return PushbackFiguresOut(
        pushbacks=len(seen),
        delivered=sum(1 for r in seen if r.status == PushbackStatus.OK),
        failed=sum(1 for r in seen if r.status == PushbackStatus.FAILED),
        rows=sum(r.rows or 0 for r in seen if r.status != PushbackStatus.PENDING),
        reports=reports,
    )


# ------------------------------------------------------------------ retirement


def retire_masterdata_pushback(ctx: Ctx, code: str, pushback_id: int, reason: str) -> PushbackOut:
    """Stop delivering a push-back: its grant is revoked (the street stops reading it at
    once) and later runs leave it alone. Its dataset's versions stay in the lake."""
    library = library_row(ctx, code)
    require(ctx, "retire_masterdata_pushback", library.unit_id, library.code)
    row = pushback_row(ctx, library, pushback_id)
    why = required_reason(reason, "停止反哺", "Retiring a push-back")
    if row.status == PushbackStatus.RETIRED:
        raise Conflict("该反哺已停止。", "This push-back is already retired.")
    channel.revoke_grant(ctx, row.grant_id, f"停止反哺：{why}")
    row.status = PushbackStatus.RETIRED
    ctx.db.flush()
    record(
        ctx,
        PushbackRetired(library.code, row.id, library.unit_id, row.target_unit_id, why[:500]),
    )
    return pushback_out(ctx, library, row)
