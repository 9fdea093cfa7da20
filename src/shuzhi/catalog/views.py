"""Console pages of the catalog capability: list and search, entry, editor, review queue,
compile progress, source conflicts, code tables."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shuzhi.auth.permissions import allowed
from shuzhi.catalog import abbreviations, service
from shuzhi.catalog.models import CodeTable, ConflictStatus, OpenType, ShareType
from shuzhi.catalog.schemas import (
    AbbreviationsIn,
    CodeIn,
    ConflictResolve,
    EntryCreate,
    EntryOut,
    EntryUpdate,
    SegmentLengths,
)
from shuzhi.org import service as org
from shuzhi.validation import parse
from shuzhi.web.deps import CtxDep
from shuzhi.web.forms import FormDep, attempt
from shuzhi.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 20
FACET_PARAMS = ("unit", "class", "subclass", "share_type", "open_type", "update_cycle", "status")
ENTRY_TEXT_FIELDS = (
    "name",
    "abstract",
    "class_code",
    "subclass_code",
    "group_code",
    "detail_code",
    "sequence_code",
    "format_code",
    "format_subtype",
    "share_type",
    "share_conditions",
    "not_shared_basis",
    "share_method",
    "share_method_type",
    "open_type",
    "open_conditions",
    "not_open_reason",
    "not_open_note",
    "update_cycle",
)
ITEM_FIELDS = ("name", "data_type", "length", "share_type", "element_code", "description")
BLANK_ROWS = 3


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _entry_url(code: str, suffix: str = "") -> str:
    return f"/catalog/entries/{code}{suffix}"


# ---------------------------------------------------------------- list and search


@router.get("/catalog")
def catalogue(request: Request, ctx: CtxDep, q: str = "", page: int = 1) -> Response:
    filters = {k: [request.query_params[k]] for k in FACET_PARAMS if request.query_params.get(k)}
    page = max(1, page)
    result = service.list_entries(ctx, q, filters=filters, limit=PAGE, offset=(page - 1) * PAGE)
    chosen = {k: v[0] for k, v in filters.items()}

    def link(**changes: Any) -> str:
        params = {"q": q, **chosen, **changes}
        return "/catalog?" + urlencode({k: v for k, v in params.items() if v})

    return render(
        request,
        "catalog/list.html",
        q=q,
        search_words=service.search_words(ctx),
        result=result,
        chosen=chosen,
        link=link,
        page=page,
        pages=max(1, -(-result.total // PAGE)),
        labels=service.code_labels(ctx, ctx.locale),
        units={u.code: u.name for u in org.all_unit_briefs(ctx)},
        overview=service.catalog_overview(ctx),
        can_create=ctx.actor.unit_id is not None and allowed(ctx, "create_entry"),
    )


# ---------------------------------------------------------------- entry page


def _entry_page(
    request: Request,
    ctx: CtxDep,
    code: str,
    errors: list[dict[str, str]] | None = None,
    version: int | None = None,
) -> Response:
    entry = service.get_entry(ctx, code, version)
    versions = service.list_versions(ctx, code)
    return render(
        request,
        "catalog/entry.html",
        status=422 if errors else 200,
        e=entry,
        versions=versions,
        actions=service.entry_actions(ctx, entry),
        labels=service.code_labels(ctx, ctx.locale),
        errors=errors or [],
    )


@router.get("/catalog/entries/new")
def new_entry_page(request: Request, ctx: CtxDep, rows: int = BLANK_ROWS) -> Response:
    form: dict[str, Any] = {
        "share_type": ShareType.UNCONDITIONAL,
        "open_type": OpenType.NOT_OPEN,
        "format_code": "3",
        "share_method": "platform",
        "share_method_type": "interface",
        "update_cycle": "4",
        "items": [],
        "tasks": [],
    }
    if ctx.actor.unit_id is not None and allowed(ctx, "create_entry"):
        defaults = service.new_entry_defaults(ctx)
        form["group_code"] = defaults.group_code
        if defaults.class_code:
            form["class_code"] = defaults.class_code
            form["subclass_code"] = defaults.subclass_code
    return _editor(request, ctx, form, [], None, rows)


def _more_rows(form: dict[str, str], data: dict[str, Any]) -> int:
    """Rows after 增加信息项行: every row the form had (blank ones too), and more."""
    posted = [int(k.split("-")[1]) for k in form if re.fullmatch(r"items-\d+-\w+", k)]
    return max([len(data["items"]), *(i + 1 for i in posted)]) + BLANK_ROWS


@router.post("/catalog/entries/new")
def create_entry(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data = _entry_form(form)
    if form.get("action") == "add_row":
        return _editor(request, ctx, data, [], None, _more_rows(form, data))
    entry, errors = attempt(ctx, lambda: service.create_entry(ctx, parse(EntryCreate, data)))
    if entry is None:
        return _editor(request, ctx, data, errors, None, len(data["items"]) + 1)
    return _see(_entry_url(entry.resource_code))


def _editor(
    request: Request,
    ctx: CtxDep,
    form: dict[str, Any],
    errors: list[dict[str, str]],
    entry: EntryOut | None,
    rows: int,
) -> Response:
    unit = entry.unit_code if entry else None
    tasks = service.list_tasks(ctx, unit, open_only=True, limit=300) if ctx.actor.unit_id else []
    linked = set(form.get("task_ids", []))
    if entry is not None:
        linked |= set(entry.task_ids)
        tasks = [t for t in service.list_tasks(ctx, unit, limit=1000) if t.id in linked] + tasks
    items = list(form.get("items", []))
    items += [{} for _ in range(max(0, min(rows, 500) - len(items)))]
    return render(
        request,
        "catalog/editor.html",
        status=422 if errors else 200,
        entry=entry,
        form=form,
        items=items,
        tasks=tasks,
        linked=linked,
        errors=errors,
        field_errors={e["field"]: e["message"] for e in errors},
        tables=service.list_code_tables(ctx, active_only=True),
        share_types=list(ShareType),
        open_types=list(OpenType),
        elements=service.list_elements(ctx),
    )


def _entry_form(form: dict[str, str]) -> dict[str, Any]:
    """The editor's flat form fields → the nested shape of ``EntryCreate``."""
    data: dict[str, Any] = {k: form.get(k, "") for k in ENTRY_TEXT_FIELDS}
    if ":" in form.get("classification", ""):
        data["class_code"], _, data["subclass_code"] = form["classification"].partition(":")
    data["is_classified"] = form.get("is_classified") == "on"
    data["related_codes"] = [
        c.strip() for c in form.get("related_codes", "").replace("，", ",").split(",") if c.strip()
    ]
    extension: dict[str, str] = {}
    for line in form.get("extension", "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            extension[key.strip()] = value.strip()
    data["extension"] = extension
    rows: dict[int, dict[str, Any]] = {}
    for key, value in form.items():
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
            rows.setdefault(int(parts[1]), {})[parts[2]] = value
    items = []
    for index in sorted(rows):
        row = rows[index]
        if not str(row.get("name", "")).strip():
            continue  # blank rows of the editor are ignored
        item = {f: row.get(f, "") for f in ITEM_FIELDS}
        item["is_source"] = row.get("is_source") == "on"
        items.append(item)
    data["items"] = items
    data["task_ids"] = sorted(
        int(k[5:]) for k, v in form.items() if k.startswith("task-") and k[5:].isdigit() and v
    )
    return data


@router.get("/catalog/review")
def review_queue(request: Request, ctx: CtxDep) -> Response:
    return render(
        request,
        "catalog/review.html",
        entries=service.review_queue(ctx),
        labels=service.code_labels(ctx, ctx.locale),
    )


# ---------------------------------------------------------------- compile progress


@router.get("/catalog/progress")
def progress(request: Request, ctx: CtxDep, days: int = 90) -> Response:
    rate = service.compile_rate(ctx)
    trend = service.compile_trend(ctx, days)
    return render(
        request,
        "catalog/progress.html",
        rate=rate,
        trend=trend,
        ranked=sorted(rate.units, key=lambda u: (u.rate is None, -(u.rate or 0), u.unit_code)),
        can_see_matters=allowed(ctx, "view_function_list"),
    )


@router.get("/catalog/uncatalogued")
def uncatalogued(request: Request, ctx: CtxDep, unit: str | None = None) -> Response:
    return render(
        request,
        "catalog/uncatalogued.html",
        matters=service.uncatalogued_matters(ctx, unit),
        unit=unit,
    )


# ---------------------------------------------------------------- conflicts


def _conflicts_page(
    request: Request, ctx: CtxDep, errors: list[dict[str, str]] | None = None
) -> Response:
    return render(
        request,
        "catalog/conflicts.html",
        status=422 if errors else 200,
        conflicts=service.list_conflicts(ctx),
        elements=service.list_elements(ctx),
        units=[u for u in org.all_unit_briefs(ctx) if u.kind != "region"],
        can_resolve=allowed(ctx, "resolve_source_conflict"),
        errors=errors or [],
        open_status=ConflictStatus.OPEN,
    )


@router.get("/catalog/conflicts")
def conflicts(request: Request, ctx: CtxDep) -> Response:
    return _conflicts_page(request, ctx)


@router.post("/catalog/conflicts/{conflict_id}/resolve")
def resolve_conflict(request: Request, ctx: CtxDep, conflict_id: int, form: FormDep) -> Response:
    done, errors = attempt(
        ctx,
        lambda: service.resolve_source_conflict(ctx, conflict_id, parse(ConflictResolve, form)),
    )
    if done is None:
        return _conflicts_page(request, ctx, errors)
    return _see("/catalog/conflicts")


# ---------------------------------------------------------------- code tables


def _codes_page(
    request: Request,
    ctx: CtxDep,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "catalog/codes.html",
        status=422 if errors else 200,
        tables=service.list_code_tables(ctx),
        names=list(CodeTable),
        lengths=service.get_segment_lengths(ctx),
        can_manage=allowed(ctx, "manage_code_tables"),
        errors=errors or [],
        form=form or {},
    )


@router.get("/catalog/code-tables")
def code_tables(request: Request, ctx: CtxDep) -> Response:
    return _codes_page(request, ctx)


@router.post("/catalog/code-tables")
def save_code(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    data = {**form, "active": form.get("active") == "on"}
    done, errors = attempt(
        ctx,
        lambda: service.save_code(
            ctx, form.get("table", ""), form.get("code", ""), parse(CodeIn, data)
        ),
    )
    if done is None:
        return _codes_page(request, ctx, errors, form)
    return _see("/catalog/code-tables")


@router.post("/catalog/segment-lengths")
def set_segment_lengths(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    done, errors = attempt(
        ctx, lambda: service.set_segment_lengths(ctx, parse(SegmentLengths, form))
    )
    if done is None:
        return _codes_page(request, ctx, errors)
    return _see("/catalog/code-tables")


# ---------------------------------------------------------------- search abbreviations


def _abbreviations_page(
    request: Request, ctx: CtxDep, errors: list[dict[str, str]] | None = None, text: str = ""
) -> Response:
    current = service.list_abbreviations(ctx)
    return render(
        request,
        "catalog/abbreviations.html",
        status=422 if errors else 200,
        current=current,
        text=text if errors else abbreviations.as_lines(current.groups),
        can_manage=allowed(ctx, "manage_code_tables"),
        errors=errors or [],
    )


@router.get("/catalog/abbreviations")
def abbreviations_page(request: Request, ctx: CtxDep) -> Response:
    return _abbreviations_page(request, ctx)


@router.post("/catalog/abbreviations")
def save_abbreviations(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    text = form.get("groups", "")
    if form.get("reset") == "1":
        done, errors = attempt(ctx, lambda: service.reset_abbreviations(ctx))
    else:
        groups = abbreviations.parse_lines(text)
        done, errors = attempt(
            ctx, lambda: service.save_abbreviations(ctx, AbbreviationsIn(groups=groups))
        )
    if done is None:
        return _abbreviations_page(request, ctx, errors, text)
    return _see("/catalog/abbreviations")


# ---------------------------------------------------------------- entries by code (declared last:
# the code contains a slash, so these routes match greedily)


@router.get("/catalog/entries/{code:path}/edit")
def edit_entry_page(request: Request, ctx: CtxDep, code: str) -> Response:
    entry = service.get_entry(ctx, code)
    form = entry.model_dump(mode="json")
    form["related_codes"] = ", ".join(entry.related_codes)
    form["extension"] = "\n".join(f"{k}={v}" for k, v in entry.extension.items())
    return _editor(request, ctx, form, [], entry, len(entry.items) + BLANK_ROWS)


@router.post("/catalog/entries/{code:path}/edit")
def update_entry(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    data = _entry_form(form)
    entry = service.get_entry(ctx, code)
    if form.get("action") == "add_row":
        return _editor(request, ctx, data, [], entry, _more_rows(form, data))
    saved, errors = attempt(ctx, lambda: service.update_entry(ctx, code, parse(EntryUpdate, data)))
    if saved is None:
        return _editor(request, ctx, data, errors, entry, len(data["items"]) + 1)
    return _see(_entry_url(saved.resource_code))


@router.post("/catalog/entries/{code:path}/submit")
def submit_entry(request: Request, ctx: CtxDep, code: str) -> Response:
    done, errors = attempt(ctx, lambda: service.submit_entry(ctx, code))
    if done is None:
        return _entry_page(request, ctx, code, errors)
    return _see(_entry_url(code))


@router.post("/catalog/entries/{code:path}/approve")
def approve_entry(ctx: CtxDep, code: str, form: FormDep) -> Response:
    service.approve_entry(ctx, code, form.get("note", "").strip())
    return _see(_entry_url(code))


@router.post("/catalog/entries/{code:path}/return")
def return_entry(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    done, errors = attempt(ctx, lambda: service.return_entry(ctx, code, form.get("reason", "")))
    if done is None:
        return _entry_page(request, ctx, code, errors)
    return _see(_entry_url(code))


@router.post("/catalog/entries/{code:path}/revise")
def revise_entry(ctx: CtxDep, code: str) -> Response:
    service.revise_entry(ctx, code)
    return _see(_entry_url(code, "/edit"))


@router.post("/catalog/entries/{code:path}/withdraw")
def withdraw_entry(request: Request, ctx: CtxDep, code: str, form: FormDep) -> Response:
    done, errors = attempt(ctx, lambda: service.withdraw_entry(ctx, code, form.get("reason", "")))
    if done is None:
        return _entry_page(request, ctx, code, errors)
    return _see(_entry_url(code))


@router.get("/catalog/entries/{code:path}/diff")
def diff_page(
    request: Request, ctx: CtxDep, code: str, from_version: int, to_version: int | None = None
) -> Response:
    diff = service.diff_versions(ctx, code, from_version, to_version)
    return render(request, "catalog/diff.html", diff=diff)


@router.get("/catalog/entries/{code:path}/versions/{number}")
def version_page(request: Request, ctx: CtxDep, code: str, number: int) -> Response:
    return _entry_page(request, ctx, code, version=number)


@router.get("/catalog/entries/{code:path}")
def entry_page(request: Request, ctx: CtxDep, code: str) -> Response:
    return _entry_page(request, ctx, code)
