"""The audit log for a SIEM: JSON Lines or syslog lines carrying CEF, and the check that an
exported chain is intact.

Every exported entry carries all the fields its MAC covers (``chain.py``), its own hash and
the previous entry's hash, so the receiver can check two things:

- **the links** (anyone): sequence numbers follow each other and every ``prev_hash`` is the
  hash of the line before. A deleted, inserted or reordered line, or an altered hash, breaks
  them;
- **the MACs** (whoever holds the audit key, e.g. ``shuzhi audit verify-export``): every
  entry's hash is recomputed from its fields, so one altered field in one line fails.

Syslog lines follow RFC 5424 (``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG``,
facility 13 "log audit", severity informational for ``ok`` and warning for refusals and
failures, no structured data, the MSG is the CEF record in UTF-8). The CEF header escapes
``\\`` and ``|`` (line breaks, which a header cannot hold, become spaces: header fields are
action codes that never contain them); extension values escape ``\\``, ``=`` and line
breaks (``\\n``, ``\\r``), so every record stays on one line and reads back exactly.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import select

from shuzhi.audit.chain import ENTRY_FIELDS, ChainMac, canonical, expected_hash, same
from shuzhi.audit.events import AuditExported
from shuzhi.audit.models import AuditEntry
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector

FORMATS = ("jsonl", "cef")
FIELDS = ENTRY_FIELDS
FACILITY_LOG_AUDIT = 13
CEF_VENDOR = "Shuzhi"
CEF_PRODUCT = "Shuzhi"
CEF_VERSION = "1"

# CEF extension keys: the standard ones where they fit, labelled custom strings for the rest.
_EXT: tuple[tuple[str, str, str | None], ...] = (
    # (field, key, label)
    ("seq", "externalId", None),
    ("actor", "suser", None),
    ("action", "act", None),
    ("outcome", "outcome", None),
    ("at", "flexString1", "at"),
    ("actor_role", "cs1", "actorRole"),
    ("target_type", "cs2", "targetType"),
    ("target_id", "cs3", "targetId"),
    ("details", "cs4", "details"),
    ("prev_hash", "cs5", "prevHash"),
    ("hash", "cs6", "hash"),
    ("alg", "flexString2", "alg"),
    ("unit_id", "cn1", "unitId"),
)
_KEY_FIELD = {key: field for field, key, _ in _EXT}


# ---------------------------------------------------------------- escaping


def cef_header(text: str) -> str:
    """A CEF header field: backslash and pipe escaped, line breaks as spaces."""
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return text.replace("\\", "\\\\").replace("|", "\\|")


def cef_value(text: str) -> str:
    """A CEF extension value: backslash, equals sign and line breaks escaped."""
    return text.replace("\\", "\\\\").replace("=", "\\=").replace("\r", "\\r").replace("\n", "\\n")


_UNESCAPE = {"\\": "\\", "=": "=", "n": "\n", "r": "\r", "|": "|"}


def cef_unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in _UNESCAPE:
            out.append(_UNESCAPE[text[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def split_header(record: str) -> tuple[list[str], str]:
    """The seven header fields after ``CEF:`` (unescaped) and the raw extension."""
    if not record.startswith("CEF:"):
        raise ValueError("not a CEF record")
    fields: list[str] = []
    current: list[str] = []
    i = 4
    while i < len(record) and len(fields) < 7:
        c = record[i]
        if c == "\\" and i + 1 < len(record) and record[i + 1] in "\\|":
            current.append(record[i + 1])
            i += 2
            continue
        if c == "|":
            fields.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    if len(fields) < 7:
        raise ValueError("a CEF header has 8 fields")
    return fields, record[i:]


# A key starts after a space that follows a value (or at the start); values may hold spaces.
_KEY = re.compile(r"(?:^| )([A-Za-z0-9_]+)=")


def parse_extension(extension: str) -> dict[str, str]:
    """``key=value`` pairs of a CEF extension; an ``=`` inside a value is escaped."""
    starts: list[tuple[int, int, str]] = []
    i = 0
    while True:
        m = _KEY.search(extension, i)
        if m is None:
            break
        # An escaped "\=" is no key boundary: the regex only matches a bare "=".
        if m.end() - 2 >= 0 and _escaped(extension, m.end() - 1):
            i = m.end()
            continue
        starts.append((m.start(), m.end(), m.group(1)))
        i = m.end()
    pairs: dict[str, str] = {}
    for n, (_, value_start, key) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(extension)
        pairs[key] = cef_unescape(extension[value_start:end])
    return pairs


def _escaped(text: str, pos: int) -> bool:
    """Whether the character at ``pos`` follows an odd number of backslashes."""
    n = 0
    while pos - 1 - n >= 0 and text[pos - 1 - n] == "\\":
        n += 1
    return n % 2 == 1


def sd_free(text: str, limit: int) -> str:
    """A syslog header token: printable US-ASCII without spaces, or ``-``."""
    cleaned = "".join(c for c in text if 33 <= ord(c) <= 126)[:limit]
    return cleaned or "-"


# ---------------------------------------------------------------- writing


def entry_dict(row: Any) -> dict[str, Any]:
    """An entry (a row of ``audit_entry``) as the exported object: every MAC'ed field, as
    stored (``details`` stays the canonical JSON text the MAC covers)."""
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)
    return {
        "seq": row.seq,
        "at": at.isoformat(),
        "actor": row.actor,
        "actor_role": row.actor_role,
        "unit_id": row.unit_id,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "outcome": row.outcome,
        "details": row.details,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "alg": row.alg,
    }


def jsonl_line(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def syslog_line(entry: dict[str, Any], hostname: str) -> str:
    """One RFC 5424 message whose MSG is the entry as a CEF record."""
    severity = 6 if entry["outcome"] == "ok" else 4
    at = datetime.fromisoformat(entry["at"]).astimezone(UTC)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cef_severity = "3" if entry["outcome"] == "ok" else "6"
    header = "|".join(
        cef_header(x)
        for x in (
            CEF_VENDOR,
            CEF_PRODUCT,
            CEF_VERSION,
            entry["action"],
            entry["action"],
            cef_severity,
        )
    )
    ext: list[str] = [f"rt={int(at.timestamp() * 1000)}"]
    for field, key, label in _EXT:
        value = entry[field]
        if value is None:
            continue
        if label is not None:
            ext.append(f"{key}Label={label}")
        ext.append(f"{key}={cef_value(str(value))}")
    record = f"CEF:0|{header}|{' '.join(ext)}"
    pri = FACILITY_LOG_AUDIT * 8 + severity
    return f"<{pri}>1 {stamp} {sd_free(hostname, 255)} shuzhi - audit - {record}"


def lines(rows: Iterable[Any], file_format: str, hostname: str | None = None) -> Iterator[str]:
    """The rows (oldest first) as export lines, without line ends."""
    host = hostname if hostname is not None else socket.gethostname()
    for row in rows:
        entry = entry_dict(row)
        yield jsonl_line(entry) if file_format == "jsonl" else syslog_line(entry, host)


# ---------------------------------------------------------------- reading and checking

_SYSLOG = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) (.*)$", re.S)


def parse_line(line: str) -> dict[str, Any]:
    """An exported line back to the entry it carries (either format); ``ValueError`` if it
    is neither."""
    line = line.rstrip("\r\n")
    if line.startswith("{"):
        loaded = json.loads(line)
        if not isinstance(loaded, dict) or set(loaded) != set(FIELDS):
            raise ValueError("a JSON line holds exactly the exported fields")
        return {str(k): v for k, v in loaded.items()}
    m = _SYSLOG.match(line)
    if m is None:
        raise ValueError("neither a JSON line nor an RFC 5424 syslog line")
    _, ext = split_header(m.group(8))
    pairs = parse_extension(ext)
    entry: dict[str, Any] = {field: None for field in FIELDS}
    for key, value in pairs.items():
        field = _KEY_FIELD.get(key)
        if field is not None:
            entry[field] = value
    for number in ("seq", "unit_id"):
        if entry[number] is not None:
            entry[number] = int(entry[number])
    for text in ("actor", "action", "target_type", "target_id", "outcome", "details"):
        if entry[text] is None:
            entry[text] = ""
    return entry


@dataclass(frozen=True)
class ExportCheck:
    ok: bool
    entries: int
    first: int | None
    last: int | None
    macs_checked: bool
    bad_line: int | None = None
    reason: str = ""


class _Entry:
    """An exported entry with the attribute names ``chain`` reads."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.seq = entry["seq"]
        self.at = datetime.fromisoformat(entry["at"])
        self.actor = entry["actor"]
        self.actor_role = entry["actor_role"]
        self.unit_id = entry["unit_id"]
        self.action = entry["action"]
        self.target_type = entry["target_type"]
        self.target_id = entry["target_id"]
        self.outcome = entry["outcome"]
        self.details = entry["details"]
        self.prev_hash = entry["prev_hash"]
        self.alg = entry["alg"]


def check_lines(text_lines: Iterable[str], mac: ChainMac | None) -> ExportCheck:
    """Check an export line by line: each parses, sequence numbers follow each other, each
    ``prev_hash`` is the previous line's hash, and (with ``mac``, the audit key's) each hash
    is the MAC of its fields. Stops at the first bad line (1-based)."""
    count = 0
    first: int | None = None
    prev: dict[str, Any] | None = None

    def bad(n: int, reason: str) -> ExportCheck:
        last = prev["seq"] if prev else None
        return ExportCheck(False, count, first, last, mac is not None, n, reason)

    n = 0
    for n, raw in enumerate(text_lines, start=1):
        if not raw.strip():
            continue
        try:
            entry = parse_line(raw)
            seq = int(entry["seq"])
            prev_hash = str(entry["prev_hash"])
            own = str(entry["hash"])
            datetime.fromisoformat(str(entry["at"]))
        except (ValueError, TypeError, KeyError) as exc:
            return bad(n, f"unreadable line: {exc}")
        if prev is not None:
            if seq != prev["seq"] + 1:
                return bad(n, f"entry {seq} follows entry {prev['seq']}")
            if not same(prev_hash, str(prev["hash"])):
                return bad(n, f"entry {seq} does not link to the hash of entry {prev['seq']}")
        if mac is not None:
            want = expected_hash(_Entry(entry), mac)
            if want is None or not same(want, own):
                return bad(n, f"entry {seq}: its hash is not the MAC of its fields")
        if first is None:
            first = seq
        count += 1
        prev = entry
    if count == 0:
        return ExportCheck(False, 0, None, None, mac is not None, n or None, "no entries")
    assert prev is not None
    return ExportCheck(True, count, first, int(prev["seq"]), mac is not None)


# ---------------------------------------------------------------- the operation


def export_for_siem(
    ctx: Ctx,
    out: TextIO,
    since: datetime,
    until: datetime,
    file_format: str,
    hostname: str | None = None,
) -> int:
    """Write the entries of [since, until) (oldest first, one per line) to ``out`` as JSON
    Lines or syslog/CEF; the export is audited. Returns how many were written.

    Entries already moved to the archive (``shuzhi audit archive``) are not in the
    database and not exported; the check of an export starts at its first line."""
    require(ctx, "export_audit_siem")
    errors = ErrorCollector()
    if file_format not in FORMATS:
        errors.add(
            "format",
            "导出格式只能是 jsonl 或 cef。",
            "The export format is jsonl or cef.",
        )
    since, until = _utc(since), _utc(until)
    if since >= until:
        errors.add("since", "起始时间须早于截止时间。", "The start must be before the end.")
    errors.raise_if_any()
    e = AuditEntry
    rows = ctx.db.execute(
        select(AuditEntry.__table__).where(e.at >= since, e.at < until).order_by(e.seq),
        execution_options={"yield_per": 2000},
    )
    written = 0
    for line in lines(rows, file_format, hostname):
        out.write(line + "\n")
        written += 1
    record(
        ctx,
        AuditExported(
            rows=written,
            format=file_format,
            filters=canonical({"since": since.isoformat(), "until": until.isoformat()}),
        ),
    )
    return written


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
