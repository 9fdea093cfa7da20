"""Portal rows of the permission matrix (tests/auth/test_permission_matrix.py).

The unit under test is the providing unit: its published, loaded entry is opened, closed or
applied for. One entry per database, unit and open type is shared by every prepare step,
which only moves it between open and closed, so a row costs one ingest per unit.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import cast

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.portal import service
from shuzhi.portal.models import ApplicationStatus, PublicationStatus
from shuzhi.portal.schemas import ApplicantOut, ApplicationIn
from tests.catalog.helpers import entry_data
from tests.conftest import acting
from tests.lake.helpers import write_csv
from tests.portal.helpers import STATS_HEADER, STATS_ITEMS, applicant, stats_rows

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
PROVIDER = {Role.UNIT_CDO}
NONE: set[Role] = set()

# The provider's CDO opens its data and decides applications; the bureau may close and revoke.
# Publication and application lists are scoped, not targeted: staff see their own unit's.
EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "open_dataset": (PROVIDER, NONE),
    "republish_dataset": (PROVIDER, NONE),
    "close_dataset": (EXEC | PROVIDER, EXEC),
    "view_publications": (R | STAFF, R | STAFF),
    "view_open_applications": (R | STAFF, R | STAFF),
    "decide_open_application": (PROVIDER, NONE),
    "revoke_open_application": (EXEC | PROVIDER, EXEC),
    "view_portal_figures": (R | STAFF, R | STAFF),
}

_n = count()
_entries: dict[tuple[str, str, str], str] = {}
_applicants: dict[tuple[str, ApplicationStatus], ApplicantOut] = {}


def _entry(database: Database, unit: str, open_type: str) -> str:
    """A published entry of ``unit`` with one loaded version (made once per database)."""
    k = (database.settings.database_url, unit, open_type)
    if k not in _entries:
        data = entry_data(
            name=f"公交站点统计{next(_n)}",
            unit_code=unit,
            items=STATS_ITEMS,
            open_type=open_type,
            not_open_reason="",
            open_conditions="须签署数据利用协议，仅用于科研" if open_type == "conditional" else "",
        )
        path = write_csv(
            database.settings.data_dir / f"matrix-{next(_n)}.csv", stats_rows(5), STATS_HEADER
        )
        with acting(database, SYSTEM) as ctx:
            code = catalog.create_entry(ctx, EntryCreate.model_validate(data)).resource_code
            catalog.submit_entry(ctx, code)
            catalog.approve_entry(ctx, code)
            lake.ingest(ctx, code, FileSource(path))
        _entries[k] = code
    return _entries[k]


def _published(
    database: Database, unit: str, is_open: bool, open_type: str = "unconditional"
) -> str:
    """The unit's entry, opened or closed by the system as the row needs it."""
    code = _entry(database, unit, open_type)
    with acting(database, SYSTEM) as ctx:
        state = {p.resource_code: p.status for p in service.list_publications(ctx)}.get(code)
        if is_open and state != PublicationStatus.OPEN:
            service.open_dataset(ctx, code)
        elif not is_open and state == PublicationStatus.OPEN:
            service.close_dataset(ctx, code, "准备重新开放")
    return code


def _application(database: Database, unit: str, status: ApplicationStatus) -> int:
    """A pending or approved application for the unit's conditional dataset."""
    code = _published(database, unit, True, "conditional")
    k = (database.settings.database_url, status)
    if k not in _applicants:
        _applicants[k] = applicant(database)
    who = _applicants[k]
    live = (ApplicationStatus.PENDING, ApplicationStatus.APPROVED)
    with acting(database, SYSTEM) as ctx:
        mine = service.my_applications(ctx, who)
        found = next((a for a in mine if a.resource_code == code and a.status in live), None)
        if found is None:
            found = service.submit_open_application(
                ctx,
                who,
                ApplicationIn(
                    resource_code=code, purpose="用于城市公共交通规划研究", accept_agreement=True
                ),
            )
        if status == ApplicationStatus.APPROVED and found.status == ApplicationStatus.PENDING:
            found = service.decide_open_application(ctx, found.id, True, "")
        assert found.status == status
        return found.id


def _sees(ctx: Ctx, unit: object) -> bool:
    """Whether the actor's list must show the other party's item (region roles, own unit)."""
    return unit == "A" or ctx.actor.role in R


def _list_publications(ctx: Ctx, prepared: object) -> object:
    unit, code = cast(tuple[str, str], prepared)
    listed = {p.resource_code for p in service.list_publications(ctx)}
    assert (code in listed) == _sees(ctx, unit), f"{code} listed: {code in listed}"
    return listed


def _list_applications(ctx: Ctx, prepared: object) -> object:
    unit, application_id = cast(tuple[str, int], prepared)
    listed = {a.id for a in service.list_open_applications(ctx)}
    assert (application_id in listed) == _sees(ctx, unit), f"{application_id} listed"
    return listed


Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "open_dataset": (
        lambda d, u: _published(d, u, False),
        lambda c, code: service.open_dataset(c, str(code)),
    ),
    "republish_dataset": (
        lambda d, u: _published(d, u, True),
        lambda c, code: service.republish_dataset(c, str(code)),
    ),
    "close_dataset": (
        lambda d, u: _published(d, u, True),
        lambda c, code: service.close_dataset(c, str(code), "数据已停止更新"),
    ),
    "view_publications": (lambda d, u: (u, _published(d, u, True)), _list_publications),
    "view_open_applications": (
        lambda d, u: (u, _application(d, u, ApplicationStatus.PENDING)),
        _list_applications,
    ),
    "decide_open_application": (
        lambda d, u: _application(d, u, ApplicationStatus.PENDING),
        lambda c, a: service.decide_open_application(c, int(str(a)), False, "用途与数据不符"),
    ),
    "revoke_open_application": (
        lambda d, u: _application(d, u, ApplicationStatus.APPROVED),
        lambda c, a: service.revoke_open_application(c, int(str(a)), "违反数据利用协议"),
    ),
    "view_portal_figures": (lambda d, u: u, lambda c, u: service.portal_figures(c)),
}
