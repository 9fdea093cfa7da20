"""Reports of a round: for one unit (domains, items, evidence, gaps, the change since its
previous closed round) and for the region (ranking, level distribution, domain heat map,
year-on-year change), and both as an Excel workbook. Self-assessments, never
certifications; the workbook's text cells can never be formulas."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select

from shuzhi.assess.events import AnswersViewed, ReportExported
from shuzhi.assess.models import AssessDocument, AssessRound, AssessRoundUnit, RoundStatus
from shuzhi.assess.schemas import (
    DomainResult,
    EvidenceRow,
    HeatRow,
    ItemLine,
    RankRow,
    RegionReport,
    UnitReport,
)
from shuzhi.assess.scoring import UnitScore
from shuzhi.assess.service.common import (
    answers_of,
    as_of,
    expired,
    get_round,
    indicator_of,
    require_see,
    round_unit,
    unit_of,
)
from shuzhi.assess.service.review import round_results, score_of, unit_gaps
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.security.cells import seal_workbook


def _earlier_closed(ctx: Ctx, r: AssessRound) -> list[AssessRound]:
    """Closed rounds before ``r`` (closed before it closed, or before now), newest first."""
    until = r.closed_at or utcnow()
    return list(
        ctx.db.scalars(
            select(AssessRound)
            .where(
                AssessRound.status == RoundStatus.CLOSED,
                AssessRound.id != r.id,
                AssessRound.closed_at < until,
            )
            .order_by(AssessRound.closed_at.desc(), AssessRound.id.desc())
        )
    )


def _previous(
    ctx: Ctx, earlier: list[AssessRound], unit_id: int
) -> tuple[AssessRound, UnitScore] | None:
    """The unit's latest earlier closed round, scored as it closed."""
    for r in earlier:
        held = ctx.db.scalar(
            select(func.count()).where(
                AssessRoundUnit.round_id == r.id, AssessRoundUnit.unit_id == unit_id
            )
        )
        if held:
            return r, score_of(ctx, r, unit_id)
    return None


def region_report(ctx: Ctx, round_id: int) -> RegionReport:
    """The units the actor may see, ranked, with the distribution of levels, a heat map of
    units × domains and each unit's change since its previous closed round."""
    results = round_results(ctx, round_id)
    r = get_round(ctx, round_id)
    earlier = _earlier_closed(ctx, r)
    ranked = sorted(results.units, key=lambda u: (-u.score, u.unit_code))
    ranking = []
    for n, u in enumerate(ranked, start=1):
        before = _previous(ctx, earlier, unit_of(ctx, u.unit_code).id)
        ranking.append(
            RankRow(
                rank=n,
                unit_code=u.unit_code,
                unit_name=u.unit_name,
                level=u.level,
                score=u.score,
                previous_round_id=before[0].id if before else None,
                previous_round_title=before[0].title if before else None,
                previous_level=before[1].level if before else None,
                previous_score=before[1].score if before else None,
                change=round(u.score - before[1].score, 3) if before else None,
            )
        )
    return RegionReport(
        round_id=r.id,
        title=r.title,
        model_code=r.model_code,
        status=str(r.status),
        levels=results.levels,
        domains=results.domain_means,
        ranking=ranking,
        distribution=results.distribution,
        heat=[
            HeatRow(
                unit_code=u.unit_code,
                unit_name=u.unit_name,
                scores=[d.score for d in u.domains],
                levels=[d.level for d in u.domains],
            )
            for u in ranked
        ],
    )


def unit_report(ctx: Ctx, round_id: int, unit_code: str) -> UnitReport:
    """One unit's report: domain scores, every item, every answer with its review, the gaps
    and the change since its previous closed round (reading it is audited)."""
    unit = unit_of(ctx, unit_code)
    require(ctx, "view_assessment")
    r = get_round(ctx, round_id)
    require_see(ctx, round_unit(ctx, round_id, unit.id))
    scored = score_of(ctx, r, unit.id)
    answers = answers_of(ctx, r.id, unit.id)
    counts = dict(
        ctx.db.execute(
            select(AssessDocument.answer_id, func.count())
            .where(AssessDocument.answer_id.in_([a.id for a in answers.values()]))
            .group_by(AssessDocument.answer_id)
        ).all()
    )
    moment = as_of(r)
    evidence = []
    for code, a in sorted(answers.items()):
        ind = indicator_of(r.snapshot, code)
        evidence.append(
            EvidenceRow(
                indicator=code,
                level=int(ind["level"]),
                evidence=a.evidence,
                state=a.state,
                met=a.met,
                value=a.value,
                verdict=a.verdict,
                provided_by=a.provided_by,
                provided_at=a.provided_at,
                expired=expired(a, int(ind["window_days"]), moment),
                documents=int(counts.get(a.id, 0)),
                links=list(a.details.get("links", [])),
            )
        )
    items = [
        ItemLine(
            domain_code=d["code"],
            domain_name_zh=d["name_zh"],
            domain_name_en=d["name_en"],
            item_code=i["code"],
            name_zh=i["name_zh"],
            name_en=i["name_en"],
            level=its.level,
            score=its.score,
            gaps=len(its.gaps),
        )
        for d, ds in zip(r.snapshot["domains"], scored.domains, strict=True)
        for i, its in zip(d["items"], ds.items, strict=True)
    ]
    before = _previous(ctx, _earlier_closed(ctx, r), unit.id)
    previous_domains: dict[str, float] = {}
    if before is not None:
        codes = [d["code"] for d in before[0].snapshot["domains"]]
        shared = {d["code"] for d in r.snapshot["domains"]}
        previous_domains = {
            c: ds.score for c, ds in zip(codes, before[1].domains, strict=True) if c in shared
        }
    record(ctx, AnswersViewed(round_id=r.id, unit=unit.id))
    return UnitReport(
        round_id=r.id,
        title=r.title,
        model_code=r.model_code,
        status=str(r.status),
        unit_code=unit.code,
        unit_name=unit.name,
        levels=r.snapshot["levels"],
        level=scored.level,
        score=scored.score,
        domains=[
            DomainResult(
                code=d["code"],
                name_zh=d["name_zh"],
                name_en=d["name_en"],
                level=ds.level,
                score=ds.score,
            )
            for d, ds in zip(r.snapshot["domains"], scored.domains, strict=True)
        ],
        previous_round_id=before[0].id if before else None,
        previous_round_title=before[0].title if before else None,
        previous_level=before[1].level if before else None,
        previous_score=before[1].score if before else None,
        previous_domains=previous_domains,
        items=items,
        evidence=evidence,
        gaps=unit_gaps(ctx, r, unit.id),
    )


def _title(sheet: Any, text: str) -> None:
    sheet.append([text])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["自评估结果，非认证结论 / a self-assessment, never a certification"])


def _save(book: Workbook) -> bytes:
    seal_workbook(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_report(ctx: Ctx, round_id: int, unit_code: str | None = None) -> bytes:
    """The region's report (or one unit's) as an Excel workbook (audited)."""
    if unit_code is None:
        return _region_workbook(ctx, round_id)
    report = unit_report(ctx, round_id, unit_code)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "总体"
    _title(sheet, f"{report.title} · {report.unit_name}")
    sheet.append(["等级", report.level, "得分", report.score])
    if report.previous_round_title is not None:
        sheet.append(
            ["上一轮", report.previous_round_title, report.previous_level, report.previous_score]
        )
    sheet.append(["能力域", "等级", "得分", "上一轮得分"])
    for d in report.domains:
        sheet.append([d.name_zh, d.level, d.score, report.previous_domains.get(d.code)])
    items = book.create_sheet("能力项")
    items.append(["能力域", "能力项", "等级", "得分", "差距指标数"])
    for i in report.items:
        items.append([i.domain_name_zh, i.name_zh, i.level, i.score, i.gaps])
    evidence = book.create_sheet("佐证")
    evidence.append(
        [
            "指标",
            "级别",
            "类型",
            "状态",
            "达标",
            "数值",
            "结论",
            "提供人",
            "提供时间",
            "已过期",
            "材料数",
        ]
    )
    for e in report.evidence:
        evidence.append(
            [
                e.indicator,
                e.level,
                str(e.evidence),
                str(e.state),
                "是" if e.met else "否",
                e.value,
                str(e.verdict) if e.verdict else None,
                e.provided_by,
                e.provided_at.replace(tzinfo=None),
                "是" if e.expired else "否",
                e.documents,
            ]
        )
    gaps = book.create_sheet("差距")
    gaps.append(["能力项", "当前等级", "目标等级", "指标", "要求"])
    for g in report.gaps:
        gaps.append([g.item_name_zh, g.level, g.next_level, g.indicator, g.text_zh])
    unit = unit_of(ctx, unit_code)
    record(ctx, ReportExported(round_id=round_id, unit=unit.id, file_format="xlsx"))
    return _save(book)


def _region_workbook(ctx: Ctx, round_id: int) -> bytes:
    report = region_report(ctx, round_id)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "排名"
    _title(sheet, report.title)
    sheet.append(["名次", "单位", "等级", "得分", "上一轮", "上一轮等级", "上一轮得分", "变化"])
    for row in report.ranking:
        sheet.append(
            [
                row.rank,
                row.unit_name,
                row.level,
                row.score,
                row.previous_round_title,
                row.previous_level,
                row.previous_score,
                row.change,
            ]
        )
    spread = book.create_sheet("等级分布")
    spread.append(["等级", "单位数"])
    for n, count in enumerate(report.distribution):
        spread.append([report.levels[n - 1][0] if n else "未达 1 级", count])
    heat = book.create_sheet("能力域热力")
    heat.append(["单位", *(d.name_zh for d in report.domains)])
    for h in report.heat:
        heat.append([h.unit_name, *h.scores])
    heat.append(["全区平均", *(d.score for d in report.domains)])
    record(ctx, ReportExported(round_id=round_id, unit=None, file_format="xlsx"))
    return _save(book)
