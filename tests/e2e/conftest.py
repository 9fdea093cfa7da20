"""A live server in a thread and Debian's Chromium driven by Playwright.

Browser downloads are impossible, so Playwright launches the system Chromium
(``SHUZHI_CHROMIUM`` or ``chromium`` on PATH). These tests are required: a missing browser
is an error, not a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from shuzhi.app import create_app
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.conftest import copy_demo, make_settings

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    url: str
    database: Database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveServer]:
    shutil.copy(sqlite_template, tmp_path / "shuzhi.db")
    yield from _serve(make_settings(tmp_path, f"sqlite:///{tmp_path / 'shuzhi.db'}"))


@pytest.fixture
def demo_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server over a fresh copy of the demo district (its credentials file too)."""
    yield from _serve(copy_demo(request, "sqlite", tmp_path / "demo"))


def _serve(settings: Settings) -> Iterator[LiveServer]:
    database = Database(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, database=database, migrate=False),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield LiveServer(url=f"http://127.0.0.1:{port}", database=database)
    server.should_exit = True
    thread.join(timeout=10)
    database.dispose()


def chromium_path() -> str:
    path = (
        os.environ.get("SHUZHI_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        raise RuntimeError(
            "Chromium not found: install Debian's 'chromium' package "
            "(make test does) or set SHUZHI_CHROMIUM"
        )
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser page; any Content Security Policy violation on it fails the test."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if is_csp_violation(m.text) else None)
    yield page
    context.close()
    assert not violations, f"the page broke its Content Security Policy: {violations}"


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def logout(page: Page) -> None:
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")
