"""Argon2id password hashing with the cost taken from settings."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shuzhi.errors import ErrorCollector
from shuzhi.settings import Settings

MIN_LENGTH = 10


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


def check_strength(password: str, errors: ErrorCollector, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        errors.add(
            field,
            f"密码至少 {MIN_LENGTH} 个字符。",
            f"The password needs at least {MIN_LENGTH} characters.",
        )
    elif password.isdigit() or password.isalpha():
        errors.add(
            field,
            "密码须同时包含字母和数字或符号。",
            "The password must mix letters with digits or symbols.",
        )
