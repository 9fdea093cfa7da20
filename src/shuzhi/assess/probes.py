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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, Literal

from shuzhi.assess.models import Verdict
from shuzhi.audit import service as audit
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import CompileRate, ConflictStatus
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.gateway import stats as gateway
from shuzhi.lake import service as lake
from shuzhi.lake.schemas import UnitFreshness
from shuzhi.org import service as org
from shuzhi.org.schemas import FilingStatus, Position, UnitBrief
from shuzhi.portal import service as portal
from shuzhi.quality import service as quality
from shuzhi.quality.schemas import UnitScore
from shuzhi.sharing import service as sharing

Direction = Literal["at_least", "at_most"]
CALL_DAYS = 30


@dataclass(frozen=True)
class Reading:
    """What a probe found: the value (None: nothing to measure), its figures and links."""

    value: float | None
    figures: Mapping[str, float | int | None]
    links: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Measurement:
    value: float | None
    verdict: Verdict
    details: dict[str, Any]


class Facts:
    """The sources, each read once (lazily) for every unit of one collection."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    @cached_property
    def compile_rate(self) -> CompileRate:
        return catalog.compile_rate(self.ctx)

    @cached_property
    def uncatalogued(self) -> Counter[str]:
        return Counter(m.unit_code for m in catalog.uncatalogued_matters(self.ctx))

    @cached_property
    def open_conflicts(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for c in catalog.list_conflicts(self.ctx, ConflictStatus.OPEN):
            found.update({c.claimant_unit_code, c.source_unit_code})
        return found

    @cached_property
    def datasets(self) -> dict[int, tuple[int, int, int]]:
        return lake.dataset_figures(self.ctx)

    @cached_property
    def scores(self) -> dict[str, UnitScore]:
        return {s.unit_code: s for s in quality.quality_scores(self.ctx).units}

    @cached_property
    def issues(self) -> dict[str, Counter[str]]:
        found: dict[str, Counter[str]] = {}
        for i in quality.list_quality_issues(self.ctx):
            found.setdefault(i.unit_code, Counter())[str(i.status)] += 1
        return found

    @cached_property
    def freshness(self) -> dict[str, UnitFreshness]:
        return {u.unit_code: u for u in lake.freshness_report(self.ctx).units}

    @cached_property
    def requests(self) -> dict[int, tuple[int, int]]:
        """Per provider unit: (requests received, of them overdue for a decision)."""
        found: dict[int, tuple[int, int]] = {}
        for _consumer, provider, _status, overdue, n in sharing.request_figures(self.ctx):
            total, late = found.get(provider, (0, 0))
            found[provider] = (total + n, late + (n if overdue else 0))
        return found

    @cached_property
    def open_entries(self) -> dict[int, int]:
        return {u.unit_id: u.open_entries for u in portal.portal_figures(self.ctx).units}

    @cached_property
    def downloads(self) -> dict[int, int]:
        return {u.unit_id: u.downloads for u in portal.portal_figures(self.ctx).units}

    @cached_property
    def published(self) -> Counter[int]:
        return Counter(unit for _, _, unit, _ in catalog.published_cycles(self.ctx))

    @cached_property
    def grants(self) -> tuple[Counter[int], Counter[int]]:
        """Grants in force per unit: (as provider, as consumer)."""
        provided: Counter[int] = Counter()
        received: Counter[int] = Counter()
        for consumer, provider, n in sharing.active_grant_figures(self.ctx):
            provided[provider] += n
            received[consumer] += n
        return provided, received

    @cached_property
    def calls(self) -> dict[int, tuple[int, int]]:
        today = utcnow().date()
        return gateway.call_totals(self.ctx, today - timedelta(days=CALL_DAYS - 1), today)[1]

    @cached_property
    def filed_cdos(self) -> Counter[str]:
        return Counter(
            a.unit_code
            for a in org.list_appointments(self.ctx, status=FilingStatus.FILED)
            if a.position is Position.UNIT_CDO
        )

    @cached_property
    def audit_chain(self) -> tuple[bool, int]:
        report = audit.verify_audit(self.ctx, full=False)
        return report.ok, report.entries


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
