"""The password policy: length, common passwords (and their variants), the account's own
names, identity numbers, and guessability; every refusal in Chinese and English."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.auth.passwords import MIN_LENGTH, check_strength, common_passwords, generate_password
from shuzhi.errors import ErrorCollector


def refusal(password: str, username: str = "zhang.wei", display_name: str = "张伟") -> str | None:
    errors = ErrorCollector()
    check_strength(password, errors, username=username, display_name=display_name)
    if not errors.errors:
        return None
    error = errors.errors[0]
    assert error.message.zh and error.message.en  # bilingual, always
    return error.message.en


def test_password12_is_refused_in_both_languages() -> None:
    errors = ErrorCollector()
    check_strength("password12", errors)
    assert len(errors.errors) == 1
    message = errors.errors[0].message
    assert "12" in message.zh and "12" in message.en  # too short, first of all
    # and at the required length it is still a common password with digits added
    assert "common password" in (refusal("password1234") or "")
    assert "常见密码" in _zh("password1234")


def _zh(password: str) -> str:
    errors = ErrorCollector()
    check_strength(password, errors)
    return errors.errors[0].message.zh if errors.errors else ""


@pytest.mark.parametrize(
    "password",
    ["Password2026!", "!!qwertyuiop12", "123456789012", "Woaini1314520", "iloveyou2026!!"],
)
def test_common_passwords_and_their_decorated_variants_are_refused(password: str) -> None:
    assert refusal(password) is not None


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-1A", "at least"),
        ("zhang.wei-2026-ok", "username"),
        ("Zhang-garden-2026", "username"),
        ("张伟的花园钥匙2026!", "username"),
        ("shuzhi-platform-88", "product"),
        ("11010519491231002X", "resident ID"),
        ("aaaaaaaaaaaaaaaa", "easy to guess"),
        ("zxcvbnmasdfghjkl", "easy to guess"),
        ("1987061519870615", "easy to guess"),
        ("x" * 201, "at most"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    message = refusal(password)
    assert message is not None and why in message


@pytest.mark.parametrize(
    "password",
    ["Correct-Horse-7", "Spare-lantern-orchid-42", "苹果 橙子 香蕉 2026!", "bY7#qL2!mZ9@"],
)
def test_good_passwords_pass(password: str) -> None:
    assert refusal(password) is None


def test_the_blocklist_has_the_general_and_the_local_lists() -> None:
    blocklist = common_passwords()
    assert len(blocklist) > 30_000
    assert {"password", "123456", "woaini1314", "5201314"} <= blocklist


def test_generated_temporary_passwords_pass_the_policy() -> None:
    for _ in range(50):
        assert refusal(generate_password(), "operator", "Operator") is None


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=MIN_LENGTH - 1))
def test_anything_shorter_than_the_minimum_is_refused(password: str) -> None:
    assert refusal(password) is not None


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_the_check_never_crashes_and_is_bilingual(password: str) -> None:
    refusal(password)  # asserts both languages when refusing
