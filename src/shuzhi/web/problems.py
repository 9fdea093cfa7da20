"""The one place where errors become HTTP responses: problem+json for the API, pages for people.

Shape (pinned by tests/web/test_problems.py):
    {"type": "urn:shuzhi:problem:<kind>", "title": ..., "status": 4xx,
     "detail": <message in the request's language>, "detail_zh": ..., "detail_en": ...,
     "errors": [{"field": ..., "message": ..., "message_zh": ..., "message_en": ...}]}
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from shuzhi.errors import (
    Invalid,
    Message,
    NotFound,
    ShuzhiError,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)
from shuzhi.failures import log_unexpected
from shuzhi.validation import translate
from shuzhi.web.headers import apply_security_headers
from shuzhi.web.i18n import locale_of

log = logging.getLogger("shuzhi")

PROBLEM_JSON = "application/problem+json"
INTERNAL = Message(
    "服务器内部错误，已记录，请稍后重试或联系管理员。",
    "Internal error; it has been logged. Try again later or contact the administrator.",
)
HTTP_MESSAGES = {
    404: Message("页面或接口不存在。", "No such page or endpoint."),
    405: Message("不支持该请求方法。", "This method is not allowed here."),
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path == "/healthz":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem(
    status: int,
    kind: str,
    message: Message,
    locale: str,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "type": f"urn:shuzhi:problem:{kind}",
        "title": message.get(locale),
        "status": status,
        "detail": message.get(locale),
        "detail_zh": message.zh,
        "detail_en": message.en,
        "errors": errors or [],
    }


def _field_errors(err: ShuzhiError, locale: str) -> list[dict[str, str]]:
    if not isinstance(err, Invalid):
        return []
    return [
        {
            "field": e.field,
            "message": e.message.get(locale),
            "message_zh": e.message.zh,
            "message_en": e.message.en,
        }
        for e in err.errors
    ]


def error_response(request: Request, err: ShuzhiError) -> Response:
    locale = locale_of(request)
    headers = (
        {"Retry-After": str(err.retry_after)}
        if isinstance(err, TooManyRequests | Unavailable)
        else {}
    )
    if wants_json(request):
        if isinstance(err, Unauthenticated):
            headers["WWW-Authenticate"] = "Bearer"
        body = problem(err.status, err.kind, err.message, locale, _field_errors(err, locale))
        return JSONResponse(body, status_code=err.status, media_type=PROBLEM_JSON, headers=headers)
    if isinstance(err, Unauthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    from shuzhi.web.templating import render_error

    return render_error(request, err.status, err.message, _field_errors(err, locale), headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ShuzhiError)
    async def _shuzhi(request: Request, err: ShuzhiError) -> Response:
        return error_response(request, err)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError) -> Response:
        return error_response(request, Invalid(errors=translate(list(err.errors()))))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, err: HTTPException) -> Response:
        message = HTTP_MESSAGES.get(err.status_code, Message(str(err.detail), str(err.detail)))
        if err.status_code == 404:
            return error_response(request, NotFound(message.zh, message.en))
        shaped = ShuzhiError(message.zh, message.en)
        shaped.status = err.status_code
        return error_response(request, shaped)

    @app.exception_handler(Exception)
    async def _internal(request: Request, err: Exception) -> Response:
        log_unexpected(log, err, "unhandled error on %s %s", request.method, request.url.path)
        response = error_response(request, internal_error())
        # This answer is sent from outside the middleware stack: add the headers here.
        apply_security_headers(
            response.headers, request.url.path, https=request.app.state.settings.cookie_secure
        )
        return response


def internal_error() -> ShuzhiError:
    """What an unexpected failure shows: a 500 that says it was logged, and nothing else."""
    shaped = ShuzhiError(INTERNAL.zh, INTERNAL.en)
    shaped.status = 500
    return shaped
