"""Connection URLs of stored sources, encrypted at rest and shown only with secrets masked.

A scheduled pull needs the full URL, password included, so it cannot be hashed; it is sealed
with Fernet (AES-128-CBC + HMAC-SHA256, authenticated) under a key derived by HKDF-SHA256
from ``SHUZHI_CREDENTIALS_KEY``. The database keeps the sealed token and a masked copy for
display (``postgresql://etl:***@db/pop``). A token sealed under another key fails its
authentication check and is reported as such (never decrypted into garbage).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shuzhi.errors import Conflict, Invalid

MASK = "***"
_HKDF_INFO = b"shuzhi lake source url v1"
# Query parameters some drivers accept instead of the password part of the URL.
_SECRET_PARAMS = ("password", "passwd", "pwd", "secret", "token", "sslpassword")


class CredentialsUnreadable(Conflict):
    """A sealed URL that the configured key cannot open (another or a rotated key)."""


def _fernet(key: str) -> Fernet:
    if not key:
        raise Invalid.field(
            "url",
            "未配置数据源连接串的加密密钥（SHUZHI_CREDENTIALS_KEY），无法保存或读取连接串。",
            "No key for source connection URLs is configured (SHUZHI_CREDENTIALS_KEY); URLs"
            " cannot be stored or read.",
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(url: str, key: str) -> str:
    """The URL encrypted and authenticated under ``key`` (ASCII token)."""
    return _fernet(key).encrypt(url.encode("utf-8")).decode("ascii")


def unseal(token: str, key: str, what: str = "") -> str:
    """The URL sealed in ``token``; ``CredentialsUnreadable`` (zh/en) under a wrong key."""
    try:
        return _fernet(key).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError):
        label = f" {what}" if what else ""
        raise CredentialsUnreadable(
            f"无法解密数据源{label}的连接串：当前的 SHUZHI_CREDENTIALS_KEY 与保存时使用的密钥不同"
            "（密钥被更换或配置错误）。请恢复原密钥，或重新登记该数据源。",
            f"The connection URL of source{label} cannot be decrypted: SHUZHI_CREDENTIALS_KEY"
            " differs from the key it was stored with (rotated or misconfigured). Restore the"
            " previous key or define the source again.",
        ) from None


def mask_url(url: str) -> str:
    """The URL with its password and secret query parameters replaced by ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "(unparseable URL)"
    placeholder = "SHUZHIMASKEDVALUE"  # URL-safe, so rendering does not escape it
    query = {
        k: (placeholder if k.lower() in _SECRET_PARAMS else v) for k, v in parsed.query.items()
    }
    rendered = parsed.set(query=query).render_as_string(hide_password=True)
    return rendered.replace(placeholder, MASK)
