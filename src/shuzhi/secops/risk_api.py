"""JSON API of the risk register (/api/v1/secops/risk)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import Response

from shuzhi.documents import pdf
from shuzhi.secops import service
from shuzhi.secops.risk_schemas import AnswersIn, RiskDetail, RiskRegister, RiskReport
from shuzhi.web.deps import CtxDep

router = APIRouter(prefix="/api/v1/secops/risk", tags=["secops"])


@router.get("")
def risk_register(ctx: CtxDep, level: str | None = None, overdue: bool = False) -> RiskRegister:
    return service.risk_register(ctx, level=level, overdue=overdue)


@router.get("/report/{unit_code}")
def risk_report(ctx: CtxDep, unit_code: str, year: int | None = None) -> RiskReport:
    return service.risk_report(ctx, unit_code, year, fmt="json")


@router.get("/report/{unit_code}/pdf")
def risk_report_pdf(ctx: CtxDep, unit_code: str, year: int | None = None) -> Response:
    data = service.export_risk_report_pdf(ctx, unit_code, year)
    name = f"risk-report-{unit_code}-{year or 'current'}.pdf"
    return Response(
        data,
        media_type=pdf.MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


@router.get("/{kind}/{key:path}")
def get_risk_subject(ctx: CtxDep, kind: str, key: str) -> RiskDetail:
    return service.get_risk_subject(ctx, f"{kind}:{key}")


@router.post("/{kind}/{key:path}/answers")
def answer_risk_questions(ctx: CtxDep, kind: str, key: str, data: AnswersIn) -> RiskDetail:
    return service.answer_risk_questions(ctx, f"{kind}:{key}", data)


@router.post("/{kind}/{key:path}/assess")
def reassess_risk(ctx: CtxDep, kind: str, key: str) -> RiskDetail:
    return service.reassess_risk(ctx, f"{kind}:{key}")


@router.post("/{kind}/{key:path}/confirm")
def confirm_risk_assessment(ctx: CtxDep, kind: str, key: str) -> RiskDetail:
    return service.confirm_risk_assessment(ctx, f"{kind}:{key}")
