"""Production posture: what SHUZHI_ENV=production refuses, and the modes of the files we make
(those of a whole demo build are checked in tests/test_cli.py)."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from shuzhi import settings as settings_module
from shuzhi.cli import app
from shuzhi.posture import KEY_SETTINGS, THROTTLE_LIMITS, estimated_bits, key_weakness
from shuzhi.settings import UnsafeSettings, load_settings

runner = CliRunner()


def strong() -> str:
    return secrets.token_urlsafe(48)


def production(**overrides: str) -> dict[str, str]:
    env = {
        "SHUZHI_ENV": "production",
        "SHUZHI_SECRET_KEY": strong(),
        "SHUZHI_CREDENTIALS_KEY": strong(),
        "SHUZHI_AUDIT_KEY": strong(),
        "SHUZHI_COOKIE_SECURE": "true",
        "SHUZHI_DATABASE_URL": "postgresql://shuzhi@db.internal/shuzhi",
    }
    env.update(overrides)
    return env


def refusal(env: dict[str, str], tmp_path: Path) -> str:
    with pytest.raises(UnsafeSettings) as caught:
        load_settings(env, data_dir=tmp_path)
    return str(caught.value)


def test_strong_distinct_keys_on_postgresql_are_accepted(tmp_path: Path) -> None:
    settings = load_settings(production(), data_dir=tmp_path)
    assert settings.is_production and not settings.is_sqlite


@pytest.mark.parametrize(
    "weak",
    [
        "a" * 32,  # long enough, one character
        "abc" * 11,  # a repeated unit
        "0123456789" * 4,
        "abcdefghijklmnopqrstuvwxyzABCDEF",  # stepped: 32 distinct characters, no randomness
        "9876543210zyxwvutsrqponmlkjihgfedcba",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",  # almost one character
        "short",
    ],
)
@pytest.mark.parametrize(("field", "variable"), KEY_SETTINGS)
def test_weak_keys_are_refused_naming_the_setting(
    tmp_path: Path, field: str, variable: str, weak: str
) -> None:
    message = refusal(production(**{variable: weak}), tmp_path)
    line = next(line for line in message.splitlines() if line.startswith(variable))
    # Chinese and English on the line that names the variable
    assert " / " in line and any("\u4e00" <= ch <= "\u9fff" for ch in line)
    others = {v for _, v in KEY_SETTINGS} - {variable}
    assert not any(line.split(":")[0] in others for line in message.splitlines())


def test_every_key_and_throttle_setting_is_a_field_read_from_its_variable() -> None:
    fields = set(settings_module.Settings.__dataclass_fields__)
    source = Path(settings_module.__file__).read_text(encoding="utf-8")
    checked = [*KEY_SETTINGS, *((f, v) for f, (v, _, _) in THROTTLE_LIMITS.items())]
    for field, variable in checked:
        assert field in fields
        assert f'"{variable}"' in source
    # every login limit of the settings is range-checked in production
    limits = {f for f in fields if f.startswith("login_")}
    assert limits == set(THROTTLE_LIMITS)


def test_the_same_value_for_two_keys_is_refused(tmp_path: Path) -> None:
    key = strong()
    message = refusal(production(SHUZHI_SECRET_KEY=key, SHUZHI_CREDENTIALS_KEY=key), tmp_path)
    assert "SHUZHI_CREDENTIALS_KEY" in message and "SHUZHI_SECRET_KEY" in message
    assert "must differ" in message and "不得与" in message


def test_sqlite_in_production_needs_the_explicit_setting(tmp_path: Path) -> None:
    env = production()
    del env["SHUZHI_DATABASE_URL"]
    assert "SHUZHI_DATABASE_URL" in refusal(env, tmp_path)
    settings = load_settings({**env, "SHUZHI_ALLOW_SQLITE": "true"}, data_dir=tmp_path)
    assert settings.is_sqlite and settings.allow_sqlite


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SHUZHI_LOGIN_MAX_FAILURES", "21"),
        ("SHUZHI_LOGIN_MAX_FAILURES", "1000000"),
        ("SHUZHI_LOGIN_LOCKOUT_SECONDS", "0"),
        ("SHUZHI_LOGIN_LOCKOUT_SECONDS", "5"),
        ("SHUZHI_LOGIN_LOCKOUT_SECONDS", str(365 * 86400)),
        ("SHUZHI_LOGIN_ADDRESS_MAX_FAILURES", "100000"),
        ("SHUZHI_LOGIN_ACCOUNT_MAX_FAILURES", "100000"),
    ],
)
def test_throttling_that_is_off_or_absurd_is_refused(
    tmp_path: Path, variable: str, value: str
) -> None:
    assert variable in {v for v, _, _ in THROTTLE_LIMITS.values()}
    message = refusal(production(**{variable: value}), tmp_path)
    assert message.startswith(variable) and "login throttling" in message


def test_development_accepts_anything(tmp_path: Path) -> None:
    settings = load_settings(
        {"SHUZHI_SECRET_KEY": "a" * 32, "SHUZHI_LOGIN_MAX_FAILURES": "1000"}, data_dir=tmp_path
    )
    assert not settings.is_production


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    env = production(
        SHUZHI_SECRET_KEY="a" * 32, SHUZHI_COOKIE_SECURE="false", SHUZHI_LOGIN_MAX_FAILURES="1000"
    )
    lines = refusal(env, tmp_path).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "SHUZHI_SECRET_KEY",
        "SHUZHI_COOKIE_SECURE",
        "SHUZHI_LOGIN_MAX_FAILURES",
    ]


@given(st.integers(min_value=24, max_value=64))
def test_random_keys_always_pass(n: int) -> None:
    assert key_weakness(secrets.token_urlsafe(n)) is None
    assert key_weakness(secrets.token_hex(max(n // 2, 16))) is None


@given(
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=15),
    st.integers(min_value=2, max_value=40),
)
def test_repeated_units_always_fail(unit: str, times: int) -> None:
    key = unit * max(times, 32 // len(unit) + 1)
    assert key_weakness(key) is not None


def test_entropy_estimate() -> None:
    assert estimated_bits("a" * 32) == 0
    assert estimated_bits("ab" * 16) == 32
    assert estimated_bits(secrets.token_urlsafe(32)) > 150


def test_demo_refuses_to_run_in_production(tmp_path: Path) -> None:
    env = production(SHUZHI_DATA_DIR=str(tmp_path), SHUZHI_ALLOW_SQLITE="true")
    del env["SHUZHI_DATABASE_URL"]
    result = runner.invoke(app, ["demo", "--no-serve"], env=env)
    assert result.exit_code == 2
    assert "SHUZHI_ENV" in result.output and "shuzhi demo" in result.output
    assert "生产环境" in result.output
    assert not (tmp_path / "demo-credentials.json").exists()
    assert not (tmp_path / "shuzhi.db").exists()


def test_the_cli_refuses_weak_production_settings_bilingually(tmp_path: Path) -> None:
    env = production(SHUZHI_DATA_DIR=str(tmp_path), SHUZHI_SECRET_KEY="a" * 32)
    result = runner.invoke(app, ["serve"], env=env)
    assert result.exit_code == 2
    assert "配置被拒绝" in result.output and "SHUZHI_SECRET_KEY" in result.output


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    from shuzhi.db.engine import Database

    db = tmp_path / "shuzhi.db"
    db.touch()
    db.chmod(0o644)
    settings = load_settings({"SHUZHI_SECRET_KEY": strong()}, data_dir=tmp_path)
    Database(settings).dispose()
    assert _mode(db) == 0o600


MAIL = {
    "SHUZHI_SMTP_HOST": "smtp.dsj.example.gov.cn",
    "SHUZHI_SMTP_PORT": "587",
    "SHUZHI_SMTP_SECURITY": "starttls",
    "SHUZHI_SMTP_USER": "shuzhi",
    "SHUZHI_SMTP_PASSWORD": strong(),
    "SHUZHI_MAIL_FROM": "shuzhi@dsj.example.gov.cn",
}


def test_a_complete_mail_setup_is_accepted(tmp_path: Path) -> None:
    settings = load_settings(production(**MAIL), data_dir=tmp_path)
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "smtp.dsj.example.gov.cn",
        587,
        "starttls",
    )
    # No mail at all is accepted too: notices then stay in the console (and the webhook).
    assert load_settings(production(), data_dir=tmp_path).smtp_host == ""


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"SHUZHI_MAIL_FROM": ""}, "SHUZHI_MAIL_FROM"),
        ({"SHUZHI_MAIL_FROM": "not-an-address"}, "SHUZHI_MAIL_FROM"),
        ({"SHUZHI_SMTP_PASSWORD": ""}, "SHUZHI_SMTP_PASSWORD"),
        ({"SHUZHI_SMTP_SECURITY": "none"}, "SHUZHI_SMTP_SECURITY"),  # password in the clear
        ({"SHUZHI_SMTP_SECURITY": "ssl"}, "SHUZHI_SMTP_PORT"),  # ssl on the starttls port
        ({"SHUZHI_SMTP_PORT": "465"}, "SHUZHI_SMTP_PORT"),
        ({"SHUZHI_SMTP_HOST": ""}, "SHUZHI_SMTP_HOST"),  # a sender but nowhere to send
    ],
)
def test_misconfigured_mail_is_refused_in_production(
    tmp_path: Path, change: dict[str, str], variable: str
) -> None:
    message = refusal(production(**{**MAIL, **change}), tmp_path)
    assert variable in message and "/" in message  # names the variable, in both languages


def test_plain_smtp_to_a_local_relay_is_fine_and_a_bad_mode_is_refused_anywhere(
    tmp_path: Path,
) -> None:
    local = {"SHUZHI_SMTP_HOST": "localhost", "SHUZHI_SMTP_PORT": "25"}
    plain = production(**local, SHUZHI_SMTP_SECURITY="none", SHUZHI_MAIL_FROM="a@b.cn")
    assert load_settings(plain, data_dir=tmp_path).smtp_security == "none"
    with pytest.raises(UnsafeSettings, match="SHUZHI_SMTP_SECURITY"):
        load_settings({"SHUZHI_SMTP_SECURITY": "tls1"}, data_dir=tmp_path)
