"""Jinja2 rendering for console pages: every page gets the translator, actor and CSRF token."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from shuzhi.context import ANONYMOUS, Actor
from shuzhi.errors import Message
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.settings import Settings
from shuzhi.web.i18n import locale_of, translate
from shuzhi.web.session import CSRF_FIELD, csrf_token, ensure_csrf

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def category_name(locale: str, code: str) -> str:
    """A column category's name in the page's language (the code itself if unknown)."""
    try:
        info = CATEGORY_INFO[Category(code)]
    except ValueError:
        return code
    return info.label_en if locale == "en" else info.label_zh


def render(
    request: Request,
    template: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **data: Any,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    locale = locale_of(request, settings.default_locale)
    actor: Actor = getattr(request.state, "actor", ANONYMOUS)
    context = {
        "request": request,
        "t": partial(translate, locale),
        "category_name": partial(category_name, locale),
        "locale": locale,
        "actor": actor,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(settings, request),
        **data,
    }
    response = TEMPLATES.TemplateResponse(
        request, template, context, status_code=status, headers=headers
    )
    ensure_csrf(settings, request, response)
    return response


def render_error(
    request: Request,
    status: int,
    message: Message,
    errors: list[dict[str, str]],
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status=status,
        headers=headers,
        status_code=status,
        message=message,
        errors=errors,
    )
