"""The push-back's channel through the platform's own machinery, set up by the platform on
the library's behalf: a catalogue entry owned by the library's unit (base resources class,
conditional sharing, not open), an application of the street, and a grant to it issued
through sharing's ordinary request and decision, so the street reads the dataset in the
console and through the gateway like any shared dataset, masked per its grant.

A push-back holds personal data of residents, so its entry is shared on conditions (never
unconditionally, which would grant any unit at once): the platform approves the street's
request as the library's definition decided, with the stricter masking it asked for. Any
other unit asking for the entry goes through the provider's ordinary decision.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryCreate
from shuzhi.context import SYSTEM, Ctx
from shuzhi.errors import Conflict
from shuzhi.masterdata.models import LibraryKind, MasterdataLibrary
from shuzhi.org import service as org
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing import access
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service as sharing
from shuzhi.sharing.grants import DeliveryMode
from shuzhi.sharing.schemas import MAX_DURATION_DAYS, ApplicationIn, DecisionIn, RequestCreate

# Catalogue classification of push-back datasets: base resources (1), population (01) or
# legal entities (02).
_SUBCLASS = {LibraryKind.PERSON: "01", LibraryKind.LEGAL_ENTITY: "02"}
_LONG = frozenset({"住址", "注册地址", "名称"})


@contextmanager
def as_platform(ctx: Ctx) -> Iterator[None]:
    """What the platform does on a push-back's behalf (entry, application, grant, loads) is
    done as the system; the person who asked is audited by the push-back's own events."""
    actor = ctx.actor
    ctx.actor = SYSTEM
    try:
        yield
    finally:
        ctx.actor = actor


def application_code(pushback_id: int) -> str:
    return f"MD-PB{pushback_id}"


def create_entry(
    ctx: Ctx,
    library: MasterdataLibrary,
    name: str,
    target_name: str,
    area: str,
    columns: Sequence[str],
) -> str:
    """A published catalogue entry of the library's unit for the push-back's dataset."""
    unit = org.unit_brief(ctx, library.unit_id)
    assert unit is not None  # a library's unit exists (foreign key)
    data = EntryCreate.model_validate(
        {
            "name": f"{library.name}·{name}（反哺）"[:128],
            "abstract": (
                f"基础库「{library.name}」向{target_name}反哺的{area}黄金记录，"
                "每次基础库运行成为当前后更新；仅向接收单位共享，用于基层治理与服务。"
            )[:1000],
            "unit_code": unit.code,
            "class_code": "1",
            "subclass_code": _SUBCLASS[LibraryKind(library.kind)],
            "group_code": "001",
            "format_code": "3",
            "format_subtype": "MySQL",
            "share_type": "conditional",
            "share_conditions": f"基础库反哺基层：仅向{target_name}共享其辖区数据",
            "not_shared_basis": "《中华人民共和国个人信息保护法》第三十四条（国家机关处理个人信息"
            "应当依照法律、行政法规规定的权限、程序进行）",
            "share_method": "platform",
            "share_method_type": "interface",
            "open_type": "not_open",
            "not_open_reason": "sensitive",
            "not_open_note": "含居民个人信息，仅反哺给辖区街道（乡镇）",
            "update_cycle": "8",
            "items": [
                {
                    "name": column,
                    "data_type": "C",
                    "length": 200 if column in _LONG else 50,
                    "share_type": "conditional",
                }
                for column in columns
            ],
        }
    )
    with as_platform(ctx):
        code = catalog.create_entry(ctx, data).resource_code
        catalog.submit_entry(ctx, code)
        catalog.approve_entry(ctx, code, "基础库反哺数据集，随反哺定义创建")
    return code


def register_application(ctx: Ctx, pushback_id: int, name: str, target_code: str) -> str:
    """The street's application that holds the grant (its staff issue its keys)."""
    code = application_code(pushback_id)
    with as_platform(ctx):
        apps.register_application(
            ctx,
            ApplicationIn(
                code=code,
                name=f"{name}（反哺数据接收）"[:100],
                description="基础库反哺数据的接收应用：在共享网关读取本辖区的黄金记录。",
                unit_code=target_code,
            ),
        )
    return code


def issue_grant(
    ctx: Ctx,
    *,
    resource_code: str,
    app_code: str,
    target_code: str,
    library_name: str,
    name: str,
    columns: Sequence[str],
    masking: Mapping[str, MaskLevel],
) -> int:
    """The street's grant on the push-back's dataset: every column, for the longest term,
    for the gateway's reads and bulk export, masked per the column categories' defaults or
    stricter where the definition says so."""
    with as_platform(ctx):
        asked = sharing.submit_share_request(
            ctx,
            RequestCreate(
                resource_code=resource_code,
                application_code=app_code,
                purpose=f"基础库反哺基层：{name}"[:2000],
                legal_basis=f"基础库「{library_name}」的反哺定义（数据共享，反哺基层）"[:2000],
                columns=list(columns),
                delivery=[DeliveryMode.API, DeliveryMode.BULK],
                duration_days=MAX_DURATION_DAYS,
                unit_code=target_code,
            ),
        )
        decided = asked
        if asked.grant_id is None and asked.status == "pending":
            outcome = "partly_approve" if masking else "approve"
            decided = sharing.decide_share_request(
                ctx,
                asked.id,
                DecisionIn.model_validate(
                    {
                        "outcome": outcome,
                        "reason": "按反哺定义加强脱敏" if masking else "",
                        "masking": {c: m.value for c, m in masking.items()},
                    }
                ),
            )
    if decided.grant_id is None:
        raise Conflict(
            "未能为反哺数据集签发共享授权。",
            "No sharing grant could be issued for the push-back dataset.",
        )
    return decided.grant_id


def grant_state(ctx: Ctx, grant_id: int | None, now: datetime) -> str | None:
    """active, expired, superseded or revoked (None: no grant)."""
    if grant_id is None:
        return None
    grant = access.grant_row(ctx.db, grant_id)
    return sharing.grant_status(grant, now)


def revoke_grant(ctx: Ctx, grant_id: int | None, reason: str) -> None:
    """End the street's grant when the push-back is retired (if it is still active)."""
    if grant_id is None:
        return
    with as_platform(ctx):
        if sharing.get_grant(ctx, grant_id).status == "active":
            sharing.revoke_grant(ctx, grant_id, reason)
