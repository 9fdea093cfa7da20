"""Anchors: the chain head, copied outside the database from time to time.

The MAC keeps anyone without the audit key from rewriting entries, but cutting entries off
the end and moving the head back needs no key. So the head is also written where a database
insider cannot reach:

- an append-only file ``DATA_DIR/audit-anchors``, one line per anchor:
  ``seq<TAB>head<TAB>time<TAB>mac`` — the MAC (under the anchor key, see ``chain.py``)
  covers the first three fields, so lines cannot be forged or edited either;
- the application log (logger ``shuzhi.audit``);
- optionally ``SHUZHI_AUDIT_ANCHOR_COMMAND``: a command (no shell) that gets the same line
  on its standard input, e.g. to put it in a write-once bucket, a timestamping service or a
  remote syslog. It runs in a thread of its own and never holds up the writer.

An anchor is written after a commit that appended entries when the log has passed a
multiple of ``SHUZHI_AUDIT_ANCHOR_EVERY`` entries, or when ``SHUZHI_AUDIT_ANCHOR_SECONDS``
have passed since this process last wrote one; at the server's shutdown; and by
``shuzhi audit anchor``. It reads the committed head in a read transaction of its own and
checks the head's entry and MAC first, so it never anchors a head that no entry backs.

Each anchor is also a *checkpoint*: after its line is in the file, the same (seq, head,
time) with the entry count goes into ``audit_checkpoint``, MAC'ed under the anchor key. The
default ``shuzhi audit verify`` starts from the newest checkpoint that its MAC and its
anchor line both confirm, so it reads only the entries written since (seconds, however
long the log); ``--full`` reads everything. The line is written first: a checkpoint row
never exists without its line, so one copied in from elsewhere or forged is caught.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import logging
import os
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from shuzhi.audit.chain import AuditKeys, audit_keys, chain_mac, expected_hash, same
from shuzhi.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from shuzhi.db.base import utcnow
from shuzhi.db.engine import READ_UNIT, Database
from shuzhi.settings import Settings

log = logging.getLogger("shuzhi.audit")

ANCHOR_FILE = "audit-anchors"
HOOK_TIMEOUT_SECONDS = 60
# Session info key: the database whose head to anchor once this session commits.
_DUE = "audit.anchor_due"


@dataclass(frozen=True)
class Anchor:
    seq: int
    head: str
    at: str
    line_no: int = 0

    def body(self) -> str:
        return f"{self.seq}\t{self.head}\t{self.at}"


class BadAnchor(Exception):
    """A line of the anchor file that is malformed or whose MAC does not verify."""

    def __init__(self, line_no: int, message: str) -> None:
        super().__init__(message)
        self.line_no = line_no


class AnchorRefused(RuntimeError):
    """The stored head is not backed by a matching entry: nothing was anchored."""


def anchor_path(settings: Settings) -> Path:
    return settings.data_dir / ANCHOR_FILE


def _line_mac(keys: AuditKeys, body: str) -> str:
    return hmac.new(keys.anchor, body.encode("utf-8"), hashlib.sha256).hexdigest()


def checkpoint_mac(settings: Settings, seq: int, head: str, count: int, at: str) -> str:
    """The MAC of a checkpoint row (own prefix: a row's MAC is never an anchor line's)."""
    body = f"checkpoint\t{seq}\t{head}\t{count}\t{at}"
    return _line_mac(audit_keys(settings), body)


def _save_checkpoint(database: Database, anchor: Anchor) -> None:
    settings = database.settings
    mac = checkpoint_mac(settings, anchor.seq, anchor.head, anchor.seq, anchor.at)
    try:
        with database.engine.begin() as conn:
            conn.execute(
                insert(AuditCheckpoint).values(
                    seq=anchor.seq, hash=anchor.head, count=anchor.seq, at=anchor.at, mac=mac
                )
            )
    except Exception:  # the anchor stands; verification starts from an older checkpoint
        log.exception("saving the audit checkpoint for entry %d failed", anchor.seq)


def read_anchors(settings: Settings) -> list[Anchor]:
    """Every anchor in the file, oldest first (none when there is no file yet)."""
    path = anchor_path(settings)
    if not path.exists():
        return []
    keys = audit_keys(settings)
    anchors = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line_no, raw in enumerate(fh, start=1):
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 4 or not parts[0].isdigit():
                raise BadAnchor(line_no, f"anchor line {line_no} is malformed")
            anchor = Anchor(int(parts[0]), parts[1], parts[2], line_no)
            if not same(_line_mac(keys, anchor.body()), parts[3]):
                raise BadAnchor(
                    line_no,
                    f"anchor line {line_no} does not carry a valid MAC (edited, or written under"
                    " another audit key)",
                )
            anchors.append(anchor)
    return anchors


class _State:
    """Per process: when it last anchored (for the time rule) and its hook threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_time = time.monotonic()
        self.hooks: list[threading.Thread] = []


_state = _State()


def _committed_head(database: Database) -> tuple[int, str, Any]:
    engine = database.engine.execution_options(**{READ_UNIT: True})
    with engine.connect() as conn:
        head = conn.execute(select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == 1))
        row = head.first()
        if row is None or row.seq == 0:
            return 0, "", None
        entry = conn.execute(select(AuditEntry.__table__).where(AuditEntry.seq == row.seq)).first()
    return int(row.seq), str(row.last_hash), entry


def write_anchor(database: Database) -> Anchor | None:
    """Anchor the committed head now; None when the log is empty.

    Raises ``AnchorRefused`` when the head names no entry or one whose MAC fails.
    """
    settings = database.settings
    seq, head, entry = _committed_head(database)
    if seq == 0:
        return None
    if entry is None or entry.hash != head:
        raise AnchorRefused(
            f"审计日志头（第 {seq} 条）与其条目不符，未写锚点 / the audit head (entry {seq}) does"
            " not match its entry; no anchor written"
        )
    wanted = expected_hash(entry, chain_mac(settings))
    if wanted is None or not same(wanted, entry.hash):
        raise AnchorRefused(
            f"审计日志第 {seq} 条的 MAC 无效，未写锚点 / audit entry {seq} fails its MAC; no"
            " anchor written"
        )
    anchor = Anchor(seq, head, utcnow().isoformat(timespec="seconds"))
    line = f"{anchor.body()}\t{_line_mac(audit_keys(settings), anchor.body())}\n"
    path = anchor_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # writers in several processes append whole lines
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    with _state.lock:
        _state.last_time = time.monotonic()
    _save_checkpoint(database, anchor)
    log.info("audit anchor: entry %d head %s at %s", anchor.seq, anchor.head, anchor.at)
    if settings.audit_anchor_command:
        _run_hook(settings.audit_anchor_command, line)
    return anchor


def _run_hook(command: str, line: str) -> None:
    thread = threading.Thread(
        target=_hook, args=(shlex.split(command), line), name="shuzhi-audit-anchor", daemon=True
    )
    with _state.lock:
        _state.hooks = [t for t in _state.hooks if t.is_alive()]
        _state.hooks.append(thread)
    thread.start()


def _hook(argv: list[str], line: str) -> None:
    try:
        done = subprocess.run(
            argv,
            input=line,
            text=True,
            capture_output=True,
            timeout=HOOK_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        log.exception("the audit anchor command failed")
        return
    if done.returncode != 0:
        log.error(
            "the audit anchor command exited with %d: %s", done.returncode, done.stderr[-500:]
        )


def wait_for_hooks(timeout: float = HOOK_TIMEOUT_SECONDS) -> None:
    """Let running anchor commands finish (shutdown, the CLI, tests)."""
    with _state.lock:
        hooks, _state.hooks = _state.hooks, []
    deadline = time.monotonic() + timeout
    for thread in hooks:
        thread.join(max(0.0, deadline - time.monotonic()))


def note_appended(session: Session, database: Database, first_seq: int, last_seq: int) -> None:
    """Entries ``first_seq..last_seq`` were appended in ``session``: anchor after its commit
    when they pass a multiple of the anchor interval or the anchor period is over."""
    settings = database.settings
    every = settings.audit_anchor_every
    due = every > 0 and (first_seq - 1) // every != last_seq // every
    if not due and settings.audit_anchor_seconds > 0:
        due = time.monotonic() - _state.last_time >= settings.audit_anchor_seconds
    if due:
        session.info[_DUE] = database


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint released: the entries may still roll back with the outer transaction,
        # whose write lock is still held (a checkpoint written now would wait for it).
        return
    database = session.info.pop(_DUE, None)
    if database is None:
        return
    try:
        write_anchor(database)
    except Exception:  # the commit stands; a missed anchor is logged, the next one follows
        log.exception("writing an audit anchor failed")


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_DUE, None)


def anchor_at_shutdown(database: Database) -> None:
    """The server's last word: anchor the head (after the meter's last batch) and let the
    anchor command finish; a failure is logged, never raised into the shutdown."""
    try:
        write_anchor(database)
    except Exception:
        log.exception("writing the audit anchor at shutdown failed")
    wait_for_hooks()
