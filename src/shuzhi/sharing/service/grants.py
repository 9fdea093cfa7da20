"""Sharing: issuing, listing, renewing and revoking grants."""

from __future__ import annotations

from sqlalchemy import or_, select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require, scope_unit
from shuzhi.catalog.schemas import ShareType
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.errors import Conflict, ErrorCollector
from shuzhi.lake import service as lake
from shuzhi.lake.query import Filter, Op
from shuzhi.org import service as org
from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.masking import MaskLevel, is_more_masked
from shuzhi.sharing import filters
from shuzhi.sharing.access import bump_revision
from shuzhi.sharing.apps_service import application_for
from shuzhi.sharing.events import (
    GrantMasksTightened,
    GrantRevoked,
)
from shuzhi.sharing.grants import DeliveryMode
from shuzhi.sharing.models import (
    Grant,
    GrantedMask,
    GrantStatus,
    RequestKind,
    ShareRequest,
)
from shuzhi.sharing.schemas import (
    GrantOut,
    RenewalIn,
    RequestOut,
)
from shuzhi.sharing.service.common import (
    STAFF_ROLES,
    WAITING,
    _app_names,
    _grant,
    _grant_out,
    _request_out,
    _require_either,
)
from shuzhi.sharing.service.notices import _notify
from shuzhi.sharing.service.requests import _file
from shuzhi.sharing.terms import (
    column_keys,
    default_level,
    entry_columns,
)
from shuzhi.validation import required_reason


def list_grants(
    ctx: Ctx, *, side: str | None = None, include_ended: bool = False
) -> list[GrantOut]:
    """Grants the actor's unit holds (consumer), has given (provider), or both."""
    scope = scope_unit(ctx, "view_grants")
    query = select(Grant)
    if scope is not None:
        if side == "consumer":
            query = query.where(Grant.consumer_unit_id == scope)
        elif side == "provider":
            query = query.where(Grant.provider_unit_id == scope)
        else:
            query = query.where(
                or_(Grant.consumer_unit_id == scope, Grant.provider_unit_id == scope)
            )
    if not include_ended:
        query = query.where(Grant.status == GrantStatus.ACTIVE)
    rows = ctx.db.scalars(query.order_by(Grant.id.desc()))
    return [_grant_out(ctx, g) for g in rows]


def get_grant(ctx: Ctx, grant_id: int) -> GrantOut:
    grant = _grant(ctx, grant_id)
    _require_either(
        ctx, "view_grants", grant.consumer_unit_id, grant.provider_unit_id, f"grant:{grant_id}"
    )
    return _grant_out(ctx, grant)


def rows_without_key(ctx: Ctx, grant_id: int) -> int | None:
    """How many rows the grant serves (current version, its row filter) have no value in
    its lookup key column: paging and export serve them, keyed lookups cannot find them.
    None when the grant has no key column or the entry no data."""
    grant = _grant(ctx, grant_id)
    _require_either(
        ctx, "view_grants", grant.consumer_unit_id, grant.provider_unit_id, f"grant:{grant_id}"
    )
    found = lake.current_version(ctx, grant.resource_code)
    if grant.key_column is None or found is None:
        return None
    version = found[1]
    types = version.column_types()
    if grant.key_column not in types:
        return None
    row_filter = list(filters.decode(grant.row_filter))
    if any(f.column not in types for f in row_filter):
        return None  # the gateway serves nothing until the provider fixes the filter
    engine = lake.query_engine(ctx)
    empty = [Filter(grant.key_column, Op.IS_NULL, None)]
    if filters.family_of(types[grant.key_column]) == filters.Family.TEXT:
        empty.append(Filter(grant.key_column, Op.EQ, ""))
    return sum(engine.count(version, [*row_filter, f]) for f in empty)


def grant_actions(ctx: Ctx, out: GrantOut) -> list[str]:
    consumer = org.unit_id_for_code(ctx, out.consumer_unit_code)
    provider = org.unit_id_for_code(ctx, out.provider_unit_code)
    actions = []
    if out.status in ("active", "expired"):
        if allowed(ctx, "renew_grant", consumer):
            actions.append("renew")
        if allowed(ctx, "revoke_grant", provider):
            actions.append("revoke")
    return actions


def renew_grant(ctx: Ctx, grant_id: int, data: RenewalIn) -> RequestOut:
    """Ask to extend a grant: a renewal request, routed like a new one (same terms)."""
    grant = _grant(ctx, grant_id)
    require(ctx, "renew_grant", grant.consumer_unit_id, target=f"grant:{grant_id}")
    if grant.status != GrantStatus.ACTIVE:
        raise Conflict(
            "只能续期有效或已到期的授权（已撤销或已被替换的不能续期）。",
            "Only active or expired grants can be renewed (not revoked or replaced ones).",
        )
    waiting = ctx.db.scalar(
        select(ShareRequest.id).where(
            ShareRequest.renews_grant_id == grant.id, ShareRequest.status.in_(list(WAITING))
        )
    )
    if waiting is not None:
        raise Conflict(
            f"已有处理中的续期申请（#{waiting}）。", f"A renewal is already pending (#{waiting})."
        )
    app = application_for(ctx, _app_names(ctx, grant.application_id)[0], grant.consumer_unit_id)
    cols = entry_columns(ctx, grant.resource_code)
    errors = ErrorCollector()
    keys = column_keys(cols, grant.columns, errors, "columns")
    if errors.errors:
        raise Conflict(
            "目录信息项已变更，授权中的列不再存在，请提交新的申请。",
            "The entry's data items changed; submit a new request instead.",
        )
    original = ctx.db.get(ShareRequest, grant.request_id)
    masking = {
        cols.item_names[k]: m["level"]
        for c, m in grant.masking.items()
        if (k := cols.key_of(c)) is not None
        and MaskLevel(m["level"]) != default_level(cols.categories.get(k, "none"))
    }
    req = _file(
        ctx,
        kind=RequestKind.RENEWAL,
        consumer=grant.consumer_unit_id,
        app=app,
        cols=cols,
        keys=keys,
        purpose=data.purpose or grant.purpose,
        legal_basis=data.legal_basis or (original.legal_basis if original else grant.purpose),
        row_filter=list(filters.decode(grant.row_filter)),
        masking=masking,
        delivery=[DeliveryMode(d) for d in grant.delivery],
        duration_days=data.duration_days,
        rate_limit=grant.rate_limit_per_minute,
        renews=grant.id,
    )
    return _request_out(ctx, req, with_history=True)


def revoke_grant(ctx: Ctx, grant_id: int, reason: str) -> GrantOut:
    """The provider's CDO (or the executive) ends a grant now; the gateway refuses at once."""
    grant = _grant(ctx, grant_id)
    require(ctx, "revoke_grant", grant.provider_unit_id, target=f"grant:{grant_id}")
    reason = required_reason(reason, "撤销授权", "Revoking a grant")
    if not _end_grant(ctx, grant, reason, reason):
        raise Conflict(
            f"该授权当前状态为 {grant.status}，不能撤销。",
            f"The grant is '{grant.status}'; it cannot be revoked.",
        )
    return _grant_out(ctx, grant)


def _end_grant(ctx: Ctx, grant: Grant, reason_zh: str, reason_en: str) -> bool:
    """Revoke an active grant (conditional update: False if it was no longer active)."""
    now = utcnow()
    if not compare_and_set(
        ctx.db,
        grant,
        Grant.status == GrantStatus.ACTIVE,
        status=GrantStatus.REVOKED,
        active_key=None,
        revoked_at=now,
        revoked_by=ctx.actor.label,
        revoke_reason=reason_zh,
        updated_at=now,
    ):
        return False
    bump_revision(ctx.db)
    record(ctx, GrantRevoked(grant_id=grant.id, unit=grant.provider_unit_id, reason=reason_zh))
    hooks.publish(
        ctx,
        hooks.GrantRevoked(
            grant.id, grant.resource_code, grant.provider_unit_id, grant.consumer_unit_id
        ),
    )
    _notify(
        ctx,
        "grant_revoked",
        grant.consumer_unit_id,
        STAFF_ROLES,
        f"目录「{grant.entry_name}」的授权 #{grant.id} 已被撤销：{reason_zh}",
        f"Grant #{grant.id} for {grant.resource_code} was revoked: {reason_en}",
        f"/sharing/grants/{grant.id}",
        grant_id=grant.id,
    )
    return True


def _active_grants(ctx: Ctx, resource_code: str) -> list[Grant]:
    return list(
        ctx.db.scalars(
            select(Grant)
            .where(Grant.resource_code == resource_code, Grant.status == GrantStatus.ACTIVE)
            .order_by(Grant.id)
        )
    )


def entry_withdrawn(ctx: Ctx, resource_code: str, reason: str) -> list[int]:
    """End every active grant of an entry taken out of the catalogue (called by the catalogue
    in the withdrawing transaction); returns the revoked grant ids."""
    return [
        grant.id
        for grant in _active_grants(ctx, resource_code)
        if _end_grant(ctx, grant, f"目录已撤销：{reason}", f"the entry was withdrawn: {reason}")
    ]


def entry_republished(ctx: Ctx, resource_code: str) -> list[int]:
    """End the active grants a newly published revision no longer supports: a granted column
    whose item was removed or is now not shared. The consumer asks again for what remains
    (grants are never widened or silently rewritten). Returns the revoked grant ids."""
    grants = _active_grants(ctx, resource_code)
    if not grants:
        return []
    cols = entry_columns(ctx, resource_code)
    shared = {cols.names[k] for k, share in cols.share.items() if share != ShareType.NOT_SHARED}
    ended = []
    for grant in grants:
        lost = [c for c in grant.columns if c not in shared]
        if lost and _end_grant(
            ctx,
            grant,
            "目录修订后以下数据项不再共享：" + "、".join(lost),
            "after a revision of the entry these items are no longer shared: " + ", ".join(lost),
        ):
            ended.append(grant.id)
    return ended


def on_entry_withdrawn(ctx: Ctx, event: hooks.EntryWithdrawn) -> None:
    """Subscriber: a withdrawn entry ends its grants."""
    entry_withdrawn(ctx, event.resource_code, event.reason)


def on_entry_republished(ctx: Ctx, event: hooks.EntryRepublished) -> None:
    """Subscriber: a new revision ends the grants it no longer supports."""
    entry_republished(ctx, event.resource_code)


def agreement_ended(ctx: Ctx, grant_ids: tuple[int, ...], reason: str) -> list[int]:
    """End the active grants an authorisation agreement carried; returns the revoked ids."""
    if not grant_ids:
        return []
    grants = ctx.db.scalars(
        select(Grant)
        .where(Grant.id.in_(grant_ids), Grant.status == GrantStatus.ACTIVE)
        .order_by(Grant.id)
    )
    return [
        grant.id
        for grant in list(grants)
        if _end_grant(
            ctx,
            grant,
            f"授权运营协议已终止：{reason}",
            f"the authorisation agreement ended: {reason}",
        )
    ]


def _stricter(had: GrantedMask | None, category: Category) -> GrantedMask | None:
    """The mask a granted column needs now that its data is classified ``category`` (one
    that masks), or ``None`` when ``had`` is already at least as strict and of that kind."""
    wanted = CATEGORY_INFO[category].default_level
    if had is None:
        return {"category": category.value, "level": wanted.value}
    level = MaskLevel(had["level"])
    if had["category"] == category.value and not is_more_masked(wanted, level):
        return None
    strongest = wanted if is_more_masked(wanted, level) else level
    return {"category": category.value, "level": strongest.value}


def masks_follow_data(ctx: Ctx, resource_code: str) -> list[int]:
    """Tighten the active grants of an entry to how its data is classified now: a column
    decided while it held nothing personal, or another kind of personal data, would
    otherwise be served under the old mask (or none) once a new version, an accepted one or
    a person's override says it holds, say, mobile numbers. Masks only ever get stricter
    here; the provider may decide anew. Returns the tightened grants' ids."""
    current = lake.current_version(ctx, resource_code)
    if current is None:
        return []
    hidden = lake.hidden_columns_of(ctx, resource_code, current[0].number)
    grants = ctx.db.scalars(
        select(Grant)
        .where(Grant.resource_code == resource_code, Grant.status == GrantStatus.ACTIVE)
        .order_by(Grant.id)
    )
    tightened = []
    for grant in list(grants):
        changes = {
            column: mask
            for column in grant.columns
            if column in hidden
            and (mask := _stricter(grant.masking.get(column), hidden[column])) is not None
        }
        if not changes:
            continue
        grant.masking = {**grant.masking, **changes}
        grant.updated_at = utcnow()
        tightened.append(grant.id)
        record(
            ctx,
            GrantMasksTightened(
                grant_id=grant.id,
                unit=grant.provider_unit_id,
                masking={c: f"{m['category']}:{m['level']}" for c, m in changes.items()},
            ),
        )
    if tightened:
        ctx.db.flush()
        bump_revision(ctx.db)
    return tightened


def on_version_loaded(ctx: Ctx, event: hooks.VersionLoaded) -> None:
    """Subscriber: a new version may hold another kind of data under a granted column."""
    masks_follow_data(ctx, event.resource_code)


def on_version_accepted(ctx: Ctx, event: hooks.VersionAccepted) -> None:
    """Subscriber: a version accepted after review is the one served now."""
    masks_follow_data(ctx, event.resource_code)


def on_classification_changed(ctx: Ctx, event: hooks.ClassificationChanged) -> None:
    """Subscriber: a person corrected a column's category."""
    masks_follow_data(ctx, event.resource_code)


def on_agreement_ended(ctx: Ctx, event: hooks.AgreementEnded) -> None:
    """Subscriber: an authorisation agreement that ends revokes the grants issued under it."""
    agreement_ended(ctx, event.grant_ids, event.reason)


def grants_for_entry(ctx: Ctx, resource_code: str) -> list[GrantOut]:
    """Active grants of one entry (for its provider and the bureau)."""
    rows = list(
        ctx.db.scalars(
            select(Grant).where(
                Grant.resource_code == resource_code, Grant.status == GrantStatus.ACTIVE
            )
        )
    )
    out = []
    for g in rows:
        if allowed(ctx, "view_grants", g.provider_unit_id):
            out.append(_grant_out(ctx, g))
    return out
