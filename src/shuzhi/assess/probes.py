"""Platform evidence: each probe measures one fact about one unit from the platform's own
records, read only through the other capabilities' public services.

A probe returns the value measured, the category figures it was computed from (counts and
rates, never a person's or a record's values) and links to the pages holding the records
it looked at. The verdict compares the value with the indicator's threshold: ``at least``
probes pass at or above it (``partial`` from ``partial_at``), ``at most`` probes pass at
or below it. A unit with nothing to measure (no tasks, no datasets) fails: the evidence is
missing, which is a gap like any other.

The reads run as the collecting actor (the bureau's executive or the system), so the
services' own permission checks apply; each source is read once per collection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from shuzhi.assess.facts import (
    GRANT_TERM_DAYS,
    IDENTIFYING,
    IRREGULAR_CYCLE,
    MAX_LINKS,
    STALE_ISSUE_DAYS,
    Direction,
    Facts,
    Measurement,
    Reading,
)
from shuzhi.assess.models import Verdict
from shuzhi.catalog.schemas import EntryOut
from shuzhi.db.base import utcnow
from shuzhi.lake.schemas import DatasetOverview
from shuzhi.org.schemas import UnitBrief
from shuzhi.sharing.schemas import GrantOut


def _ratio(part: int | float, whole: int | float) -> float | None:
    return round(part / whole, 4) if whole else None


def compile_rate(f: Facts, u: UnitBrief) -> Reading:
    row = next((r for r in f.compile_rate.units if r.unit_code == u.code), None)
    tasks, done = (row.tasks, row.done) if row else (0, 0)
    return Reading(_ratio(done, tasks), {"tasks": tasks, "done": done}, ["/catalog/progress"])


def uncatalogued_matters(f: Facts, u: UnitBrief) -> Reading:
    n = f.uncatalogued.get(u.code, 0)
    tasks = next((r.tasks for r in f.compile_rate.units if r.unit_code == u.code), 0)
    return Reading(
        float(n) if tasks else None, {"uncatalogued": n, "tasks": tasks}, ["/catalog/uncatalogued"]
    )


def source_conflicts(f: Facts, u: UnitBrief) -> Reading:
    n = f.open_conflicts.get(u.code, 0)
    return Reading(float(n), {"open_conflicts": n}, ["/catalog/conflicts"])


def classification_coverage(f: Facts, u: UnitBrief) -> Reading:
    n_sets, _records, graded = f.datasets.get(u.id, (0, 0, 0))
    return Reading(_ratio(graded, n_sets), {"datasets": n_sets, "graded": graded}, ["/datasets"])


def quality_rule_coverage(f: Facts, u: UnitBrief) -> Reading:
    s = f.scores.get(u.code)
    entries, scored = (s.entries, s.scored_entries) if s else (0, 0)
    return Reading(
        _ratio(scored, entries), {"datasets": entries, "with_rules": scored}, ["/quality"]
    )


def quality_score(f: Facts, u: UnitBrief) -> Reading:
    s = f.scores.get(u.code)
    score = s.score if s else None
    return Reading(score, {"score": score, "open_issues": s.open_issues if s else 0}, ["/quality"])


def quality_issue_closure(f: Facts, u: UnitBrief) -> Reading:
    c = f.issues.get(u.code, Counter())
    closed = c.get("fixed", 0) + c.get("verified", 0)
    total = closed + c.get("open", 0)
    figures = {"issues": total, "fixed": c.get("fixed", 0), "verified": c.get("verified", 0)}
    # No issue raised: nothing left open, the loop is closed.
    return Reading(_ratio(closed, total) if total else 1.0, figures, ["/quality"])


def datasets_fresh(f: Facts, u: UnitBrief) -> Reading:
    r = f.freshness.get(u.code)
    entries, overdue, never = (r.entries, r.overdue, r.never_loaded) if r else (0, 0, 0)
    fresh = entries - overdue - never
    figures = {"entries": entries, "fresh": fresh, "overdue": overdue, "never_loaded": never}
    return Reading(_ratio(fresh, entries), figures, ["/datasets"])


def share_decisions_on_time(f: Facts, u: UnitBrief) -> Reading:
    total, late = f.requests.get(u.id, (0, 0))
    figures = {"received": total, "overdue": late}
    return Reading(_ratio(total - late, total), figures, ["/sharing"])


def open_data_published(f: Facts, u: UnitBrief) -> Reading:
    n = f.open_entries.get(u.id, 0)
    return Reading(float(n), {"open_entries": n}, ["/portal"])


def audit_chain_intact(f: Facts, u: UnitBrief) -> Reading:
    ok, entries = f.audit_chain
    return Reading(1.0 if ok else 0.0, {"intact": int(ok), "entries": entries}, ["/audit"])


def cdo_filed(f: Facts, u: UnitBrief) -> Reading:
    n = f.filed_cdos.get(u.code, 0)
    return Reading(float(n), {"filed_cdos": n}, ["/org/filings"])


def high_value_compile_rate(f: Facts, u: UnitBrief) -> Reading:
    row = next((r for r in f.compile_rate.units if r.unit_code == u.code), None)
    tasks, done = (row.high_value_tasks, row.high_value_done) if row else (0, 0)
    figures = {"high_value_tasks": tasks, "high_value_done": done}
    return Reading(_ratio(done, tasks), figures, ["/catalog/progress"])


def entries_published(f: Facts, u: UnitBrief) -> Reading:
    n = f.published.get(u.id, 0)
    return Reading(float(n), {"published": n}, ["/catalog"])


def entries_aggregated(f: Facts, u: UnitBrief) -> Reading:
    published = f.published.get(u.id, 0)
    n_sets = f.datasets.get(u.id, (0, 0, 0))[0]
    value = min(1.0, n_sets / published) if published else None
    figures = {"published": published, "datasets": n_sets}
    return Reading(round(value, 4) if value is not None else None, figures, ["/datasets"])


def never_loaded(f: Facts, u: UnitBrief) -> Reading:
    r = f.freshness.get(u.code)
    entries, never = (r.entries, r.never_loaded) if r else (0, 0)
    figures = {"entries": entries, "never_loaded": never}
    return Reading(float(never) if entries else None, figures, ["/datasets"])


def grants_serving(f: Facts, u: UnitBrief) -> Reading:
    n = f.grants[0].get(u.id, 0)
    return Reading(float(n), {"grants_provided": n}, ["/sharing"])


def external_data_used(f: Facts, u: UnitBrief) -> Reading:
    n = f.grants[1].get(u.id, 0)
    return Reading(float(n), {"grants_received": n}, ["/sharing"])


def shared_data_called(f: Facts, u: UnitBrief) -> Reading:
    calls, rows = f.calls.get(u.id, (0, 0))
    return Reading(float(calls), {"calls_30d": calls, "rows_30d": rows}, ["/gateway/stats"])


def open_data_downloads(f: Facts, u: UnitBrief) -> Reading:
    n = f.downloads.get(u.id, 0)
    return Reading(float(n), {"downloads": n}, ["/portal"])


def _entry_links(entries: list[EntryOut]) -> list[str]:
    return [f"/catalog/entries/{e.resource_code}" for e in entries[:MAX_LINKS]]


def _metadata_complete(e: EntryOut) -> bool:
    """The core metadata is filled, and each condition or reason its choices call for."""
    needed = [e.name, e.abstract, e.update_cycle, e.format_code]
    if e.share_type == "conditional":
        needed.append(e.share_conditions)
    if e.share_type == "not_shared":
        needed.append(e.not_shared_basis)
    else:
        needed.append(e.share_method)
    if e.open_type == "conditional":
        needed.append(e.open_conditions)
    if e.open_type == "not_open":
        needed.append(e.not_open_reason)
    return all(v.strip() for v in needed) and bool(e.items) and e.publish_date is not None


def entry_metadata_complete(f: Facts, u: UnitBrief) -> Reading:
    entries = f.entries.get(u.code, [])
    complete = sum(1 for e in entries if _metadata_complete(e))
    figures = {"entries": len(entries), "complete": complete}
    return Reading(_ratio(complete, len(entries)), figures, _entry_links(entries))


def items_with_elements(f: Facts, u: UnitBrief) -> Reading:
    entries = f.entries.get(u.code, [])
    items = [i for e in entries for i in e.items]
    linked = sum(1 for i in items if i.element_code)
    figures = {"items": len(items), "with_element": linked}
    return Reading(_ratio(linked, len(items)), figures, _entry_links(entries))


def elements_with_source(f: Facts, u: UnitBrief) -> Reading:
    entries = f.entries.get(u.code, [])
    linked = [i for e in entries for i in e.items if i.element_code]
    sourced = sum(1 for i in linked if i.source_unit_code)
    figures = {"with_element": len(linked), "with_source": sourced}
    return Reading(_ratio(sourced, len(linked)), figures, _entry_links(entries))


def items_described(f: Facts, u: UnitBrief) -> Reading:
    entries = f.entries.get(u.code, [])
    items = [i for e in entries for i in e.items]
    described = sum(1 for i in items if i.description.strip())
    figures = {"items": len(items), "described": described}
    return Reading(_ratio(described, len(items)), figures, _entry_links(entries))


def entries_shareable(f: Facts, u: UnitBrief) -> Reading:
    entries = f.entries.get(u.code, [])
    shared = sum(1 for e in entries if e.share_type != "not_shared")
    unconditional = sum(1 for e in entries if e.share_type == "unconditional")
    figures = {"entries": len(entries), "shareable": shared, "unconditional": unconditional}
    return Reading(_ratio(shared, len(entries)), figures, _entry_links(entries))


def not_shared_justified(f: Facts, u: UnitBrief) -> Reading:
    entries = f.entries.get(u.code, [])
    closed = [e for e in entries if e.share_type == "not_shared"]
    justified = sum(1 for e in closed if e.not_shared_basis.strip())
    figures = {"entries": len(entries), "not_shared": len(closed), "justified": justified}
    # Entries, none of them closed: nothing needs a basis.
    value = _ratio(justified, len(closed)) if closed else (1.0 if entries else None)
    return Reading(value, figures, _entry_links(closed))


def open_coverage(f: Facts, u: UnitBrief) -> Reading:
    entries = f.entries.get(u.code, [])
    openable = {e.resource_code for e in entries if e.open_type != "not_open"}
    opened = {
        p.resource_code
        for p in f.publications
        if p.unit_code == u.code and p.status == "open" and p.resource_code in openable
    }
    figures = {"openable": len(openable), "open": len(opened)}
    links = [f"/catalog/entries/{c}" for c in sorted(openable)[:MAX_LINKS]]
    return Reading(_ratio(len(opened), len(openable)), figures, links)


def entries_cycle_declared(f: Facts, u: UnitBrief) -> Reading:
    entries = f.entries.get(u.code, [])
    regular = sum(1 for e in entries if e.update_cycle and e.update_cycle != IRREGULAR_CYCLE)
    figures = {"entries": len(entries), "regular_cycle": regular}
    return Reading(_ratio(regular, len(entries)), figures, _entry_links(entries))


def _dataset_links(pages: list[DatasetOverview]) -> list[str]:
    return [f"/datasets/{d.resource_code}" for d in pages[:MAX_LINKS]]


def datasets_with_sources(f: Facts, u: UnitBrief) -> Reading:
    pages = f.dataset_pages.get(u.id, [])
    sourced = sum(1 for d in pages if d.sources)
    figures = {"datasets": len(pages), "with_source": sourced}
    return Reading(_ratio(sourced, len(pages)), figures, _dataset_links(pages))


def rejected_versions_resolved(f: Facts, u: UnitBrief) -> Reading:
    pages = f.dataset_pages.get(u.id, [])
    rejected = [d for d in pages if any(v.status == "rejected" for v in d.versions)]
    # Resolved: a version newer than every rejected one became current.
    resolved = sum(
        1
        for d in rejected
        if max(v.number for v in d.versions if v.status == "current")
        > max(v.number for v in d.versions if v.status == "rejected")
    )
    waiting = sum(1 for d in pages if any(v.status == "pending_review" for v in d.versions))
    figures = {
        "datasets": len(pages),
        "with_rejected": len(rejected),
        "resolved": resolved,
        "pending_review": waiting,
    }
    value = _ratio(resolved, len(rejected)) if rejected else (1.0 if pages else None)
    return Reading(value, figures, _dataset_links(rejected or pages))


def schema_drift(f: Facts, u: UnitBrief) -> Reading:
    pages = f.dataset_pages.get(u.id, [])
    drifting = [d for d in pages if any(v.status == "current" and v.drift for v in d.versions)]
    figures = {"datasets": len(pages), "drifting": len(drifting)}
    return Reading(
        float(len(drifting)) if pages else None, figures, _dataset_links(drifting or pages)
    )


def _grant_links(grants: list[GrantOut]) -> list[str]:
    return [f"/sharing/grants/{g.id}" for g in grants[:MAX_LINKS]]


def _in_force(f: Facts, u: UnitBrief) -> list[GrantOut]:
    now = utcnow()
    return [
        g
        for g in f.all_grants
        if g.provider_unit_code == u.code and g.status == "active" and g.expires_at > now
    ]


def grants_identifiers_masked(f: Facts, u: UnitBrief) -> Reading:
    grants = _in_force(f, u)

    def masked(g: GrantOut) -> bool:
        return all(m.level != "none" for m in g.masking if m.category in IDENTIFYING)

    n = sum(1 for g in grants if masked(g))
    figures = {"grants": len(grants), "identifiers_masked": n}
    return Reading(_ratio(n, len(grants)), figures, _grant_links(grants))


def grants_minimal(f: Facts, u: UnitBrief) -> Reading:
    grants = _in_force(f, u)
    width = {e.resource_code: len(e.items) for es in f.entries.values() for e in es}
    narrowed = sum(
        1 for g in grants if g.row_filter or len(g.columns) < width.get(g.resource_code, 0)
    )
    figures = {"grants": len(grants), "narrowed": narrowed}
    return Reading(_ratio(narrowed, len(grants)), figures, _grant_links(grants))


def grants_renewed(f: Facts, u: UnitBrief) -> Reading:
    now = utcnow()
    ended = [
        g
        for g in f.all_grants
        if g.provider_unit_code == u.code
        and (
            g.status in ("superseded", "expired") or (g.status == "active" and g.expires_at <= now)
        )
    ]
    renewed = sum(1 for g in ended if g.status == "superseded")
    figures = {"ended": len(ended), "renewed": renewed}
    return Reading(_ratio(renewed, len(ended)), figures, _grant_links(ended))


def grant_terms_bounded(f: Facts, u: UnitBrief) -> Reading:
    grants = _in_force(f, u)
    bounded = sum(
        1 for g in grants if (g.expires_at - g.starts_at) <= timedelta(days=GRANT_TERM_DAYS)
    )
    figures = {"grants": len(grants), "bounded": bounded}
    return Reading(_ratio(bounded, len(grants)), figures, _grant_links(grants))


def share_turnaround_days(f: Facts, u: UnitBrief) -> Reading:
    decided = [
        r for r in f.all_requests if r.provider_unit_code == u.code and r.decided_at is not None
    ]
    days = [
        (r.decided_at - r.requested_at).total_seconds() / 86400 for r in decided if r.decided_at
    ]
    mean = round(sum(days) / len(days), 2) if days else None
    figures = {"decided": len(decided), "mean_days": mean}
    links = [f"/sharing/requests/{r.id}" for r in decided[:MAX_LINKS]]
    return Reading(mean, figures, links)


def share_requests_made(f: Facts, u: UnitBrief) -> Reading:
    made = [r for r in f.all_requests if r.consumer_unit_code == u.code]
    figures = {"requests": len(made)}
    return Reading(
        float(len(made)), figures, [f"/sharing/requests/{r.id}" for r in made[:MAX_LINKS]]
    )


def open_applications_on_time(f: Facts, u: UnitBrief) -> Reading:
    apps = f.applications.get(u.code, [])
    late = sum(1 for a in apps if a.overdue)
    figures = {"applications": len(apps), "overdue": late}
    return Reading(_ratio(len(apps) - late, len(apps)), figures, ["/portal/applications"])


def open_data_checked(f: Facts, u: UnitBrief) -> Reading:
    opened = [p for p in f.publications if p.unit_code == u.code and p.status == "open"]
    checked = sum(1 for p in opened if p.checked_version is not None)
    figures = {"open": len(opened), "checked": checked}
    links = [f"/catalog/entries/{p.resource_code}" for p in opened[:MAX_LINKS]]
    return Reading(_ratio(checked, len(opened)), figures, links)


def open_data_used(f: Facts, u: UnitBrief) -> Reading:
    views, calls = f.portal_use.get(u.id, (0, 0))
    return Reading(float(views + calls), {"views": views, "api_calls": calls}, ["/portal"])


def quality_issues_stale(f: Facts, u: UnitBrief) -> Reading:
    cutoff = utcnow() - timedelta(days=STALE_ISSUE_DAYS)
    mine = [i for i in f.issue_list if i.unit_code == u.code and i.status == "open"]
    stale = sum(1 for i in mine if i.created_at < cutoff)
    return Reading(float(stale), {"open_issues": len(mine), "stale": stale}, ["/quality"])


def liaison_filed(f: Facts, u: UnitBrief) -> Reading:
    n = f.filed_liaisons.get(u.code, 0)
    return Reading(float(n), {"filed_liaisons": n}, ["/org/filings"])


def audit_anchored(f: Facts, u: UnitBrief) -> Reading:
    """Days since the audit head was last anchored outside the database (region-wide)."""
    if f.last_anchor is None:
        return Reading(None, {"anchored": 0, "days_since": None}, ["/audit"])
    at = datetime.fromisoformat(f.last_anchor)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    days = max(0, (utcnow() - at).days)
    return Reading(float(days), {"anchored": 1, "days_since": days}, ["/audit"])


PROBES: dict[str, tuple[Direction, Callable[[Facts, UnitBrief], Reading]]] = {
    "compile_rate": ("at_least", compile_rate),
    "uncatalogued_matters": ("at_most", uncatalogued_matters),
    "source_conflicts": ("at_most", source_conflicts),
    "classification_coverage": ("at_least", classification_coverage),
    "quality_rule_coverage": ("at_least", quality_rule_coverage),
    "quality_score": ("at_least", quality_score),
    "quality_issue_closure": ("at_least", quality_issue_closure),
    "datasets_fresh": ("at_least", datasets_fresh),
    "share_decisions_on_time": ("at_least", share_decisions_on_time),
    "open_data_published": ("at_least", open_data_published),
    "audit_chain_intact": ("at_least", audit_chain_intact),
    "cdo_filed": ("at_least", cdo_filed),
    "high_value_compile_rate": ("at_least", high_value_compile_rate),
    "entries_published": ("at_least", entries_published),
    "entries_aggregated": ("at_least", entries_aggregated),
    "never_loaded": ("at_most", never_loaded),
    "grants_serving": ("at_least", grants_serving),
    "external_data_used": ("at_least", external_data_used),
    "shared_data_called": ("at_least", shared_data_called),
    "open_data_downloads": ("at_least", open_data_downloads),
    "entry_metadata_complete": ("at_least", entry_metadata_complete),
    "items_with_elements": ("at_least", items_with_elements),
    "elements_with_source": ("at_least", elements_with_source),
    "items_described": ("at_least", items_described),
    "entries_shareable": ("at_least", entries_shareable),
    "not_shared_justified": ("at_least", not_shared_justified),
    "open_coverage": ("at_least", open_coverage),
    "entries_cycle_declared": ("at_least", entries_cycle_declared),
    "datasets_with_sources": ("at_least", datasets_with_sources),
    "rejected_versions_resolved": ("at_least", rejected_versions_resolved),
    "schema_drift": ("at_most", schema_drift),
    "grants_identifiers_masked": ("at_least", grants_identifiers_masked),
    "grants_minimal": ("at_least", grants_minimal),
    "grants_renewed": ("at_least", grants_renewed),
    "grant_terms_bounded": ("at_least", grant_terms_bounded),
    "share_turnaround_days": ("at_most", share_turnaround_days),
    "share_requests_made": ("at_least", share_requests_made),
    "open_applications_on_time": ("at_least", open_applications_on_time),
    "open_data_checked": ("at_least", open_data_checked),
    "open_data_used": ("at_least", open_data_used),
    "quality_issues_stale": ("at_most", quality_issues_stale),
    "liaison_filed": ("at_least", liaison_filed),
    "audit_anchored": ("at_most", audit_anchored),
}


def verdict(
    direction: Direction, value: float | None, threshold: float, partial_at: float | None
) -> Verdict:
    """Pass, partial or fail of a value against its threshold (None: nothing measured)."""
    if value is None:
        return Verdict.FAIL
    if direction == "at_most":
        return Verdict.PASS if value <= threshold else Verdict.FAIL
    if value >= threshold:
        return Verdict.PASS
    if partial_at is not None and value >= partial_at:
        return Verdict.PARTIAL
    return Verdict.FAIL


def measure(
    facts: Facts, unit: UnitBrief, probe: str, threshold: float, partial_at: float | None
) -> Measurement:
    direction, read = PROBES[probe]
    reading = read(facts, unit)
    return Measurement(
        value=reading.value,
        verdict=verdict(direction, reading.value, threshold, partial_at),
        details={
            "probe": probe,
            "direction": direction,
            "threshold": threshold,
            "partial_at": partial_at,
            "figures": dict(reading.figures),
            "links": reading.links,
        },
    )
