"""Login throttling, shared by every API worker through the database.

Each failed check of a password or second-factor code leaves one ``login_failure`` row
(username as typed, lower-cased; client address). Three sliding-window limits are counted
over the last ``login_lockout_seconds``:

- per account and address (``login_max_failures``): one address guessing one account;
- per address (``login_address_max_failures``): one address spraying many accounts;
- per account from all addresses (``login_account_max_failures``): a distributed guess.
  A browser that has logged in to the account before (it holds a signed device cookie) is
  exempt from this one, so many addresses together cannot lock the owner out either.

A throttled attempt is refused before any check and leaves no row, so hammering a locked
account never extends its lock: the limit lifts as the counted failures age out of the window.
An attacker at one address can therefore lock out only that address, and only for a window.

Accounts of different kinds are counted in separate namespaces (``STAFF``, ``APPLICANT``):
no limit of one counts the other's failures, so an open-data applicant's e-mail and a staff
username never share a counter, and a public address failing portal log-ins does not lock
the console. The namespace is part of the stored key (see ``account_key``).

On PostgreSQL the attempt takes transaction-scoped advisory locks on its address and account,
so concurrent attempts on several workers are counted one after the other; SQLite's write
transactions already serialise them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, distinct, func, not_, or_, select, text
from sqlalchemy.orm import Session

from shuzhi.auth.models import LoginFailure
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow

USERNAME_CHARS = 64  # the column's width; longer input is cut before it is stored or matched

STAFF = "staff"  # console accounts (auth)
APPLICANT = "applicant"  # open-data portal applicants, by e-mail
REGISTRATION = "register"  # every portal registration, by e-mail (see register_applicant)


def account_key(name: str, namespace: str = STAFF) -> str:
    """The key one account's failures are stored and counted under, in its namespace.

    A staff key is the username as typed, trimmed and lower-cased (cut to the column's
    width). Staff usernames never contain ``:`` or ``#``; a typed one that does is stored
    as ``staff:<name>``. Other namespaces store ``<namespace>:<name>``, so no key of one
    namespace can equal a key of another. A key too long for the column is replaced by a
    digest of it (``<namespace>#<hex>``), so long e-mails are not cut into each other.
    """
    name = name.strip().lower()
    if namespace == STAFF and ":" not in name and "#" not in name:
        return name[:USERNAME_CHARS]
    key = f"{namespace}:{name}"
    if len(key) <= USERNAME_CHARS:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{namespace}#{digest}"[:USERNAME_CHARS]


def _in_namespace(namespace: str) -> ColumnElement[bool]:
    """The stored failures of ``namespace`` (see ``account_key``)."""
    column = LoginFailure.username
    own = or_(column.startswith(f"{namespace}:"), column.startswith(f"{namespace}#"))
    if namespace == STAFF:
        return or_(not_(column.contains(":") | column.contains("#")), own)
    return own


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.sha256(f"shuzhi login {kind}:{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def serialise(ctx: Ctx, username: str, client: str | None, *, namespace: str = STAFF) -> None:
    """Hold this attempt's address and account until the transaction ends (in that order)."""
    statement = ctx.database.capabilities.xact_lock_statement
    if statement is None:
        return
    if client:
        ctx.db.execute(text(statement), {"key": _lock_key("address", client)})
    key = account_key(username, namespace)
    ctx.db.execute(text(statement), {"key": _lock_key("account", key)})


def _client_is(client: str | None) -> ColumnElement[bool]:
    return LoginFailure.client.is_(None) if client is None else LoginFailure.client == client


def _lifts_in(ctx: Ctx, where: ColumnElement[bool], limit: int) -> int | None:
    """Seconds until fewer than ``limit`` failures matching ``where`` are in the window."""
    if limit <= 0:
        return None
    window = timedelta(seconds=ctx.settings.login_lockout_seconds)
    now = utcnow()
    # the limit-th newest failure in the window: once it ages out, the limit is no longer met
    at = ctx.db.scalar(
        select(LoginFailure.at)
        .where(where, LoginFailure.at >= now - window)
        .order_by(LoginFailure.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if at is None:
        return None
    return max(1, int((at + window - now).total_seconds()) + 1)


def wait_seconds(
    ctx: Ctx,
    username: str,
    client: str | None,
    *,
    trusted_device: bool = False,
    namespace: str = STAFF,
) -> int | None:
    """How long this attempt must wait (None: it may go ahead)."""
    settings = ctx.settings
    key = account_key(username, namespace)
    waits = [
        _lifts_in(
            ctx,
            and_(LoginFailure.username == key, _client_is(client)),
            settings.login_max_failures,
        )
    ]
    if client is not None:
        waits.append(
            _lifts_in(
                ctx,
                and_(LoginFailure.client == client, _in_namespace(namespace)),
                settings.login_address_max_failures,
            )
        )
    if not trusted_device:
        waits.append(
            _lifts_in(ctx, LoginFailure.username == key, settings.login_account_max_failures)
        )
    found = [w for w in waits if w is not None]
    return max(found) if found else None


def record_failure(ctx: Ctx, username: str, client: str | None, *, namespace: str = STAFF) -> None:
    """Count one failed check; rows that left the window are pruned on the way."""
    cutoff = utcnow() - timedelta(seconds=ctx.settings.login_lockout_seconds)
    key = account_key(username, namespace)
    ctx.db.execute(
        delete(LoginFailure).where(LoginFailure.username == key, LoginFailure.at < cutoff)
    )
    if client is not None:
        ctx.db.execute(
            delete(LoginFailure).where(LoginFailure.client == client, LoginFailure.at < cutoff)
        )
    ctx.db.add(LoginFailure(username=key, client=client, at=utcnow()))
    ctx.db.flush()


def forget_failures(ctx: Ctx, username: str, client: str | None, *, namespace: str = STAFF) -> None:
    """After a success: this address's failures on this account no longer count.

    Failures from other addresses stay (they may be an attack on the account), and so do
    this address's failures on other accounts (logging in to one's own account must not
    reset a spraying address's count).
    """
    key = account_key(username, namespace)
    ctx.db.execute(delete(LoginFailure).where(LoginFailure.username == key, _client_is(client)))


def forget_account(ctx: Ctx, username: str, *, namespace: str = STAFF) -> None:
    """An administrator reset the account: its failures from every address are dropped."""
    key = account_key(username, namespace)
    ctx.db.execute(delete(LoginFailure).where(LoginFailure.username == key))


def failures_by_client(session: Session, since: datetime) -> dict[str, tuple[int, int]]:
    """Per client address: (distinct accounts, failures) failed since ``since`` (security
    monitoring; only what the lockout window still holds)."""
    rows = session.execute(
        select(LoginFailure.client, func.count(distinct(LoginFailure.username)), func.count())
        .where(LoginFailure.at >= since, LoginFailure.client.is_not(None))
        .group_by(LoginFailure.client)
    ).all()
    return {str(c): (int(a), int(n)) for c, a, n in rows}
