"""The monitoring rules: what each one reads, its thresholds (defaults, and the least value
that does not fire on ordinary use) and what it finds.

Each rule reads only what the owning capabilities record and publish for it
(``gateway.monitoring`` over the call log, ``auth.throttle.failures_by_client``,
``audit.service.quick_check``) over the last ``WINDOW``; a finding names one subject
(an application key ``key:<id>``, a key at a new address ``key:<id>@<address>``, a client
address ``client:<address>``…) and the measure that crossed the threshold. The thresholds
are justified in docs/secops.md.

A subject never holds a client's whole address: ``client_subject`` writes ``<address>`` as
its network part (as evidence shows it) and a keyed digest of the whole (``203.0.*.*#…``),
which is all that tells one address's alerts and tuning apart from another's. The address
itself stays in the finding's ``client`` (the rules and the evidence read the call log by
it) and is stored nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shuzhi.auth import throttle
from shuzhi.gateway import monitoring
from shuzhi.secops.models import Severity
from shuzhi.security import digests

WINDOW = timedelta(hours=1)
BASELINE_DAYS = 7
LOCAL = ZoneInfo("Asia/Shanghai")
# Working hours in local time [start, end): calls outside them are "off hours".
WORK_START, WORK_END = 8, 20
# The portal's audited download of an open dataset (``portal.events.OpenDataDownloaded``).
DOWNLOADED = "portal.data_downloaded"


@dataclass(frozen=True)
class Param:
    default: float
    least: float  # below this the rule would fire on ordinary single calls
    zh: str
    en: str


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    zh: str
    en: str
    params: Mapping[str, Param]


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule(
            "volume_spike",
            Severity.MEDIUM,
            "调用量远超自身基线",
            "Call volume far above the key's own baseline",
            {
                "factor": Param(10, 2, "基线倍数", "times the hourly baseline"),
                "min_calls": Param(1000, 50, "每小时最少调用数", "least calls in the hour"),
            },
        ),
        Rule(
            "enumeration",
            Severity.HIGH,
            "枚举查询（一小时内查询大量不同键值）",
            "Enumeration (many distinct keys looked up in an hour)",
            {"distinct_keys": Param(500, 20, "每小时不同键值数", "distinct keys in the hour")},
        ),
        Rule(
            "sequential_ids",
            Severity.HIGH,
            "按连续键值逐个查询（顺序枚举）",
            "Sequential IDs (consecutive keys looked up one after another)",
            {
                "near_keys": Param(
                    50, 10, "同一连续号段内的不同键值数", "distinct keys in one block"
                )
            },
        ),
        Rule(
            "purpose_mismatch",
            Severity.MEDIUM,
            "授权的使用时段或查询列与其用途不符",
            "A grant used at hours or on columns unlike its purpose",
            {
                "off_hours_calls": Param(
                    50, 5, "非工作时间调用数（仅接口授权）", "calls off hours (API-only grants)"
                ),
                "other_column_calls": Param(
                    20, 3, "按非键列筛选的调用数", "calls filtering on other than the key column"
                ),
            },
        ),
        Rule(
            "bulk_export",
            Severity.MEDIUM,
            "一小时内反复批量导出",
            "Repeated bulk exports within an hour",
            {"exports": Param(4, 2, "每小时导出次数", "exports in the hour")},
        ),
        Rule(
            "portal_downloads",
            Severity.MEDIUM,
            "门户有条件开放数据下载激增",
            "Burst of downloads of conditionally open data",
            {"downloads": Param(20, 3, "每小时下载次数", "downloads in the hour")},
        ),
        Rule(
            "sandbox_probing",
            Severity.HIGH,
            "沙箱中反复被拒的查询（试探个体）",
            "Repeatedly refused sandbox queries (probing for individuals)",
            {
                "refused": Param(10, 3, "每小时被拒查询数", "refused queries in the hour"),
                "queries": Param(300, 30, "每小时查询数", "queries in the hour"),
            },
        ),
        Rule(
            "off_hours_bulk",
            Severity.MEDIUM,
            "非工作时间批量获取",
            "Bulk access outside working hours",
            {"rows": Param(10000, 100, "非工作时间记录数", "records served off hours")},
        ),
        Rule(
            "new_client",
            Severity.LOW,
            "从新的客户端地址访问",
            "Access from a new client address",
            {
                "history_calls": Param(
                    100, 1, "判定所需的历史调用数", "earlier calls needed to judge"
                )
            },
        ),
        Rule(
            "refusal_burst",
            Severity.MEDIUM,
            "401/403/404 拒绝激增",
            "Burst of refused calls (401/403/404)",
            {"refusals": Param(100, 5, "每小时被拒调用数", "refused calls in the hour")},
        ),
        Rule(
            "login_spray",
            Severity.HIGH,
            "同一地址登录多个账号失败",
            "Login failures across accounts from one address",
            {"accounts": Param(5, 2, "失败账号数", "accounts that failed")},
        ),
        Rule(
            "audit_chain",
            Severity.CRITICAL,
            "审计哈希链校验失败",
            "The audit chain fails verification",
            {},
        ),
    )
}
# Blocks of consecutive keys are counted from this many distinct keys up (the rule's least
# threshold: no tuning can ask for fewer).
NEAR_LEAST = int(RULES["sequential_ids"].params["near_keys"].least)


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: str
    unit_id: int | None
    measure: float
    threshold: float
    count: int  # calls (or failures) behind the finding in the window
    last_at: datetime
    zh: str
    en: str
    key_id: int | None = None
    client: str | None = None  # the whole address: read by, never stored
    extra: dict[str, object] = field(default_factory=dict)
    first_at: datetime | None = None  # the first call behind the finding in the window


Limits = Callable[[str, str, str], float]  # (rule, param, subject) -> effective value


def off_hours_spans(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of [since, until) outside local working hours, in UTC."""
    spans: list[tuple[datetime, datetime]] = []
    local = since.astimezone(LOCAL).replace(minute=0, second=0, microsecond=0)
    end = until.astimezone(LOCAL)
    while local < end:
        nxt = local + timedelta(hours=1)
        if not WORK_START <= local.hour < WORK_END:
            lo, hi = max(local, since.astimezone(LOCAL)), min(nxt, end)
            if spans and spans[-1][1] == lo:
                spans[-1] = (spans[-1][0], hi)
            else:
                spans.append((lo, hi))
        local = nxt
    return [(lo.astimezone(UTC), hi.astimezone(UTC)) for lo, hi in spans]


def _of_key(
    rule: str, k: monitoring.KeyActivity, measure: float, bar: float, count: int, zh: str, en: str
) -> Finding:
    return Finding(
        rule,
        f"key:{k.key_id}",
        k.provider_unit_id,
        measure,
        bar,
        count,
        k.last_at,
        zh,
        en,
        key_id=k.key_id,
        first_at=k.first_at,
    )


def _per_key(
    k: monitoring.KeyActivity,
    history: dict[int, tuple[int, datetime]],
    since: datetime,
    limit: Limits,
) -> list[Finding]:
    """Volume against the key's own baseline, enumeration, refusal bursts."""
    found = []
    subject = f"key:{k.key_id}"
    who = f"{k.application_code} (key {k.key_id})"
    # Volume: far above this key's own hourly average over the past week.
    before, first = history.get(k.key_id, (0, since))
    baseline = before / max(1.0, (since - first).total_seconds() / 3600)
    bar = max(
        limit("volume_spike", "min_calls", subject),
        limit("volume_spike", "factor", subject) * baseline,
    )
    if k.calls >= bar:
        found.append(
            _of_key(
                "volume_spike",
                k,
                k.calls,
                bar,
                k.calls,
                f"{who} 一小时内调用 {k.calls} 次，基线约每小时 {baseline:.0f} 次。",
                f"{who} made {k.calls} calls in an hour against a baseline of about"
                f" {baseline:.0f} an hour.",
            )
        )
    bar = limit("enumeration", "distinct_keys", subject)
    if k.distinct_lookups >= bar:
        found.append(
            _of_key(
                "enumeration",
                k,
                k.distinct_lookups,
                bar,
                k.calls,
                f"{who} 一小时内按 {k.distinct_lookups} 个不同键值查询。",
                f"{who} looked up {k.distinct_lookups} distinct keys in an hour.",
            )
        )
    bar = limit("refusal_burst", "refusals", subject)
    if k.refused >= bar:
        found.append(
            _of_key(
                "refusal_burst",
                k,
                k.refused,
                bar,
                k.refused,
                f"{who} 一小时内有 {k.refused} 次调用被拒绝（401/403/404）。",
                f"{who} had {k.refused} calls refused (401/403/404) in an hour.",
            )
        )
    return found


def _off_hours(
    session: Session,
    by_key: dict[int, monitoring.KeyActivity],
    since: datetime,
    now: datetime,
    limit: Limits,
) -> list[Finding]:
    found = []
    for key_id, (rows, calls) in monitoring.rows_in(session, off_hours_spans(since, now)).items():
        k = by_key.get(key_id)
        bar = limit("off_hours_bulk", "rows", f"key:{key_id}")
        if k is not None and rows >= bar:
            found.append(
                _of_key(
                    "off_hours_bulk",
                    k,
                    rows,
                    bar,
                    calls,
                    f"{k.application_code} (key {key_id}) 在非工作时间获取 {rows} 条记录。",
                    f"{k.application_code} (key {key_id}) was served {rows} records off hours.",
                )
            )
    return found


def _new_clients(
    session: Session,
    by_key: dict[int, monitoring.KeyActivity],
    history: dict[int, tuple[int, datetime]],
    since: datetime,
    now: datetime,
    limit: Limits,
    key: bytes,
) -> list[Finding]:
    """A key with enough history calling from an address it never used in 30 days."""
    found: list[Finding] = []
    recent = monitoring.clients_of(session, since, now)
    if not recent:
        return found
    earlier = monitoring.clients_of(
        session, since - timedelta(days=30), since, key_ids=list(recent)
    )
    for key_id, clients in recent.items():
        k = by_key[key_id]
        subject = f"key:{key_id}"
        known = earlier.get(key_id, set())
        before = history.get(key_id, (0, since))[0]
        if not known or before < limit("new_client", "history_calls", subject):
            continue
        for client in sorted(clients - known):
            masked = mask_client(client)
            found.append(
                Finding(
                    "new_client",
                    client_subject(f"{subject}@", client, key),
                    k.provider_unit_id,
                    1,
                    1,
                    1,
                    k.last_at,
                    f"{k.application_code} (key {key_id}) 从新地址 {masked} 调用。",
                    f"{k.application_code} (key {key_id}) called from a new address {masked}.",
                    key_id=key_id,
                    client=client,
                )
            )
    return found


def _keyless_refusals(
    session: Session, since: datetime, now: datetime, limit: Limits, key: bytes
) -> list[Finding]:
    """Refused calls that carried no valid key, counted per client address."""
    found = []
    for client, refused in monitoring.refusals_without_key(session, since, now).items():
        subject = client_subject("client:", client, key)
        bar = limit("refusal_burst", "refusals", subject)
        if refused >= bar:
            found.append(
                Finding(
                    "refusal_burst",
                    subject,
                    None,
                    refused,
                    bar,
                    refused,
                    now,
                    f"地址 {mask_client(client)} 一小时内有 {refused} 次无有效密钥的调用被拒绝。",
                    f"Address {mask_client(client)} had {refused} calls without a valid key"
                    " refused in an hour.",
                    client=client,
                )
            )
    return found


def _sequential(keys: list[monitoring.KeyActivity], limit: Limits) -> list[Finding]:
    """Many distinct keys looked up inside one block of consecutive keys (the meter's
    neighbourhood digests: which block is never known, only that keys shared one)."""
    found = []
    for k in keys:
        key_id, densest, blocks = k.key_id, k.densest_block, k.dense_blocks
        bar = limit("sequential_ids", "near_keys", f"key:{key_id}")
        if not blocks or densest < bar:
            continue
        found.append(
            _of_key(
                "sequential_ids",
                k,
                densest,
                bar,
                k.calls,
                f"{k.application_code} (key {key_id}) 一小时内在同一连续号段中查询了 {densest}"
                f" 个不同键值（{blocks} 个号段达到 {NEAR_LEAST} 个以上）。",
                f"{k.application_code} (key {key_id}) looked up {densest} distinct keys inside"
                f" one block of consecutive keys in an hour ({blocks} blocks with {NEAR_LEAST} or"
                " more).",
            )
        )
    return found


def gateway_findings(session: Session, now: datetime, limit: Limits, key: bytes) -> list[Finding]:
    """Every gateway rule over the last ``WINDOW`` (a handful of aggregate queries);
    ``key`` digests the client addresses subjects name (``subject_key``)."""
    since = now - WINDOW
    keys = monitoring.activity(session, since, now, NEAR_LEAST)
    history = monitoring.calls_per_key(session, since - timedelta(days=BASELINE_DAYS), since)
    by_key = {k.key_id: k for k in keys}
    found = [f for k in keys for f in _per_key(k, history, since, limit)]
    found += _off_hours(session, by_key, since, now, limit)
    found += _new_clients(session, by_key, history, since, now, limit, key)
    found += _keyless_refusals(session, since, now, limit, key)
    found += _sequential(keys, limit)
    return found


def login_findings(session: Session, now: datetime, limit: Limits, key: bytes) -> list[Finding]:
    found = []
    for client, (accounts, failures) in throttle.failures_by_client(session, now - WINDOW).items():
        subject = client_subject("client:", client, key)
        bar = limit("login_spray", "accounts", subject)
        if accounts >= bar:
            found.append(
                Finding(
                    "login_spray",
                    subject,
                    None,
                    accounts,
                    bar,
                    failures,
                    now,
                    f"地址 {mask_client(client)} 登录 {accounts} 个账号失败，共 {failures} 次。",
                    f"Address {mask_client(client)} failed to log in to {accounts} accounts,"
                    f" {failures} failures.",
                    client=client,
                )
            )
    return found


def mask_client(client: str | None) -> str:
    """An address as evidence shows it: the network part only."""
    if not client:
        return "—"
    if ":" in client and client.count(":") > 1:  # IPv6
        return ":".join(client.split(":")[:3]) + ":…"
    parts = client.split(".")
    if len(parts) == 4:
        return f"{parts[0]}.{parts[1]}.*.*"
    return client[: max(1, len(client) // 2)] + "…"


def subject_key(secret_key: str) -> bytes:
    """The key of the digests that tell client addresses apart in subjects: the platform's
    value digest key (``security.digests``; the call log and the access log use it too)."""
    return digests.digest_key(secret_key)


def client_subject(prefix: str, client: str, key: bytes) -> str:
    """A subject naming a client address: ``prefix``, the address's network part and a
    keyed digest of the whole address (``security.digests``: two addresses of one
    network stay two subjects, and no one without the secret key can tell which)."""
    return f"{prefix}{mask_client(client)}#{digests.digest(client, key)}"


def _address_in(subject: str) -> tuple[str, str] | None:
    """The prefix and the address part of a subject that names a client address (``client:…``
    or ``key:<id>@…``); None for any other subject."""
    if subject.startswith("client:"):
        return "client:", subject.removeprefix("client:")
    head, at, client = subject.partition("@")
    if subject.startswith("key:") and at:
        return f"{head}@", client
    return None


def _whole_address(subject: str) -> tuple[str, str] | None:
    """The prefix and the whole address of a subject stored before subjects carried a digest
    (they named the address itself); None for a subject of today's form."""
    found = _address_in(subject)
    return found if found is not None and "#" not in found[1] else None


def shown_subject(subject: str) -> str:
    """A stored subject as every answer, page, report and record shows it: one stored
    before subjects carried a digest is cut to its address's network part."""
    whole = _whole_address(subject)
    return subject if whole is None else whole[0] + mask_client(whole[1])


def current_subject(subject: str, key: bytes) -> str:
    """A stored subject in today's form: one that names a whole address is given the digest
    form that the rules now find it under."""
    whole = _whole_address(subject)
    return subject if whole is None else client_subject(*whole, key)
