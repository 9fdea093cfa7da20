"""JSON API of the sharing workflow (/api/v1/sharing); the gateway serves the data itself."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import calendar_service as calendar
from shuzhi.sharing import service
from shuzhi.sharing.models import OutboxState, RequestStatus
from shuzhi.sharing.schemas import (
    AppKeyCreated,
    AppKeyIn,
    AppKeyOut,
    ApplicationIn,
    ApplicationOut,
    CalendarDayIn,
    CalendarDayOut,
    CalendarOut,
    CalendarYearIn,
    DecisionIn,
    ExtensionIn,
    GrantOut,
    NoticeAddressIn,
    NoticeAddressOut,
    NotificationOut,
    OutboxOut,
    PolicyIn,
    PolicyOut,
    ReasonIn,
    RenewalIn,
    RequestCreate,
    RequestOut,
    RotateIn,
    UnitSystems,
)
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])
Side = Literal["consumer", "provider"]


class MarkRead(BaseModel):
    ids: list[int] | None = None


class Marked(BaseModel):
    marked: int


class Unread(BaseModel):
    unread: int


@router.get("/requests")
def list_requests(
    ctx: CtxDep, side: Side | None = None, status: RequestStatus | None = None
) -> list[RequestOut]:
    """Requests of your unit as consumer (side=consumer), provider (side=provider), or both."""
    return service.list_share_requests(ctx, side=side, status=status)


@router.post("/requests", status_code=201)
def submit_request(ctx: CtxDep, data: RequestCreate) -> RequestOut:
    return service.submit_share_request(ctx, data)


@router.get("/queue")
def decision_queue(ctx: CtxDep) -> list[RequestOut]:
    """Requests waiting for your unit's decision (overdue ones are escalated first)."""
    return service.decision_queue(ctx)


@router.get("/escalations")
def executive_queue(ctx: CtxDep) -> list[RequestOut]:
    """Escalated requests and appeals, for the executive."""
    return service.executive_queue(ctx)


@router.post("/escalate")
def escalate_overdue(ctx: CtxDep) -> list[RequestOut]:
    return service.escalate_overdue(ctx)


@router.get("/requests/{request_id}")
def get_request(ctx: CtxDep, request_id: int) -> RequestOut:
    return service.get_share_request(ctx, request_id)


@router.post("/requests/{request_id}/withdraw")
def withdraw_request(ctx: CtxDep, request_id: int, data: ReasonIn) -> RequestOut:
    return service.withdraw_share_request(ctx, request_id, data.reason)


@router.post("/requests/{request_id}/decide")
def decide_request(ctx: CtxDep, request_id: int, data: DecisionIn) -> RequestOut:
    return service.decide_share_request(ctx, request_id, data)


@router.post("/requests/{request_id}/extend")
def extend_request(ctx: CtxDep, request_id: int, data: ExtensionIn) -> RequestOut:
    return service.extend_share_request(ctx, request_id, data)


@router.post("/requests/{request_id}/appeal")
def appeal_request(ctx: CtxDep, request_id: int, data: ReasonIn) -> RequestOut:
    return service.appeal_share_request(ctx, request_id, data.reason)


@router.post("/requests/{request_id}/arbitrate")
def arbitrate_request(ctx: CtxDep, request_id: int, data: DecisionIn) -> RequestOut:
    return service.arbitrate_share_request(ctx, request_id, data)


@router.get("/grants")
def list_grants(
    ctx: CtxDep, side: Side | None = None, include_ended: bool = False
) -> list[GrantOut]:
    return service.list_grants(ctx, side=side, include_ended=include_ended)


@router.get("/grants/{grant_id}")
def get_grant(ctx: CtxDep, grant_id: int) -> GrantOut:
    return service.get_grant(ctx, grant_id)


@router.post("/grants/{grant_id}/renew", status_code=201)
def renew_grant(ctx: CtxDep, grant_id: int, data: RenewalIn) -> RequestOut:
    return service.renew_grant(ctx, grant_id, data)


@router.post("/grants/{grant_id}/revoke")
def revoke_grant(ctx: CtxDep, grant_id: int, data: ReasonIn) -> GrantOut:
    return service.revoke_grant(ctx, grant_id, data.reason)


@router.get("/applications")
def list_applications(ctx: CtxDep, unit: str | None = None) -> list[ApplicationOut]:
    return apps.list_applications(ctx, unit)


@router.post("/applications", status_code=201)
def register_application(ctx: CtxDep, data: ApplicationIn) -> ApplicationOut:
    return apps.register_application(ctx, data)


@router.get("/systems")
def connected_systems(ctx: CtxDep) -> list[UnitSystems]:
    """The connected-systems registry (应接尽接), per unit."""
    return apps.connected_systems(ctx)


@router.get("/applications/{code}")
def get_application(ctx: CtxDep, code: str) -> ApplicationOut:
    return apps.get_application(ctx, code)


@router.post("/applications/{code}/retire")
def retire_application(ctx: CtxDep, code: str, data: ReasonIn) -> ApplicationOut:
    return apps.retire_application(ctx, code, data.reason)


@router.post("/applications/{code}/keys", status_code=201)
def create_key(ctx: CtxDep, code: str, data: AppKeyIn) -> AppKeyCreated:
    """Issue a key: the token is in this response only."""
    return apps.create_app_key(ctx, code, data)


@router.post("/applications/{code}/keys/{prefix}/rotate", status_code=201)
def rotate_key(ctx: CtxDep, code: str, prefix: str, data: RotateIn) -> AppKeyCreated:
    return apps.rotate_app_key(ctx, code, prefix, data)


@router.delete("/applications/{code}/keys/{prefix}")
def revoke_key(ctx: CtxDep, code: str, prefix: str) -> AppKeyOut:
    return apps.revoke_app_key(ctx, code, prefix)


@router.get("/notifications")
def list_notifications(ctx: CtxDep) -> list[NotificationOut]:
    return service.list_notifications(ctx)


@router.get("/notifications/unread")
def unread(ctx: CtxDep) -> Unread:
    return Unread(unread=service.unread_count(ctx))


@router.post("/notifications/read")
def mark_read(ctx: CtxDep, data: MarkRead) -> Marked:
    return Marked(marked=service.mark_notifications_read(ctx, data.ids))


@router.get("/notifications/mail")
def get_notice_address(ctx: CtxDep) -> NoticeAddressOut:
    return service.get_notice_address(ctx)


@router.put("/notifications/mail")
def set_notice_address(ctx: CtxDep, data: NoticeAddressIn) -> NoticeAddressOut:
    return service.set_notice_address(ctx, data)


@router.get("/outbox")
def list_notice_outbox(
    ctx: CtxDep, state: OutboxState | None = None, limit: int = 100
) -> list[OutboxOut]:
    return service.list_notice_outbox(ctx, state, limit)


@router.get("/calendar/{jurisdiction}/{year}")
def get_calendar(ctx: CtxDep, jurisdiction: str, year: int) -> CalendarOut:
    return calendar.get_calendar(ctx, jurisdiction, year)


@router.put("/calendar/{jurisdiction}/{year}")
def set_calendar_year(
    ctx: CtxDep, jurisdiction: str, year: int, data: CalendarYearIn
) -> CalendarOut:
    return service.set_calendar_year(ctx, jurisdiction, year, data.complete)


@router.put("/calendar/{jurisdiction}/days")
def set_calendar_day(ctx: CtxDep, jurisdiction: str, data: CalendarDayIn) -> CalendarDayOut:
    return calendar.set_calendar_day(ctx, jurisdiction, data)


@router.delete("/calendar/{jurisdiction}/days/{day}", status_code=204)
def remove_calendar_day(ctx: CtxDep, jurisdiction: str, day: date) -> None:
    calendar.remove_calendar_day(ctx, jurisdiction, day)


@router.put("/policy/{jurisdiction}")
def set_policy(ctx: CtxDep, jurisdiction: str, data: PolicyIn) -> PolicyOut:
    return calendar.set_sharing_policy(ctx, jurisdiction, data)
