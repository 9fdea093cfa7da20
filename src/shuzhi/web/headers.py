"""Security headers on every response: pages, API, portal, static files and errors.

The console is rendered on the server and runs only scripts and style sheets from our own
``/static`` path (htmx, ECharts, cockpit.js); JSON data for charts travels in
``<script type="application/json">`` blocks, which are never executed. So the policy allows
nothing inline. The interactive API documentation (``/docs``, ``/redoc``) is FastAPI's page that
loads Swagger UI / ReDoc from their CDN with an inline start-up script; it gets its own,
wider policy (it shows no data).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PATHS = ("/docs", "/redoc")
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "font-src 'self' https://fonts.gstatic.com",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000"
# Static files (style sheets, scripts) hold no data and may be kept by browsers; every other
# answer may carry personal or unit data (pages, API answers, downloads) and is kept by no
# cache: not by a shared office browser's disk cache or history, not by a proxy.
STATIC_PREFIX = "/static/"
NO_STORE = "no-store"


def security_headers(path: str, *, https: bool) -> dict[str, str]:
    """The headers a response to ``path`` carries; HSTS only when served over HTTPS,
    ``Cache-Control: no-store`` on everything but static files."""
    docs = path == "/docs/oauth2-redirect" or path in DOCS_PATHS
    headers = {
        "Content-Security-Policy": DOCS_POLICY if docs else CONSOLE_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if not path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = NO_STORE
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def apply_security_headers(headers: MutableHeaders, path: str, *, https: bool) -> None:
    """Add the headers a response does not set itself (a route may set a stricter policy,
    or its own caching)."""
    for name, value in security_headers(path, https=https).items():
        if name not in headers:
            headers[name] = value


class SecurityHeaders:
    """ASGI layer adding ``security_headers`` to every HTTP response passing through it."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                apply_security_headers(MutableHeaders(scope=message), path, https=self.https)
            await send(message)

        await self.app(scope, receive, send_with_headers)
