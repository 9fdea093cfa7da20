"""The risk register: scores with reasons from what the platform knows, the questionnaire,
history, re-assessment through the seam, overdue confirmations, visibility per unit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from shuzhi.audit import service as audit
from shuzhi.cockpit import service as cockpit
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.secops import risk, service
from shuzhi.secops.risk_models import RiskAnswer, RiskAssessment, RiskQuestion, RiskSubject
from shuzhi.secops.risk_questions import DEFAULT_QUESTIONS
from shuzhi.secops.risk_schemas import AnswersIn, SweepOut
from shuzhi.sharing import service as sharing
from shuzhi.sharing.models import Grant
from shuzhi.validation import parse
from tests.conftest import acting
from tests.gateway.helpers import Shared, share


def sweep(database: Database) -> SweepOut:
    with acting(database, SYSTEM) as ctx:
        return service.reassess_due(ctx)


def registered(database: Database) -> Shared:
    """B's people dataset shared with an application of A, entered in the register."""
    shared = share(database)
    sweep(database)
    return shared


def _subject(database: Database, subject: str) -> RiskSubject:
    with database.sessions() as session:
        row = session.scalar(select(RiskSubject).where(RiskSubject.subject == subject))
        assert row is not None
        session.expunge(row)
        return row


def _answers(kind: str, value: str) -> AnswersIn:
    return AnswersIn.model_validate(
        {
            "answers": [
                {"question": q[0], "answer": value} for q in DEFAULT_QUESTIONS if q[1] == kind
            ]
        }
    )


# ---------------------------------------------------------------- pure scoring


def _facts(**over: Any) -> risk.DatasetFacts:
    base = risk.DatasetFacts(
        resource_code="X",
        name="X",
        unit_id=1,
        loaded=True,
        level="general_2",
        level_label="一般数据2级 / general 2",
        personal=True,
        sensitive=False,
        important_candidate=False,
        rows=100,
        individuals=100,
        categories={"person_name": 1},
        protected_columns=frozenset({"姓名"}),
        quality=95.0,
        grants=[],
        open_publications=0,
        now=utcnow(),
    )
    return replace(base, **over)


def test_each_factor_gives_its_points_and_a_reason_in_both_languages() -> None:
    plain = risk.assess_dataset(_facts(), [])
    assert [(r.factor, r.points) for r in plain] == [("grade", 5), ("personal", 5)]
    heavy = risk.assess_dataset(
        _facts(level="important", sensitive=True, quality=50.0, open_publications=1), []
    )
    points = {r.factor: r.points for r in heavy}
    assert points == {"grade": 30, "personal": 10, "publication": 15, "quality": 6}
    assert all(r.zh and r.en and r.zh != r.en for r in heavy)
    total, level = risk.score(heavy)
    assert (total, level) == (61, "high")


def test_every_evidence_count_has_a_name_in_both_languages() -> None:
    from shuzhi.secops.texts import TEXTS

    reasons = risk.assess_dataset(
        _facts(level="important", important_candidate=True, quality=40.0, open_publications=1),
        [],
    ) + risk.assess_unit(risk.UnitFacts(1, "A", [("X", 80, "important")], 2, 5, 3, utcnow()), [])
    keys = {k for r in reasons for k in r.evidence}
    assert {"rows", "individuals", "datasets", "keys", "accounts", "score"} <= keys
    for k in keys:
        zh, en = TEXTS[f"so.risk.ev.{k}"]
        assert zh and en


def test_questionnaire_no_counts_fully_unanswered_half() -> None:
    questions = [
        risk.QuestionState("a", 6, "甲", "A", "no"),
        risk.QuestionState("b", 5, "乙", "B", None),
        risk.QuestionState("c", 8, "丙", "C", "yes"),
        risk.QuestionState("d", 8, "丁", "D", "not_applicable"),
    ]
    found = risk.questionnaire_factor(questions)
    assert [(r.factor, r.points) for r in found] == [("q:a", 6), ("q:b", 2)]


@given(st.lists(st.integers(min_value=0, max_value=60), max_size=20))
def test_score_is_capped_and_the_level_follows_the_thresholds(points: list[int]) -> None:
    reasons = [risk.Reason(f"f{i}", p, "z", "e") for i, p in enumerate(points)]
    total, level = risk.score(reasons)
    assert total == min(100, sum(points))
    assert 0 <= total <= 100
    expected = next(lv for bound, lv in risk.LEVELS if total >= bound)
    assert level == expected


@given(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=100))
def test_a_higher_score_never_has_a_lower_level(a: int, b: int) -> None:
    order = [lv for _, lv in reversed(risk.LEVELS)]
    low, high = sorted((a, b))
    assert order.index(risk.level_of(low)) <= order.index(risk.level_of(high))


# ---------------------------------------------------------------- the register


def test_questions_are_seeded_as_data(database: Database) -> None:
    with database.sessions() as session:
        codes = set(session.scalars(select(RiskQuestion.code)))
    assert codes == {q[0] for q in DEFAULT_QUESTIONS}


def test_the_sweep_enters_datasets_and_units_with_scores_reasons_and_counts(
    database: Database,
) -> None:
    shared = registered(database)
    with acting(database, SYSTEM) as ctx:
        detail = service.get_risk_subject(ctx, f"dataset:{shared.code}")
        unit_b = service.get_risk_subject(ctx, f"unit:{shared.seeded.unit_ids['B']}")
        unit_a = service.get_risk_subject(ctx, f"unit:{shared.seeded.unit_ids['A']}")
    factors = {r.factor: r for r in detail.reasons}
    # people with resident IDs and phones: graded 3级 or above; a grant to one consumer unit
    assert factors["grade"].points == risk.GRADE_POINTS[detail.facts["level"]] >= 10
    assert factors["consumers"].evidence == {"grants": 1, "consumer_units": 1}
    assert factors["personal"].points in (5, 10)
    # unanswered questions count half
    assert sum(1 for r in detail.reasons if r.factor.startswith("q:")) == 6
    assert detail.score == min(100, sum(r.points for r in detail.reasons))
    assert detail.level == risk.level_of(detail.score)
    assert detail.facts["grants"] == 1 and detail.facts["rows"] == 30
    # evidence is counts only: no consumer unit, application or value is named
    text = detail.model_dump_json()
    assert shared.app not in text and "区甲局" not in text
    assert "datasets" in {r.factor for r in unit_b.reasons}
    assert "grants_received" in {r.factor for r in unit_a.reasons}
    assert len(detail.history) == 1 and detail.history[0].trigger == "new"


def test_a_revoked_grant_marks_the_subjects_stale_and_the_sweep_reassesses(
    database: Database,
) -> None:
    shared = registered(database)
    subject = f"dataset:{shared.code}"
    before = _subject(database, subject)
    assert not before.stale
    with database.sessions() as session:
        grant_id = session.scalar(select(Grant.id).order_by(Grant.id.desc()))
    assert grant_id is not None
    with acting(database, SYSTEM) as ctx:
        sharing.revoke_grant(ctx, grant_id, "测试撤销该共享授权的理由")
    stale = _subject(database, subject)
    assert stale.stale and stale.stale_reason == "grant_revoked"
    assert _subject(database, f"unit:{shared.seeded.unit_ids['A']}").stale
    # not re-assessed on the request path: the assessment is still the old one
    assert stale.current_id == before.current_id
    done = sweep(database)
    assert subject in done.subjects
    after = _subject(database, subject)
    assert not after.stale and after.score < before.score
    with acting(database, SYSTEM) as ctx:
        detail = service.get_risk_subject(ctx, subject)
    assert [h.trigger for h in detail.history] == ["grant_revoked", "new"]
    assert [h.score for h in detail.history] == [after.score, before.score]
    assert "consumers" not in {r.factor for r in detail.reasons}
    # nothing changed since: the next run assesses nothing
    assert sweep(database).assessed == 0


def test_the_daily_reread_keeps_an_unchanged_assessment(database: Database) -> None:
    shared = registered(database)
    subject = f"dataset:{shared.code}"
    with database.sessions.begin() as session:
        session.execute(update(RiskSubject).values(assessed_at=utcnow() - timedelta(days=2)))
    done = sweep(database)
    assert subject in done.subjects
    row = _subject(database, subject)
    assert row.assessed_at is not None and row.assessed_at > utcnow() - timedelta(minutes=5)
    with acting(database, SYSTEM) as ctx:
        assert len(service.get_risk_subject(ctx, subject).history) == 1
        unit_b = f"unit:{shared.seeded.unit_ids['B']}"
        assert len(service.get_risk_subject(ctx, unit_b).history) == 1


def test_a_new_grant_marks_the_dataset_stale(database: Database) -> None:
    shared = registered(database)
    from tests.sharing.helpers import application, approve, request

    app = application(database, "A")
    liaison = shared.seeded.actor(Role.DATA_LIAISON)
    req = request(database, liaison, shared.code, app, columns=["姓名", "年龄"])
    approve(database, shared.seeded, req.id)
    row = _subject(database, f"dataset:{shared.code}")
    assert row.stale and row.stale_reason == "grant_issued"


def test_answers_feed_the_score_and_bad_answers_store_nothing(database: Database) -> None:
    shared = registered(database)
    subject = f"dataset:{shared.code}"
    cdo_b = shared.seeded.other_unit_actor(Role.UNIT_CDO)
    before = _subject(database, subject).score
    bad = AnswersIn.model_validate(
        {
            "answers": [
                {"question": "ds_purpose", "answer": "no"},
                {"question": "unit_rules", "answer": "yes"},  # a unit question
                {"question": "nonexistent", "answer": "yes"},
            ]
        }
    )
    with pytest.raises(Invalid) as err, acting(database, cdo_b) as ctx:
        service.answer_risk_questions(ctx, subject, bad)
    assert {e.field for e in err.value.errors} == {"answers.1.question", "answers.2.question"}
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RiskAnswer)) == 0
    with pytest.raises(Invalid):
        parse(AnswersIn, {"answers": [{"question": "ds_purpose", "answer": "maybe"}]})
    with acting(database, cdo_b) as ctx:
        detail = service.answer_risk_questions(ctx, subject, _answers("dataset", "no"))
    assert detail.score == before + sum(
        q[2] - q[2] // 2 for q in DEFAULT_QUESTIONS if q[1] == "dataset"
    )
    q = next(q for q in detail.questions if q.code == "ds_purpose")
    assert q.answer == "no" and q.answered_by == cdo_b.label and q.answered_at is not None
    with acting(database, cdo_b) as ctx:
        yes = service.answer_risk_questions(ctx, subject, _answers("dataset", "yes"))
    assert not any(r.factor.startswith("q:") for r in yes.reasons)
    assert yes.history[0].trigger == "questionnaire" and len(yes.history) == 3


def test_confirmation_needs_every_answer_and_resets_the_overdue_clock(
    database: Database,
) -> None:
    shared = registered(database)
    unit_b = shared.seeded.unit_ids["B"]
    subject = f"unit:{unit_b}"
    cdo_b = shared.seeded.other_unit_actor(Role.UNIT_CDO)
    with pytest.raises(Invalid), acting(database, cdo_b) as ctx:
        service.confirm_risk_assessment(ctx, subject)
    # a year and a day in the register without confirmation: overdue
    with database.sessions.begin() as session:
        session.execute(update(RiskSubject).values(created_at=utcnow() - timedelta(days=366)))
    with acting(database, cdo_b) as ctx:
        listed = service.risk_register(ctx)
        assert listed.overdue == len(listed.items) >= 2
        assert cockpit_count(ctx, None) == listed.overdue
    with acting(database, cdo_b) as ctx:
        service.answer_risk_questions(ctx, subject, _answers("unit", "yes"))
        done = service.confirm_risk_assessment(ctx, subject)
    assert done.reviewed_by == cdo_b.label and not done.overdue
    assert done.review_due is not None and done.review_due > utcnow() + timedelta(days=364)
    with acting(database, cdo_b) as ctx:
        assert service.risk_register(ctx, overdue=True).overdue == len(listed.items) - 1


def cockpit_count(ctx: Ctx, unit_id: int | None) -> int | None:
    return service.overdue_risk_assessments(ctx, unit_id)


def test_the_review_period_is_a_setting_and_important_data_stays_yearly(
    database: Database,
) -> None:
    shared = registered(database)
    database.settings = replace(database.settings, secops_risk_review_days=730)
    with database.sessions.begin() as session:
        session.execute(update(RiskSubject).values(created_at=utcnow() - timedelta(days=400)))
        session.execute(
            update(RiskSubject)
            .where(RiskSubject.subject == f"dataset:{shared.code}")
            .values(important=True)
        )
    with acting(database, SYSTEM) as ctx:
        items = {i.subject: i for i in service.risk_register(ctx).items}
    assert items[f"dataset:{shared.code}"].overdue
    assert not items[f"unit:{shared.seeded.unit_ids['B']}"].overdue


def test_a_unit_sees_only_its_own_subjects(database: Database) -> None:
    shared = registered(database)
    cdo_a = shared.seeded.actor(Role.UNIT_CDO)
    with acting(database, cdo_a) as ctx:
        listed = service.risk_register(ctx)
    assert {i.unit_id for i in listed.items} == {shared.seeded.unit_ids["A"]}
    for call in (
        lambda c: service.get_risk_subject(c, f"dataset:{shared.code}"),
        lambda c: service.reassess_risk(c, f"dataset:{shared.code}"),
        lambda c: service.answer_risk_questions(
            c, f"dataset:{shared.code}", _answers("dataset", "yes")
        ),
        lambda c: service.risk_report(c, "B"),
    ):
        with pytest.raises(Forbidden), acting(database, cdo_a) as ctx:
            call(ctx)
    with acting(database, shared.seeded.actor(Role.AUDITOR)) as ctx:
        everything = service.risk_register(ctx)
        assert {i.unit_id for i in everything.items} >= {
            shared.seeded.unit_ids["A"],
            shared.seeded.unit_ids["B"],
        }
        with pytest.raises(Forbidden):
            service.reassess_risk(ctx, f"dataset:{shared.code}")
        page = audit.view_audit(ctx, action="secops.risk_viewed")
    assert page.total >= 2


def test_the_cockpit_shows_overdue_assessments_to_those_who_may_see_them(
    database: Database,
) -> None:
    shared = registered(database)
    with database.sessions.begin() as session:
        session.execute(update(RiskSubject).values(created_at=utcnow() - timedelta(days=400)))
    with acting(database, shared.seeded.actor(Role.CDO)) as ctx:
        region = cockpit.cockpit_summary(ctx)
    with database.sessions() as session:
        total = session.scalar(select(func.count()).select_from(RiskSubject))
    assert region.overdue_risk_assessments == total
    with acting(database, shared.seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert service.overdue_risk_assessments(ctx, None) is None


def test_manual_reassessment_records_who_and_why(database: Database) -> None:
    shared = registered(database)
    with acting(database, shared.seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        detail = service.reassess_risk(ctx, f"dataset:{shared.code}")
    assert detail.history[0].trigger == "manual" and detail.history[0].assessed_by == "user:exec"
    with database.sessions() as session:
        assert (session.scalar(select(func.count()).select_from(RiskAssessment)) or 0) >= 4
    # the unit follows its dataset at the next run
    assert _subject(database, f"unit:{shared.seeded.unit_ids['B']}").stale
