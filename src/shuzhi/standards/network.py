"""Internet identifiers: e-mail addresses and IPv4/IPv6 addresses."""

from __future__ import annotations

import ipaddress
import re

from shuzhi.standards.text import normalize

_EMAIL = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}$"
)


def is_email(value: str) -> bool:
    return _EMAIL.match(normalize(value)) is not None


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """IPv4 dotted quad or IPv6 (an optional port or IPv6 zone is not accepted)."""
    text = normalize(value)
    if not text or (":" not in text and text.count(".") != 3):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_ip_address(value: str) -> bool:
    return parse_ip(value) is not None
