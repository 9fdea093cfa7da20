"""Console page of the audit log: filters, search, keyset paging, export and chain check."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from shuzhi.audit import service
from shuzhi.audit.schemas import AuditFilter, VerifyReport
from shuzhi.audit.texts import TEXTS
from shuzhi.auth.permissions import allowed
from shuzhi.errors import ErrorCollector
from shuzhi.org import service as org
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 50
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FILTER_FIELDS = ("since", "until", "actor", "unit", "action", "target", "outcome", "q")


def _moment(value: str, end_of_day: bool) -> datetime:
    """``2026-12-05`` (the whole day) or ``2026-12-05T08:30`` (UTC, as the log shows)."""
    text = value.strip().replace(" ", "T")
    moment = datetime.fromisoformat(text)
    if "T" not in text and end_of_day:
        moment = datetime.combine(moment.date(), time.max)
    return moment.replace(tzinfo=None)


def parse_filter(ctx: CtxDep, params: Mapping[str, str]) -> AuditFilter:
    """The filter fields of the page's form, every problem reported at once."""
    errors = ErrorCollector()
    moments: dict[str, datetime | None] = {"since": None, "until": None}
    for name in moments:
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                moments[name] = _moment(raw, end_of_day=name == "until")
            except ValueError:
                errors.add(
                    name,
                    f"时间“{raw}”无法识别，请写成 2026-12-05 或 2026-12-05T08:30。",
                    f"Cannot read the time {raw!r}; write 2026-12-05 or 2026-12-05T08:30.",
                )
    unit_id = None
    unit_code = (params.get("unit") or "").strip()
    if unit_code:
        unit_id = org.unit_id_for_code(ctx, unit_code)
        if unit_id is None:
            errors.add("unit", f"没有代码为 {unit_code} 的单位。", f"No unit {unit_code!r}.")
    errors.raise_if_any()

    def text(name: str, size: int) -> str | None:
        value = (params.get(name) or "").strip()[:size]
        return value or None

    return AuditFilter(
        since=moments["since"],
        until=moments["until"],
        actor=text("actor", 200),
        unit_id=unit_id,
        action=text("action", 80),
        target=text("target", 200),
        outcome=text("outcome", 20),
        q=text("q", 200),
    )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _page(request: Request, ctx: CtxDep, report: VerifyReport | None) -> Response:
    params = request.query_params
    size = _int(params.get("size")) or PAGE
    size = size if size in service.PAGE_SIZES else PAGE
    before, after = _int(params.get("before")), _int(params.get("after"))
    jump = _int(params.get("jump"))
    if jump is not None:
        before, after = jump + 1, None
    filters, errors = attempt(ctx, lambda: parse_filter(ctx, params))
    page = None
    if filters is not None:
        page, errors = attempt(
            ctx,
            lambda: service.view_audit(
                ctx, filters=filters, limit=size, before=before, after=after
            ),
        )
    units = org.all_unit_briefs(ctx)
    form = {name: params.get(name, "") for name in FILTER_FIELDS}
    query = {k: v for k, v in form.items() if v}
    return render(
        request,
        "audit/log.html",
        status=422 if errors else 200,
        page=page,
        errors=errors,
        form=form,
        query=query,
        size=size,
        sizes=service.PAGE_SIZES,
        outcomes=service.OUTCOMES,
        units=units,
        unit_names={u.id: u for u in units},
        actions=_actions(),
        report=report,
        can_verify=allowed(ctx, "verify_audit"),
        can_export=allowed(ctx, "export_audit"),
        export_limit=service.EXPORT_LIMIT,
    )


def _actions() -> list[str]:
    prefix = "audit.act."
    return sorted(key[len(prefix) :] for key in TEXTS if key.startswith(prefix))


@router.get("/audit")
def audit_page(request: Request, ctx: CtxDep) -> Response:
    return _page(request, ctx, None)


@router.get("/audit/export.{file_format}")
def export(request: Request, ctx: CtxDep, file_format: str) -> Response:
    filters = parse_filter(ctx, request.query_params)
    names = {u.id: (u.code, u.name) for u in org.all_unit_briefs(ctx)}
    data = service.export_audit(ctx, filters, file_format, names)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(
        data,
        media_type=MEDIA[file_format],
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{file_format}"'},
    )


@router.post("/audit/verify")
def verify(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    report = service.verify_audit(ctx, full=form.get("scope") == "full")
    return _page(request, ctx, report)
