"""Access-log lines carry no resident IDs, phone numbers, bank cards or lookup keys."""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date

import pytest
import uvicorn
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.app import create_app
from shuzhi.db.engine import Database
from shuzhi.gateway.filters import describe
from shuzhi.gateway.redaction import digest_key
from shuzhi.settings import Settings
from shuzhi.standards.identifiers import ric_check_char, uscc_from_parts
from shuzhi.web.accesslog import (
    ACCESS_LOGGER,
    REDACTED,
    RedactPersonalData,
    redact_target,
    redact_text,
)

RESIDENT_ID = "110101199003074514"
PHONE = "13800138000"
CARD = "6222021234567890128"  # passes Luhn
KEY = digest_key("t" * 48)


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def served(settings: Settings, database: Database) -> Iterator[tuple[str, Captured]]:
    """The app behind a real uvicorn server, its access log captured."""
    app = create_app(settings, database=database, migrate=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    logger = logging.getLogger(ACCESS_LOGGER)
    captured = Captured()
    level = logger.level
    logger.addHandler(captured)
    logger.setLevel(logging.INFO)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=True)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", captured
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        logger.removeHandler(captured)
        logger.setLevel(level)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


def test_real_requests_are_logged_without_personal_data(
    served: tuple[str, Captured], settings: Settings
) -> None:
    base, captured = served
    lookup = f"/api/v1/share/RK-1/records/{RESIDENT_ID}"
    assert _get(f"{base}{lookup}?fields=name") == 401  # no key: refused, but logged
    assert _get(f"{base}/open/search?q={PHONE}&page=1") == 200
    assert _get(f"{base}/api/v1/share/RK-1/records?filter=card:eq:{CARD}") in {401, 404}
    deadline = time.monotonic() + 10
    while len(captured.lines) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    log = "\n".join(captured.lines)
    assert len(captured.lines) >= 3, log
    for secret in (RESIDENT_ID, PHONE, CARD):
        assert secret not in log
    # the lookup key appears as the digest the gateway's call log uses for the same value
    key = digest_key(settings.secret_key)
    call_log = describe([("id_number", "eq", RESIDENT_ID)], key)
    digest = call_log.split('"')[-2]
    assert f"/api/v1/share/RK-1/records/key-digest:{digest}?fields=name" in log
    assert f"/open/search?q={REDACTED}" in log.replace("%5B", "[").replace("%5D", "]")
    assert "page=1" in log


def test_the_filter_rewrites_a_uvicorn_record() -> None:
    record = logging.LogRecord(
        ACCESS_LOGGER,
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5000", "GET", f"/portal?phone=+86-138-0013-8000&id={RESIDENT_ID}", "1.1", 200),
        None,
    )
    assert RedactPersonalData("t" * 48).filter(record)
    line = record.getMessage()
    assert "8000" not in line and RESIDENT_ID not in line and "10.0.0.1:5000" in line


def test_ordinary_paths_and_queries_are_left_as_they_are() -> None:
    for target in (
        "/catalog/entries/ZW-0001?page=2&sort=name",
        "/api/v1/datasets/RK-1/versions/3",
        "/open/search?q=%E4%BA%BA%E5%8F%A3&unit=R",
        "/api/v1/gateway/stats?since=2026-01-01",
        "/healthz",
    ):
        assert redact_target(target, KEY) == target


def test_ids_inside_paths_and_credit_codes_in_queries_are_redacted() -> None:
    uscc = uscc_from_parts("1", "1", "110101", "MA01ABCD")
    assert RESIDENT_ID not in redact_target(f"/people/{RESIDENT_ID}/detail", KEY)
    assert uscc not in redact_target(f"/search?org={uscc}", KEY)
    assert "X" not in redact_target("/x?id=11010119900307451x", KEY).split("?")[1]


@given(
    st.dates().filter(lambda d: d.year >= 1900),
    st.integers(min_value=0, max_value=999),
    st.text(st.sampled_from("abc=&/ "), max_size=8),
)
def test_any_resident_id_in_a_query_is_redacted(born: date, serial: int, noise: str) -> None:
    first17 = f"330102{born:%Y%m%d}{serial:03d}"
    code = first17 + ric_check_char(first17)
    assert code not in redact_text(f"{noise}{code}{noise}")
    assert code not in redact_target(f"/x?q={noise}{code}", KEY)


@given(
    st.sampled_from(["130", "139", "150", "177", "186", "199"]),
    st.text("0123456789", min_size=8, max_size=8),
)
def test_any_mobile_number_is_redacted(prefix: str, rest: str) -> None:
    number = prefix + rest
    for written in (number, f"+86 {number}", f"{number[:3]}-{number[3:7]}-{number[7:]}"):
        assert rest not in redact_target(f"/x?phone={written}", KEY).split("?")[1]
