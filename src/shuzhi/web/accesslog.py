"""Access-log lines without personal data.

The server's access log (uvicorn's ``uvicorn.access`` logger) records each request's path and
query string. Keyed lookups put the key — often a resident ID — in the path, and callers put
phone numbers and IDs in query strings. ``RedactPersonalData`` rewrites every record before
it is written:

- the key of a gateway lookup (``/api/v1/share/{code}/records/{key}``) becomes the keyed
  digest the gateway's call log uses for the same value (``gateway.redaction.digest``),
  so a log line can still be matched with the call log without showing the key;
- any part of the path or of a query value shaped like a resident ID, a mobile number or a
  bank card (Luhn), and in query values also a unified social credit code, becomes
  ``[redacted]``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode

from shuzhi.gateway import redaction
from shuzhi.gateway.redaction import LOOKUP_PATH
from shuzhi.standards.identifiers import is_valid_uscc, luhn_ok
from shuzhi.standards.phones import parse_mobile
from shuzhi.standards.resident_id import id_shape

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
# Runs that could hold identifiers: 18 letters and digits standing alone (IDs ending in X,
# credit codes), and groups of digits joined by single spaces or dashes (phones, cards, IDs
# written in groups; an ID may end in X).
_WORD_18 = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")
_DIGIT_RUN = re.compile(r"\+?\d+[Xx]?(?:[ \-]\d+[Xx]?)*")
_SEPARATOR = re.compile(r"[ \-]")
MAX_GROUPS = 8  # an identifier written in groups has at most this many (a card: 4 or 5)


def _personal(compact: str, *, uscc: bool) -> bool:
    if id_shape(compact) is not None or parse_mobile(compact) is not None:
        return True
    if compact.isdigit() and 16 <= len(compact) <= 19 and luhn_ok(compact):
        return True
    return uscc and len(compact) == 18 and is_valid_uscc(compact.upper())


def _redact_run(run: str, *, uscc: bool) -> str:
    """The run with its identifiers replaced: the longest personal stretch of groups first."""
    groups = _SEPARATOR.split(run)
    separators = _SEPARATOR.findall(run)
    out: list[str] = []
    i = 0
    while i < len(groups):
        for j in range(min(len(groups), i + MAX_GROUPS), i, -1):
            if _personal("".join(groups[i:j]), uscc=uscc):
                out.append(REDACTED)
                i = j
                break
        else:
            out.append(groups[i])
            i += 1
        if i < len(groups):
            out.append(separators[i - 1])
    return "".join(out)


def redact_text(text: str, *, uscc: bool = True) -> str:
    """``text`` with every run that looks like personal data (or a credit code) replaced."""

    def word(match: re.Match[str]) -> str:
        if _personal(match.group(0), uscc=uscc):
            return REDACTED
        return digits(match.group(0))

    def digits(part: str) -> str:
        return _DIGIT_RUN.sub(lambda m: _redact_run(m.group(0), uscc=uscc), part)

    # Whole words first; what is not a whole identifier is searched for digit runs.
    pieces = []
    last = 0
    for match in _WORD_18.finditer(text):
        pieces.append(digits(text[last : match.start()]))
        pieces.append(word(match))
        last = match.end()
    pieces.append(digits(text[last:]))
    return "".join(pieces)


def redact_target(target: str, digest_key: bytes) -> str:
    """A request target (path and query string) as it may be written to the access log."""
    path, mark, query = target.partition("?")
    lookup = LOOKUP_PATH.match(path)
    if lookup is not None:
        key = unquote(lookup["key"])
        path = f"{path[: lookup.start('key')]}key-digest:{redaction.digest(key, digest_key)}"
    else:
        path = quote(redact_text(unquote(path), uscc=False), safe="/[]")
    if not mark:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    cleaned = [(redact_text(name), redact_text(value)) for name, value in pairs]
    if cleaned == pairs:
        return f"{path}?{query}"
    return f"{path}?{urlencode(cleaned, safe='[]:,')}"


class RedactPersonalData(logging.Filter):
    """Filter for uvicorn's access logger: the request target argument is redacted."""

    def __init__(self, secret_key: str) -> None:
        super().__init__("shuzhi.accesslog")
        self.digest_key = redaction.digest_key(secret_key)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn: (client address, method, target, HTTP version, status)
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2], self.digest_key), *args[3:])
        return True


def install(secret_key: str) -> RedactPersonalData:
    """Put the filter on the access logger (replacing one installed before)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    for old in [f for f in logger.filters if isinstance(f, RedactPersonalData)]:
        logger.removeFilter(old)
    redactor = RedactPersonalData(secret_key)
    logger.addFilter(redactor)
    return redactor
