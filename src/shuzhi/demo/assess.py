"""Demo assessment: the DCMM models; last year's round on the 2018 model, completed and
closed, with units at varied levels; and this year's round on the 2025 model over every
department and street, the platform's evidence collected, two units part-way through
answering and cross-review (人社局 reviewed by 卫健委 and back): accepted answers, one
returned with a reason, one gone stale (expired), an attached document and an improvement
plan built from the gaps. Idempotent: once a round exists nothing is created again.

Last year cannot be lived through in a minute: the closed round is run through the services
today and then moved back in time (its dates and its answers' dates), as the cockpit's demo
writes its history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from shuzhi.assess import service
from shuzhi.assess.models import AssessAnswer, AssessRound
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
STALE = ("WJW", "security.protection.l1", 120)  # (unit, indicator, days old)
PREVIOUS_UNITS = 8  # departments assessed last year
PDF = b"%PDF-1.4\n% demo evidence\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _person(ctx_unit: int, name: str, role: Role) -> Actor:
    return Actor(kind="user", id=None, name=name, role=role, unit_id=ctx_unit)


def _previous_round(database: Database, actor: Actor, today: date) -> None:
    """Last year's round on the 2018 model: unit n of the list meets level 1 on every item,
    level 2 on the first 4·n items and level 3 on the first 3·n − 9; the bureau reviews;
    then the round is closed and moved back to last December."""
    year = today.year - 1
    with unit_of_work(database, actor) as ctx:
        departments = [u for u in org.all_unit_briefs(ctx) if u.kind == "department"]
        units = departments[:PREVIOUS_UNITS]
        opened = service.open_assessment_round(
            ctx,
            RoundIn(
                title=f"{year} 年度数据管理能力自评估",
                model_code="dcmm-2018",
                unit_codes=[u.code for u in units],
                period_start=date(year, 1, 1),
                period_end=date(year, 12, 31),
                deadline=today + timedelta(days=1),
            ),
        )
        service.collect_platform_evidence(ctx, opened.id)
        model = service.get_assessment_model(ctx, "dcmm-2018")
    items = [i for d in model.domains for i in d.items]
    for n, unit in enumerate(units):
        liaison = _person(unit.id, f"{unit.code.lower()}.liaison", Role.DATA_LIAISON)
        with unit_of_work(database, liaison) as ctx:
            for k, item in enumerate(items):
                service.save_assessment_answer(
                    ctx, opened.id, unit.code, f"{item.code}.l1", AnswerIn(met=True)
                )
                for level, reached in ((2, 4 * n), (3, 3 * n - 9)):
                    if k < reached:
                        code = f"{item.code}.l{level}"
                        service.save_assessment_answer(
                            ctx, opened.id, unit.code, code,
                            AnswerIn(met=True, statement="已印发并执行本单位管理办法。"),
                        )  # fmt: skip
                        service.attach_assessment_document(
                            ctx, opened.id, unit.code, code, "管理办法.pdf", PDF
                        )
            service.submit_assessment_answers(ctx, opened.id, unit.code)
    bureau = Actor(kind="user", id=None, name="executive", role=Role.CDO_EXECUTIVE)
    with unit_of_work(database, bureau) as ctx:
        for unit in units:
            for a in service.unit_answers(ctx, opened.id, unit.code):
                if a.state == "submitted":
                    service.review_assessment_answer(
                        ctx, opened.id, unit.code, a.indicator, ReviewIn(decision="accept")
                    )
        service.close_assessment_round(ctx, opened.id)
    closed = datetime(year, 12, 20, 8, tzinfo=UTC)
    with unit_of_work(database, actor) as ctx:
        ctx.db.execute(
            update(AssessRound)
            .where(AssessRound.id == opened.id)
            .values(
                opened_at=datetime(year, 11, 1, 2, tzinfo=UTC),
                deadline=date(year, 12, 15),
                closed_at=closed,
            )
        )
        ctx.db.execute(
            update(AssessAnswer)
            .where(AssessAnswer.round_id == opened.id)
            .values(
                provided_at=closed - timedelta(days=30), reviewed_at=closed - timedelta(days=10)
            )
        )


def build_assessment(database: Database, actor: Actor) -> None:
    with unit_of_work(database, actor) as ctx:
        if service.list_assessment_rounds(ctx):
            return
        service.seed_assessment_models(ctx)
    _previous_round(database, actor, utcnow().date())
    with unit_of_work(database, actor) as ctx:
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
    if STALE[0] in ids:
        # Evidence given long ago and never renewed: it no longer counts.
        unit, indicator, days = STALE
        with unit_of_work(database, actor) as ctx:
            ctx.db.execute(
                update(AssessAnswer)
                .where(
                    AssessAnswer.round_id == round_id,
                    AssessAnswer.unit_id == ids[unit],
                    AssessAnswer.indicator == indicator,
                )
                .values(provided_at=utcnow() - timedelta(days=days))
            )
    if "RSJ" in ids:
        with unit_of_work(database, _person(ids["RSJ"], "rsj.cdo", Role.UNIT_CDO)) as ctx:
            service.plan_from_gaps(
                ctx, round_id, "RSJ", "人社局数据管理科", today + timedelta(days=180)
            )
