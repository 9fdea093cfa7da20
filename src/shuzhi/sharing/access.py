"""What the gateway asks on every call: who is calling, and what may they read.

Both answers are cheap (one indexed query each) and carry no actor: the gateway may cache
them for a few seconds and must then check ``grants_revision``. The revision is a single
counter bumped in the same transaction as every change that can narrow what a caller may
do (a grant revoked, superseded or issued; a key revoked or its rotation overlap set; an
application retired), so "revision unchanged" means "every cached answer is still true".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from shuzhi.auth.service import token_matches, token_prefix
from shuzhi.catalog import service as catalog
from shuzhi.db.cas import affected
from shuzhi.errors import Conflict, NotFound
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing import filters
from shuzhi.sharing.grants import (
    ApplicationKeyRejected,
    AppPrincipal,
    CallGrant,
    ColumnMask,
    DeliveryMode,
    NoActiveGrant,
)
from shuzhi.sharing.models import (
    AppKey,
    Application,
    ApplicationStatus,
    Grant,
    GrantStatus,
    Revision,
)

# Application keys use the platform's key scheme with their own kind marker, so a platform
# API key is never mistaken for an application key (or the other way round).
APP_KEY_KIND = "sza"


def active_key(application_id: int, resource_code: str) -> str:
    """The value of ``Grant.active_key`` for the one active grant of an application and entry."""
    return f"{application_id}:{resource_code}"


def authenticate_application(session: Session, token: str, now: datetime) -> AppPrincipal:
    """The application behind ``token``; ``ApplicationKeyRejected`` (401) says why not."""
    prefix = token_prefix(token, APP_KEY_KIND) if "\x00" not in token else None
    if prefix is None:
        raise ApplicationKeyRejected(
            "malformed", "应用密钥格式不正确。", "The application key is malformed."
        )
    row = session.execute(
        select(AppKey, Application.code, Application.unit_id, Application.status)
        .join(Application, Application.id == AppKey.application_id)
        .where(AppKey.prefix == prefix)
    ).first()
    if row is None or not token_matches(row[0].key_hash, token):
        raise ApplicationKeyRejected(
            "unknown", "应用密钥无效。", "The application key is not valid."
        )
    key, code, unit_id, status = row
    if key.revoked_at is not None:
        raise ApplicationKeyRejected(
            "revoked", "应用密钥已被吊销。", "The application key has been revoked."
        )
    if key.suspended_at is not None:
        raise ApplicationKeyRejected(
            "suspended",
            "应用密钥已被安全处置暂停使用。",
            "The application key is suspended by a security containment.",
        )
    if key.expires_at <= now:
        raise ApplicationKeyRejected(
            "expired", "应用密钥已过期。", "The application key has expired."
        )
    if status != ApplicationStatus.ACTIVE:
        raise ApplicationKeyRejected(
            "retired", "该应用系统已停用。", "The application has been retired."
        )
    return AppPrincipal(
        application_id=key.application_id, application_code=code, unit_id=unit_id, key_id=key.id
    )


def call_grant(grant: Grant) -> CallGrant:
    """The gateway's frozen view of a stored grant."""
    masking = {
        column: ColumnMask(category=m["category"], level=MaskLevel(m["level"]))
        for column, m in grant.masking.items()
    }
    return CallGrant(
        grant_id=grant.id,
        application_id=grant.application_id,
        consumer_unit_id=grant.consumer_unit_id,
        provider_unit_id=grant.provider_unit_id,
        entry_id=grant.entry_id,
        resource_code=grant.resource_code,
        columns=tuple(grant.columns),
        row_filter=filters.decode(grant.row_filter),
        masking=masking,
        key_column=grant.key_column,
        delivery=frozenset(DeliveryMode(d) for d in grant.delivery),
        purpose=grant.purpose,
        expires_at=grant.expires_at,
        rate_limit_per_minute=grant.rate_limit_per_minute,
    )


def grant_for_call(
    session: Session, principal: AppPrincipal, resource_code: str, now: datetime
) -> CallGrant:
    """The active grant of the calling application for an entry.

    ``NotFound`` (404) when no published catalogue entry has this resource code;
    ``NoActiveGrant`` (403) when the application holds no unexpired active grant for it.
    """
    if "\x00" in resource_code:  # no backend stores it; PostgreSQL refuses to compare it
        raise NotFound("目录不存在。", "No such catalogue entry.")
    grant = session.scalar(
        select(Grant).where(Grant.active_key == active_key(principal.application_id, resource_code))
    )
    if grant is not None and grant.suspended_at is not None:
        raise NoActiveGrant(
            "suspended",
            "该授权已被安全处置暂停使用。",
            "This grant is suspended by a security containment.",
        )
    if grant is not None and grant.expires_at > now:
        return call_grant(grant)
    if catalog.published_entry_id(session, resource_code) is None:
        raise NotFound(
            f"目录 {resource_code} 不存在。", f"Catalogue entry {resource_code} does not exist."
        )
    if grant is not None:
        raise NoActiveGrant(
            "expired",
            "该应用对此目录的授权已过期，请申请续期。",
            "This application's grant for the entry has expired; ask for a renewal.",
        )
    raise NoActiveGrant(
        "none",
        "该应用没有此目录的有效授权。",
        "This application holds no active grant for the entry.",
    )


def lookup_key_columns(session: Session, resource_code: str) -> list[str]:
    """The key columns that active grants of an entry offer lookups on (the gateway indexes
    them when a new version is loaded)."""
    found = session.scalars(
        select(Grant.key_column)
        .where(
            Grant.resource_code == resource_code,
            Grant.status == GrantStatus.ACTIVE,
            Grant.key_column.is_not(None),
        )
        .distinct()
    )
    return sorted({c for c in found if c})


def grants_revision(session: Session) -> int:
    """A number that grows whenever a cached principal or grant may have become too wide."""
    return session.scalar(select(Revision.value).where(Revision.id == 1)) or 0


def bump_revision(session: Session) -> None:
    """Called in the transaction of every narrowing change (see the module docstring)."""
    result = session.execute(
        update(Revision).where(Revision.id == 1).values(value=Revision.value + 1)
    )
    if affected(result) != 1:
        session.add(Revision(id=1, value=1))
        session.flush()


def sandbox_grants(
    session: Session,
    now: datetime,
    *,
    application_id: int | None = None,
    unit_id: int | None = None,
) -> list[tuple[CallGrant, str]]:
    """The unexpired active grants with the ``sandbox`` delivery mode of one application
    (or of every application of a consumer unit), each with its application's code."""
    query = (
        select(Grant, Application.code)
        .join(Application, Application.id == Grant.application_id)
        .where(
            Grant.status == GrantStatus.ACTIVE,
            Grant.expires_at > now,
            Grant.suspended_at.is_(None),  # a security containment holds it
            Application.status == ApplicationStatus.ACTIVE,
        )
        .order_by(Grant.id)
    )
    if application_id is not None:
        query = query.where(Grant.application_id == application_id)
    if unit_id is not None:
        query = query.where(Grant.consumer_unit_id == unit_id)
    return [
        (call_grant(g), code)
        for g, code in session.execute(query)
        if DeliveryMode.SANDBOX.value in g.delivery
    ]


def application_id_for_code(session: Session, code: str) -> int | None:
    """The id of the application registered under ``code`` (the sandbox keys its terms by it)."""
    found: int | None = session.scalar(select(Application.id).where(Application.code == code))
    return found


# ---- suspension (security containment): reversible, unlike a revocation -------------------


def _suspend(
    session: Session, row: AppKey | Grant, working: ColumnElement[bool], now: datetime
) -> None:
    """Suspend a working key or grant in the caller's transaction (bumps the revision, so
    every serving process drops its cached answers within about a second)."""
    table = type(row)
    done = session.execute(
        update(table)
        .where(table.id == row.id, table.suspended_at.is_(None), working)
        .values(suspended_at=now)
        .execution_options(synchronize_session=False)
    )
    if affected(done) != 1:
        session.refresh(row)
        if row.suspended_at is not None:
            raise Conflict("该对象已处于暂停状态。", "It is already suspended.")
        raise Conflict(
            "该对象已被吊销或已失效，无需也无法暂停。",
            "It is already revoked or no longer in force; there is nothing to suspend.",
        )
    session.refresh(row)
    bump_revision(session)


def _resume(session: Session, row: AppKey | Grant) -> None:
    table = type(row)
    done = session.execute(
        update(table)
        .where(table.id == row.id, table.suspended_at.is_not(None))
        .values(suspended_at=None)
        .execution_options(synchronize_session=False)
    )
    if affected(done) != 1:
        raise Conflict("该对象未处于暂停状态。", "It is not suspended.")
    session.refresh(row)
    bump_revision(session)


def app_key(session: Session, key_id: int) -> tuple[AppKey, str, int]:
    """An application key with its application's code and unit (``NotFound`` otherwise)."""
    row = session.execute(
        select(AppKey, Application.code, Application.unit_id)
        .join(Application, Application.id == AppKey.application_id)
        .where(AppKey.id == key_id)
    ).first()
    if row is None:
        raise NotFound("应用密钥不存在。", "No such application key.")
    return row[0], row[1], row[2]


def grant_row(session: Session, grant_id: int) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound("共享授权不存在。", "No such grant.")
    return grant


def suspend_app_key(session: Session, key_id: int, now: datetime) -> None:
    """Stop a key working until ``resume_app_key``; a revoked or expired key is a Conflict.
    Authorisation and audit are the caller's (security operations)."""
    key, _, _ = app_key(session, key_id)
    _suspend(session, key, (AppKey.revoked_at.is_(None)) & (AppKey.expires_at > now), now)


def resume_app_key(session: Session, key_id: int) -> None:
    key, _, _ = app_key(session, key_id)
    _resume(session, key)


def suspend_grant(session: Session, grant_id: int, now: datetime) -> None:
    """Stop a grant working until ``resume_grant``; an ended grant is a Conflict."""
    grant = grant_row(session, grant_id)
    _suspend(session, grant, Grant.status == GrantStatus.ACTIVE, now)


def resume_grant(session: Session, grant_id: int) -> None:
    _resume(session, grant_row(session, grant_id))


def grants_in_force_since(session: Session, started_before: datetime) -> list[Grant]:
    """Active, unsuspended grants that started at or before ``started_before`` (the periodic
    grant review's candidates; security operations reads them, never writes)."""
    return list(
        session.scalars(
            select(Grant)
            .where(
                Grant.status == GrantStatus.ACTIVE,
                Grant.suspended_at.is_(None),
                Grant.starts_at <= started_before,
            )
            .order_by(Grant.id)
        )
    )
