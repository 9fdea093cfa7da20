"""Notices leaving the platform: e-mail over SMTP and JSON posted to a webhook.

A notice (``service.notices``) writes its outgoing messages into ``sharing_outbox`` in the
same transaction as the console notification: a committed notice is never lost, a
rolled-back one never leaves. Once the transaction commits a background thread delivers
what is due; nothing is sent on the request path. A message the server refuses is retried
with growing pauses (by the next delivery run: the next notice, ``shuzhi sharing
deliver-notices`` from the scheduler, or the daily escalation) and marked failed after
``ATTEMPTS`` tries — every attempt and the last error are recorded and shown to the bureau.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import threading
import urllib.request
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.cas import compare_and_set
from shuzhi.db.engine import Database
from shuzhi.db.outer import after_outer_commit, after_outer_rollback
from shuzhi.settings import Settings
from shuzhi.sharing.models import Channel, OutboxMessage, OutboxState

log = logging.getLogger("shuzhi.sharing.outbox")

ATTEMPTS = 6
# Pause after the n-th failed attempt before the next one.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
LEASE = timedelta(minutes=5)  # a claimed message is not claimed again meanwhile
BATCH = 50
TIMEOUT = 10.0
HOOKED = "sharing.outbox_hooked"
PENDING = "sharing.outbox_pending"

# What each kind of notice is called in a mail subject (zh, en).
TITLES: dict[str, tuple[str, str]] = {
    "request_submitted": ("新的共享申请待审批", "A share request awaits your decision"),
    "request_decided": ("共享申请已有审批结果", "A share request was decided"),
    "request_arbitrated": ("共享申请申诉已仲裁", "A share request appeal was arbitrated"),
    "request_appealed": ("共享申请被拒后提出申诉", "A refused share request was appealed"),
    "request_withdrawn": ("共享申请已撤回", "A share request was withdrawn"),
    "request_due_soon": ("共享申请审批期限将至", "A share request's deadline is near"),
    "deadline_extended": ("共享申请审批期限已延长", "A share request's deadline was extended"),
    "deadline_provisional": (
        "共享申请审批期限为暂定（节假日安排未录入）",
        "A share request's deadline is provisional (holidays not entered)",
    ),
    "request_escalated": ("共享申请超期已上报", "A share request is overdue and escalated"),
    "grant_issued": ("共享授权已签发", "A share grant was issued"),
    "grant_revoked": ("共享授权已撤销", "A share grant was revoked"),
    "cockpit_alert": ("驾驶舱指标告警", "Cockpit indicator alert"),
    "secops_alert": ("数据安全告警", "Data security alert"),
}


def title(kind: str) -> tuple[str, str]:
    return TITLES.get(kind, ("平台通知", "Platform notice"))


@dataclass(frozen=True)
class Letter:
    """What is sent for one outbox row (read in one transaction, sent outside any)."""

    id: int
    channel: str
    kind: str
    recipient: str
    unit_code: str | None
    roles: tuple[str, ...]
    subject_zh: str
    subject_en: str
    link: str
    created_at: datetime


def enqueue(
    session: Session,
    database: Database,
    *,
    kind: str,
    unit_code: str | None,
    roles: Sequence[str],
    zh: str,
    en: str,
    link: str,
    addresses: Sequence[tuple[str, str]],
) -> int:
    """Queue the notice for each (username, address) by mail and for the webhook; the
    messages leave after the session commits. Returns how many were queued."""
    settings = database.settings
    rows: list[OutboxMessage] = []
    common = {
        "kind": kind,
        "unit_code": unit_code,
        "roles": ",".join(roles),
        "subject_zh": zh,
        "subject_en": en,
        "link": link,
        "state": OutboxState.PENDING,
        "attempts": 0,
        "last_error": "",
    }
    if settings.smtp_host and settings.mail_from:
        for username, address in dict(addresses).items():
            rows.append(
                OutboxMessage(channel=Channel.EMAIL, recipient=address, username=username, **common)
            )
    if settings.notice_webhook_url:
        rows.append(
            OutboxMessage(channel=Channel.WEBHOOK, recipient=settings.notice_webhook_url, **common)
        )
    if not rows:
        return 0
    session.add_all(rows)
    if not session.info.get(HOOKED):
        session.info[HOOKED] = True

        def after_commit(s: Session) -> None:
            if s.info.pop(PENDING, False):
                kick(database)

        def after_rollback(s: Session) -> None:
            s.info.pop(PENDING, None)  # the rows went with the transaction

        after_outer_commit(session, after_commit)
        after_outer_rollback(session, after_rollback)
    session.info[PENDING] = True
    return len(rows)


# ---- delivery -------------------------------------------------------------------------


def _claim(database: Database, moment: datetime) -> list[Letter]:
    """Take the due messages, oldest first, leasing them so no other run sends them too."""
    with unit_of_work(database, SYSTEM) as ctx:
        due = list(
            ctx.db.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.state == OutboxState.PENDING,
                    OutboxMessage.next_attempt_at <= moment,
                )
                .order_by(OutboxMessage.id)
                .limit(BATCH)
            )
        )
        letters = []
        for m in due:
            if not compare_and_set(
                ctx.db,
                m,
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.next_attempt_at == m.next_attempt_at,
                next_attempt_at=moment + LEASE,
            ):
                continue  # another run took it
            letters.append(
                Letter(
                    id=m.id,
                    channel=m.channel,
                    kind=m.kind,
                    recipient=m.recipient,
                    unit_code=m.unit_code,
                    roles=tuple(r for r in m.roles.split(",") if r),
                    subject_zh=m.subject_zh,
                    subject_en=m.subject_en,
                    link=m.link,
                    created_at=m.created_at,
                )
            )
        return letters


def _settle(database: Database, moment: datetime, outcomes: dict[int, str | None]) -> None:
    with unit_of_work(database, SYSTEM) as ctx:
        for message_id, error in outcomes.items():
            m = ctx.db.get(OutboxMessage, message_id)
            if m is None or m.state != OutboxState.PENDING:
                continue
            m.attempts += 1
            if error is None:
                m.state, m.sent_at, m.last_error = OutboxState.SENT, moment, ""
                continue
            m.last_error = error[:1000]
            if m.attempts >= ATTEMPTS:
                m.state = OutboxState.FAILED
                log.warning(
                    "notice %s to %s failed for good after %s attempts: %s",
                    m.id,
                    m.channel,
                    m.attempts,
                    error,
                )
            else:
                m.next_attempt_at = moment + BACKOFF[min(m.attempts, len(BACKOFF)) - 1]


def deliver_outbox(database: Database, now: datetime | None = None) -> tuple[int, int]:
    """Send every due message once; returns (sent, failed this time). Never raises for a
    refusing server: the error is recorded on the message and it is retried later."""
    moment = now or utcnow()
    letters = _claim(database, moment)
    if not letters:
        return 0, 0
    settings = database.settings
    outcomes: dict[int, str | None] = {}
    mails = [x for x in letters if x.channel == Channel.EMAIL]
    if mails:
        outcomes.update(send_mails(settings, mails))
    for letter in letters:
        if letter.channel == Channel.WEBHOOK:
            outcomes[letter.id] = post(settings, letter)
    _settle(database, moment, outcomes)
    sent = sum(1 for e in outcomes.values() if e is None)
    return sent, len(outcomes) - sent


def message_for(settings: Settings, letter: Letter) -> EmailMessage:
    """The bilingual e-mail for one notice: subject names the kind, body gives the notice."""
    zh_title, en_title = title(letter.kind)
    link = f"{settings.console_url}{letter.link}" if letter.link else ""
    msg = EmailMessage()
    msg["Subject"] = f"【数治】{zh_title} | {en_title}"
    msg["From"] = formataddr(("数治 Shuzhi", settings.mail_from))
    msg["To"] = letter.recipient
    msg["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    msg["X-Shuzhi-Notice"] = letter.kind
    lines = [
        letter.subject_zh,
        f"查看详情：{link}" if link else "",
        "",
        letter.subject_en,
        f"Details: {link}" if link else "",
        "",
        "--",
        "本邮件由数治平台自动发送。不想再收到邮件通知，可在控制台“通知”页关闭。",
        "Sent by the Shuzhi platform. To stop notice e-mails, turn them off on the"
        " console's Notifications page.",
    ]
    msg.set_content("\n".join(line for line in lines if line is not None))
    return msg


def _connect(settings: Settings) -> smtplib.SMTP:
    host, port = settings.smtp_host, settings.smtp_port
    if settings.smtp_security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(host, port, timeout=TIMEOUT)
        if settings.smtp_security == "starttls":
            server.starttls(context=ssl.create_default_context())
    if settings.smtp_user:
        server.login(settings.smtp_user, settings.smtp_password)
    return server


def send_mails(settings: Settings, letters: Sequence[Letter]) -> dict[int, str | None]:
    """Send the letters over one SMTP connection; each gets None (sent) or its error."""
    try:
        server = _connect(settings)
    except (OSError, smtplib.SMTPException) as err:
        log.warning("SMTP server %s:%s unusable: %s", settings.smtp_host, settings.smtp_port, err)
        return {x.id: f"smtp {settings.smtp_host}:{settings.smtp_port}: {err}" for x in letters}
    outcomes: dict[int, str | None] = {}
    try:
        for letter in letters:
            try:
                server.send_message(message_for(settings, letter))
                outcomes[letter.id] = None
            except (OSError, smtplib.SMTPException) as err:
                outcomes[letter.id] = f"smtp: {err}"
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()
    return outcomes


def payload(letter: Letter) -> dict[str, object]:
    zh_title, en_title = title(letter.kind)
    return {
        "notice_id": letter.id,
        "kind": letter.kind,
        "title_zh": zh_title,
        "title_en": en_title,
        "message_zh": letter.subject_zh,
        "message_en": letter.subject_en,
        "unit_code": letter.unit_code,
        "roles": list(letter.roles),
        "link": letter.link,
        "created_at": letter.created_at.isoformat(),
    }


def post(settings: Settings, letter: Letter) -> str | None:
    """POST one notice as JSON; None when the receiver took it (2xx), else the error."""
    body = json.dumps(payload(letter), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        letter.recipient,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status = int(response.status)
    except (OSError, ValueError) as err:
        return f"webhook: {err}"
    return None if 200 <= status < 300 else f"webhook: HTTP {status}"


# ---- the background sender ------------------------------------------------------------

_WAKE: weakref.WeakKeyDictionary[Database, threading.Event] = weakref.WeakKeyDictionary()
_INLINE: weakref.WeakSet[Database] = weakref.WeakSet()
_LOCK = threading.Lock()


def deliver_inline(database: Database) -> None:
    """Deliver this database's notices right after each commit instead of in the background
    (a command line run, which would end before a background thread finished)."""
    _INLINE.add(database)


def drain(database: Database) -> tuple[int, int]:
    """Deliver until nothing is due; returns (sent, failed) over all rounds."""
    sent = failed = 0
    while True:
        s, f = deliver_outbox(database)
        if (s, f) == (0, 0):
            return sent, failed
        sent, failed = sent + s, failed + f


def kick(database: Database) -> None:
    """Deliver what is due in a background thread (one per database and process)."""
    if database in _INLINE:
        try:
            drain(database)
        except Exception:  # the command's own work is committed; messages stay pending
            log.exception("notice delivery run failed")
        return
    with _LOCK:
        wake = _WAKE.get(database)
        if wake is not None:
            wake.set()  # the running sender goes round once more
            return
        wake = _WAKE[database] = threading.Event()
        wake.set()
    thread = threading.Thread(
        target=_drain, args=(weakref.ref(database), wake), name="shuzhi-notices", daemon=True
    )
    thread.start()


def _drain(ref: weakref.ref[Database], wake: threading.Event) -> None:
    while True:
        database = ref()
        with _LOCK:
            if database is None or not wake.is_set():
                if database is not None:
                    _WAKE.pop(database, None)
                return
            wake.clear()
        try:
            drain(database)
        except Exception:  # the platform keeps serving; the messages stay pending
            log.exception("notice delivery run failed")
        del database
