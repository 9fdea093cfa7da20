"""Console pages of the risk register: the register, one subject (reasons, questionnaire,
history, re-assess, confirm) and the printable annual report (with its PDF)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.documents import pdf
from shuzhi.secops import service
from shuzhi.secops.risk import LEVELS
from shuzhi.secops.risk_schemas import AnswersIn
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
LEVEL_CODES = tuple(level for _, level in reversed(LEVELS))


def _base(kind: str, key: str) -> str:
    return f"/secops/risk/{quote(kind, safe='')}/{quote(key, safe='')}"


@router.get("/secops/risk")
def register_page(
    request: Request, ctx: CtxDep, level: str = "", overdue: bool = False
) -> Response:
    listed = service.risk_register(
        ctx, level=level if level in LEVEL_CODES else None, overdue=overdue
    )
    return render(
        request,
        "secops/risk_register.html",
        listed=listed,
        levels=LEVEL_CODES,
        shown=level,
        only_overdue=overdue,
    )


def _subject_page(
    request: Request, ctx: CtxDep, kind: str, key: str, errors: list[dict[str, str]] | None = None
) -> Response:
    detail = service.get_risk_subject(ctx, f"{kind}:{key}")
    return render(
        request,
        "secops/risk_subject.html",
        status=422 if errors else 200,
        d=detail,
        base=_base(kind, key),
        can_assess=allowed(ctx, "assess_risk", detail.unit_id),
        can_report=allowed(ctx, "export_risk_report", detail.unit_id),
        errors=errors or [],
    )


@router.get("/secops/risk/report/{unit_code}")
def report_page(request: Request, ctx: CtxDep, unit_code: str, year: int | None = None) -> Response:
    report = service.risk_report(ctx, unit_code, year)
    return render(request, "secops/risk_report.html", r=report)


@router.get("/secops/risk/report/{unit_code}/pdf")
def report_pdf(ctx: CtxDep, unit_code: str, year: int | None = None) -> Response:
    data = service.export_risk_report_pdf(ctx, unit_code, year)
    name = f"risk-report-{unit_code}-{year or 'current'}.pdf"
    return Response(
        data,
        media_type=pdf.MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


@router.get("/secops/risk/{kind}/{key:path}")
def subject_page(request: Request, ctx: CtxDep, kind: str, key: str) -> Response:
    return _subject_page(request, ctx, kind, key)


@router.post("/secops/risk/{kind}/{key:path}/answers")
def answers(request: Request, ctx: CtxDep, kind: str, key: str, form: FormDep) -> Response:
    given = [
        {"question": name[7:], "answer": value, "note": form.get(f"note.{name[7:]}", "")}
        for name, value in form.items()
        if name.startswith("answer.") and value
    ]

    def save() -> object:
        data = parse(AnswersIn, {"answers": given})
        return service.answer_risk_questions(ctx, f"{kind}:{key}", data)

    done, errors = attempt(ctx, save)
    if done is None:
        return _subject_page(request, ctx, kind, key, errors)
    return RedirectResponse(_base(kind, key), status_code=303)


@router.post("/secops/risk/{kind}/{key:path}/assess")
def reassess(ctx: CtxDep, kind: str, key: str) -> Response:
    service.reassess_risk(ctx, f"{kind}:{key}")
    return RedirectResponse(_base(kind, key), status_code=303)


@router.post("/secops/risk/{kind}/{key:path}/confirm")
def confirm(request: Request, ctx: CtxDep, kind: str, key: str) -> Response:
    done, errors = attempt(ctx, lambda: service.confirm_risk_assessment(ctx, f"{kind}:{key}"))
    if done is None:
        return _subject_page(request, ctx, kind, key, errors)
    return RedirectResponse(_base(kind, key), status_code=303)
