"""The annual risk assessment report of an important-data processor (重要数据处理者风险评估
报告), per unit and year: a printable console page and a PDF made on the server.

Its parts follow what the Data Security Law (Art. 30) and the network data security
regulations of 2024 ask such a report to cover: who processes the data and who answers for
it; the kinds and volumes of important data; the processing activities (collection and
storage, sharing, opening, analysis in the sandbox); the safeguards in place (the
questionnaire); the risks found, each with its measure; the security incidents and drills
of the year. Everything is counts: no value of any dataset is printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import func, select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.documents import pdf
from shuzhi.errors import Invalid, NotFound
from shuzhi.org import service as org
from shuzhi.org.schemas import FilingStatus, Position
from shuzhi.secops import risk
from shuzhi.secops.models import Alert, Incident
from shuzhi.secops.risk_events import RiskReportExported
from shuzhi.secops.risk_models import RiskAssessment, RiskSubject, SubjectKind
from shuzhi.secops.risk_schemas import ReportDataset, ReportRisk, RiskReport
from shuzhi.secops.service.risk import question_list, review_due, unit_subject
from shuzhi.secops.texts import TEXTS
from shuzhi.security.categories import CATEGORY_INFO, Category

# What to do about each factor (questionnaire items: put the safeguard in place).
MEASURES: Mapping[str, tuple[str, str]] = {
    "grade": (
        "按定级落实相应保护措施，定期复核定级结果。",
        "Apply the protection its grade requires and review the grade periodically.",
    ),
    "personal": (
        "最小必要处理个人信息，对外提供时默认脱敏。",
        "Process only the personal information needed; mask it by default when provided.",
    ),
    "important_candidate": (
        "组织认定是否属于重要数据，并按认定结果管理。",
        "Decide whether it is important data and manage it accordingly.",
    ),
    "consumers": (
        "复核各项授权的必要性，收回不再需要的授权。",
        "Review whether each grant is still needed and revoke those that are not.",
    ),
    "masking": (
        "对明文提供的个人信息字段改为脱敏或假名化提供。",
        "Provide the personal-information columns shown in clear masked or pseudonymised.",
    ),
    "publication": (
        "确认开放数据已去标识化，必要时关闭开放。",
        "Confirm the open data is de-identified; close the opening if in doubt.",
    ),
    "sandbox": (
        "检查沙箱授权的字段角色和最小分组，按需收紧。",
        "Check the sandbox grants' column roles and minimum group size; tighten as needed.",
    ),
    "quality": (
        "处理数据质量问题，提高数据准确性。",
        "Resolve the quality issues so the data is accurate.",
    ),
    "stale_grants": (
        "对生效一年以上的授权开展复核或续期审查。",
        "Review or renew the grants in force for over a year.",
    ),
    "datasets": (
        "优先处置风险最高的数据集。",
        "Deal with the riskiest datasets first.",
    ),
    "important_datasets": (
        "对重要数据实行重点保护，每年开展风险评估。",
        "Protect important data specially and assess its risk every year.",
    ),
    "keys_without_expiry": (
        "为 API 密钥设置有效期并定期轮换。",
        "Give API keys an expiry date and rotate them.",
    ),
    "broad_roles": (
        "按最小权限收回多余的首席数据官级账号权限。",
        "Withdraw the CDO-level roles not needed (least privilege).",
    ),
    "grants_received": (
        "确认所持授权仍为履职所需，不再需要的申请撤销。",
        "Confirm the grants held are still needed for the unit's duties; give up the rest.",
    ),
}
QUESTION_MEASURE = ("落实问卷所列安全措施。", "Put the safeguard the question names in place.")


def _year(year: int | None) -> int:
    now = utcnow()
    chosen = year or now.year
    if chosen < 2000 or chosen > now.year:
        raise Invalid.field(
            "year",
            f"年度须在 2000 至 {now.year} 之间。",
            f"The year must be between 2000 and {now.year}.",
        )
    return chosen


def _category_names(ctx: Ctx, counts: Mapping[str, int]) -> dict[str, int]:
    """Column categories by their name in the reader's language (columns of no personal or
    identifying kind left out)."""
    named: dict[str, int] = {}
    for code, n in sorted(counts.items()):
        try:
            found = CATEGORY_INFO.get(Category(code))
        except ValueError:
            found = None
        if found is None or code == Category.NONE.value:
            continue
        label = found.label_en if ctx.locale == "en" else found.label_zh
        named[label] = named.get(label, 0) + int(n)
    return named


def _dataset_line(ctx: Ctx, r: RiskSubject, a: RiskAssessment) -> ReportDataset:
    f = a.facts
    return ReportDataset(
        resource_code=r.resource_code or "",
        name=r.name,
        level=str(f.get("level", "")),
        rows=int(f.get("rows", 0)),
        individuals=int(f.get("individuals", 0)),
        personal=any(x.get("factor") == "personal" for x in a.reasons),
        sensitive=any(x.get("factor") == "personal" and x.get("points") == 10 for x in a.reasons),
        categories=_category_names(ctx, f.get("categories", {})),
        grants=int(f.get("grants", 0)),
        consumer_units=int(f.get("consumer_units", 0)),
        open_publications=int(f.get("open_publications", 0)),
        score=a.score,
        risk_level=a.level,
    )


def _risks(subject: str, a: RiskAssessment) -> list[ReportRisk]:
    """The reasons that added points, each with what to do about it."""
    found = []
    for x in a.reasons:
        if int(x.get("points", 0)) <= 0:
            continue
        factor = str(x.get("factor", ""))
        zh, en = MEASURES.get(factor, QUESTION_MEASURE)
        found.append(
            ReportRisk(
                subject=subject,
                factor=factor,
                points=int(x["points"]),
                zh=str(x.get("zh", "")),
                en=str(x.get("en", "")),
                measure_zh=zh,
                measure_en=en,
            )
        )
    return found


def _year_events(ctx: Ctx, unit_id: int, year: int) -> tuple[int, int, int]:
    """(incidents, drills, alerts) of the unit in the year."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    opened = dict(
        ctx.db.execute(
            select(Incident.drill, func.count())
            .where(
                Incident.unit_id == unit_id, Incident.opened_at >= start, Incident.opened_at < end
            )
            .group_by(Incident.drill)
        ).all()
    )
    alerts = ctx.db.scalar(
        select(func.count())
        .select_from(Alert)
        .where(Alert.unit_id == unit_id, Alert.first_seen >= start, Alert.first_seen < end)
    )
    return int(opened.get(False, 0)), int(opened.get(True, 0)), int(alerts or 0)


def _officers(ctx: Ctx, unit_code: str) -> list[str]:
    """Who answers for data security: the unit's filed CDO appointments."""
    found = []
    for a in org.list_appointments(
        risk.system(ctx), status=FilingStatus.FILED, unit_code=unit_code
    ):
        if a.position in (Position.UNIT_CDO, Position.CDO, Position.CDO_EXECUTIVE):
            zh, en = TEXTS[f"so.risk.position.{a.position.value}"]
            found.append(
                f"{a.person_name} ({en})" if ctx.locale == "en" else f"{a.person_name}（{zh}）"
            )
    return found


def risk_report(ctx: Ctx, unit_code: str, year: int | None = None, fmt: str = "html") -> RiskReport:
    """The report's content for one unit and year (audited as an export: it gathers the
    register's evidence of the unit)."""
    unit_id = org.unit_id_for_code(ctx, unit_code.strip())
    brief = org.unit_brief(ctx, unit_id) if unit_id is not None else None
    if unit_id is None or brief is None:
        raise NotFound("单位不存在。", "No such unit.")
    require(ctx, "export_risk_report", unit_id, unit_code)
    chosen = _year(year)
    rows = list(ctx.db.scalars(select(RiskSubject).where(RiskSubject.unit_id == unit_id)))
    ids = [r.current_id for r in rows if r.current_id]
    current = {
        a.subject: a
        for a in ctx.db.scalars(select(RiskAssessment).where(RiskAssessment.id.in_(ids)))
    }
    unit_row = next((r for r in rows if r.subject == unit_subject(unit_id)), None)
    datasets: list[ReportDataset] = []
    risks: list[ReportRisk] = []
    for r in sorted(rows, key=lambda r: (r.kind != SubjectKind.UNIT, -r.score, r.subject)):
        a = current.get(r.subject)
        if a is None:
            continue
        if r.kind == SubjectKind.DATASET:
            datasets.append(_dataset_line(ctx, r, a))
        risks += _risks(r.name if r.kind == SubjectKind.DATASET else brief.name, a)
    unit_facts = current[unit_row.subject].facts if unit_row and unit_row.subject in current else {}
    incidents, drills, alerts = _year_events(ctx, unit_id, chosen)
    report = RiskReport(
        unit_id=unit_id,
        unit_code=brief.code,
        unit_name=brief.name,
        year=chosen,
        generated_at=utcnow(),
        officers=_officers(ctx, brief.code),
        unit_score=unit_row.score if unit_row else 0,
        unit_level=unit_row.level if unit_row else "low",
        datasets=datasets,
        important=[d for d in datasets if d.level in ("important", "core")],
        processing={
            "datasets": len(datasets),
            "rows": sum(d.rows for d in datasets),
            "individuals": sum(d.individuals for d in datasets),
            "grants": sum(d.grants for d in datasets),
            "open_publications": sum(d.open_publications for d in datasets),
            "grants_received": int(unit_facts.get("grants_received", 0)),
        },
        questions=question_list(ctx, unit_row) if unit_row else [],
        risks=sorted(risks, key=lambda x: -x.points),
        incidents=incidents,
        drills=drills,
        alerts=alerts,
        overdue=bool(unit_row and review_due(ctx, unit_row) < utcnow()),
    )
    record(ctx, RiskReportExported(unit=unit_id, year=chosen, file_format=fmt))
    return report


# ---------------------------------------------------------------- PDF


def _t(ctx: Ctx, key: str, **values: object) -> str:
    zh, en = TEXTS[key]
    text = en if ctx.locale == "en" else zh
    return text.format(**values) if values else text


def _lv(ctx: Ctx, level: str) -> str:
    zh, en = risk.LEVEL_NAMES.get(level, (level, level))
    return en if ctx.locale == "en" else zh


def _national(ctx: Ctx, level: str) -> str:
    key = f"so.risk.national.{level}"
    return _t(ctx, key) if key in TEXTS else (level or "—")


def export_risk_report_pdf(ctx: Ctx, unit_code: str, year: int | None = None) -> bytes:
    """The report as a PDF file, in the reader's language (audited as a download)."""
    return pdf.render(report_document(ctx, risk_report(ctx, unit_code, year, fmt="pdf")))


def _basic(ctx: Ctx, rep: RiskReport) -> list[pdf.Block]:
    t = _t
    return [
        pdf.Heading(t(ctx, "so.risk.r.basic")),
        pdf.Table(
            [t(ctx, "so.risk.r.item"), t(ctx, "so.risk.r.value")],
            [
                [t(ctx, "so.risk.r.processor"), rep.unit_name],
                [t(ctx, "so.risk.r.unit_code"), rep.unit_code],
                [t(ctx, "so.risk.r.officers"), "；".join(rep.officers) or None],
                [t(ctx, "so.risk.r.unit_score"), f"{rep.unit_score} · {_lv(ctx, rep.unit_level)}"],
            ],
            widths=[1, 2.5],
        ),
    ]


def _important(ctx: Ctx, rep: RiskReport) -> list[pdf.Block]:
    t = _t
    header = ["so.risk.r.dataset", "so.risk.r.grade", "so.risk.r.rows", "so.risk.r.individuals"]
    return [
        pdf.Heading(t(ctx, "so.risk.r.important")),
        pdf.Table(
            [*(t(ctx, k) for k in header), t(ctx, "so.risk.r.kinds")],
            [
                [
                    f"{d.name} ({d.resource_code})",
                    _national(ctx, d.level),
                    d.rows,
                    d.individuals,
                    "; ".join(f"{k} ×{n}" for k, n in sorted(d.categories.items())),
                ]
                for d in rep.important
            ],
            widths=[3, 1.2, 1, 1, 3],
            empty=t(ctx, "so.risk.r.no_important"),
        ),
    ]


def _activities(ctx: Ctx, rep: RiskReport) -> list[pdf.Block]:
    t = _t
    p = rep.processing
    header = ["so.risk.r.dataset", "so.risk.r.grade", "so.risk.r.rows", "so.risk.r.grants"]
    header += ["so.risk.r.consumers", "so.risk.r.open", "so.risk.score"]
    return [
        pdf.Heading(t(ctx, "so.risk.r.activities")),
        pdf.Paragraph(
            t(
                ctx,
                "so.risk.r.activities_text",
                datasets=p["datasets"],
                rows=p["rows"],
                grants=p["grants"],
                opened=p["open_publications"],
                received=p["grants_received"],
            )
        ),
        pdf.Table(
            [t(ctx, k) for k in header],
            [
                [
                    f"{d.name} ({d.resource_code})",
                    _national(ctx, d.level),
                    d.rows,
                    d.grants,
                    d.consumer_units,
                    d.open_publications,
                    f"{d.score} · {_lv(ctx, d.risk_level)}",
                ]
                for d in rep.datasets
            ],
            widths=[3, 1.2, 1, 0.8, 0.8, 0.8, 1.2],
            empty=t(ctx, "so.risk.r.none"),
        ),
    ]


def _safeguards(ctx: Ctx, rep: RiskReport) -> list[pdf.Block]:
    t = _t
    en = ctx.locale == "en"

    def answer(value: str | None) -> str:
        return t(ctx, f"so.risk.answer.{value}") if value else t(ctx, "so.risk.unanswered")

    return [
        pdf.Heading(t(ctx, "so.risk.r.safeguards")),
        pdf.Table(
            [t(ctx, "so.risk.question"), t(ctx, "so.risk.answer")],
            [[q.text_en if en else q.text_zh, answer(q.answer)] for q in rep.questions],
            widths=[4, 1],
            empty=t(ctx, "so.risk.r.none"),
        ),
    ]


def _risks_found(ctx: Ctx, rep: RiskReport) -> list[pdf.Block]:
    t = _t
    en = ctx.locale == "en"
    header = ["so.risk.r.subject", "so.risk.r.risk", "so.risk.points", "so.risk.r.measure"]
    return [
        pdf.Heading(t(ctx, "so.risk.r.risks")),
        pdf.Table(
            [t(ctx, k) for k in header],
            [
                [x.subject, x.en if en else x.zh, x.points, x.measure_en if en else x.measure_zh]
                for x in rep.risks
            ],
            widths=[1.6, 3, 0.6, 3],
            empty=t(ctx, "so.risk.r.none"),
        ),
    ]


def report_document(ctx: Ctx, rep: RiskReport) -> pdf.Document:
    """The report as a document: its six parts, in the reader's language."""
    t = _t
    blocks: list[pdf.Block] = [
        *_basic(ctx, rep),
        *_important(ctx, rep),
        *_activities(ctx, rep),
        *_safeguards(ctx, rep),
        *_risks_found(ctx, rep),
        pdf.Heading(t(ctx, "so.risk.r.incidents")),
        pdf.Paragraph(
            t(
                ctx,
                "so.risk.r.incidents_text",
                year=rep.year,
                incidents=rep.incidents,
                drills=rep.drills,
                alerts=rep.alerts,
            )
        ),
    ]
    if rep.overdue:
        blocks.append(pdf.Paragraph(t(ctx, "so.risk.r.overdue"), note=True))
    return pdf.Document(
        title=t(ctx, "so.risk.r.title", year=rep.year),
        meta=[
            rep.unit_name,
            t(ctx, "so.risk.r.generated", moment=rep.generated_at.strftime("%Y-%m-%d %H:%M UTC")),
        ],
        blocks=blocks,
        footer=t(ctx, "so.risk.r.footer"),
    )
