"""Demo sharing: connected systems with keys, and share requests in every state.

Built through the normal services by the demo units' own accounts (a provider without demo
log-ins decides as the demo system), so every step is audited and notified. Entries are
chosen deterministically from the demo catalogue (first by resource code). Idempotent: once
the demo applications exist nothing is created again; the consumer key written to
``demo-credentials.json`` is kept while it still works and reissued only if it was lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from shuzhi.auth import service as auth
from shuzhi.auth.models import User
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryBrief
from shuzhi.context import Actor, Ctx, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import ShuzhiError
from shuzhi.lake import service as lake
from shuzhi.org import service as org
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service
from shuzhi.sharing.access import authenticate_application
from shuzhi.sharing.calendar import local_day
from shuzhi.sharing.calendar_service import work_calendar
from shuzhi.sharing.models import ShareRequest
from shuzhi.sharing.schemas import (
    AppKeyIn,
    ApplicationIn,
    DecisionIn,
    RenewalIn,
    RequestCreate,
    RequestOut,
)
from shuzhi.standards.resident_id import parse_resident_id

# (unit, code, name, description, issue a key)
APPLICATIONS = [
    ("JD-CX", "CX-JCZL", "城西街道基层治理平台", "网格化管理、民生服务事项办理", True),
    ("RSJ", "RSJ-SBXT", "社会保险业务经办系统", "参保登记、待遇核定与发放", True),
    ("WJW", "WJW-JKDA", "全民健康信息平台", "居民电子健康档案与公共卫生服务", True),
    ("SCJ", "SCJ-XYJG", "企业信用监管系统", "市场主体信用分类监管", True),
    ("SJGL", "SJGL-ZTK", "城市大脑主题库", "人口、法人主题库的融合与治理", True),
    ("MZJ", "MZJ-JZXT", "社会救助信息系统", "低保、特困人员认定", False),
    ("JYJ", "JYJ-ZSXT", "义务教育招生系统", "入学资格审核", True),
]
CONSUMER = "CX-JCZL"
# Staffed units have demo log-ins (see district.STAFFED_UNITS); others act as the system.
USERS = {"JD-CX": "chengxi", "RSJ": "rsj", "WJW": "wjw", "SCJ": "scj", "SJGL": "sjgl"}
PURPOSES = {
    "CX-JCZL": ("辖区居民身份核验与民生服务事项办理", "《浙江省公共数据条例》第二十六条"),
    "RSJ-SBXT": ("参保人员待遇资格认证", "《社会保险法》第八十二条"),
    "WJW-JKDA": ("居民健康档案建档核验", "《基本医疗卫生与健康促进法》第四十九条"),
    "SCJ-XYJG": ("企业信用风险分类监管", "《企业信息公示暂行条例》"),
    "SJGL-ZTK": ("人口主题库融合治理", "《浙江省公共数据条例》第十八条"),
}


@dataclass(frozen=True)
class Credential:
    application: str
    unit: str
    api_key: str
    resource_code: str
    key_column: str | None
    sample_key: str | None
    grant_id: int


def _actor(ctx: Ctx, unit: str, role: str, fallback: Actor) -> Actor:
    stem = USERS.get(unit)
    if stem is None:
        return fallback
    user = ctx.db.scalar(select(User).where(User.username == f"{stem}.{role}"))
    return auth.actor_for_user(user) if user is not None else fallback


def _entries(ctx: Ctx, share: str, unit: str | None = None) -> list[EntryBrief]:
    filters = {"status": ["published"], "share_type": [share]}
    if unit:
        filters["unit"] = [unit]
    page = catalog.list_entries(ctx, "", filters=filters, limit=200)
    return sorted((e for e in page.items if e.items >= 2), key=lambda e: e.resource_code)


def _pick(
    ctx: Ctx, share: str, consumer: str, units: list[str | None], used: set[str]
) -> EntryBrief | None:
    for unit in units:
        for e in _entries(ctx, share, unit):
            if e.unit_code != consumer and e.resource_code not in used:
                used.add(e.resource_code)
                return e
    return None


def _columns(ctx: Ctx, code: str, limit: int = 5) -> list[str]:
    entry = catalog.get_entry(ctx, code)
    shareable = [i.name for i in entry.items if i.share_type != "not_shared"]
    return (shareable or [i.name for i in entry.items])[:limit]


def _ask(
    database: Database, fallback: Actor, app: str, unit: str, code: str, **over: Any
) -> RequestOut:
    with unit_of_work(database, fallback) as ctx:
        actor = _actor(ctx, unit, "liaison", fallback)
        columns = over.pop("columns", None) or _columns(ctx, code)
    purpose, basis = PURPOSES.get(app, ("依法履职需要", "《政务数据共享条例》"))
    data = {
        "resource_code": code,
        "application_code": app,
        "unit_code": unit,
        "purpose": purpose,
        "legal_basis": basis,
        "columns": columns,
        **over,
    }
    with unit_of_work(database, actor) as ctx:
        return service.submit_share_request(ctx, RequestCreate.model_validate(data))


def _decide(
    database: Database, fallback: Actor, out: RequestOut, data: dict[str, Any]
) -> RequestOut:
    with unit_of_work(database, fallback) as ctx:
        actor = _actor(ctx, out.provider_unit_code, "cdo", fallback)
    with unit_of_work(database, actor) as ctx:
        return service.decide_share_request(ctx, out.id, DecisionIn.model_validate(data))


def _applications(database: Database, actor: Actor) -> None:
    for unit, code, name, description, _key in APPLICATIONS:
        with unit_of_work(database, actor) as ctx:
            if org.unit_id_for_code(ctx, unit) is None:
                continue
            registrar = _actor(ctx, unit, "liaison", actor)
        with unit_of_work(database, registrar) as ctx:
            apps.register_application(
                ctx,
                ApplicationIn(
                    code=code,
                    name=name,
                    description=description,
                    contact="数据专员",
                    unit_code=unit,
                ),
            )


def _key(database: Database, actor: Actor, unit: str, app: str) -> str:
    with unit_of_work(database, actor) as ctx:
        holder = _actor(ctx, unit, "liaison", actor)
    with unit_of_work(database, holder) as ctx:
        return apps.create_app_key(ctx, app, AppKeyIn(label="生产环境", expires_in_days=365)).token


def _dataset_with_ids(database: Database, actor: Actor) -> str | None:
    """A loaded demo dataset whose current version has a resident ID column."""
    with unit_of_work(database, actor) as ctx:
        for code, _unit, _number, _score in lake.current_scores(ctx):
            found = lake.current_version(ctx, code)
            if found and any(c.category == "resident_id" for c in found[0].classification):
                return code
    return None


def _sample_key(database: Database, actor: Actor, code: str, column: str | None) -> str | None:
    if column is None:
        return None
    with unit_of_work(database, actor) as ctx:
        found = lake.current_version(ctx, code)
        if found is None:
            return None
        for batch in lake.query_engine(ctx).scan(found[1], columns=[column], limit=200):
            for value in batch.column(0).to_pylist():
                if isinstance(value, str) and parse_resident_id(value) is not None:
                    return value
    return None


def _backdate(database: Database, actor: Actor, request_id: int, days: int) -> None:
    """Demo only: pretend a request was filed ``days`` ago, so its deadline has passed."""
    with unit_of_work(database, actor) as ctx:
        req = ctx.db.get(ShareRequest, request_id)
        assert req is not None and req.decision_days is not None
        filed = utcnow() - timedelta(days=days)
        due = work_calendar(ctx, req.jurisdiction).add_working_days(
            local_day(filed), req.decision_days
        )
        ctx.db.execute(
            update(ShareRequest)
            .where(ShareRequest.id == request_id)
            .values(requested_at=filed, due_on=due)
        )
        service.escalate_overdue(ctx)


def _scenarios(database: Database, actor: Actor, main_code: str | None) -> int | None:
    """Requests in every state; returns the main consumer grant's id."""
    used: set[str] = set()
    main_grant = None
    if main_code is not None:
        used.add(main_code)
        out = _ask(database, actor, CONSUMER, "JD-CX", main_code, columns=None, duration_days=365)
        if out.status == "pending":
            out = _decide(
                database, actor, out, {"outcome": "approve", "reason": "同意，限基层治理使用。"}
            )
        main_grant = out.grant_id

    def entry(share: str, consumer: str, units: list[str | None]) -> str | None:
        with unit_of_work(database, actor) as ctx:
            found = _pick(ctx, share, consumer, [*units, None], used)
        return found.resource_code if found else None

    steps: list[tuple[str, str, str, list[str | None], str]] = [
        # (consumer unit, app, share type, preferred provider units, what happens)
        ("RSJ", "RSJ-SBXT", "conditional", ["WJW"], "partly"),
        ("WJW", "WJW-JKDA", "conditional", ["RSJ"], "pending"),
        ("SCJ", "SCJ-XYJG", "unconditional", ["GAJ", "MZJ"], "auto"),
        ("SJGL", "SJGL-ZTK", "conditional", ["SCJ"], "refuse"),
        ("SJGL", "SJGL-ZTK", "not_shared", [None], "appeal"),
        ("RSJ", "RSJ-SBXT", "conditional", ["MZJ"], "arbitrated"),
        ("WJW", "WJW-JKDA", "conditional", ["GAJ"], "escalated"),
        ("SCJ", "SCJ-XYJG", "conditional", ["WJW"], "withdrawn"),
        ("JD-CX", CONSUMER, "unconditional", ["JTJ"], "revoked"),
        ("RSJ", "RSJ-SBXT", "unconditional", ["SCJ"], "renewal"),
    ]
    for consumer, app, share, units, plan in steps:
        code = entry(share, consumer, units)
        if code is None:
            continue
        out = _ask(database, actor, app, consumer, code, duration_days=180)
        if plan == "partly" and out.status == "pending":
            columns = out.columns[: max(1, len(out.columns) - 1)]
            _decide(
                database,
                actor,
                out,
                {
                    "outcome": "partly_approve",
                    "reason": "仅提供核验所需字段，期限缩短为 90 天。",
                    "columns": columns,
                    "masking": {columns[0]: "redact"},
                    "duration_days": 90,
                },
            )
            with unit_of_work(database, actor) as ctx:
                requester = _actor(ctx, consumer, "liaison", actor)
            with unit_of_work(database, requester) as ctx:
                partly = service.get_share_request(ctx, out.id)
                if partly.grant_id is not None:  # a renewal now waits in the provider's queue
                    service.renew_grant(ctx, partly.grant_id, RenewalIn(duration_days=180))
        elif plan == "refuse" and out.status == "pending":
            _decide(
                database,
                actor,
                out,
                {
                    "outcome": "refuse",
                    "reason": "申请用途与所列信息项不相符。",
                    "basis": "目录共享条件：仅限依法履职需要；《政务信息资源共享管理暂行办法》",
                },
            )
        elif plan == "appeal" and out.status == "refused":
            with unit_of_work(database, actor) as ctx:
                requester = _actor(ctx, consumer, "cdo", actor)
            with unit_of_work(database, requester) as ctx:
                service.appeal_share_request(
                    ctx, out.id, "主题库建设属市级部署任务，确需相关数据。"
                )
        elif plan == "arbitrated" and out.status == "pending":
            refused = _decide(
                database,
                actor,
                out,
                {
                    "outcome": "refuse",
                    "reason": "暂不具备共享条件，救助对象数据尚在治理中。",
                    "basis": "目录共享条件：经提供部门审核同意后共享",
                },
            )
            with unit_of_work(database, actor) as ctx:
                requester = _actor(ctx, consumer, "cdo", actor)
            with unit_of_work(database, requester) as ctx:
                service.appeal_share_request(ctx, refused.id, "待遇认证依法需要核验救助对象信息。")
            with unit_of_work(database, actor) as ctx:
                executive = ctx.db.scalar(select(User).where(User.username == "executive"))
            arbiter = auth.actor_for_user(executive) if executive is not None else actor
            with unit_of_work(database, arbiter) as ctx:
                service.arbitrate_share_request(
                    ctx, out.id, DecisionIn(outcome="approve", reason="申诉理由成立，予以共享。")
                )
        elif plan == "escalated" and out.status == "pending":
            _backdate(database, actor, out.id, days=30)
        elif plan == "withdrawn" and out.status == "pending":
            with unit_of_work(database, actor) as ctx:
                requester = _actor(ctx, consumer, "liaison", actor)
            with unit_of_work(database, requester) as ctx:
                service.withdraw_share_request(ctx, out.id, "业务调整，暂不需要。")
        elif plan == "revoked" and out.grant_id is not None:
            with unit_of_work(database, actor) as ctx:
                service.revoke_grant(ctx, out.grant_id, "接口调用超出申请用途，撤销授权。")
        elif plan == "renewal" and out.grant_id is not None:
            with unit_of_work(database, actor) as ctx:
                requester = _actor(ctx, consumer, "liaison", actor)
            with unit_of_work(database, requester) as ctx:
                service.renew_grant(ctx, out.grant_id, RenewalIn(duration_days=365))
    return main_grant


def _credential(database: Database, actor: Actor, grant_id: int, token: str) -> Credential:
    with unit_of_work(database, actor) as ctx:
        grant = service.get_grant(ctx, grant_id)
    return Credential(
        application=grant.application_code,
        unit=grant.consumer_unit_code,
        api_key=token,
        resource_code=grant.resource_code,
        key_column=grant.key_column,
        sample_key=_sample_key(database, actor, grant.resource_code, grant.key_column),
        grant_id=grant.id,
    )


def stored_credentials(path: Path, section: str) -> dict[str, Any] | None:
    """A demo step's section of an earlier ``demo-credentials.json``, if any."""
    if not path.exists():
        return None
    stored = json.loads(path.read_text(encoding="utf-8")).get(section)
    return stored if isinstance(stored, dict) else None


def key_works(database: Database, actor: Actor, token: str) -> bool:
    """Whether an application key written by an earlier build still authenticates."""
    try:
        with unit_of_work(database, actor) as ctx:
            authenticate_application(ctx.db, token, utcnow())
        return True
    except ShuzhiError:
        return False


def build_sharing(database: Database, actor: Actor, credentials: Path) -> dict[str, Any] | None:
    """Create the demo's systems and requests once; return the consumer credential to record."""
    with unit_of_work(database, actor) as ctx:
        existing = {a.code for a in apps.list_applications(ctx)}
    if CONSUMER not in existing:
        _applications(database, actor)
        main = _scenarios(database, actor, _dataset_with_ids(database, actor))
        for unit, code, _name, _description, issue in APPLICATIONS:
            if issue and code != CONSUMER:
                _key(database, actor, unit, code)
        stored = None
    else:
        stored = stored_credentials(credentials, "sharing")
        if stored and key_works(database, actor, str(stored.get("api_key", ""))):
            return stored
        main = _main_grant(database, actor)
    if main is None:
        return None
    token = _key(database, actor, "JD-CX", CONSUMER)
    credential = _credential(database, actor, main, token)
    return {
        **credential.__dict__,
        "example": f"curl -H 'Authorization: Bearer {token}' "
        f"http://127.0.0.1:8000/api/v1/share/{credential.resource_code}/records/"
        f"{credential.sample_key or ''}",
    }


def _main_grant(database: Database, actor: Actor) -> int | None:
    with unit_of_work(database, actor) as ctx:
        grants = service.list_grants(ctx)
    mine = [g for g in grants if g.application_code == CONSUMER and g.key_column]
    return mine[-1].id if mine else None
