"""Portal test data: published entries of department B with data, opened or not."""

from __future__ import annotations

from itertools import count
from typing import Any

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.portal import service
from shuzhi.portal.schemas import ApplicantIn, ApplicantOut
from tests.catalog.helpers import entry_data, item
from tests.conftest import acting
from tests.factories import Org
from tests.lake.helpers import ITEMS as PEOPLE_ITEMS
from tests.lake.helpers import people_rows, write_csv
from tests.scratch import Scratch

_n = count()
_dir = Scratch("shuzhi-portal-")

STATS_ITEMS = [
    item("街道名称"),
    item("年份", data_type="N", length=4),
    item("公交站点数", data_type="N", length=6),
]
STATS_HEADER = ["街道名称", "年份", "公交站点数"]


def stats_rows(n: int) -> list[list[str]]:
    streets = ["城南街道", "城北街道", "东湖街道", "西溪街道"]
    return [[streets[i % 4], str(2000 + i % 25), str(10 + i)] for i in range(n)]


def _published(
    database: Database, name: str, items: list[dict[str, Any]], over: dict[str, Any]
) -> str:
    with acting(database, SYSTEM) as ctx:
        data = entry_data(name=name, unit_code="B", items=items, **over)
        code = catalog.create_entry(ctx, EntryCreate.model_validate(data)).resource_code
        catalog.submit_entry(ctx, code)
        catalog.approve_entry(ctx, code)
    return code


def open_entry(
    database: Database,
    open_type: str = "unconditional",
    *,
    people: bool = False,
    rows: int = 30,
    name: str | None = None,
    loaded: bool = True,
) -> str:
    """A published entry of department B with data loaded (not yet opened)."""
    over: dict[str, Any] = {"open_type": open_type}
    if open_type != "not_open":
        over["not_open_reason"] = ""
    if open_type == "conditional":
        over["open_conditions"] = "须签署数据利用协议，仅用于科研"
    if people:
        code = _published(database, name or f"人口数据{next(_n)}", PEOPLE_ITEMS, over)
        data, header = people_rows(rows), None
    else:
        code = _published(database, name or f"公交站点统计{next(_n)}", STATS_ITEMS, over)
        data, header = stats_rows(rows), STATS_HEADER
    if loaded:
        path = write_csv(_dir / f"p{next(_n)}.csv", data, header=header)
        with acting(database, SYSTEM) as ctx:
            lake.ingest(ctx, code, FileSource(path))
    return code


def provider(seeded: Org) -> Actor:
    return seeded.other_unit_actor(Role.UNIT_CDO)


def opened(database: Database, seeded: Org, code: str, confirm: bool = False) -> None:
    with acting(database, provider(seeded)) as ctx:
        service.open_dataset(ctx, code, confirm_deidentified=confirm)


def applicant(database: Database, email: str | None = None) -> ApplicantOut:
    with acting(database) as ctx:
        registered = service.register_applicant(
            ctx,
            ApplicantIn(
                email=email or f"user{next(_n)}@example.cn",
                name="李研究",
                organisation="某大学",
                kind="research",
                password="Open-data-2026",
            ),
        )
    assert registered is not None, "the address was registered already"
    return registered
