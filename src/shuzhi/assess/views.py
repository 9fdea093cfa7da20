"""Console pages of the assessment: rounds and models, a round's results, a unit's sheet
(answering and review), its improvement plan, and document downloads."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.assess import service
from shuzhi.assess.api import document_response, read_upload
from shuzhi.assess.charts import bars, heat_map, radar
from shuzhi.assess.models import ActionStatus
from shuzhi.assess.schemas import ActionIn, AnswerIn, ReviewIn, RoundIn, WeightsIn
from shuzhi.context import Ctx
from shuzhi.documents import pdf
from shuzhi.errors import ErrorCollector, Invalid
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)


async def _multi(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"]


MultiDep = Annotated[list[tuple[str, str]], Depends(_multi)]


def _date(text: str, name: str, errors: ErrorCollector) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.add(name, "请填写日期（年-月-日）。", "Enter a date (year-month-day).")
        return None


def _sheet_url(round_id: int, unit_code: str, anchor: str = "") -> str:
    return f"/assess/rounds/{round_id}/units/{unit_code}" + (f"#{anchor}" if anchor else "")


@router.get("/assess")
def index(request: Request, ctx: CtxDep) -> Response:
    return render(request, "assess/index.html", o=service.assess_overview(ctx), errors=[], form={})


@router.post("/assess/models/seed")
def seed(ctx: CtxDep) -> Response:
    service.seed_assessment_models(ctx)
    return RedirectResponse("/assess", status_code=303)


@router.get("/assess/models/{code}")
def model_page(request: Request, ctx: CtxDep, code: str) -> Response:
    return render(
        request, "assess/model.html", m=service.get_assessment_model(ctx, code), errors=[]
    )


def _number(text: str, name: str, errors: ErrorCollector) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        errors.add(name, f"“{text}”不是数字。", f"{text!r} is not a number.")
        return None
    if not math.isfinite(value):
        errors.add(name, f"“{text}”不是数字。", f"{text!r} is not a number.")
        return None
    return value


def _weights_in(form: dict[str, str]) -> WeightsIn:
    errors = ErrorCollector()
    domains = {
        key.removeprefix("w."): value
        for key, text in form.items()
        if key.startswith("w.") and (value := _number(text, key, errors)) is not None
    }
    bands = [
        value
        for part in form.get("bands", "").replace("，", ",").split(",")
        if part.strip() and (value := _number(part, "bands", errors)) is not None
    ]
    partial = _number(form.get("partial_credit", "0.5"), "partial_credit", errors)
    errors.raise_if_any()
    return parse(WeightsIn, {"domains": domains, "bands": bands, "partial_credit": partial})


@router.post("/assess/models/{code}/weights")
def weights(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.set_assessment_weights(ctx, code, _weights_in(form))
    )
    if done is None:
        m = service.get_assessment_model(ctx, code)
        return render(request, "assess/model.html", status=422, m=m, errors=errors)
    return RedirectResponse(f"/assess/models/{code}", status_code=303)


def _round_in(fields: list[tuple[str, str]]) -> RoundIn:
    form = dict(fields)
    errors = ErrorCollector()
    start = _date(form.get("period_start", ""), "period_start", errors)
    end = _date(form.get("period_end", ""), "period_end", errors)
    deadline = _date(form.get("deadline", ""), "deadline", errors)
    units = [v for k, v in fields if k == "unit"]
    if not units:
        errors.add("unit_codes", "请选择参评单位。", "Choose the units to assess.")
    if not form.get("title", "").strip():
        errors.add("title", "请填写名称。", "Enter a title.")
    errors.raise_if_any()
    return parse(
        RoundIn,
        {
            "title": form.get("title", "").strip(),
            "model_code": form.get("model_code", ""),
            "unit_codes": units,
            "period_start": start,
            "period_end": end,
            "deadline": deadline,
        },
    )


@router.post("/assess/rounds")
def open_round(request: Request, ctx: CtxDep, fields: MultiDep) -> Response:
    done, errors = attempt(ctx, lambda: service.open_assessment_round(ctx, _round_in(fields)))
    if done is None:
        return render(
            request,
            "assess/index.html",
            status=422,
            o=service.assess_overview(ctx),
            errors=errors,
            form=dict(fields),
        )
    return RedirectResponse(f"/assess/rounds/{done.id}", status_code=303)


@router.get("/assess/rounds/{round_id}")
def round_page(request: Request, ctx: CtxDep, round_id: int) -> Response:
    r = service.get_assessment_round(ctx, round_id)
    results = service.round_results(ctx, round_id)
    return render(request, "assess/round.html", r=r, results=results)


@router.post("/assess/rounds/{round_id}/evidence")
def collect(ctx: CtxDep, round_id: int) -> Response:
    service.collect_platform_evidence(ctx, round_id)
    return RedirectResponse(f"/assess/rounds/{round_id}", status_code=303)


@router.post("/assess/rounds/{round_id}/close")
def close(ctx: CtxDep, round_id: int) -> Response:
    service.close_assessment_round(ctx, round_id)
    return RedirectResponse(f"/assess/rounds/{round_id}", status_code=303)


def _sheet(
    request: Request, ctx: Ctx, round_id: int, unit_code: str, errors: list[dict[str, str]]
) -> Response:
    sheet = service.unit_assessment_sheet(ctx, round_id, unit_code)
    en = ctx.locale == "en"
    chart = radar([(d.name_en if en else d.name_zh, d.score) for d in sheet.domains])
    return render(
        request,
        "assess/sheet.html",
        status=422 if errors else 200,
        s=sheet,
        errors=errors,
        radar=chart,
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type=pdf.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _region_report(request: Request, ctx: Ctx, round_id: int, printable: bool) -> Response:
    rep = service.region_report(ctx, round_id)
    en = ctx.locale == "en"
    top = max(rep.distribution, default=0) or 1
    moved = [r for r in rep.ranking if r.change is not None]
    return render(
        request,
        "assess/report.html",
        rep=rep,
        printable=printable,
        ranking_chart=bars([(r.unit_name, r.score) for r in rep.ranking], top=5),
        distribution_chart=bars(
            [(str(n), float(c)) for n, c in enumerate(rep.distribution)], top=top
        ),
        heat_chart=heat_map(
            [(h.unit_name, h.scores) for h in rep.heat],
            [d.name_en if en else d.name_zh for d in rep.domains],
        ),
        yoy_chart=bars([(r.unit_name, r.change or 0.0) for r in moved]),
    )


@router.get("/assess/rounds/{round_id}/report")
def region_report_page(request: Request, ctx: CtxDep, round_id: int) -> Response:
    return _region_report(request, ctx, round_id, printable=False)


@router.get("/assess/rounds/{round_id}/report/print")
def region_report_print(request: Request, ctx: CtxDep, round_id: int) -> Response:
    return _region_report(request, ctx, round_id, printable=True)


@router.get("/assess/rounds/{round_id}/report.xlsx")
def region_report_xlsx(ctx: CtxDep, round_id: int) -> Response:
    return _xlsx(service.export_report(ctx, round_id), f"assessment-{round_id}.xlsx")


@router.get("/assess/rounds/{round_id}/report.pdf")
def region_report_pdf(ctx: CtxDep, round_id: int) -> Response:
    return _pdf(service.export_report_pdf(ctx, round_id), f"assessment-{round_id}.pdf")


def _unit_report(
    request: Request, ctx: Ctx, round_id: int, unit_code: str, printable: bool
) -> Response:
    rep = service.unit_report(ctx, round_id, unit_code)
    en = ctx.locale == "en"
    chart = radar([(d.name_en if en else d.name_zh, d.score) for d in rep.domains])
    return render(request, "assess/unit_report.html", rep=rep, radar=chart, printable=printable)


@router.get("/assess/rounds/{round_id}/units/{unit_code}/report")
def unit_report_page(request: Request, ctx: CtxDep, round_id: int, unit_code: str) -> Response:
    return _unit_report(request, ctx, round_id, unit_code, printable=False)


@router.get("/assess/rounds/{round_id}/units/{unit_code}/report/print")
def unit_report_print(request: Request, ctx: CtxDep, round_id: int, unit_code: str) -> Response:
    return _unit_report(request, ctx, round_id, unit_code, printable=True)


@router.get("/assess/rounds/{round_id}/units/{unit_code}/report.xlsx")
def unit_report_xlsx(ctx: CtxDep, round_id: int, unit_code: str) -> Response:
    rep = service.export_report(ctx, round_id, unit_code)
    return _xlsx(rep, f"assessment-{round_id}-{unit_code}.xlsx")


@router.get("/assess/rounds/{round_id}/units/{unit_code}/report.pdf")
def unit_report_pdf(ctx: CtxDep, round_id: int, unit_code: str) -> Response:
    data = service.export_report_pdf(ctx, round_id, unit_code)
    return _pdf(data, f"assessment-{round_id}-{unit_code}.pdf")


@router.get("/assess/rounds/{round_id}/units/{unit_code}")
def sheet_page(request: Request, ctx: CtxDep, round_id: int, unit_code: str) -> Response:
    return _sheet(request, ctx, round_id, unit_code, [])


@router.post("/assess/rounds/{round_id}/units/{unit_code}/answers/{indicator}")
def answer(
    request: Request, ctx: CtxDep, round_id: int, unit_code: str, indicator: str, form: FormDep
) -> Response:
    data = AnswerIn(met=form.get("met") == "yes", statement=form.get("statement", "")[:2000])
    done, errors = attempt(
        ctx, lambda: service.save_assessment_answer(ctx, round_id, unit_code, indicator, data)
    )
    if done is None:
        return _sheet(request, ctx, round_id, unit_code, errors)
    return RedirectResponse(_sheet_url(round_id, unit_code, indicator), status_code=303)


@router.post("/assess/rounds/{round_id}/units/{unit_code}/answers/{indicator}/documents")
def attach(
    request: Request,
    ctx: CtxDep,
    round_id: int,
    unit_code: str,
    indicator: str,
    file: Annotated[UploadFile, File()],
) -> Response:
    data = read_upload(file)
    done, errors = attempt(
        ctx,
        lambda: service.attach_assessment_document(
            ctx, round_id, unit_code, indicator, file.filename or "", data
        ),
    )
    if done is None:
        return _sheet(request, ctx, round_id, unit_code, errors)
    return RedirectResponse(_sheet_url(round_id, unit_code, indicator), status_code=303)


@router.post("/assess/rounds/{round_id}/units/{unit_code}/submit")
def submit(request: Request, ctx: CtxDep, round_id: int, unit_code: str) -> Response:
    done, errors = attempt(ctx, lambda: service.submit_assessment_answers(ctx, round_id, unit_code))
    if done is None:
        return _sheet(request, ctx, round_id, unit_code, errors)
    return RedirectResponse(_sheet_url(round_id, unit_code), status_code=303)


@router.post("/assess/rounds/{round_id}/units/{unit_code}/answers/{indicator}/review")
def review(
    request: Request, ctx: CtxDep, round_id: int, unit_code: str, indicator: str, form: FormDep
) -> Response:
    decision = "return" if form.get("decision") == "return" else "accept"
    data = ReviewIn(decision=decision, reason=form.get("reason", "")[:1000])
    done, errors = attempt(
        ctx,
        lambda: service.review_assessment_answer(ctx, round_id, unit_code, indicator, data),
    )
    if done is None:
        return _sheet(request, ctx, round_id, unit_code, errors)
    return RedirectResponse(_sheet_url(round_id, unit_code, indicator), status_code=303)


@router.get("/assess/documents/{document_id}")
def document(ctx: CtxDep, document_id: int) -> Response:
    doc, data = service.read_assessment_document(ctx, document_id)
    return document_response(doc, data)


def _plan(
    request: Request,
    ctx: Ctx,
    round_id: int,
    unit_code: str,
    errors: list[dict[str, str]],
    form: dict[str, str],
) -> Response:
    plan = service.unit_improvement_plan(ctx, round_id, unit_code)
    r = service.get_assessment_round(ctx, round_id)
    return render(
        request,
        "assess/plan.html",
        status=422 if errors else 200,
        p=plan,
        r=r,
        errors=errors,
        form=form,
    )


@router.get("/assess/rounds/{round_id}/units/{unit_code}/plan")
def plan_page(request: Request, ctx: CtxDep, round_id: int, unit_code: str) -> Response:
    return _plan(request, ctx, round_id, unit_code, [], {})


def _action_in(form: dict[str, str]) -> ActionIn:
    errors = ErrorCollector()
    due = _date(form.get("due_on", ""), "due_on", errors)
    errors.raise_if_any()
    status = form.get("status", "open")
    if status not in {s.value for s in ActionStatus}:
        raise Invalid.field("status", "状态无效。", "Unknown status.")
    return parse(
        ActionIn,
        {
            "title": form.get("title", "").strip(),
            "owner": form.get("owner", "").strip(),
            "due_on": due,
            "indicator": form.get("indicator") or None,
            "status": ActionStatus(status),
            "note": form.get("note", ""),
        },
    )


def _plan_url(round_id: int, unit_code: str) -> str:
    return f"/assess/rounds/{round_id}/units/{unit_code}/plan"


@router.post("/assess/rounds/{round_id}/units/{unit_code}/plan/actions")
def add_action(
    request: Request, ctx: CtxDep, round_id: int, unit_code: str, form: FormDep
) -> Response:
    done, errors = attempt(
        ctx, lambda: service.add_improvement_action(ctx, round_id, unit_code, _action_in(form))
    )
    if done is None:
        return _plan(request, ctx, round_id, unit_code, errors, form)
    return RedirectResponse(_plan_url(round_id, unit_code), status_code=303)


@router.post("/assess/rounds/{round_id}/units/{unit_code}/plan/from-gaps")
def from_gaps(
    request: Request, ctx: CtxDep, round_id: int, unit_code: str, form: FormDep
) -> Response:
    def run() -> object:
        errors = ErrorCollector()
        due = _date(form.get("due_on", ""), "due_on", errors)
        if not form.get("owner", "").strip():
            errors.add("owner", "请填写责任人。", "Name the owner.")
        errors.raise_if_any()
        assert due is not None
        return service.plan_from_gaps(ctx, round_id, unit_code, form["owner"].strip(), due)

    done, errors = attempt(ctx, run)
    if done is None:
        return _plan(request, ctx, round_id, unit_code, errors, form)
    return RedirectResponse(_plan_url(round_id, unit_code), status_code=303)


@router.post("/assess/rounds/{round_id}/units/{unit_code}/plan/actions/{action_id}")
def update_action(
    request: Request, ctx: CtxDep, round_id: int, unit_code: str, action_id: int, form: FormDep
) -> Response:
    done, errors = attempt(
        ctx, lambda: service.update_improvement_action(ctx, action_id, _action_in(form))
    )
    if done is None:
        return _plan(request, ctx, round_id, unit_code, errors, {})
    return RedirectResponse(_plan_url(done.round_id, done.unit_code), status_code=303)
