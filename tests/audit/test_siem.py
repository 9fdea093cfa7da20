"""The audit log for a SIEM: JSON Lines and RFC 5424 syslog with CEF, read back exactly, and
the check that names a tampered line (``shuzhi audit export-siem`` / ``verify-export``)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.audit import service as audit
from shuzhi.audit import siem
from shuzhi.audit.chain import chain_mac
from shuzhi.audit.service import record
from shuzhi.auth.events import LoggedOut
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.settings import Settings
from tests.audit.test_cli import cli_env as cli_env
from tests.conftest import acting
from tests.factories import seed_org
from tests.test_cli import run

# Text as people type it, and worse: every escape-relevant character in any order.
nasty = st.text(
    alphabet=st.sampled_from(list('ab =|\\\n\r\t"[]{}c数治')) | st.characters(), max_size=40
)


# ---------------------------------------------------------------- escaping (property-based)


@given(nasty)
def test_a_cef_value_reads_back_exactly_and_stays_on_one_line(value: str) -> None:
    escaped = siem.cef_value(value)
    assert "\n" not in escaped and "\r" not in escaped
    assert siem.cef_unescape(escaped) == value
    # Every "=" left is escaped: a value can never start a key of its own.
    assert all(siem._escaped(escaped, i) for i, c in enumerate(escaped) if c == "=")


@given(nasty)
def test_a_cef_header_field_cannot_split_the_header(value: str) -> None:
    escaped = siem.cef_header(value)
    assert "\n" not in escaped and "\r" not in escaped
    assert all(siem._escaped(escaped, i) for i, c in enumerate(escaped) if c == "|")
    fields, rest = siem.split_header(f"CEF:0|V|P|1|{escaped}|name|3|k=v")
    expected = value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    assert fields[4] == expected and rest == "k=v"


@given(st.dictionaries(st.sampled_from(["cs1", "cs2", "suser", "act", "a_b9"]), nasty))
def test_an_extension_of_any_values_parses_back(pairs: dict[str, str]) -> None:
    extension = " ".join(f"{k}={siem.cef_value(v)}" for k, v in pairs.items())
    assert siem.parse_extension(extension) == pairs


def _entry(**over: object) -> SimpleNamespace:
    row = SimpleNamespace(
        seq=7,
        at=datetime(2026, 3, 1, 2, 3, 4, 567891, tzinfo=UTC),
        actor="user:王 = x|y\\z",
        actor_role="cdo",
        unit_id=3,
        action="sharing.grant_issued",
        target_type="grant",
        target_id="12",
        outcome="ok",
        details='{"note":"a=b\\nc|d"}',
        prev_hash="a" * 64,
        hash="b" * 64,
        alg="hmac-sha256",
    )
    for k, v in over.items():
        setattr(row, k, v)
    return row


@settings(max_examples=200)
@given(
    actor=nasty,
    target_id=nasty,
    details=nasty,
    action=st.text(alphabet=st.sampled_from(list("ab.|\\_=")), min_size=1, max_size=20),
    role=st.none() | st.sampled_from(["cdo", "auditor"]),
    unit=st.none() | st.integers(0, 10**6),
    outcome=st.sampled_from(["ok", "denied", "failed"]),
)
def test_both_formats_carry_every_field_exactly(
    actor: str,
    target_id: str,
    details: str,
    action: str,
    role: str | None,
    unit: int | None,
    outcome: str,
) -> None:
    row = _entry(
        actor=actor,
        target_id=target_id,
        details=details,
        action=action,
        actor_role=role,
        unit_id=unit,
        outcome=outcome,
    )
    want = siem.entry_dict(row)
    for fmt in siem.FORMATS:
        (line,) = siem.lines([row], fmt, hostname="host 1")
        assert "\n" not in line and "\r" not in line
        assert siem.parse_line(line) == want


def test_syslog_framing_follows_rfc_5424() -> None:
    (ok,) = siem.lines([_entry()], "cef", hostname="审计 host")
    (denied,) = siem.lines([_entry(outcome="denied")], "cef", hostname="")
    # PRI = facility 13 (log audit) × 8 + severity (6 informational, 4 warning); version 1.
    assert ok.startswith("<110>1 2026-03-01T02:03:04.567891Z host shuzhi - audit - CEF:0|")
    assert denied.startswith("<108>1 2026-03-01T02:03:04.567891Z - shuzhi - audit - CEF:0|")
    assert "|sharing.grant_issued|sharing.grant_issued|3|rt=1772330584567 " in ok
    assert "suser=user:王 \\= x|y\\\\z" in ok


# ---------------------------------------------------------------- export and check


def _write_entries(database: Database, n: int) -> None:
    with acting(database, SYSTEM) as ctx:
        for i in range(n):
            record(ctx, LoggedOut(username=f"用户|{i}=\\"))


def _export(database: Database, fmt: str) -> list[str]:
    out = io.StringIO()
    with acting(database, SYSTEM) as ctx:
        siem.export_for_siem(
            ctx, out, utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1), fmt
        )
    return out.getvalue().splitlines()


@pytest.mark.parametrize("fmt", siem.FORMATS)
def test_an_export_checks_and_any_tampered_line_fails(
    database: Database, settings: Settings, fmt: str
) -> None:
    _write_entries(database, 6)
    lines = _export(database, fmt)
    assert len(lines) == 6
    mac = chain_mac(settings)
    good = siem.check_lines(lines, mac)
    assert good.ok and good.entries == 6 and (good.first, good.last) == (1, 6)
    # The export itself is the next entry of the log, naming the format and range.
    with acting(database, SYSTEM) as ctx:
        page = audit.view_audit(ctx, action="audit.exported")
    assert page.total == 1 and page.items[0].details["format"] == fmt
    assert page.items[0].details["rows"] == 6

    # One field changed in one line: the links hold, the MAC does not.
    changed = list(lines)
    changed[2] = changed[2].replace("用户|2", "用户|9")
    assert changed[2] != lines[2]
    assert siem.check_lines(changed, None).ok
    bad = siem.check_lines(changed, mac)
    assert not bad.ok and bad.bad_line == 3 and "MAC" in bad.reason
    # A line removed, or two swapped: the links break (no key needed).
    assert siem.check_lines(lines[:2] + lines[3:], None).bad_line == 3
    swapped = siem.check_lines([lines[0], lines[2], lines[1], *lines[3:]], None)
    assert not swapped.ok and swapped.bad_line == 2
    # A forged hash re-linked by hand still fails the MAC.
    entries = [json.loads(x) for x in _export(database, "jsonl")[:3]]
    entries[1]["hash"] = "f" * 64
    entries[2]["prev_hash"] = "f" * 64
    forged = [siem.jsonl_line(e) for e in entries]
    assert siem.check_lines(forged, None).ok
    assert siem.check_lines(forged, mac).bad_line == 2
    # Garbage is named, not a crash.
    assert siem.check_lines([lines[0], "not a line"], mac).bad_line == 2
    assert not siem.check_lines([], mac).ok


def test_the_range_and_format_are_checked(database: Database) -> None:
    now = utcnow()
    with pytest.raises(Invalid) as err, acting(database, SYSTEM) as ctx:
        siem.export_for_siem(ctx, io.StringIO(), now, now - timedelta(hours=1), "xml")
    assert {e.field for e in err.value.errors} == {"format", "since"}
    _write_entries(database, 3)
    out = io.StringIO()
    with acting(database, SYSTEM) as ctx:  # a range before any entry: nothing, still audited
        assert (
            siem.export_for_siem(ctx, out, now - timedelta(days=2), now - timedelta(days=1), "cef")
            == 0
        )
    assert out.getvalue() == ""


def test_only_the_bureaus_security_roles_export(database: Database) -> None:
    seeded = seed_org(database)
    for role in (Role.CDO, Role.UNIT_CDO):
        with pytest.raises(Forbidden), acting(database, seeded.actor(role)) as ctx:
            siem.export_for_siem(
                ctx, io.StringIO(), utcnow() - timedelta(days=1), utcnow(), "jsonl"
            )
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        siem.export_for_siem(ctx, io.StringIO(), utcnow() - timedelta(days=1), utcnow(), "jsonl")


def test_the_commands_export_and_verify(
    cli_env: dict[str, str],
    database: Database,
    tmp_path: Path,
) -> None:
    _write_entries(database, 4)
    day = utcnow().date()
    target = tmp_path / "audit.log"
    code, out = run(
        cli_env,
        "audit",
        "export-siem",
        "--since",
        str(day),
        "--until",
        str(day + timedelta(days=1)),
        "--format",
        "cef",
        "-o",
        str(target),
    )
    assert code == 0 and "Exported 4 entries" in out
    code, out = run(cli_env, "audit", "verify-export", str(target))
    assert code == 0 and "entries 1–4" in out and "links and MACs" in out
    lines = target.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("outcome=ok", "outcome=denied")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = run(cli_env, "audit", "verify-export", str(target))
    assert code == 1 and "BROKEN at line 2" in out
    code, out = run(cli_env, "audit", "verify-export", "--links-only", str(target))
    assert code == 0 and "links only" in out
    # A refused range leaves no file behind.
    code, out = run(
        cli_env,
        "audit",
        "export-siem",
        "--since",
        str(day),
        "--until",
        str(day),
        "-o",
        str(tmp_path / "none.log"),
    )
    assert code == 1 and not (tmp_path / "none.log").exists()
