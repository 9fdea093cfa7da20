"""Console pages of the cockpit: the page renders from the same summary as the API."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.cockpit import service
from shuzhi.cockpit.models import Direction
from shuzhi.cockpit.schemas import (
    AlertAck,
    CockpitSummary,
    IndicatorCreate,
    IndicatorOut,
    Measure,
    MilestoneDone,
    ScenarioCancel,
    ScenarioCreate,
)
from shuzhi.lake.query import Op
from shuzhi.org import service as org
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _page(
    request: Request,
    ctx: CtxDep,
    summary: CockpitSummary,
    errors: list[dict[str, str]] | None = None,
    template: str = "cockpit/index.html",
) -> Response:
    unit = None if summary.scope == "region" else summary.scope
    return render(
        request,
        template,
        status=422 if errors else 200,
        s=summary,
        f=summary.figures,
        unit=unit or "",
        chart_data=summary.model_dump(mode="json"),
        can_evaluate=allowed(ctx, "evaluate_indicators"),
        can_ack=allowed(ctx, "acknowledge_alert"),
        errors=errors or [],
    )


@router.get("/cockpit")
def cockpit(request: Request, ctx: CtxDep, unit: str | None = None, days: int = 30) -> Response:
    return _page(request, ctx, service.cockpit_summary(ctx, unit or None, days))


@router.get("/cockpit/print")
def cockpit_print(
    request: Request, ctx: CtxDep, unit: str | None = None, days: int = 30
) -> Response:
    summary = service.cockpit_summary(ctx, unit or None, days)
    return _page(request, ctx, summary, template="cockpit/print.html")


@router.get("/cockpit/export.xlsx")
def cockpit_export(ctx: CtxDep, unit: str | None = None, days: int = 30) -> Response:
    return Response(
        service.export_cockpit(ctx, unit or None, days),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="cockpit.xlsx"'},
    )


@router.get("/cockpit/charts/{chart}.csv")
def chart_csv(ctx: CtxDep, chart: str, unit: str | None = None, days: int = 30) -> Response:
    return Response(
        service.chart_csv(ctx, chart, unit or None, days),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="cockpit-{chart}.csv"'},
    )


@router.post("/cockpit/alerts/{alert_id}/acknowledge")
def acknowledge(request: Request, ctx: CtxDep, alert_id: int, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.acknowledge_alert(ctx, alert_id, parse(AlertAck, form))
    )
    if done is None:
        return _page(request, ctx, service.cockpit_summary(ctx), errors)
    return _see("/cockpit#alerts")


@router.post("/cockpit/indicators/evaluate")
def evaluate(ctx: CtxDep) -> Response:
    service.evaluate_indicators(ctx)
    return _see("/cockpit/indicators")


def _scenarios_page(
    request: Request,
    ctx: CtxDep,
    form: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    return render(
        request,
        "cockpit/scenarios.html",
        status=422 if errors else 200,
        scenarios=service.list_scenarios(ctx),
        can_register=allowed(ctx, "register_scenario"),
        form=form or {},
        errors=errors or [],
    )


@router.get("/cockpit/scenarios")
def scenarios(request: Request, ctx: CtxDep) -> Response:
    return _scenarios_page(request, ctx)


@router.post("/cockpit/scenarios")
def register(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    made, errors = attempt(ctx, lambda: service.register_scenario(ctx, parse(ScenarioCreate, form)))
    if made is None:
        return _scenarios_page(request, ctx, form, errors)
    return _see(f"/cockpit/scenarios/{made.id}")


def _scenario_page(
    request: Request, ctx: CtxDep, scenario_id: int, errors: list[dict[str, str]] | None = None
) -> Response:
    scenario = service.get_scenario(ctx, scenario_id)
    return render(
        request,
        "cockpit/scenario.html",
        status=422 if errors else 200,
        sc=scenario,
        can_reach=allowed(ctx, "reach_milestone", org.unit_id_for_code(ctx, scenario.unit_code)),
        can_cancel=allowed(ctx, "cancel_scenario", org.unit_id_for_code(ctx, scenario.unit_code)),
        errors=errors or [],
    )


@router.get("/cockpit/scenarios/{scenario_id}")
def scenario(request: Request, ctx: CtxDep, scenario_id: int) -> Response:
    return _scenario_page(request, ctx, scenario_id)


@router.post("/cockpit/scenarios/{scenario_id}/milestones/{milestone_id}")
def reach(
    request: Request, ctx: CtxDep, scenario_id: int, milestone_id: int, form: FormDep
) -> Response:
    done, errors = attempt(
        ctx,
        lambda: service.reach_milestone(ctx, scenario_id, milestone_id, parse(MilestoneDone, form)),
    )
    if done is None:
        return _scenario_page(request, ctx, scenario_id, errors)
    return _see(f"/cockpit/scenarios/{scenario_id}")


@router.post("/cockpit/scenarios/{scenario_id}/cancel")
def cancel(request: Request, ctx: CtxDep, scenario_id: int, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.cancel_scenario(ctx, scenario_id, parse(ScenarioCancel, form))
    )
    if done is None:
        return _scenario_page(request, ctx, scenario_id, errors)
    return _see(f"/cockpit/scenarios/{scenario_id}")


def _indicators_page(
    request: Request,
    ctx: CtxDep,
    form: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    editing: str | None = None,
) -> Response:
    return render(
        request,
        "cockpit/indicators.html",
        status=422 if errors else 200,
        indicators=service.list_indicators(ctx, history=service.HISTORY_ON_PAGE),
        alerts=service.list_alerts(ctx, open_only=False, limit=50),
        can_define=allowed(ctx, "define_indicator"),
        can_evaluate=allowed(ctx, "evaluate_indicators"),
        measures=list(Measure),
        directions=list(Direction),
        ops=list(Op),
        form=form or {"direction": "above", "func": "count"},
        errors=errors or [],
        editing=editing,
    )


@router.get("/cockpit/indicators")
def indicators(request: Request, ctx: CtxDep) -> Response:
    return _indicators_page(request, ctx)


@router.post("/cockpit/indicators")
def define(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    made, errors = attempt(ctx, lambda: service.define_indicator(ctx, parse(IndicatorCreate, form)))
    if made is None:
        return _indicators_page(request, ctx, form, errors)
    return _see("/cockpit/indicators")


def _as_form(ind: IndicatorOut) -> dict[str, str]:
    return {
        "code": ind.code,
        "name": ind.name,
        "resource_code": ind.resource_code,
        "func": ind.func,
        "column": ind.column or "",
        "group_by": ind.group_by or "",
        "filters": "\n".join(f"{f.column} {f.op} {'' if f.value is None else f.value}".strip()
                              for f in ind.filters),
        "direction": ind.direction.value,
        "warn_at": "" if ind.warn_at is None else f"{ind.warn_at:g}",
        "alarm_at": "" if ind.alarm_at is None else f"{ind.alarm_at:g}",
    }  # fmt: skip


@router.get("/cockpit/indicators/{code}/edit")
def edit_indicator_page(request: Request, ctx: CtxDep, code: str) -> Response:
    return _indicators_page(request, ctx, _as_form(service.get_indicator(ctx, code)), None, code)


@router.post("/cockpit/indicators/{code}/edit")
def edit_indicator(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    made, errors = attempt(
        ctx, lambda: service.update_indicator(ctx, code, parse(IndicatorCreate, form))
    )
    if made is None:
        return _indicators_page(request, ctx, form, errors, code)
    return _see("/cockpit/indicators")
