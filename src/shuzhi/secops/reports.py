"""The monthly security report of a unit (月度安全报告): the alerts on its data, its
incidents and drills, containments, risk changes and grant reviews of one calendar month
(Beijing time), as a console page and as a PDF generated on the server
(``documents.pdf``). Reading or downloading it is audited (``secops.report_viewed``).

Risk changes are the risk register's assessments of the month that moved a score or level.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone

from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.documents import pdf
from shuzhi.errors import Invalid, NotFound
from shuzhi.org import service as org
from shuzhi.secops.models import Alert, AlertStatus, Containment, Incident
from shuzhi.secops.review_events import ReportViewed
from shuzhi.secops.review_models import GrantReview, ReviewStatus
from shuzhi.secops.risk_schemas import RiskChange
from shuzhi.secops.rules import RULES, shown_subject
from shuzhi.secops.service.risk import risk_changes
from shuzhi.secops.texts import TEXTS

BEIJING = timezone(timedelta(hours=8))
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
SEVERITIES = ("critical", "high", "medium", "low")
LISTED = 50  # rows per section in the report; the counts cover every row


class ReportAlert(BaseModel):
    id: int
    rule: str
    severity: str
    subject: str
    status: str
    first_seen: datetime
    count: int


class ReportIncident(BaseModel):
    id: int
    title: str
    drill: bool
    status: str
    opened_at: datetime
    closed_at: datetime | None
    review: str


class ReportContainment(BaseModel):
    id: int
    kind: str
    subject_id: int
    reason: str
    contained_at: datetime
    lifted_at: datetime | None


class ReportReview(BaseModel):
    id: int
    grant_id: int
    entry_name: str
    status: str
    decided_by: str | None
    decided_at: datetime | None
    note: str


class MonthlyReport(BaseModel):
    month: str
    unit_id: int
    unit_code: str
    unit_name: str
    start: datetime
    end: datetime
    alerts_by_severity: dict[str, int] = Field(default_factory=dict)
    alerts_by_rule: dict[str, int] = Field(default_factory=dict)
    false_positives: int = 0
    alerts: list[ReportAlert] = Field(default_factory=list)
    alerts_total: int = 0
    incidents: list[ReportIncident] = Field(default_factory=list)
    drills: int = 0
    containments: list[ReportContainment] = Field(default_factory=list)
    risk_changes: list[RiskChange] = Field(default_factory=list)
    reviews: list[ReportReview] = Field(default_factory=list)
    reviews_confirmed: int = 0
    reviews_suspended: int = 0
    reviews_requested: int = 0


def month_range(month: str) -> tuple[datetime, datetime]:
    """The calendar month ``YYYY-MM`` in Beijing time, as a UTC range [start, end)."""
    m = MONTH.fullmatch(month.strip())
    if m is None:
        raise Invalid.field("month", "月份格式为 YYYY-MM。", "A month is written YYYY-MM.")
    year, number = int(m.group(1)), int(m.group(2))
    start = datetime(year, number, 1, tzinfo=BEIJING)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=BEIJING)
    return start.astimezone(UTC), end.astimezone(UTC)


def last_month(today: date | None = None) -> str:
    today = today or utcnow().astimezone(BEIJING).date()
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def monthly_report(
    ctx: Ctx, unit_code: str, month: str, file_format: str = "page"
) -> MonthlyReport:
    """The unit's report for the month (bureau roles: any unit; a unit's CDO: its own)."""
    unit_id = org.unit_id_for_code(ctx, unit_code)
    if unit_id is None:
        raise NotFound("单位不存在。", "No such unit.")
    require(ctx, "view_security_report", unit_id, target=f"{unit_code}:{month}")
    start, end = month_range(month)
    brief = org.unit_brief(ctx, unit_id)
    assert brief is not None
    rep = MonthlyReport(
        month=month,
        unit_id=unit_id,
        unit_code=brief.code,
        unit_name=brief.name,
        start=start,
        end=end,
    )
    alerts = list(
        ctx.db.scalars(
            select(Alert)
            .where(Alert.unit_id == unit_id, Alert.first_seen >= start, Alert.first_seen < end)
            .order_by(Alert.first_seen)
        )
    )
    severities = Counter(a.severity.value for a in alerts)
    rep.alerts_by_severity = {s: severities.get(s, 0) for s in SEVERITIES}
    rep.alerts_by_rule = dict(sorted(Counter(a.rule for a in alerts).items()))
    rep.false_positives = sum(1 for a in alerts if a.status is AlertStatus.FALSE_POSITIVE)
    rep.alerts_total = len(alerts)
    rep.alerts = [
        ReportAlert(
            id=a.id,
            rule=a.rule,
            severity=a.severity.value,
            subject=shown_subject(a.subject),
            status=a.status.value,
            first_seen=a.first_seen,
            count=a.count,
        )
        for a in alerts[:LISTED]
    ]
    # Incidents opened in the month, and earlier ones closed in it.
    incidents = ctx.db.scalars(
        select(Incident)
        .where(
            Incident.unit_id == unit_id,
            or_(
                (Incident.opened_at >= start) & (Incident.opened_at < end),
                (Incident.closed_at >= start) & (Incident.closed_at < end),
            ),
        )
        .order_by(Incident.opened_at)
        .limit(LISTED)
    )
    rep.incidents = [
        ReportIncident(
            id=i.id,
            title=i.title,
            drill=i.drill,
            status=i.status.value,
            opened_at=i.opened_at,
            closed_at=i.closed_at,
            review=i.review,
        )
        for i in incidents
    ]
    rep.drills = sum(1 for i in rep.incidents if i.drill)
    rep.containments = [
        ReportContainment(
            id=c.id,
            kind=c.kind.value,
            subject_id=c.subject_id,
            reason=c.reason,
            contained_at=c.contained_at,
            lifted_at=c.lifted_at,
        )
        for c in ctx.db.scalars(
            select(Containment)
            .where(
                Containment.unit_id == unit_id,
                or_(
                    (Containment.contained_at >= start) & (Containment.contained_at < end),
                    (Containment.lifted_at >= start) & (Containment.lifted_at < end),
                ),
            )
            .order_by(Containment.contained_at)
            .limit(LISTED)
        )
    ]
    rep.risk_changes = risk_changes(ctx, unit_id, start, end)
    reviews = list(
        ctx.db.scalars(
            select(GrantReview)
            .where(
                GrantReview.provider_unit_id == unit_id,
                or_(
                    (GrantReview.requested_at >= start) & (GrantReview.requested_at < end),
                    (GrantReview.decided_at >= start) & (GrantReview.decided_at < end),
                ),
            )
            .order_by(GrantReview.id)
        )
    )
    rep.reviews_requested = sum(1 for r in reviews if start <= r.requested_at < end)
    decided = [r for r in reviews if r.decided_at is not None and start <= r.decided_at < end]
    rep.reviews_confirmed = sum(1 for r in decided if r.status is ReviewStatus.CONFIRMED)
    rep.reviews_suspended = sum(1 for r in decided if r.status is ReviewStatus.SUSPENDED)
    rep.reviews = [
        ReportReview(
            id=r.id,
            grant_id=r.grant_id,
            entry_name=r.entry_name,
            status=r.status.value,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            note=r.note,
        )
        for r in reviews[:LISTED]
    ]
    record(ctx, ReportViewed(month=month, unit=unit_id, file_format=file_format))
    return rep


# ---------------------------------------------------------------- the PDF


def _t(ctx: Ctx, key: str, **values: object) -> str:
    zh, en = TEXTS[key]
    text = en if ctx.locale == "en" else zh
    return text.format(**values) if values else text


def local_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _rule(ctx: Ctx, rule: str) -> str:
    found = RULES.get(rule)
    if found is None:
        return rule
    return found.en if ctx.locale == "en" else found.zh


def report_pdf(ctx: Ctx, unit_code: str, month: str) -> bytes:
    """The report as a PDF in the reader's language (audited like the page)."""
    rep = monthly_report(ctx, unit_code, month, file_format="pdf")

    def t(key: str, **values: object) -> str:
        return _t(ctx, key, **values)

    none = t("so.rep.none")
    by_severity: list[list[pdf.Cell]] = [
        [t(f"so.sev.{s}"), n] for s, n in rep.alerts_by_severity.items()
    ]
    blocks: list[pdf.Block] = [
        pdf.Heading(t("so.rep.summary")),
        pdf.Table(
            [t("so.rep.measure"), t("so.count")],
            [
                [t("so.rep.alerts_total"), rep.alerts_total],
                *by_severity,
                [t("so.st.false_positive"), rep.false_positives],
                [t("so.rep.incidents"), len(rep.incidents) - rep.drills],
                [t("so.drill"), rep.drills],
                [t("so.containments"), len(rep.containments)],
                [t("so.rep.reviews_requested"), rep.reviews_requested],
                [t("so.rep.reviews_confirmed"), rep.reviews_confirmed],
                [t("so.rep.reviews_suspended"), rep.reviews_suspended],
            ],
            widths=[3, 1],
        ),
        pdf.Heading(t("so.alerts")),
        pdf.Table(
            [
                "#",
                t("so.rule"),
                t("so.severity"),
                t("so.subject"),
                t("so.status"),
                t("so.first_seen"),
                t("so.count"),
            ],
            [
                [
                    a.id,
                    _rule(ctx, a.rule),
                    t(f"so.sev.{a.severity}"),
                    a.subject,
                    t(f"so.st.{a.status}"),
                    local_time(a.first_seen),
                    a.count,
                ]
                for a in rep.alerts
            ],
            widths=[0.6, 2, 1, 2, 1.2, 1.8, 0.8],
            empty=none,
        ),
        pdf.Heading(t("so.incidents")),
        pdf.Table(
            ["#", t("so.title"), t("so.drill"), t("so.status"), t("so.rep.opened"), t("so.review")],
            [
                [
                    i.id,
                    i.title,
                    t("so.rep.yes") if i.drill else "",
                    t(f"so.st.{i.status}"),
                    local_time(i.opened_at),
                    i.review or None,
                ]
                for i in rep.incidents
            ],
            widths=[0.6, 2.5, 0.7, 1, 1.6, 3],
            empty=none,
        ),
        pdf.Heading(t("so.containments")),
        pdf.Table(
            [
                t("so.kind"),
                t("so.subject_id"),
                t("so.reason"),
                t("so.rep.contained"),
                t("so.lifted"),
            ],
            [
                [
                    t(f"so.kind.{c.kind}"),
                    c.subject_id,
                    c.reason,
                    local_time(c.contained_at),
                    local_time(c.lifted_at),
                ]
                for c in rep.containments
            ],
            widths=[1.2, 0.8, 3.5, 1.6, 1.6],
            empty=none,
        ),
        pdf.Heading(t("so.rep.risks")),
    ]
    blocks.append(
        pdf.Table(
            [t("so.rep.when"), t("so.rep.risk"), t("so.rep.change")],
            [[local_time(r.at), r.risk, r.change] for r in rep.risk_changes],
            widths=[1.5, 3, 3],
            empty=none,
        )
    )
    blocks += [
        pdf.Heading(t("so.rep.reviews")),
        pdf.Table(
            ["#", t("so.rep.grant"), t("so.status"), t("so.rep.decided"), t("so.rep.note")],
            [
                [
                    f"{r.grant_id}",
                    r.entry_name,
                    t(f"so.rv.{r.status}"),
                    local_time(r.decided_at),
                    r.note or None,
                ]
                for r in rep.reviews
            ],
            widths=[0.6, 3, 1.2, 1.6, 3],
            empty=none,
        ),
    ]
    data = pdf.render(
        pdf.Document(
            title=t("so.rep.title_of", unit=rep.unit_name, month=rep.month),
            meta=[
                f"{rep.unit_code} · {rep.unit_name}",
                t("so.rep.period", month=rep.month),
                t("so.rep.generated", moment=utcnow().strftime("%Y-%m-%d %H:%M UTC")),
            ],
            blocks=blocks,
            footer=t("so.rep.footer"),
        )
    )
    return data
