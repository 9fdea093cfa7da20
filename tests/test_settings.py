"""Settings are read in one place, and a malformed value is refused by name at start-up."""

from __future__ import annotations

import os
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from shuzhi.gateway.runtime import GatewayOptions
from shuzhi.settings import InvalidSetting, UnsafeSettings, load_settings


def test_serving_options_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        "WEB_CONCURRENCY": "4",
        "SHUZHI_GATEWAY_CACHE_SECONDS": "2.5",
        "SHUZHI_GATEWAY_FLUSH_ROWS": "50",
        "SHUZHI_GATEWAY_METER_PROCESS": "off",
        "SHUZHI_PORTAL_RATE_LIMIT": "0",
        "SHUZHI_SHARING_EXTENSION_DAYS": "0",
    }
    settings = load_settings(env, data_dir=tmp_path)
    options = GatewayOptions.from_settings(settings)
    assert (options.workers, options.cache_seconds, options.flush_rows) == (4, 2.5, 50)
    assert options.meter_process is False and settings.portal_rate_limit == 0
    assert settings.sharing_extension_days == 0
    defaults = load_settings({}, data_dir=tmp_path)
    assert GatewayOptions.from_settings(defaults).meter_process is True
    assert (defaults.workers, defaults.portal_rate_limit) == (1, 600)
    assert defaults.sharing_extension_days == 5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEB_CONCURRENCY", "two"),
        ("WEB_CONCURRENCY", "0"),
        ("SHUZHI_GATEWAY_FLUSH_SECONDS", "soon"),
        ("SHUZHI_PORTAL_RATE_LIMIT", "-1"),
        ("SHUZHI_SHARING_EXTENSION_DAYS", "-2"),
        ("SHUZHI_LOGIN_MAX_FAILURES", "1.5"),
    ],
)
def test_a_malformed_number_is_refused_by_name(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(InvalidSetting, match=name) as refused:
        load_settings({name: value}, data_dir=tmp_path)
    assert isinstance(refused.value, UnsafeSettings)  # the CLI and server refuse to start


def test_the_environment_is_read_only_in_settings() -> None:
    package = Path(__file__).resolve().parents[1] / "src" / "shuzhi"
    readers = ("os.getenv(", "os.environ.get(", "os.environ[", "environ.get(")
    offenders = [
        f"{path.relative_to(package)}: {line.strip()}"
        for path in package.rglob("*.py")
        if path.name != "settings.py"
        for line in path.read_text(encoding="utf-8").splitlines()
        if any(reader in line for reader in readers)
    ]
    assert offenders == []


def test_workers_starting_together_on_a_new_directory_share_one_secret(tmp_path: Path) -> None:
    """Server workers start at once: each must come up, all with the same non-empty secrets
    (a worker reading a secret file another was still writing would sign with another key).
    Threads race on the file system as processes do: its calls release the interpreter."""
    workers = 6
    for attempt in range(20):
        directory = tmp_path / str(attempt)
        ready = threading.Barrier(workers)

        def secrets_of(
            _: int, directory: Path = directory, ready: threading.Barrier = ready
        ) -> Any:
            ready.wait()
            try:
                settings = load_settings({}, data_dir=directory)
                return settings.secret_key, settings.credentials_key
            except Exception as error:  # reported to the test
                return repr(error)

        with ThreadPoolExecutor(workers) as pool:
            found = list(pool.map(secrets_of, range(workers)))
        assert len(set(found)) == 1, found
        secret, credentials = found[0]
        assert len(secret) >= 32 and len(credentials) >= 32 and secret != credentials
        assert sorted(p.name for p in directory.iterdir()) == ["credentials_key", "secret_key"]


def test_an_empty_secret_file_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(InvalidSetting, match="SHUZHI_SECRET_KEY"):
        load_settings({}, data_dir=tmp_path)
    assert load_settings({"SHUZHI_SECRET_KEY": "k" * 40}, data_dir=tmp_path).secret_key == "k" * 40


def test_without_hard_links_the_secret_is_made_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> None:
        raise PermissionError("hard links are not supported here")

    monkeypatch.setattr(os, "link", refuse)  # as on a file system without them
    first = load_settings({}, data_dir=tmp_path)
    assert len(first.secret_key) >= 32
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials_key", "secret_key"]
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert load_settings({}, data_dir=tmp_path).secret_key == first.secret_key


def test_without_hard_links_a_secret_another_process_is_writing_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a file system without hard links a worker that loses the race to create the file
    may find it still empty: it waits for the winner's secret instead of failing to start."""

    def refuse(*_: object) -> None:
        raise PermissionError("hard links are not supported here")

    monkeypatch.setattr(os, "link", refuse)
    for name in ("secret_key", "credentials_key"):
        (tmp_path / name).touch(mode=0o600)  # created by the winner, not written yet
    winner = {"secret_key": "s" * 64, "credentials_key": "c" * 64}

    def write_later() -> None:
        time.sleep(0.2)
        for name, text in winner.items():
            (tmp_path / name).write_text(text)

    writer = threading.Thread(target=write_later)
    writer.start()
    try:
        settings = load_settings({}, data_dir=tmp_path)
    finally:
        writer.join()
    assert (settings.secret_key, settings.credentials_key) == (
        winner["secret_key"],
        winner["credentials_key"],
    )
