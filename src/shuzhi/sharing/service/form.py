"""Sharing: what the request form offers for an entry."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from shuzhi.auth.permissions import allowed, require
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import EntryBrief, EntryOut, EntryStatus, ShareType
from shuzhi.context import Ctx
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MaskLevel, may_override
from shuzhi.sharing.models import (
    Application,
)
from shuzhi.sharing.schemas import (
    GrantOut,
    RequestOut,
)
from shuzhi.sharing.service.common import _grant, _grant_out, _unit_name
from shuzhi.sharing.service.requests import _consumer_unit, get_share_request, request_actions
from shuzhi.sharing.terms import (
    Columns,
    default_level,
    entry_columns,
)


@dataclass(frozen=True)
class FormColumn:
    name: str
    share_type: ShareType
    category: str
    category_label: str
    default_mask: MaskLevel
    family: str
    requestable: bool


def _form_column(ctx: Ctx, cols: Columns, key: str, requestable: bool) -> FormColumn:
    category = cols.categories.get(key, Category.NONE.value)
    try:
        info = CATEGORY_INFO[Category(category)]
        label = info.label_en if ctx.locale.startswith("en") else info.label_zh
    except ValueError:
        label = category
    return FormColumn(
        name=cols.item_names[key],
        share_type=cols.share[key],
        category=category,
        category_label=label,
        default_mask=default_level(category),
        family=cols.types[key].value,
        requestable=requestable,
    )


@dataclass(frozen=True)
class RequestForm:
    entry: EntryOut
    columns: list[FormColumn]
    applications: list[tuple[str, str]]
    loaded: bool


def request_form(ctx: Ctx, resource_code: str) -> RequestForm:
    """What the request form shows for an entry: its items and the unit's applications."""
    consumer = _consumer_unit(ctx, None)
    require(ctx, "submit_share_request", consumer, target=resource_code)
    cols = entry_columns(ctx, resource_code)
    entry_shared = ShareType(cols.entry.share_type) != ShareType.NOT_SHARED
    columns = [
        _form_column(ctx, cols, k, cols.share[k] != ShareType.NOT_SHARED or not entry_shared)
        for k in cols.item_names
    ]
    apps = [
        (a.code, a.name)
        for a in ctx.db.scalars(
            select(Application)
            .where(Application.unit_id == consumer, Application.status == "active")
            .order_by(Application.code)
        )
    ]
    return RequestForm(entry=cols.entry, columns=columns, applications=apps, loaded=cols.loaded)


@dataclass(frozen=True)
class RequestPage:
    request: RequestOut
    actions: list[str]
    columns: list[FormColumn]  # the requested columns, for a decision form
    masks: dict[str, list[str]]  # column → masking levels a decision may choose
    grant: GrantOut | None


def request_page(ctx: Ctx, request_id: int) -> RequestPage:
    """A request with the steps the actor may take and what a decision form needs."""
    out = get_share_request(ctx, request_id)
    actions = request_actions(ctx, out)
    columns: list[FormColumn] = []
    masks: dict[str, list[str]] = {}
    if {"decide", "arbitrate"} & set(actions):
        cols = entry_columns(ctx, out.resource_code)
        for name in out.columns:
            k = cols.key_of(name)
            if k is None:
                continue
            column = _form_column(ctx, cols, k, cols.share[k] != ShareType.NOT_SHARED)
            columns.append(column)
            masks[name] = [m.value for m in MaskLevel if may_override(column.default_mask, m)]
    grant = None
    if out.grant_id is not None:
        row = _grant(ctx, out.grant_id)
        if allowed(ctx, "view_grants", row.consumer_unit_id) or allowed(
            ctx, "view_grants", row.provider_unit_id
        ):
            grant = _grant_out(ctx, row)
    return RequestPage(request=out, actions=actions, columns=columns, masks=masks, grant=grant)


def shareable_entries(ctx: Ctx, q: str = "") -> list[EntryBrief]:
    """Published entries of other units the actor's unit may ask for (search by words/codes)."""
    require(ctx, "submit_share_request", ctx.actor.unit_id)
    page = catalog.list_entries(ctx, q, filters={"status": [EntryStatus.PUBLISHED]}, limit=50)
    own = _unit_name(ctx, ctx.actor.unit_id)[0] if ctx.actor.unit_id else None
    return [e for e in page.items if e.unit_code != own]
