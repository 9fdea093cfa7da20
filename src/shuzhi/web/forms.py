"""Form handling for console pages: read the posted fields, and re-show a form on bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends
from starlette.requests import Request

from shuzhi.context import Ctx
from shuzhi.errors import Invalid

T = TypeVar("T")


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


FormDep = Annotated[dict[str, str], Depends(_form_fields)]


def attempt(ctx: Ctx, action: Callable[[], T]) -> tuple[T | None, list[dict[str, str]]]:
    """Run a service call; on invalid input return its field errors for the form instead.

    The transaction is marked failed, so nothing the call did is kept. Other errors
    (forbidden, not found, conflict) propagate to the error page as usual.
    """
    try:
        return action(), []
    except Invalid as err:
        ctx.fail(err)
        return None, [{"field": e.field, "message": e.message.get(ctx.locale)} for e in err.errors]
