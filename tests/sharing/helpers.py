"""Sharing test data: published entries of department B, applications of department A."""

from __future__ import annotations

from itertools import count
from typing import Any

from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service
from shuzhi.sharing.schemas import AppKeyIn, ApplicationIn, DecisionIn, RequestCreate, RequestOut
from tests.catalog.helpers import item
from tests.conftest import acting
from tests.factories import Org
from tests.lake.helpers import people_rows, published_entry, write_csv
from tests.scratch import Scratch

_n = count()
_dir = Scratch("shuzhi-sharing-")

PEOPLE_ITEMS = [
    item("姓名"),
    item("公民身份号码", length=18),
    item("联系电话", length=20),
    item("出生日期", data_type="D", length=10),
    item("年龄", data_type="N", length=3),
]


def shared_entry(
    database: Database,
    share: str = "conditional",
    unit: str = "B",
    items: list[dict[str, Any]] | None = None,
    loaded: bool = False,
    rows: int = 30,
) -> str:
    """A published entry of ``unit`` with the given share type; optionally with data loaded."""
    chosen = [dict(i) for i in (items or PEOPLE_ITEMS)]
    over: dict[str, Any] = {"share_type": share}
    if share == "conditional":
        over["share_conditions"] = "仅限依法履职需要"
        over["not_shared_basis"] = "《政务数据共享条例》"
    elif share == "not_shared":
        over["not_shared_basis"] = "《个人信息保护法》第三十四条"
        over["share_method"] = over["share_method_type"] = ""
        for i in chosen:
            i["share_type"] = "not_shared"
    if share == "unconditional":
        for i in chosen:
            i["share_type"] = "unconditional"
    code = published_entry(database, unit, items=chosen, **over)
    if loaded:
        path = write_csv(_dir / f"s{next(_n)}.csv", people_rows(rows))
        with acting(database, SYSTEM) as ctx:
            lake.ingest(ctx, code, FileSource(path))
    return code


def application(database: Database, unit: str = "A", code: str | None = None) -> str:
    code = code or f"APP-{next(_n)}"
    with acting(database, SYSTEM) as ctx:
        apps.register_application(
            ctx, ApplicationIn(code=code, name="业务系统", unit_code=unit, contact="张三")
        )
    return code


def key(database: Database, app: str, actor: Actor = SYSTEM, days: int = 30) -> str:
    with acting(database, actor) as ctx:
        return apps.create_app_key(ctx, app, AppKeyIn(label="生产", expires_in_days=days)).token


def request(
    database: Database,
    actor: Actor,
    entry: str,
    app: str,
    columns: list[str] | None = None,
    **over: Any,
) -> RequestOut:
    data = {
        "resource_code": entry,
        "application_code": app,
        "purpose": "核验办事群众身份信息",
        "legal_basis": "《政务数据共享条例》",
        "columns": columns or ["姓名", "公民身份号码"],
        **over,
    }
    with acting(database, actor) as ctx:
        return service.submit_share_request(ctx, RequestCreate.model_validate(data))


def provider_cdo(seeded: Org) -> Actor:
    return seeded.other_unit_actor(Role.UNIT_CDO)


def approve(database: Database, seeded: Org, request_id: int, **decision: Any) -> RequestOut:
    data = DecisionIn.model_validate({"outcome": "approve", **decision})
    with acting(database, provider_cdo(seeded)) as ctx:
        return service.decide_share_request(ctx, request_id, data)


def provider_account(database: Database, username: str = "b.cdo") -> str:
    """A log-in for department B's CDO (the provider in these tests); returns the username."""
    from shuzhi.auth import service as auth
    from shuzhi.auth.schemas import UserCreate
    from tests.factories import PASSWORD

    with acting(database, SYSTEM) as ctx:
        auth.create_user(
            ctx,
            UserCreate(
                username=username,
                display_name=username,
                password=PASSWORD,
                role=Role.UNIT_CDO,
                unit_code="B",
            ),
        )
    return username
