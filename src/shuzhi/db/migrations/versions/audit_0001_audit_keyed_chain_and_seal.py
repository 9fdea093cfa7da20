"""audit: entries chained with a keyed MAC; older SHA-256 entries marked and sealed

Revision ID: audit_0001
Revises: 0001

Every existing entry is marked ``alg = "sha256"``: it keeps its plain SHA-256 hash and is
verified as before. When there are such entries, the upgrade appends one ``audit.sealed``
entry, the first chained with HMAC-SHA-256 under the audit key (from the settings handed over
by ``shuzhi.db.migrate``: SHUZHI_AUDIT_KEY, or derived from SHUZHI_SECRET_KEY). It names how
many entries came before it and the hash of the last one, so those entries cannot later be
re-hashed, cut or extended without the key. With entries to seal and no key the upgrade
stops before changing anything.

The downgrade drops the marker only while every entry is still an SHA-256 one: entries
chained with the key cannot be checked by the code of before this revision.
"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import context, op

import shuzhi.db.base
from shuzhi.audit.chain import ALG_LEGACY, ALG_MAC, ChainMac, audit_keys, canonical
from shuzhi.audit.events import AuditSealed
from shuzhi.context import SYSTEM

revision = "audit_0001"
down_revision = "0001"
branch_labels = ("audit",)
depends_on = None

_entry = sa.table(
    "audit_entry",
    sa.column("seq", sa.Integer()),
    sa.column("at", shuzhi.db.base.UTCDateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("actor_role", sa.String()),
    sa.column("unit_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("target_type", sa.String()),
    sa.column("target_id", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("details", sa.Text()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
    sa.column("alg", sa.String()),
)
_head = sa.table(
    "audit_head",
    sa.column("id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("last_hash", sa.String()),
)


def _mac() -> ChainMac:
    settings = context.config.attributes.get("settings")
    if settings is None or not (settings.audit_key or settings.secret_key):
        raise RuntimeError(
            "audit_0001 需要审计密钥（SHUZHI_AUDIT_KEY 或 SHUZHI_SECRET_KEY）来封存已有的审计"
            "条目 / audit_0001 needs the audit key (SHUZHI_AUDIT_KEY or SHUZHI_SECRET_KEY) to"
            " seal the existing audit entries"
        )
    return ChainMac(audit_keys(settings).chain)


def upgrade() -> None:
    bind = op.get_bind()
    count = bind.execute(sa.select(sa.func.count()).select_from(_entry)).scalar_one()
    mac = _mac() if count else None
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alg", sa.String(length=16), nullable=True))
    bind.execute(_entry.update().values(alg=ALG_LEGACY))
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.alter_column("alg", existing_type=sa.String(length=16), nullable=False)
    if mac is None:
        return
    head = bind.execute(sa.select(_head.c.seq, _head.c.last_hash).where(_head.c.id == 1)).one()
    event = AuditSealed(legacy_entries=int(head.seq), legacy_head=str(head.last_hash))
    seal = SimpleNamespace(
        seq=int(head.seq) + 1,
        at=shuzhi.db.base.utcnow(),
        actor=SYSTEM.label,
        actor_role=None,
        unit_id=None,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        outcome="ok",
        details=canonical(event.details()),
        prev_hash=str(head.last_hash),
        alg=ALG_MAC,
    )
    seal.hash = mac(seal)
    bind.execute(_entry.insert().values(**vars(seal)))
    bind.execute(_head.update().where(_head.c.id == 1).values(seq=seal.seq, last_hash=seal.hash))


def downgrade() -> None:
    bind = op.get_bind()
    keyed = bind.execute(
        sa.select(sa.func.count()).select_from(_entry).where(_entry.c.alg != ALG_LEGACY)
    ).scalar_one()
    if keyed:
        raise RuntimeError(
            "审计日志已有以密钥链接的条目，无法降级 / the audit log holds entries chained with"
            " the audit key; it cannot be downgraded"
        )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_column("alg")
