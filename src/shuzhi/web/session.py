"""Signed cookies: the login session and the CSRF token (signed double-submit, session-bound).

The CSRF cookie holds a random nonce. The token a page carries is an HMAC, under a key derived
from the secret key, of that nonce and of the session cookies the request came with (staff
session, portal applicant session). So a token is worth nothing in another session: a page
rendered for session A yields a token that session B's cookies refuse, even with A's nonce
cookie planted in B's browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from shuzhi.settings import Settings

SESSION_COOKIE = "shuzhi_session"
CSRF_COOKIE = "shuzhi_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# The cookies identifying a session; the CSRF token is bound to their values. The portal's
# applicant session is named here too (``portal.views.APPLICANT_COOKIE``; a test pins it).
BOUND_COOKIES = (SESSION_COOKIE, "shuzhi_portal")


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=salt)


def read_session(settings: Settings, request: Request) -> tuple[int, int] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(settings, "session").loads(raw, max_age=settings.session_max_age_seconds)
        return int(data["u"]), int(data["e"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def write_session(settings: Settings, response: Response, user_id: int, epoch: int) -> None:
    # "n": a nonce of this session alone, so two logins of one account never share a cookie
    # (and so never share CSRF tokens).
    payload = {"u": user_id, "e": epoch, "n": secrets.token_urlsafe(12)}
    token = _serializer(settings, "session").dumps(payload)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def _csrf_nonce(settings: Settings, request: Request) -> str | None:
    raw = request.cookies.get(CSRF_COOKIE)
    if not raw:
        return None
    try:
        return str(_serializer(settings, "csrf").loads(raw))
    except BadSignature:
        return None


def session_binding(request: Request) -> str:
    """What identifies the request's session(s): its session cookies' values ('' if none)."""
    return "\x1f".join(request.cookies.get(name, "") for name in BOUND_COOKIES)


def bound_token(settings: Settings, nonce: str, binding: str) -> str:
    """The CSRF token for this nonce in this session."""
    key = hmac.new(settings.secret_key.encode(), b"shuzhi.csrf.v2", hashlib.sha256).digest()
    mac = hmac.new(key, f"{nonce}\x1e{binding}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def csrf_token(settings: Settings, request: Request) -> str:
    """The request's CSRF token: its cookie's nonce (or a new one that ``ensure_csrf`` will
    set) bound to the request's session."""
    nonce = _csrf_nonce(settings, request)
    if nonce is None:
        nonce = getattr(request.state, "new_csrf", None)
        if nonce is None:
            nonce = secrets.token_urlsafe(32)
            request.state.new_csrf = nonce
    return bound_token(settings, nonce, session_binding(request))


def ensure_csrf(settings: Settings, request: Request, response: Response) -> None:
    nonce = getattr(request.state, "new_csrf", None)
    if nonce:
        response.set_cookie(
            CSRF_COOKIE,
            _serializer(settings, "csrf").dumps(nonce),
            httponly=True,
            samesite="strict",
            secure=settings.cookie_secure,
            path="/",
        )


def csrf_matches(settings: Settings, request: Request, submitted: str | None) -> bool:
    nonce = _csrf_nonce(settings, request)
    if nonce is None or not submitted:
        return False
    expected = bound_token(settings, nonce, session_binding(request))
    return hmac.compare_digest(expected, submitted)
