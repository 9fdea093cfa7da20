"""The monitoring rules over the data flows other than keyed calls and logins: lookups of
neighbouring keys (sequential IDs), bulk exports, grant use unlike its purpose, portal
downloads of conditionally open data and sandbox probing. Their thresholds are declared with
the others in ``rules.RULES``; each reads only what the owning capability publishes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shuzhi.audit import service as audit
from shuzhi.errors import NotFound
from shuzhi.gateway import monitoring
from shuzhi.sandbox import monitoring as sandbox
from shuzhi.secops.rules import (
    DOWNLOADED,
    WINDOW,
    Finding,
    Limits,
    off_hours_spans,
)
from shuzhi.sharing import access
from shuzhi.sharing.grants import DeliveryMode


def _exports(session: Session, since: datetime, now: datetime, limit: Limits) -> list[Finding]:
    """The same key exporting whole datasets again and again within the hour."""
    found = []
    for e in monitoring.exports(session, since, now):
        subject = f"key:{e.key_id}"
        bar = limit("bulk_export", "exports", subject)
        if e.exports < bar:
            continue
        who = f"{e.application_code} (key {e.key_id})"
        found.append(
            Finding(
                "bulk_export",
                subject,
                e.provider_unit_id,
                e.exports,
                bar,
                e.exports,
                e.last_at,
                f"{who} 一小时内批量导出 {e.exports} 次"
                f"（{e.resources} 个数据集，{e.rows} 条记录）。",
                f"{who} made {e.exports} bulk exports in an hour ({e.resources} datasets,"
                f" {e.rows} records).",
                key_id=e.key_id,
                first_at=e.first_at,
            )
        )
    return found


def _purpose(session: Session, since: datetime, now: datetime, limit: Limits) -> list[Finding]:
    """A grant used unlike what it was approved for: an API-only grant (case work, no
    scheduled bulk transfer) called off hours, or a grant approved for lookups by its key
    column searched by other columns."""
    found = []
    for u in monitoring.grant_use(session, since, now, off_hours_spans(since, now)):
        try:
            grant = access.call_grant(access.grant_row(session, u.grant_id))
        except NotFound:
            continue
        subject = f"grant:{u.grant_id}"
        who = f"{u.application_code} (grant {u.grant_id})"
        interactive = DeliveryMode.BULK not in grant.delivery
        bar = limit("purpose_mismatch", "off_hours_calls", subject + "#hours")
        if interactive and u.calls_in_spans >= bar:
            found.append(
                Finding(
                    "purpose_mismatch",
                    subject + "#hours",
                    u.provider_unit_id,
                    u.calls_in_spans,
                    bar,
                    u.calls_in_spans,
                    u.last_at,
                    f"{who} 是仅限接口的授权（用途：{grant.purpose[:60]}），却在非工作时间被调用"
                    f" {u.calls_in_spans} 次。",
                    f"{who} is an API-only grant (purpose: {grant.purpose[:60]}) yet was called"
                    f" {u.calls_in_spans} times off hours.",
                    key_id=u.key_id,
                    first_at=u.first_at,
                    extra={"grant_id": u.grant_id},
                )
            )
        if grant.key_column is None:
            continue
        others = {c: n for c, n in u.calls_by_column.items() if c != grant.key_column}
        column, calls = max(others.items(), key=lambda i: i[1], default=("", 0))
        bar = limit("purpose_mismatch", "other_column_calls", subject + "#columns")
        if calls >= bar:
            found.append(
                Finding(
                    "purpose_mismatch",
                    subject + "#columns",
                    u.provider_unit_id,
                    calls,
                    bar,
                    calls,
                    u.last_at,
                    f"{who} 用于按键列「{grant.key_column}」逐条查询，却有 {calls} 次调用按"
                    f"「{column}」筛选。",
                    f"{who} serves lookups by its key column “{grant.key_column}” yet {calls}"
                    f" calls filtered on “{column}”.",
                    key_id=u.key_id,
                    first_at=u.first_at,
                    extra={"grant_id": u.grant_id, "column": column},
                )
            )
    return found


def _downloads(session: Session, since: datetime, now: datetime, limit: Limits) -> list[Finding]:
    """An applicant downloading conditionally open data again and again (the portal's
    audited downloads; anonymous downloads of open data carry no one to count by)."""
    per: dict[int, list[audit.Logged]] = {}
    for e in audit.entries_between(session, DOWNLOADED, since, now):
        applicant = e.details.get("applicant")
        if isinstance(applicant, int):
            per.setdefault(applicant, []).append(e)
    found = []
    for applicant, entries in per.items():
        subject = f"applicant:{applicant}"
        bar = limit("portal_downloads", "downloads", subject)
        if len(entries) < bar:
            continue
        datasets = sorted({e.target_id for e in entries})
        units = [e.unit_id for e in entries if e.unit_id is not None]
        unit = max(set(units), key=units.count) if units else None
        n = len(entries)
        found.append(
            Finding(
                "portal_downloads",
                subject,
                unit,
                n,
                bar,
                n,
                entries[-1].at,
                f"门户申请人 #{applicant} 一小时内下载有条件开放数据 {n} 次"
                f"（{len(datasets)} 个数据集）。",
                f"Portal applicant #{applicant} downloaded conditionally open data {n} times in"
                f" an hour ({len(datasets)} datasets).",
                first_at=entries[0].at,
                extra={"applicant": applicant, "downloads": n, "datasets": datasets[:20]},
            )
        )
    return found


def _sandbox(session: Session, since: datetime, now: datetime, limit: Limits) -> list[Finding]:
    """An analyst whose sandbox queries are refused again and again (probing the checker for
    individuals) or who asks far more than an analysis needs."""
    found = []
    for a in sandbox.query_activity(session, since, now):
        subject = f"analyst:{a.analyst}"[:100]
        refused_bar = limit("sandbox_probing", "refused", subject)
        queries_bar = limit("sandbox_probing", "queries", subject)
        if a.refused >= refused_bar:
            measure, bar = float(a.refused), refused_bar
        elif a.queries >= queries_bar:
            measure, bar = float(a.queries), queries_bar
        else:
            continue
        found.append(
            Finding(
                "sandbox_probing",
                subject,
                a.provider_unit_id,
                measure,
                bar,
                a.queries,
                a.last_at,
                f"沙箱分析方 {a.analyst}（单位 {a.unit_id}）一小时内查询 {a.queries} 次，"
                f"其中 {a.refused} 次被拒。",
                f"Sandbox analyst {a.analyst} (unit {a.unit_id}) asked {a.queries} queries in"
                f" an hour, {a.refused} of them refused.",
                first_at=a.first_at,
                extra={
                    "analyst": a.analyst,
                    "unit_id": a.unit_id,
                    "queries": a.queries,
                    "refused": a.refused,
                    "rows_released": a.rows_released,
                },
            )
        )
    return found


def flow_findings(session: Session, now: datetime, limit: Limits) -> list[Finding]:
    """The rules over the other data flows: bulk exports, grant use against its purpose,
    portal downloads and sandbox queries."""
    since = now - WINDOW
    return (
        _exports(session, since, now, limit)
        + _purpose(session, since, now, limit)
        + _downloads(session, since, now, limit)
        + _sandbox(session, since, now, limit)
    )
