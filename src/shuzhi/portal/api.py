"""Public machine interfaces: CKAN Action API, DCAT, sitemap and file downloads.

None of these routes reads a session cookie: every caller is anonymous, or an applicant
holding a key for conditionally open data. Anonymous clients are rate limited per address.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from shuzhi.context import ANONYMOUS, Ctx, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.errors import NotFound, ShuzhiError, TooManyRequests, Unauthenticated
from shuzhi.gateway.limits import RateLimiter
from shuzhi.org import service as org
from shuzhi.portal import ckan, data, dcat, service
from shuzhi.portal.ckan import CkanError
from shuzhi.portal.schemas import FORMATS, code_of, slug
from shuzhi.search.service import MAX_OFFSET
from shuzhi.web.deps import client_of, reads_only
from shuzhi.web.i18n import locale_of
from shuzhi.web.problems import PROBLEM_JSON, problem

router = APIRouter(tags=["portal"])
_SLUG = re.compile(r"[0-9A-Za-z]{1,40}-[0-9A-Za-z]{1,20}")
_limiter_lock = threading.Lock()


def _limiter(request: Request) -> tuple[RateLimiter, int]:
    state = request.app.state
    with _limiter_lock:
        if not hasattr(state, "portal_limiter"):
            settings = state.settings
            state.portal_limiter = RateLimiter(settings.workers)
            state.portal_rate = settings.portal_rate_limit
    limiter: RateLimiter = state.portal_limiter
    gateway = getattr(state, "gateway", None)
    if gateway is not None:  # serving processes counted by the gateway's heartbeat
        limiter.workers = gateway.limiter.workers
    return limiter, state.portal_rate


def throttle(request: Request) -> None:
    """Anonymous scraping bursts get 429 with Retry-After (0 in the setting turns it off)."""
    limiter, rate = _limiter(request)
    if rate <= 0:
        return
    client = client_of(request) or "?"
    bucket = int.from_bytes(hashlib.blake2b(client.encode(), digest_size=7).digest(), "big")
    try:
        limiter.take(bucket, 0, rate)
    except TooManyRequests as err:
        raise TooManyRequests(
            f"访问过于频繁：每个地址每分钟最多 {rate} 次，请 {err.retry_after} 秒后再试。",
            f"Too many requests: at most {rate} per minute per address; "
            f"retry in {err.retry_after} s.",
            retry_after=err.retry_after,
        ) from None


def portal_ctx(request: Request) -> Iterator[Ctx]:
    """An anonymous unit of work (a staff session cookie is ignored on public routes)."""
    throttle(request)
    database: Database = request.app.state.database
    with unit_of_work(
        database,
        ANONYMOUS,
        locale=locale_of(request, database.settings.default_locale),
        client=client_of(request),
        read=reads_only(request),
    ) as ctx:
        yield ctx


PortalCtx = Annotated[Ctx, Depends(portal_ctx, scope="function")]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def applicant_token(request: Request) -> str | None:
    """An applicant key from ``Authorization`` (Bearer or bare, as ckanapi sends it)."""
    header = request.headers.get("authorization") or request.headers.get("x-ckan-api-key") or ""
    scheme, _, rest = header.strip().partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else header.strip()
    return token or request.query_params.get("key") or None


# ---------------------------------------------------------------- downloads


def _disposition(code: str, name: str, fmt: str) -> str:
    safe = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", name)[:80] or code
    return f"attachment; filename=\"{code}.{fmt}\"; filename*=UTF-8''{quote(safe)}.{fmt}"


def _machine_error(err: ShuzhiError, locale: str) -> Response:
    """Downloads are fetched by programs too: errors are problem+json, never a log-in page."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, Unauthenticated) else {}
    body = problem(err.status, err.kind, err.message, locale)
    return JSONResponse(body, status_code=err.status, media_type=PROBLEM_JSON, headers=headers)


def _credentialed(request: Request) -> bool:
    """Whether the request carries an applicant key in any of the forms it is read from."""
    headers = request.headers
    return (
        "authorization" in headers or "x-ckan-api-key" in headers or "key" in request.query_params
    )


def _cache_control(request: Request, released: service.DataRelease) -> str:
    """Shared caches keep only what anyone may fetch: unconditional, unmasked data asked for
    without a key. Conditional or masked data, and anything fetched with a key, is no-store."""
    if released.conditional or released.masks or _credentialed(request):
        return "no-store"
    return "public, max-age=300"


@router.get("/open/datasets/{name}/download.{fmt}")
def download(request: Request, ctx: PortalCtx, name: str, fmt: str) -> Response:
    try:
        if fmt not in FORMATS or not _SLUG.fullmatch(name):
            raise NotFound("没有这个下载文件。", "No such download.")
        released = service.release(ctx, code_of(name), fmt, applicant_token(request))
    except ShuzhiError as err:
        return _machine_error(err, ctx.locale)
    batches = service.masked_batches(ctx, released, released.version)
    return StreamingResponse(
        data.chunks(fmt, batches, released.name),
        media_type=data.CONTENT_TYPES[fmt],
        headers={
            "Content-Disposition": _disposition(name, released.name, fmt),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": _cache_control(request, released),
        },
    )


# ---------------------------------------------------------------- DCAT and sitemap


def _site_title(ctx: Ctx) -> str:
    regions = [u for u in org.all_unit_briefs(ctx) if u.kind == "region"]
    return f"{regions[0].name}公共数据开放平台" if regions else "公共数据开放平台"


def _catalog(request: Request, ctx: Ctx) -> dict[str, Any]:
    return dcat.catalog(_site_title(ctx), service.open_datasets(ctx), base_url(request))


@router.get("/open/catalog.jsonld")
def catalog_jsonld(request: Request, ctx: PortalCtx) -> Response:
    body = json.dumps(_catalog(request, ctx), ensure_ascii=False)
    return Response(body, media_type="application/ld+json")


@router.get("/open/catalog.ttl")
def catalog_turtle(request: Request, ctx: PortalCtx) -> Response:
    return Response(dcat.turtle(_catalog(request, ctx)), media_type="text/turtle; charset=utf-8")


@router.get("/open/sitemap.xml")
def sitemap(request: Request, ctx: PortalCtx) -> Response:
    base = base_url(request)
    urls = [f"{base}/open", f"{base}/open/units"]
    urls += [f"{base}/open/units/{quote(u.unit_code)}" for u in service.open_units(ctx)]
    urls += [f"{base}/open/datasets/{slug(code)}" for code in service.list_open_codes(ctx)]
    body = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'
    )
    return Response(xml, media_type="application/xml")


# ---------------------------------------------------------------- CKAN Action API


def _text(params: dict[str, Any], name: str, default: str = "") -> str:
    value = params.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str | int):
        raise ckan.validation(name, "Must be a string")
    text = str(value)
    if len(text) > 400 or "\x00" in text:
        raise ckan.validation(name, "Too long or not printable")
    return text


def _flag(params: dict[str, Any], name: str) -> bool:
    return str(params.get(name, "")).lower() in ("true", "1", "yes")


def _package(request: Request, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    name = _text(params, "id") or _text(params, "name")
    found = service.open_datasets(ctx, [code_of(name)]) if _SLUG.fullmatch(name) else []
    if not found:
        raise ckan.not_found("Dataset")
    service.count_api_use(ctx, found[0].resource_code)
    return ckan.package(found[0], base_url(request), labels=service.labels(ctx))


def _package_list(request: Request, ctx: Ctx, params: dict[str, Any]) -> list[str]:
    codes = [slug(c).lower() for c in service.list_open_codes(ctx)]
    limit = ckan.parse_int(params.get("limit"), "limit", len(codes), 100_000)
    offset = ckan.parse_int(params.get("offset"), "offset", 0, 100_000)
    return codes[offset : offset + limit]


def _facet_fields(params: dict[str, Any]) -> list[str]:
    raw = params.get("facet.field")
    if raw in (None, ""):
        return []
    try:
        names = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ckan.validation("facet.field", "Must be a JSON list of field names") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ckan.validation("facet.field", "Must be a JSON list of field names")
    unknown = [n for n in names if n not in ckan.FIELDS and n != "res_format"]
    if unknown:
        raise ckan.validation("facet.field", f"Unknown facet field: {unknown[0][:40]}")
    return names


def _package_search(request: Request, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    q = _text(params, "q")
    q = "" if q.strip() in ("*:*", "*") else q
    filters, formats = ckan.parse_fq(_text(params, "fq"))
    rows = ckan.parse_int(params.get("rows"), "rows", 10, ckan.MAX_ROWS)
    start = ckan.parse_int(params.get("start"), "start", 0, MAX_OFFSET)
    sort = ckan.parse_sort(params.get("sort"))
    wanted_facets = _facet_fields(params)
    if formats - set(ckan.FORMAT_NAMES):
        return {"count": 0, "results": [], "facets": {}, "search_facets": {}, "sort": sort}
    page = service.search_open(ctx, q, filters=filters, limit=rows, offset=start, sort=sort)
    base = base_url(request)
    datasets = {
        d.resource_code: d
        for d in service.open_datasets(ctx, [i.resource_code for i in page.items])
    }
    labels = service.labels(ctx)
    results = [
        ckan.package(datasets[i.resource_code], base, labels=labels)
        for i in page.items
        if i.resource_code in datasets
    ]
    facets: dict[str, dict[str, int]] = {}
    for name in wanted_facets:
        if name == "res_format":
            facets[name] = {f.upper(): page.total for f in FORMATS}
        else:
            counts = page.facets.get(ckan.FIELDS[name], {})
            facets[name] = {
                k.lower() if name == "organization" else k: v for k, v in counts.items()
            }
    search_facets = {
        name: {
            "title": name,
            "items": [
                {"name": k, "display_name": ckan.facet_display_name(name, k, labels), "count": v}
                for k, v in sorted(counts.items(), key=lambda kv: -kv[1])
            ],
        }
        for name, counts in facets.items()
    }
    return {
        "count": page.total,
        "results": results,
        "facets": facets,
        "search_facets": search_facets,
        "sort": params.get("sort") or "score desc, metadata_modified desc",
    }


def _organization_list(request: Request, ctx: Ctx, params: dict[str, Any]) -> list[Any]:
    units = service.open_units(ctx)
    if _flag(params, "all_fields"):
        return [ckan.organization(u) for u in units]
    return [u.unit_code.lower() for u in units]


def _organization_show(request: Request, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    code = _text(params, "id")
    unit = next((u for u in service.open_units(ctx) if u.unit_code.lower() == code.lower()), None)
    if unit is None:
        raise ckan.not_found("Organization")
    packages = None
    if params.get("include_datasets", True) not in (False, "false", "False", "0"):
        page = service.search_open(ctx, "", filters={"unit": [unit.unit_code]}, limit=ckan.MAX_ROWS)
        found = service.open_datasets(ctx, [i.resource_code for i in page.items])
        labels = service.labels(ctx)
        packages = [ckan.package(d, base_url(request), labels=labels) for d in found]
    return ckan.organization(unit, packages)


def _resource_show(request: Request, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    rid = _text(params, "id")
    name, _, fmt = rid.rpartition("-")
    found = (
        service.open_datasets(ctx, [code_of(name)])
        if fmt in FORMATS and _SLUG.fullmatch(name)
        else []
    )
    if not found or not found[0].columns:
        raise ckan.not_found("Resource")
    return ckan.resource(found[0], fmt, base_url(request))


def _status_show(request: Request, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "ckan_version": ckan.CKAN_VERSION,
        "site_title": _site_title(ctx),
        "site_url": base_url(request),
        "site_description": "Shuzhi open data portal",
        "locale_default": "zh_Hans_CN",
        "extensions": ["shuzhi"],
    }


ACTIONS: dict[str, Callable[[Request, Ctx, dict[str, Any]], Any]] = {
    "package_list": _package_list,
    "package_show": _package,
    "package_search": _package_search,
    "organization_list": _organization_list,
    "organization_show": _organization_show,
    "resource_show": _resource_show,
    "status_show": _status_show,
}


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                raise ckan.validation("body", "Request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ckan.validation("body", "Request body must be a JSON object")
            params.update(body)
        else:
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


@router.get("/api/3/action/{action}", operation_id="ckan_action_get")
@router.post("/api/3/action/{action}", operation_id="ckan_action_post")
@router.api_route("/api/action/{action}", methods=["GET", "POST"], include_in_schema=False)
async def action(request: Request, action: str) -> Response:
    help_url = f"{base_url(request)}/api/3/action/help_show?name={quote(action[:40])}"
    try:
        if action not in ACTIONS:
            raise CkanError(400, "Bad Request", f"Action name not known: {action[:40]}")
        params = await _params(request)
        result = await run_in_threadpool(_run, request, ACTIONS[action], params)
    except CkanError as err:
        return JSONResponse(err.body(help_url), status_code=err.status)
    except TooManyRequests as err:
        body = CkanError(429, "Rate Limit", err.message.en).body(help_url)
        return JSONResponse(body, status_code=429, headers={"Retry-After": str(err.retry_after)})
    except ShuzhiError as err:
        kind = {404: "Not Found Error", 403: "Authorization Error", 401: "Authorization Error"}
        error = CkanError(
            409 if err.status == 422 else err.status,
            kind.get(err.status, "Validation Error"),
            err.message.en,
        )
        return JSONResponse(error.body(help_url), status_code=error.status)
    return JSONResponse({"help": help_url, "success": True, "result": result})


def _run(
    request: Request, fn: Callable[[Request, Ctx, dict[str, Any]], Any], params: dict[str, Any]
) -> Any:
    throttle(request)
    database: Database = request.app.state.database
    with unit_of_work(
        database, ANONYMOUS, client=client_of(request), read=reads_only(request)
    ) as ctx:
        return fn(request, ctx, params)


@router.get("/api/3")
def api_version() -> dict[str, int]:
    return {"version": ckan.API_VERSION}
