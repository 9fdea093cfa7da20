"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), and sealing their secrets.

Codes are 6 digits, HMAC-SHA1, 30-second steps: what every authenticator app reads from an
``otpauth://`` URI. A code is accepted for the current step and one step either side (clock
drift), and never for a step at or before the last one accepted (no replay).

Secrets are stored sealed with Fernet under a key derived by HKDF-SHA256 from
``SHUZHI_CREDENTIALS_KEY`` (the key that also seals source connection URLs, with its own
derivation label), so a copy of the database alone does not yield anyone's second factor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shuzhi.errors import Conflict, Invalid

DIGITS = 6
PERIOD = 30
DRIFT_STEPS = 1
ISSUER = "Shuzhi"
SECRET_BYTES = 20  # 160 bits, the HMAC-SHA1 block the RFC recommends
_HKDF_INFO = b"shuzhi auth totp secret v1"
_ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def new_secret() -> str:
    """A fresh secret in base32 without padding (how authenticator apps take it)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key_bytes(secret_b32: str) -> bytes:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, algorithm: str = "SHA1") -> str:
    """RFC 4226: the code for ``counter`` (dynamic truncation of the HMAC)."""
    mac = hmac.new(key, struct.pack(">Q", counter), _ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def step_at(unix_time: float, period: int = PERIOD) -> int:
    return int(unix_time // period)


def totp(
    key: bytes,
    unix_time: float,
    digits: int = DIGITS,
    algorithm: str = "SHA1",
    period: int = PERIOD,
) -> str:
    """RFC 6238: the code valid at ``unix_time``."""
    return hotp(key, step_at(unix_time, period), digits, algorithm)


def matching_step(
    secret_b32: str, code: str, unix_time: float, last_step: int | None
) -> int | None:
    """The time step ``code`` is valid for (within the drift, after ``last_step``), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = _key_bytes(secret_b32)
    now = step_at(unix_time)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        # every candidate is compared, in constant time, whatever matched before
        if hmac.compare_digest(hotp(key, step), code) and (last_step is None or step > last_step):
            found = step
    return found


def provisioning_uri(secret_b32: str, username: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app imports (as text or a QR code)."""
    label = quote(f"{ISSUER}:{username}")
    query = urlencode(
        {
            "secret": secret_b32,
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": PERIOD,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def _fernet(key: str) -> Fernet:
    if not key:
        raise Invalid.field(
            "totp",
            "未配置加密密钥（SHUZHI_CREDENTIALS_KEY），无法启用双因素认证。",
            "No encryption key is configured (SHUZHI_CREDENTIALS_KEY); the second factor cannot"
            " be enabled.",
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret_b32: str, key: str) -> str:
    return _fernet(key).encrypt(secret_b32.encode("ascii")).decode("ascii")


def unseal(token: str, key: str) -> str:
    try:
        return _fernet(key).decrypt(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError, ValueError):
        raise Conflict(
            "无法解密双因素认证密钥：SHUZHI_CREDENTIALS_KEY 与启用时不同。请恢复原密钥，"
            "或由管理员重置该账号的双因素认证。",
            "The second-factor secret cannot be decrypted: SHUZHI_CREDENTIALS_KEY differs from"
            " the key it was stored with. Restore the key, or have an administrator reset the"
            " account's second factor.",
        ) from None
