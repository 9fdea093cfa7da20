"""JSON API of the gateway: consumers read granted data (/api/v1/share), staff read call
statistics (/api/v1/gateway).

Resource codes contain a slash, so they are path parameters; the lookup route is declared
before the page route. Handlers return ready JSON bytes (the models document them) so the
hot path skips response validation.

The keyed lookup is answered by ``LookupFirstApp``, the application class, before the
framework's middleware, routing and dependency solving (which cost more than the lookup
itself); its route below documents the operation in OpenAPI and answers the same way if
reached.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from shuzhi.errors import ShuzhiError
from shuzhi.failures import log_unexpected
from shuzhi.gateway import service, stats
from shuzhi.gateway.models import Endpoint
from shuzhi.gateway.redaction import LOOKUP_PATH
from shuzhi.gateway.runtime import GatewayRuntime
from shuzhi.gateway.schemas import CallStats, Problem, Record, RecordsPage
from shuzhi.web import problems
from shuzhi.web.deps import CtxDep, client_of
from shuzhi.web.headers import SecurityHeaders, security_headers

log = logging.getLogger("shuzhi.gateway")

router = APIRouter(prefix="/api/v1/share", tags=["gateway"])
stats_router = APIRouter(prefix="/api/v1/gateway", tags=["gateway"])

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApplicationKey",
    description="The application key issued to a connected system: `Authorization: Bearer <key>`.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": Problem,
        "description": description,
        "content": {"application/problem+json": {}},
    }
    if headers:
        out["headers"] = headers
    return out


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("No application key, or an unknown, expired or revoked one."),
    403: _problem("The grant has expired or does not include this delivery mode."),
    404: _problem("No grant of this application covers the entry, or no such record."),
    409: _problem("The grant cannot be applied to the dataset's current version."),
    422: _problem("Bad conditions, fields, limit or cursor (columns outside the grant included)."),
    429: _problem(
        "The grant's rate limit is exhausted.",
        {
            "Retry-After": {
                "description": "seconds until a call is allowed",
                "schema": {"type": "integer"},
            }
        },
    ),
    503: _problem(
        "Call records are behind, or the key index of the dataset version is being built; "
        "call again after Retry-After.",
        {
            "Retry-After": {
                "description": "seconds to wait before calling again",
                "schema": {"type": "integer"},
            }
        },
    ),
}
CONDITIONS = Query(
    description="Condition `column:op:value`, repeatable (ANDed with each other and with the "
    "grant's row filter). op: eq, ne, lt, le, gt, ge, in (comma-separated values or a JSON "
    "array), like_prefix, is_null, not_null (no value). Only granted columns.",
    examples=["性别:eq:男"],
)
FIELDS = Query(description="Comma-separated granted columns to return (default: all granted).")


def _call(request: Request, endpoint: Endpoint, code: str, creds: Credentials) -> service.Call:
    runtime: GatewayRuntime = request.app.state.gateway
    return service.Call(
        runtime=runtime,
        endpoint=endpoint,
        resource_code=code,
        token=creds.credentials if creds else None,
        client=client_of(request),
    )


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


# The keyed lookup is the hot path: the handler takes the bare request (no parameter or
# dependency solving, which costs more than the lookup itself); its parameters and security
# are documented by hand below.
LOOKUP_PARAMETERS = [
    {
        "name": "resource_code",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "Resource code of the catalogue entry (contains a slash).",
    },
    {
        "name": "key",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "Value of the grant's key column, e.g. a resident ID.",
    },
    {
        "name": "fields",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "Comma-separated granted columns to return (default: all granted).",
    },
]


@router.get(
    "/{resource_code:path}/records/{key}",
    response_model=Record,
    responses=ERRORS,
    summary="One record by the grant's key column (e.g. resident ID)",
    openapi_extra={"parameters": LOOKUP_PARAMETERS, "security": [{"ApplicationKey": []}]},
)
async def lookup_record(request: Request) -> Response:
    params = request.path_params
    return await _lookup(request, params["resource_code"], params["key"])


async def _lookup(request: Request, resource_code: str, key: str) -> Response:
    return _json(await _lookup_body(request.scope, resource_code, key))


async def _lookup_body(scope: Scope, resource_code: str, key: str) -> bytes:
    """The lookup's JSON body, read straight from the ASGI scope (no request object)."""
    query = scope.get("query_string") or b""
    fields = QueryParams(query).get("fields") if query else None
    client = scope.get("client")
    call = service.Call(
        runtime=scope["app"].state.gateway,
        endpoint=Endpoint.LOOKUP,
        resource_code=resource_code,
        token=_bearer(scope),
        client=client[0] if client else None,
    )
    return await service.lookup_record(call, key, fields)


def _bearer(scope: Scope) -> str | None:
    """The bearer token of the request (as ``web.deps.bearer_token`` reads it)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class LookupFirstApp(FastAPI):
    """The application class: a ``GET`` keyed lookup is answered before the framework's
    middleware, routing and dependency solving (which together cost more than the lookup);
    everything else goes the usual way.

    The answer is the one the route gives: the same body, ``application/json``, and the
    security headers every response carries (``web.headers``); errors take the same
    problem+json shape as everywhere (``problems.error_response``); an unexpected one is
    logged and answered 500 as the application's own handler does.
    """

    _json_headers: list[tuple[bytes, bytes]] | None = None

    def _headers(self) -> list[tuple[bytes, bytes]]:
        if self._json_headers is None:
            https = bool(
                getattr(self.state, "settings", None) and self.state.settings.cookie_secure
            )
            extra = security_headers("/api/v1/share/", https=https)
            self._json_headers = [(b"content-type", b"application/json")] + [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in extra.items()
            ]
        return self._json_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            match = LOOKUP_PATH.match(scope["path"])
            if match is not None:
                await self._lookup(scope, receive, send, match["resource_code"], match["key"])
                return
        await super().__call__(scope, receive, send)

    async def _lookup(
        self, scope: Scope, receive: Receive, send: Send, resource_code: str, key: str
    ) -> None:
        if self.root_path:
            scope["root_path"] = self.root_path
        scope["app"] = self
        try:
            body = await _lookup_body(scope, resource_code, key)
        except ShuzhiError as err:
            response = problems.error_response(Request(scope, receive), err)
        except Exception as err:
            # The key (often a resident ID) is never logged; the dataset is.
            log_unexpected(log, err, "unhandled error on a keyed lookup in %s", resource_code)
            response = problems.error_response(Request(scope, receive), problems.internal_error())
        else:
            headers = [(b"content-length", str(len(body)).encode()), *self._headers()]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        https = bool(self.state.settings.cookie_secure)
        await SecurityHeaders(response, https=https)(scope, receive, send)


@router.get(
    "/{resource_code:path}/records",
    response_model=RecordsPage,
    responses=ERRORS,
    summary="Granted rows, filtered, a page at a time (stored row order)",
)
async def read_records(
    request: Request,
    resource_code: str,
    creds: Credentials,
    f: Annotated[list[str], CONDITIONS] = [],  # noqa: B006 (FastAPI copies defaults)
    fields: Annotated[str | None, FIELDS] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="rows per page (100)")] = None,
    cursor: Annotated[
        str | None, Query(max_length=4096, description="`next` of the previous page")
    ] = None,
) -> Response:
    call = _call(request, Endpoint.RECORDS, resource_code, creds)
    return _json(await service.read_records(call, f, fields, limit, cursor))


@router.get(
    "/{resource_code:path}/export",
    responses={
        200: {
            "description": "The whole granted, filtered, masked data set, streamed.",
            "content": {"text/csv": {}, "application/vnd.apache.parquet": {}},
        },
        **ERRORS,
    },
    response_class=StreamingResponse,
    summary="Bulk export as CSV or Parquet (grants with bulk delivery)",
)
async def export_records(
    request: Request,
    resource_code: str,
    creds: Credentials,
    format: Annotated[str, Query(pattern="^(csv|parquet)$", description="csv or parquet")] = "csv",
    f: Annotated[list[str], CONDITIONS] = [],  # noqa: B006
    fields: Annotated[str | None, FIELDS] = None,
) -> StreamingResponse:
    call = _call(request, Endpoint.EXPORT, resource_code, creds)
    media, chunks = await service.export_records(call, format, f, fields)
    filename = re.sub(r"[^A-Za-z0-9._-]", "-", resource_code)[:80] + "." + format
    return StreamingResponse(
        chunks,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@stats_router.get(
    "/stats",
    summary="Call statistics (daily series and top lists)",
    responses={
        401: _problem("Not logged in (session or platform API key)."),
        403: _problem("The role may not read call statistics."),
        422: _problem("Bad period."),
    },
)
def call_stats(
    ctx: CtxDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    until: date | None = None,
    resource_code: str | None = None,
) -> CallStats:
    return stats.call_stats(ctx, days, until, resource_code)
