"""How audit entries are chained: a keyed MAC whose key is not in the database.

Each entry's ``hash`` is HMAC-SHA-256 over its fields and the previous entry's hash, under
the *audit key*. The key comes from ``SHUZHI_AUDIT_KEY``; when that is unset it is derived
from ``SHUZHI_SECRET_KEY``. Either way the material goes through HKDF-SHA-256 with labels of
its own, so the audit key is never the cookie-signing key itself, and the chain and the
anchors (``anchors.py``) use two different keys. Someone who can change every row of the
database, but does not hold the key, cannot recompute a single link.

Entries written before the MAC was introduced keep their plain SHA-256 hash and are marked
``alg = "sha256"``. They can only form the start of the log, and the first MAC'ed entry
after them must be the ``audit.sealed`` entry (written by the migration that introduced the
marker) naming how many there are and the hash of the last one; see ``service.check_chain``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shuzhi.settings import Settings

ALG_LEGACY = "sha256"
ALG_MAC = "hmac-sha256"
# An entry as it travels outside the database (archive files, SIEM exports): the fields its MAC
# covers, then its hash, the previous entry's hash and the algorithm.
ENTRY_FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_role",
    "unit_id",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "details",
    "prev_hash",
    "hash",
    "alg",
)
_CHAIN_LABEL = b"shuzhi audit chain v1"
_ANCHOR_LABEL = b"shuzhi audit anchor v1"


@dataclass(frozen=True)
class AuditKeys:
    chain: bytes
    anchor: bytes


def _derive(material: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(
        material.encode("utf-8")
    )


@lru_cache(maxsize=8)
def _keys_for(material: str) -> AuditKeys:
    return AuditKeys(chain=_derive(material, _CHAIN_LABEL), anchor=_derive(material, _ANCHOR_LABEL))


def key_material(settings: Settings) -> str:
    """``SHUZHI_AUDIT_KEY``, or the secret key when it is unset (never empty in use)."""
    material = settings.audit_key or settings.secret_key
    if not material:
        raise RuntimeError(
            "审计日志需要密钥（SHUZHI_AUDIT_KEY 或 SHUZHI_SECRET_KEY） / the audit log needs a"
            " key (SHUZHI_AUDIT_KEY or SHUZHI_SECRET_KEY)"
        )
    return material


def audit_keys(settings: Settings) -> AuditKeys:
    return _keys_for(key_material(settings))


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _message(entry: Any) -> bytes:
    fields = [
        entry.seq,
        entry.at.isoformat(),
        entry.actor,
        entry.actor_role,
        entry.unit_id,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.outcome,
        entry.details,
        entry.prev_hash,
    ]
    return canonical(fields).encode("utf-8")


def legacy_hash(entry: Any) -> str:
    """The plain SHA-256 of entries written before the MAC (verified, never written)."""
    return hashlib.sha256(_message(entry)).hexdigest()


class ChainMac:
    """MACs entries under one chain key (the HMAC state is keyed once and copied per entry)."""

    def __init__(self, key: bytes) -> None:
        self._base = hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, entry: Any) -> str:
        mac = self._base.copy()
        mac.update(_message(entry))
        return mac.hexdigest()


@lru_cache(maxsize=8)
def _chain_mac(key: bytes) -> ChainMac:
    return ChainMac(key)


def chain_mac(settings: Settings) -> ChainMac:
    return _chain_mac(audit_keys(settings).chain)


def expected_hash(entry: Any, mac: ChainMac) -> str | None:
    """What ``entry.hash`` must be under its marker; None for an unknown marker."""
    if entry.alg == ALG_MAC:
        return mac(entry)
    if entry.alg == ALG_LEGACY:
        return legacy_hash(entry)
    return None


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))
