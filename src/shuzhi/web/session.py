"""Signed cookies: the login session and the CSRF token (signed double-submit)."""

from __future__ import annotations

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
    token = _serializer(settings, "session").dumps({"u": user_id, "e": epoch})
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


def csrf_token(settings: Settings, request: Request) -> str:
    """The request's CSRF token (from its cookie), or a new one that ``ensure_csrf`` will set."""
    raw = request.cookies.get(CSRF_COOKIE)
    if raw:
        try:
            return str(_serializer(settings, "csrf").loads(raw))
        except BadSignature:
            pass
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def ensure_csrf(settings: Settings, request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(
            CSRF_COOKIE,
            _serializer(settings, "csrf").dumps(token),
            httponly=True,
            samesite="strict",
            secure=settings.cookie_secure,
            path="/",
        )


def csrf_matches(settings: Settings, request: Request, submitted: str | None) -> bool:
    raw = request.cookies.get(CSRF_COOKIE)
    if not raw or not submitted:
        return False
    try:
        expected = str(_serializer(settings, "csrf").loads(raw))
    except BadSignature:
        return False
    return hmac.compare_digest(expected, submitted)
