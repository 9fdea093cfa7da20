"""Sealing and masking of source connection URLs, and the key setting behind them."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.errors import Invalid
from shuzhi.lake.credentials import MASK, CredentialsUnreadable, mask_url, seal, unseal
from shuzhi.settings import CREDENTIALS_FILE, UnsafeSettings, load_settings

KEY = "k" * 48
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
# Passwords drawn from characters that never occur in the other URL parts generated here.
PASSWORD = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()/:?=+ ~中文", min_size=1)


@given(user=WORD, password=PASSWORD, host=WORD, db=WORD, port=st.integers(1, 65535))
def test_masked_url_never_shows_the_password(
    user: str, password: str, host: str, db: str, port: int
) -> None:
    from urllib.parse import quote

    url = f"postgresql+psycopg://{user}:{quote(password, safe='')}@{host}:{port}/{db}"
    masked = mask_url(url)
    assert masked == f"postgresql+psycopg://{user}:{MASK}@{host}:{port}/{db}"
    assert quote(password, safe="") not in masked


def test_secret_query_parameters_are_masked_and_others_kept() -> None:
    url = "mysql+pymysql://etl@db:3306/pop?charset=utf8mb4&password=Hidden7&PWD=Also8"
    masked = mask_url(url)
    assert "Hidden7" not in masked and "Also8" not in masked
    assert "charset=utf8mb4" in masked and "etl@db:3306/pop" in masked
    assert mask_url("sqlite:///data/src.db") == "sqlite:///data/src.db"
    assert mask_url("not a url") == "(unparseable URL)"


@given(url=st.text(max_size=300))
def test_seal_round_trips_any_text(url: str) -> None:
    assert unseal(seal(url, KEY), KEY) == url


def test_each_seal_is_different_but_opens_the_same() -> None:
    url = "postgresql://etl:TopSecret9@db/pop"
    first, second = seal(url, KEY), seal(url, KEY)
    assert first != second and "TopSecret9" not in first
    assert unseal(first, KEY) == unseal(second, KEY) == url


def test_a_wrong_key_or_a_tampered_token_is_a_clear_error() -> None:
    token = seal("postgresql://etl:TopSecret9@db/pop", KEY)
    with pytest.raises(CredentialsUnreadable) as caught:
        unseal(token, "another key that is long enough to be real", "#7")
    message = caught.value.message
    assert "#7" in message.en and "SHUZHI_CREDENTIALS_KEY" in message.en
    assert "无法解密" in message.zh and "TopSecret9" not in message.en + message.zh
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(CredentialsUnreadable):
        unseal(tampered, KEY)
    with pytest.raises(CredentialsUnreadable):
        unseal("not a token", KEY)


def test_no_key_refuses_to_seal() -> None:
    with pytest.raises(Invalid) as caught:
        seal("postgresql://etl:pw@db/pop", "")
    assert "SHUZHI_CREDENTIALS_KEY" in caught.value.errors[0].message.en


def test_development_key_is_generated_once_and_production_requires_one(tmp_path: Path) -> None:
    first = load_settings({}, data_dir=tmp_path)
    again = load_settings({}, data_dir=tmp_path)
    assert len(first.credentials_key) >= 32 and first.credentials_key == again.credentials_key
    assert first.credentials_key != first.secret_key
    assert (tmp_path / CREDENTIALS_FILE).stat().st_mode & 0o777 == 0o600
    given_key = load_settings({"SHUZHI_CREDENTIALS_KEY": "c" * 40}, data_dir=tmp_path)
    assert given_key.credentials_key == "c" * 40
    production = {
        "SHUZHI_ENV": "production",
        "SHUZHI_SECRET_KEY": secrets.token_urlsafe(48),
        "SHUZHI_AUDIT_KEY": secrets.token_urlsafe(48),
        "SHUZHI_COOKIE_SECURE": "true",
        "SHUZHI_ALLOW_SQLITE": "true",
    }
    with pytest.raises(UnsafeSettings, match="SHUZHI_CREDENTIALS_KEY"):
        load_settings(production, data_dir=tmp_path / "prod")
    strong = secrets.token_urlsafe(48)
    ok = load_settings({**production, "SHUZHI_CREDENTIALS_KEY": strong}, data_dir=tmp_path)
    assert ok.credentials_key == strong


def test_a_password_in_the_query_string_stays_out_of_reader_errors() -> None:
    from shuzhi.lake.readers import DatabaseSource, open_reader

    url = "postgresql://etl@127.0.0.1:1/pop?password=Hidden7"
    with pytest.raises(Invalid) as caught:
        open_reader(DatabaseSource(url, table="people"))
    text = " ".join(f"{e.message.zh} {e.message.en}" for e in caught.value.errors)
    assert "Hidden7" not in text and "password=***" in text
