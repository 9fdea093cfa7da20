"""Console pages of push-backs (反哺基层): a library's push-backs with their delivery status
and the definition form; one push-back with its deliveries and reports, and for the street
it is delivered to, its records (masked per its grant) and the report form. Thin: the pages'
content and permissions come from ``pushback_pages``; every change from one service call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.errors import ErrorCollector
from shuzhi.masterdata import pushback, pushback_delivery, pushback_pages, pushback_reports
from shuzhi.masterdata.pushback_schemas import PushbackIn, ReportIn
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
MASK_LEVELS = ("partial", "pseudonym", "redact")


async def _multi(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"]


MultiDep = Annotated[list[tuple[str, str]], Depends(_multi)]


def _age(text: str, name: str, errors: ErrorCollector) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > 150:
        errors.add(name, "年龄须为 0–150 的整数。", "An age is a whole number from 0 to 150.")
        return None
    return int(text)


def _definition(fields: list[tuple[str, str]]) -> PushbackIn:
    """The definition form → ``PushbackIn`` (one condition of each kind at most)."""
    one = {k: v.strip() for k, v in fields}
    errors = ErrorCollector()
    conditions: list[dict[str, Any]] = []
    low = _age(one.get("min_age", ""), "conditions.0.min_age", errors)
    high = _age(one.get("max_age", ""), "conditions.0.max_age", errors)
    if low is not None or high is not None:
        conditions.append({"kind": "age", "min_age": low, "max_age": high})
    if one.get("equals_attribute") or one.get("equals_value"):
        conditions.append(
            {
                "kind": "equals",
                "attribute": one.get("equals_attribute", ""),
                "value": one.get("equals_value", ""),
            }
        )
    for kind in ("in_dataset", "not_in_dataset"):
        if one.get(kind):
            conditions.append({"kind": kind, "resource_code": one[kind]})
    errors.raise_if_any()
    masking = {
        k.removeprefix("mask."): v for k, v in fields if k.startswith("mask.") and v in MASK_LEVELS
    }
    return parse(
        PushbackIn,
        {
            "name": one.get("name", ""),
            "target_unit_code": one.get("target_unit_code", ""),
            "division_code": one.get("division_code", ""),
            "street": one.get("street", ""),
            "community": one.get("community") or None,
            "columns": [v for k, v in fields if k == "columns" and v],
            "conditions": conditions,
            "masking": masking,
        },
    )


@router.get("/masterdata/{code}/pushbacks")
def pushbacks_page(request: Request, ctx: CtxDep, code: str) -> Response:
    page = pushback_pages.pushbacks_page(ctx, code)
    return render(request, "masterdata/pushbacks.html", page=page, errors=[], form={})


@router.post("/masterdata/{code}/pushbacks")
def define(request: Request, ctx: CtxDep, code: str, fields: MultiDep) -> Response:
    done, errors = attempt(
        ctx, lambda: pushback.define_masterdata_pushback(ctx, code, _definition(fields))
    )
    if done is None:
        page = pushback_pages.pushbacks_page(ctx, code)
        form = {k: v for k, v in fields if k != "columns"}
        form["columns"] = ",".join(v for k, v in fields if k == "columns")
        return render(
            request, "masterdata/pushbacks.html", status=422, page=page, errors=errors, form=form
        )
    return RedirectResponse(f"/masterdata/{code}/pushbacks/{done.id}", status_code=303)


@router.post("/masterdata/{code}/pushbacks/refresh")
def refresh_all(ctx: CtxDep, code: str) -> Response:
    pushback_delivery.refresh_masterdata_pushbacks(ctx, code)
    return RedirectResponse(f"/masterdata/{code}/pushbacks", status_code=303)


@router.get("/masterdata/{code}/pushbacks/{pushback_id}")
def pushback_page(
    request: Request, ctx: CtxDep, code: str, pushback_id: int, after: str | None = None
) -> Response:
    page = pushback_pages.pushback_page(ctx, code, pushback_id, (after or "")[:40] or None)
    return render(request, "masterdata/pushback.html", page=page, errors=[], form={})


@router.post("/masterdata/{code}/pushbacks/{pushback_id}/refresh")
def refresh(ctx: CtxDep, code: str, pushback_id: int) -> Response:
    pushback_delivery.refresh_masterdata_pushbacks(ctx, code, pushback_id)
    return RedirectResponse(f"/masterdata/{code}/pushbacks/{pushback_id}", status_code=303)


@router.post("/masterdata/{code}/pushbacks/{pushback_id}/retire")
def retire(request: Request, ctx: CtxDep, code: str, pushback_id: int, form: FormDep) -> Response:
    done, errors = attempt(
        ctx,
        lambda: pushback.retire_masterdata_pushback(
            ctx, code, pushback_id, form.get("reason", "")[:2000]
        ),
    )
    if done is None:  # the page again without the records: a failed form keeps no audit trail
        page = pushback_pages.pushback_page(ctx, code, pushback_id, records=False)
        return render(
            request, "masterdata/pushback.html", status=422, page=page, errors=errors, form=form
        )
    return RedirectResponse(f"/masterdata/{code}/pushbacks/{pushback_id}", status_code=303)


@router.post("/masterdata/{code}/pushbacks/{pushback_id}/reports")
def report(request: Request, ctx: CtxDep, code: str, pushback_id: int, form: FormDep) -> Response:
    def act() -> object:
        data = parse(
            ReportIn,
            {k: form.get(k, "") for k in ("entity_id", "attribute", "problem", "proposed")},
        )
        return pushback_reports.report_masterdata_record(ctx, code, pushback_id, data)

    done, errors = attempt(ctx, act)
    if done is None:  # the page again without the records: a failed form keeps no audit trail
        page = pushback_pages.pushback_page(ctx, code, pushback_id, records=False)
        return render(
            request, "masterdata/pushback.html", status=422, page=page, errors=errors, form=form
        )
    return RedirectResponse(f"/masterdata/{code}/pushbacks/{pushback_id}#reports", status_code=303)
