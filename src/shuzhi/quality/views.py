"""Console pages of the quality capability: issues per unit, with fix and verify steps, and
the rule editor on a dataset's page."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.errors import ErrorCollector, Invalid
from shuzhi.lake import service as lake
from shuzhi.quality import service
from shuzhi.quality.checks import RuleSpec, validate_rule
from shuzhi.quality.models import IssueStatus, RuleKind
from shuzhi.quality.schemas import RuleIn
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
_LIST_SEPARATORS = re.compile(r"[\n\r,，、;；]+")


@router.get("/quality")
def issues_page(request: Request, ctx: CtxDep, status: IssueStatus | None = None) -> Response:
    issues = service.list_quality_issues(ctx, status=status)
    board = service.quality_scores(ctx)
    return render(request, "quality/issues.html", issues=issues, board=board, status_filter=status)


@router.post("/quality/issues/{issue_id}/fixed")
def fixed(ctx: CtxDep, issue_id: int, form: FormDep) -> Response:
    service.mark_issue_fixed(ctx, issue_id, form.get("note", ""))
    return RedirectResponse("/quality", status_code=303)


@router.post("/quality/issues/{issue_id}/verified")
def verified(ctx: CtxDep, issue_id: int, form: FormDep) -> Response:
    service.verify_issue(ctx, issue_id, form.get("note", ""))
    return RedirectResponse("/quality", status_code=303)


def _number(text: str, name: str, errors: ErrorCollector) -> float | int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors.add(name, f"“{text}”不是数字。", f"{text!r} is not a number.")
        return None
    return int(value) if value.is_integer() and "." not in text else value


def rule_from_form(form: Mapping[str, str]) -> RuleIn:
    """The rule a form describes: the parameters of its kind read from their own fields, and
    every problem (the same checks as the API's) reported at once."""
    errors = ErrorCollector()
    try:
        kind = RuleKind(form.get("kind", ""))
    except ValueError:
        raise Invalid.field("kind", "请选择规则类型。", "Choose a kind of rule.") from None
    params: dict[str, Any] = {}
    if kind is RuleKind.PATTERN:
        params["pattern"] = form.get("pattern", "").strip()
    elif kind is RuleKind.RANGE:
        for name in ("min", "max"):
            value = _number(form.get(name, ""), name, errors)
            if value is not None:
                params[name] = value
    elif kind is RuleKind.ALLOWED_VALUES:
        params["values"] = [v.strip() for v in _LIST_SEPARATORS.split(form.get("values", ""))]
        params["values"] = [v for v in params["values"] if v]
    elif kind is RuleKind.REFERENCE:
        params["resource_code"] = form.get("ref_code", "").strip()
        params["column"] = form.get("ref_column", "").strip()
        if not params["resource_code"] or not params["column"]:
            params = {}
    elif kind is RuleKind.FRESHNESS:
        days = _number(form.get("max_age_days", ""), "max_age_days", errors)
        if days is not None:
            params["max_age_days"] = days
    weight = _number(form.get("weight", "") or "1", "weight", errors)
    if weight is not None and not 0 < weight <= 100:
        errors.add(
            "weight", "权重须大于 0、不超过 100。", "The weight must be above 0, at most 100."
        )
    column = form.get("column", "").strip() or None
    try:
        validate_rule(RuleSpec(kind, column, params))
    except Invalid as bad:
        reported = {e.field for e in errors.errors}
        errors.errors.extend(e for e in bad.errors if e.field not in reported)
    errors.raise_if_any()
    return RuleIn(kind=kind, column=column, params=params, weight=float(weight or 1))


def _dataset_page(
    request: Request,
    ctx: CtxDep,
    code: str,
    errors: list[dict[str, str]],
    form: Mapping[str, str],
    editing: int | None,
) -> Response:
    return render(
        request,
        "datasets/dataset.html",
        status=422,
        d=lake.dataset_overview(ctx, code),
        errors=errors,
        rules=service.rule_sheet(ctx, code),
        rule_form=dict(form),
        editing=editing,
    )


def _see(code: str) -> Response:
    return RedirectResponse(f"/datasets/{code}#quality-rules", status_code=303)


@router.post("/quality/datasets/{code:path}/rules")
def add_rule(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.define_quality_rule(ctx, code, rule_from_form(form))
    )
    if done is None:
        return _dataset_page(request, ctx, code, errors, form, None)
    return _see(code)


@router.post("/quality/rules/{rule_id}")
def change_rule(request: Request, ctx: CtxDep, rule_id: int, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.update_quality_rule(ctx, rule_id, rule_from_form(form))
    )
    if done is None:
        code = service.rule_dataset(ctx, rule_id)
        return _dataset_page(request, ctx, code, errors, form, rule_id)
    return _see(done.resource_code)


@router.post("/quality/rules/{rule_id}/delete")
def delete_rule(ctx: CtxDep, rule_id: int) -> Response:
    code = service.rule_dataset(ctx, rule_id)
    service.delete_quality_rule(ctx, rule_id)
    return _see(code)
