"""What the push-back console pages show, decided here (permissions included) so the routes
only render: a library's push-backs with the definition form's choices, and one push-back
with its deliveries, reports and — for the street it is delivered to — its records and the
report form."""

from __future__ import annotations

from pydantic import BaseModel

from shuzhi.auth.permissions import allowed
from shuzhi.context import Ctx
from shuzhi.errors import Conflict
from shuzhi.masterdata import pushback, pushback_reports
from shuzhi.masterdata.golden import attributes
from shuzhi.masterdata.models import LibraryKind, MasterdataMember
from shuzhi.masterdata.pushback_models import PushbackStatus
from shuzhi.masterdata.pushback_schemas import PushbackOut, RecordsOut, ReportOut
from shuzhi.masterdata.schemas import ELEMENTS
from shuzhi.org import service as org
from shuzhi.org.schemas import UnitKind


class Choice(BaseModel):
    value: str
    label: str


class PushbacksPage(BaseModel):
    library: str
    library_name: str
    kind: LibraryKind
    pushbacks: list[PushbackOut]
    can_define: bool
    can_refresh: bool
    streets: list[Choice]
    attributes: list[Choice]
    members: list[Choice]


class PushbackPage(BaseModel):
    pushback: PushbackOut
    reports: list[ReportOut]
    records: RecordsOut | None
    records_problem: str | None = None
    can_refresh: bool
    can_retire: bool
    can_report: bool
    attributes: list[Choice]


def _attributes(kind: LibraryKind, chosen: list[str] | None = None) -> list[Choice]:
    names = attributes(kind.value) if chosen is None else chosen
    return [Choice(value=a, label=ELEMENTS[kind][a]) for a in names]


def pushbacks_page(ctx: Ctx, code: str) -> PushbacksPage:
    library = pushback.library_row(ctx, code)
    listed = pushback.list_masterdata_pushbacks(ctx, code)  # checks who may see them
    kind = LibraryKind(library.kind)
    can_define = allowed(ctx, "define_masterdata_pushback", library.unit_id)
    streets: list[Choice] = []
    members: list[Choice] = []
    if can_define:
        streets = [
            Choice(value=u.code, label=u.name)
            for u in org.all_unit_briefs(ctx)
            if u.kind == UnitKind.STREET.value
        ]
        rows = ctx.db.scalars(pushback.select_members(library.id).order_by(MasterdataMember.rank))
        members = [Choice(value=m, label=m) for m in rows]
    return PushbacksPage(
        library=library.code,
        library_name=library.name,
        kind=kind,
        pushbacks=listed,
        can_define=can_define,
        can_refresh=allowed(ctx, "refresh_masterdata_pushbacks", library.unit_id),
        streets=streets,
        attributes=_attributes(kind),
        members=members,
    )


def pushback_page(
    ctx: Ctx, code: str, pushback_id: int, after: str | None = None, *, records: bool = True
) -> PushbackPage:
    """One push-back; with ``records`` its delivered records too when the reader is the
    street it is delivered to (a data access, audited by the read)."""
    out = pushback.get_masterdata_pushback(ctx, code, pushback_id)  # checks who may see it
    library = pushback.library_row(ctx, code)
    row = pushback.pushback_row(ctx, library, pushback_id)
    kind = LibraryKind(library.kind)
    shown, problem = None, None
    reader = ctx.actor.kind != "system" and allowed(
        ctx, "read_masterdata_pushback", row.target_unit_id
    )
    if reader and records:
        try:
            shown = pushback_reports.read_masterdata_pushback(ctx, code, pushback_id, after)
        except Conflict as err:
            problem = err.message.get(ctx.locale)
    live = row.status != PushbackStatus.RETIRED
    return PushbackPage(
        pushback=out,
        reports=pushback_reports.list_masterdata_reports(ctx, code, pushback_id),
        records=shown,
        records_problem=problem,
        can_refresh=live and allowed(ctx, "refresh_masterdata_pushbacks", library.unit_id),
        can_retire=live and allowed(ctx, "retire_masterdata_pushback", library.unit_id),
        can_report=live
        and row.version is not None
        and reader
        and allowed(ctx, "report_masterdata_record", row.target_unit_id),
        attributes=_attributes(kind, list(row.columns)),
    )
