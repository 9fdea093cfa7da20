"""Production posture: what ``SHUZHI_ENV=production`` refuses at start-up, and why.

Each problem names the environment variable to fix and says it in Chinese and English.
Keys are judged by one rule (``key_weakness``) applied to every field listed in
``posture.KEY_SETTINGS``: long enough, not a repeated or stepped pattern, and enough estimated
entropy; no two keys may be equal.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

# Every key setting (field, environment variable): production judges each by one rule
# (``key_weakness``) and refuses two equal keys. A new key setting is added here.
KEY_SETTINGS: tuple[tuple[str, str], ...] = (
    ("secret_key", "SHUZHI_SECRET_KEY"),
    ("credentials_key", "SHUZHI_CREDENTIALS_KEY"),
    ("audit_key", "SHUZHI_AUDIT_KEY"),
)
# Login throttling settings and the range production accepts (outside it, throttling is
# off, ineffective or a lock-out of everyone).
THROTTLE_LIMITS: dict[str, tuple[str, int, int]] = {
    "login_max_failures": ("SHUZHI_LOGIN_MAX_FAILURES", 1, 20),
    "login_address_max_failures": ("SHUZHI_LOGIN_ADDRESS_MAX_FAILURES", 1, 1000),
    "login_account_max_failures": ("SHUZHI_LOGIN_ACCOUNT_MAX_FAILURES", 1, 1000),
    "login_lockout_seconds": ("SHUZHI_LOGIN_LOCKOUT_SECONDS", 60, 24 * 3600),
}


class Checked(Protocol):
    """What the production rules read of the settings (``settings.Settings`` has it)."""

    @property
    def cookie_secure(self) -> bool: ...

    @property
    def allow_sqlite(self) -> bool: ...

    @property
    def is_sqlite(self) -> bool: ...

    @property
    def smtp_host(self) -> str: ...

    @property
    def smtp_port(self) -> int: ...

    @property
    def smtp_security(self) -> str: ...

    @property
    def smtp_user(self) -> str: ...

    @property
    def smtp_password(self) -> str: ...

    @property
    def mail_from(self) -> str: ...


MIN_KEY_LENGTH = 32
# Estimated bits (Shannon entropy of the key's own characters × its length). A random
# 32-character hex key (128 random bits) estimates 90–130, ``secrets.token_urlsafe(32)`` ≈ 200;
# 'a' × 32 is 0. The limit stays below what random keys of 32 characters reach.
MIN_KEY_BITS = 80.0
# Files the platform creates are readable by its own account only.
PRIVATE_UMASK = 0o077


@dataclass(frozen=True)
class Problem:
    setting: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.zh} / {self.en}"


def estimated_bits(key: str) -> float:
    """Shannon entropy per character of the key's own symbol frequencies × its length."""
    if not key:
        return 0.0
    counts = Counter(key)
    n = len(key)
    per_char = -sum(c / n * math.log2(c / n) for c in counts.values())
    return per_char * n


def _period(key: str) -> int:
    """The shortest p such that the key repeats its first p characters (len(key) if none)."""
    n = len(key)
    for p in range(1, n // 2 + 1):
        if all(key[i] == key[i - p] for i in range(p, n)):
            return p
    return n


def _stepped(key: str) -> bool:
    """True when three in four neighbours are equal or one code point apart ('abcdef…',
    '0123…', 'aaaabbbb…'); random keys of 32 characters are so with odds below 1e-8."""
    steps = [ord(b) - ord(a) for a, b in pairwise(key)]
    if not steps:
        return False
    return sum(1 for s in steps if abs(s) <= 1) * 4 > len(steps) * 3


def key_weakness(key: str) -> tuple[str, str] | None:
    """Why a key is too weak for production (zh, en), or None when it looks random enough."""
    if len(key) < MIN_KEY_LENGTH:
        return (
            f"必须设置且至少 {MIN_KEY_LENGTH} 个字符",
            f"must be set to at least {MIN_KEY_LENGTH} characters",
        )
    if _period(key) < len(key) or _stepped(key):
        return (
            "是重复或连续的字符模式，请改用随机生成的密钥",
            "is a repeated or sequential pattern; use a randomly generated key",
        )
    bits = estimated_bits(key)
    if bits < MIN_KEY_BITS:
        return (
            f"随机性不足（估计约 {bits:.0f} 位，至少需要 {MIN_KEY_BITS:.0f} 位），"
            "请用 `python -c 'import secrets; print(secrets.token_urlsafe(48))'` 生成",
            f"has too little entropy (about {bits:.0f} bits, at least {MIN_KEY_BITS:.0f} "
            "needed); generate one with `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`",
        )
    return None


def production_problems(settings: Checked) -> list[Problem]:
    """Everything that makes these settings unsafe to run in production (empty: safe)."""

    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for field, variable in KEY_SETTINGS:
        key = str(getattr(settings, field))
        weakness = key_weakness(key)
        if weakness is not None:
            problems.append(Problem(variable, *weakness))
        if key and key in seen:
            problems.append(
                Problem(
                    variable,
                    f"不得与 {seen[key]} 相同，每个密钥须单独生成",
                    f"must differ from {seen[key]}; generate each key separately",
                )
            )
        if key:
            seen.setdefault(key, variable)
    if not settings.cookie_secure:
        problems.append(
            Problem(
                "SHUZHI_COOKIE_SECURE",
                "必须为 true（通过 HTTPS 提供服务）",
                "must be true (serve over HTTPS)",
            )
        )
    if settings.is_sqlite and not settings.allow_sqlite:
        problems.append(
            Problem(
                "SHUZHI_DATABASE_URL",
                "生产环境应使用 PostgreSQL；确需使用内嵌 SQLite 时设置 SHUZHI_ALLOW_SQLITE=true",
                "production needs PostgreSQL; set SHUZHI_ALLOW_SQLITE=true to run on the "
                "embedded SQLite file on purpose",
            )
        )
    for field, (variable, low, high) in THROTTLE_LIMITS.items():
        value = int(getattr(settings, field))
        if not low <= value <= high:
            problems.append(
                Problem(
                    variable,
                    f"取值 {value} 会削弱登录限流，生产环境须在 {low} 到 {high} 之间",
                    f"{value} weakens login throttling; production needs {low} to {high}",
                )
            )
    problems.extend(mail_problems(settings))
    return problems


SMTP_SECURITY = ("starttls", "ssl", "none")
# Ports whose convention contradicts the chosen security (the connection would hang or fail).
_SSL_PORTS, _PLAIN_PORTS = frozenset({465}), frozenset({25, 587})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def mail_problems(settings: Checked) -> list[Problem]:
    """What would make notice e-mail fail or leak in production (nothing set: mail is off)."""
    host, security = settings.smtp_host, settings.smtp_security
    problems: list[Problem] = []
    if not host:
        if settings.mail_from or settings.smtp_user:
            problems.append(
                Problem(
                    "SHUZHI_SMTP_HOST",
                    "已设置发件地址或账号但未设置 SMTP 服务器，通知邮件不会发出",
                    "a sender or account is set but no SMTP server: no notice e-mail would leave",
                )
            )
        return problems
    sender = settings.mail_from
    if not sender or sender.count("@") != 1 or not all(sender.split("@")):
        problems.append(
            Problem(
                "SHUZHI_MAIL_FROM",
                "须设置为发件邮箱地址（如 shuzhi@dsj.example.gov.cn）",
                "must be the sender's address (e.g. shuzhi@dsj.example.gov.cn)",
            )
        )
    if bool(settings.smtp_user) != bool(settings.smtp_password):
        problems.append(
            Problem(
                "SHUZHI_SMTP_PASSWORD",
                "SMTP 账号和密码须同时设置（或都不设置）",
                "SHUZHI_SMTP_USER and SHUZHI_SMTP_PASSWORD go together (both or neither)",
            )
        )
    if security == "none" and host.lower() not in _LOOPBACK:
        problems.append(
            Problem(
                "SHUZHI_SMTP_SECURITY",
                "连接其他主机的 SMTP 服务器须使用 starttls 或 ssl（none 仅限本机中继）",
                "use starttls or ssl for an SMTP server on another host (none is for a relay"
                " on this machine only)",
            )
        )
    port = settings.smtp_port
    if (security == "ssl" and port in _PLAIN_PORTS) or (
        security == "starttls" and port in _SSL_PORTS
    ):
        problems.append(
            Problem(
                "SHUZHI_SMTP_PORT",
                f"端口 {port} 与加密方式 {security} 不符（ssl 通常用 465，starttls 用 587）",
                f"port {port} does not match {security} (ssl is usually 465, starttls 587)",
            )
        )
    return problems


def demo_refusal() -> Problem:
    return Problem(
        "SHUZHI_ENV",
        "生产环境不能运行 `shuzhi demo`（它会创建共用一个密码的演示账号并写入磁盘）",
        "`shuzhi demo` does not run in production (it creates demo accounts sharing one "
        "password and writes them to disk)",
    )


def restrict_file_modes() -> None:
    """From now on this process creates files 0600 and directories 0700."""
    os.umask(PRIVATE_UMASK)
