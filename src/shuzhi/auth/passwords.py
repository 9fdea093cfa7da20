"""Argon2id password hashing with the cost taken from settings, and the password policy.

Policy (NIST SP 800-63B style: length and a blocklist rather than composition rules):

- at least ``MIN_LENGTH`` characters, at most ``MAX_LENGTH``;
- not a common password, nor a common password with digits or symbols put before or after
  it (``password12``, ``Woaini1314!``): the 30,000 most common passwords shipped with the
  zxcvbn package plus ``weak_passwords_zh.txt`` (words Chinese users often pick);
- not containing the username or display name, nor the product's name;
- not a resident ID or mobile number;
- not easily guessed by zxcvbn's estimator (keyboard walks, repeats, dates, words):
  score ``MIN_SCORE`` or better.

Every refusal is stated in Chinese and English.
"""

from __future__ import annotations

import re
import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from shuzhi.errors import ErrorCollector
from shuzhi.settings import Settings
from shuzhi.standards.phones import parse_mobile
from shuzhi.standards.resident_id import is_valid_resident_id

MIN_LENGTH = 12
MAX_LENGTH = 200
MIN_SCORE = 3
# zxcvbn refuses longer input; a password this long is judged on its first part.
_ESTIMATE_CHARS = 72
_PRODUCT_WORDS = ("shuzhi", "数治")
_LOCAL_LIST = Path(__file__).with_name("weak_passwords_zh.txt")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_NON_DIGIT_EDGES = re.compile(r"^\D+|\D+$")


def hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost
    )


def hash_password(settings: Settings, password: str) -> str:
    return hasher(settings).hash(password)


def verify_password(settings: Settings, stored: str, password: str) -> bool:
    try:
        return hasher(settings).verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(settings: Settings, stored: str) -> bool:
    """Whether a stored hash was made with other costs than the settings' (rehash on login)."""
    try:
        return hasher(settings).check_needs_rehash(stored)
    except InvalidHashError:
        return True


@cache
def _dummy_hash(time_cost: int, memory_cost: int) -> str:
    hashed: str = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost).hash(
        secrets.token_urlsafe(24)
    )
    return hashed


def dummy_hash(settings: Settings) -> str:
    """A hash of a random secret with the settings' costs, for logins of unknown usernames.

    Verifying against it costs what verifying a real account costs, so the answer time does
    not tell whether a username exists.
    """
    return _dummy_hash(settings.argon2_time_cost, settings.argon2_memory_cost)


def verify_login(settings: Settings, stored: str | None, password: str) -> bool:
    """Check a log-in's password, spending at least the argon2 work of the current costs.

    An unknown account (``stored`` None) is checked against ``dummy_hash``. A wrong password
    for a hash made with other costs (cheaper ones, from before the costs were raised) is
    then also checked against ``dummy_hash``, so a failure never costs less than one for an
    unknown account and the answer time tells neither which accounts exist nor which still
    have an old hash. (A right password is rehashed by the caller, see ``needs_rehash``.)
    """
    if stored is None:
        verify_password(settings, dummy_hash(settings), password)
        return False
    if verify_password(settings, stored, password):
        return True
    if needs_rehash(settings, stored):
        verify_password(settings, dummy_hash(settings), password)
    return False


def generate_password() -> str:
    """A temporary password for a reset: 4 groups of 5 unambiguous characters (~100 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)


@cache
def common_passwords() -> frozenset[str]:
    """The blocklist: zxcvbn's common passwords and this project's Chinese additions."""
    local = [
        line.strip().lower()
        for line in _LOCAL_LIST.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(local)


def _is_common(password: str) -> bool:
    lowered = password.lower()
    blocklist = common_passwords()
    candidates = {lowered, _EDGES.sub("", lowered), _NON_DIGIT_EDGES.sub("", lowered)}
    return any(c and c in blocklist for c in candidates)


def _context_words(username: str, display_name: str) -> list[str]:
    words = [*_PRODUCT_WORDS]
    for value in (username, display_name):
        value = value.strip().lower()
        if len(value) >= 3 or (len(value) >= 2 and not value.isascii()):
            words.append(value)
        # "zhang.wei" → "zhang", "wei": parts of a username count too
        words.extend(p for p in re.split(r"[\s._\-@]+", value) if len(p) >= 4)
    return words


def check_strength(
    password: str,
    errors: ErrorCollector,
    field: str = "password",
    *,
    username: str = "",
    display_name: str = "",
) -> None:
    """Add a bilingual error to ``errors`` when ``password`` breaks the policy."""
    if len(password) < MIN_LENGTH:
        errors.add(
            field,
            f"密码至少 {MIN_LENGTH} 个字符。",
            f"The password needs at least {MIN_LENGTH} characters.",
        )
        return
    if len(password) > MAX_LENGTH:
        errors.add(
            field,
            f"密码最多 {MAX_LENGTH} 个字符。",
            f"The password may have at most {MAX_LENGTH} characters.",
        )
        return
    if _is_common(password):
        errors.add(
            field,
            "这是常见密码（或常见密码加上数字、符号），很容易被猜中，请换一个。",
            "This is a common password (or one with digits or symbols added); it is easily"
            " guessed. Choose another.",
        )
        return
    lowered = password.lower()
    if any(word in lowered for word in _context_words(username, display_name)):
        errors.add(
            field,
            "密码不能包含用户名、姓名或系统名称。",
            "The password must not contain the username, the name or the product's name.",
        )
        return
    compact = password.replace(" ", "")
    if is_valid_resident_id(compact) or parse_mobile(compact) is not None:
        errors.add(
            field,
            "不能用身份证号或手机号作为密码。",
            "A resident ID or mobile number cannot be used as a password.",
        )
        return
    estimate = zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=[username, display_name])
    if int(estimate["score"]) < MIN_SCORE:
        errors.add(
            field,
            "密码太容易被猜中（键盘连续键、重复字符、日期或常见词），请用更长、更不规则的密码，"
            "例如几个不相关的词加上符号。",
            "The password is too easy to guess (keyboard runs, repeats, dates or common words);"
            " use a longer, less regular one, e.g. several unrelated words with symbols.",
        )
