"""What the platform evidence is measured from: every source read once per collection, as
the collecting actor (so the services' own permission checks apply), only through the
other capabilities' public services (see ``probes`` for the measurements)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, Literal

from shuzhi.assess.models import Verdict
from shuzhi.audit import anchors
from shuzhi.audit import service as audit
from shuzhi.catalog import service as catalog
from shuzhi.catalog.schemas import CompileRate, ConflictStatus, EntryOut
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.gateway import stats as gateway
from shuzhi.lake import service as lake
from shuzhi.lake.schemas import DatasetOverview, UnitFreshness
from shuzhi.org import service as org
from shuzhi.org.schemas import FilingStatus, Position
from shuzhi.portal import service as portal
from shuzhi.portal.schemas import ApplicationOut, PublicationOut
from shuzhi.quality import service as quality
from shuzhi.quality.schemas import IssueOut, UnitScore
from shuzhi.security.categories import CATEGORY_INFO
from shuzhi.sharing import service as sharing
from shuzhi.sharing.schemas import GrantOut, RequestOut

Direction = Literal["at_least", "at_most"]
CALL_DAYS = 30
STALE_ISSUE_DAYS = 30  # an open quality issue older than this is stale
GRANT_TERM_DAYS = 731  # a grant should end within two years (renewal re-checks it)
IRREGULAR_CYCLE = "8"  # 不定期 in the update-cycle code table
MAX_LINKS = 20  # record links kept per measurement
REQUEST_LIMIT = 1000  # the sharing service's largest page of requests
IDENTIFYING = frozenset(c.value for c, i in CATEGORY_INFO.items() if i.identifying)


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

    @cached_property
    def entries(self) -> dict[str, list[EntryOut]]:
        """Published, not withdrawn catalogue entries (as last published) per unit code."""
        codes = [code for code, _, _, _ in catalog.published_cycles(self.ctx)]
        found: dict[str, list[EntryOut]] = {}
        for e in catalog.get_entries(self.ctx, codes).values():
            found.setdefault(e.unit_code, []).append(e)
        return found

    @cached_property
    def dataset_pages(self) -> dict[int, list[DatasetOverview]]:
        """Per unit id: the pages (versions, sources) of its datasets with a current version."""
        found: dict[int, list[DatasetOverview]] = {}
        for code, unit_id, _number, _score in lake.current_scores(self.ctx):
            found.setdefault(unit_id, []).append(lake.dataset_overview(self.ctx, code))
        return found

    @cached_property
    def all_grants(self) -> list[GrantOut]:
        return sharing.list_grants(self.ctx, include_ended=True)

    @cached_property
    def all_requests(self) -> list[RequestOut]:
        return sharing.list_share_requests(self.ctx, limit=REQUEST_LIMIT)

    @cached_property
    def publications(self) -> list[PublicationOut]:
        return portal.list_publications(self.ctx)

    @cached_property
    def applications(self) -> dict[str, list[ApplicationOut]]:
        """Open-data applications per unit code (of the dataset applied for)."""
        owner = {p.resource_code: p.unit_code for p in self.publications}
        found: dict[str, list[ApplicationOut]] = {}
        for a in portal.list_open_applications(self.ctx):
            if a.resource_code in owner:
                found.setdefault(owner[a.resource_code], []).append(a)
        return found

    @cached_property
    def portal_use(self) -> dict[int, tuple[int, int]]:
        """Per unit id: (page views, API calls) of its open datasets."""
        return {u.unit_id: (u.views, u.api_calls) for u in portal.portal_figures(self.ctx).units}

    @cached_property
    def issue_list(self) -> list[IssueOut]:
        return quality.list_quality_issues(self.ctx)

    @cached_property
    def filed_liaisons(self) -> Counter[str]:
        return Counter(
            a.unit_code
            for a in org.list_appointments(self.ctx, status=FilingStatus.FILED)
            if a.position is Position.DATA_LIAISON
        )

    @cached_property
    def last_anchor(self) -> str | None:
        """When the audit head was last anchored outside the database (ISO time), if ever."""
        found = anchors.read_anchors(self.ctx.settings)
        return found[-1].at if found else None
