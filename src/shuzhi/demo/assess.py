"""Demo assessment: the DCMM models, a 2026 self-assessment round over every unit with the
platform's evidence collected, and two units part-way through answering and cross-review
(人社局 reviewed by 卫健委 and back): accepted answers, one returned with a reason, an
attached document and an improvement plan built from the gaps. Idempotent: once a round
exists nothing is created again."""

from __future__ import annotations

from datetime import date, timedelta

from shuzhi.assess import service
from shuzhi.assess.schemas import AnswerIn, ReviewIn, RoundIn
from shuzhi.context import Actor, Role, unit_of_work
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.org import service as org

PAIRS = {"RSJ": "WJW", "WJW": "RSJ"}
# Items each answering unit has evidence for, at levels 1 and 2.
ANSWERED = {
    "RSJ": (
        "governance.organisation",
        "governance.policies",
        "quality.checking",
        "architecture.metadata",
    ),
    "WJW": ("governance.organisation", "security.protection", "quality.requirements"),
}
RETURNED = ("RSJ", "quality.checking.l2", "制度文件缺少发布日期和签发单位，请补充正式印发版本。")
PDF = b"%PDF-1.4\n% demo evidence\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _person(ctx_unit: int, name: str, role: Role) -> Actor:
    return Actor(kind="user", id=None, name=name, role=role, unit_id=ctx_unit)


def build_assessment(database: Database, actor: Actor) -> None:
    with unit_of_work(database, actor) as ctx:
        if service.list_assessment_rounds(ctx):
            return
        service.seed_assessment_models(ctx)
        units = [u for u in org.all_unit_briefs(ctx) if u.kind in ("department", "street")]
        ids = {u.code: u.id for u in units}
        today = utcnow().date()
        opened = service.open_assessment_round(
            ctx,
            RoundIn(
                title=f"{today.year} 年度数据管理能力自评估",
                model_code="dcmm-2025",
                unit_codes=[u.code for u in units],
                period_start=date(today.year, 1, 1),
                period_end=date(today.year, 12, 31),
                deadline=today + timedelta(days=30),
                reviewers={k: v for k, v in PAIRS.items() if k in ids and v in ids},
            ),
        )
        service.collect_platform_evidence(ctx, opened.id)
    round_id = opened.id
    for code, items in ANSWERED.items():
        if code not in ids:
            continue
        liaison = _person(ids[code], f"{code.lower()}.liaison", Role.DATA_LIAISON)
        with unit_of_work(database, liaison) as ctx:
            for item in items:
                service.save_assessment_answer(
                    ctx,
                    round_id,
                    code,
                    f"{item}.l1",
                    AnswerIn(met=True, statement="已在本单位业务中开展，负责人明确。"),
                )
                service.save_assessment_answer(
                    ctx,
                    round_id,
                    code,
                    f"{item}.l2",
                    AnswerIn(met=True, statement="已印发本单位管理办法。"),
                )
                service.attach_assessment_document(
                    ctx, round_id, code, f"{item}.l2", "管理办法.pdf", PDF
                )
            service.submit_assessment_answers(ctx, round_id, code)
    for code, reviewer in PAIRS.items():
        if code not in ids or reviewer not in ids:
            continue
        cdo = _person(ids[reviewer], f"{reviewer.lower()}.cdo", Role.UNIT_CDO)
        with unit_of_work(database, cdo) as ctx:
            for item in ANSWERED[code]:
                for level in (1, 2):
                    indicator = f"{item}.l{level}"
                    if (code, indicator) == RETURNED[:2]:
                        decision = ReviewIn(decision="return", reason=RETURNED[2])
                    else:
                        decision = ReviewIn(decision="accept")
                    service.review_assessment_answer(ctx, round_id, code, indicator, decision)
            sheet = service.unit_assessment_sheet(ctx, round_id, code)
            for row in (r for d in sheet.domains for i in d.items for r in i.indicators):
                a = row.answer
                if a is not None and a.evidence == "platform" and a.state == "submitted":
                    service.review_assessment_answer(
                        ctx, round_id, code, row.indicator.code, ReviewIn(decision="accept")
                    )
    if "RSJ" in ids:
        with unit_of_work(database, _person(ids["RSJ"], "rsj.cdo", Role.UNIT_CDO)) as ctx:
            service.plan_from_gaps(
                ctx, round_id, "RSJ", "人社局数据管理科", today + timedelta(days=180)
            )
