"""A round end to end: answers, documents, submission, cross-unit review, scores, refusals."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import update

from shuzhi.assess import service
from shuzhi.assess.models import AssessAnswer, AssessRound
from shuzhi.assess.schemas import AnswerIn, ReviewIn, RoundIn
from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from tests.assess.helpers import ATTEST, DOC, PDF, PLATFORM, open_round
from tests.conftest import acting
from tests.factories import Org, seed_org

CDO_FILED = "governance.organisation.l2.cdo_filed"


def _b_cdo(seeded: Org) -> Actor:
    return seeded.other_unit_actor(Role.UNIT_CDO)


def _answer_level_one_and_two(database: Database, seeded: Org, round_id: int) -> None:
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.save_assessment_answer(
            ctx, round_id, "A", ATTEST, AnswerIn(met=True, statement="设有数据治理小组")
        )
        service.save_assessment_answer(
            ctx, round_id, "A", DOC, AnswerIn(met=True, statement="制度文件")
        )
        service.attach_assessment_document(ctx, round_id, "A", DOC, "../../机构/职责 说明.pdf", PDF)
        assert service.submit_assessment_answers(ctx, round_id, "A") == 2


def test_answer_attach_submit_review_and_score(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    _answer_level_one_and_two(database, seeded, round_id)
    # The assessed unit's own CDO may not review; the assigned unit B's CDO may.
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.review_assessment_answer(ctx, round_id, "A", ATTEST, ReviewIn(decision="accept"))
    with acting(database, _b_cdo(seeded)) as ctx:
        sheet = service.unit_assessment_sheet(ctx, round_id, "A")
        assert sheet.can_review and not sheet.can_answer
        service.review_assessment_answer(ctx, round_id, "A", ATTEST, ReviewIn(decision="accept"))
        returned = service.review_assessment_answer(
            ctx, round_id, "A", DOC, ReviewIn(decision="return", reason="制度文件缺少盖章页")
        )
    assert returned.state == "returned" and returned.review_reason == "制度文件缺少盖章页"
    assert returned.documents[0].filename == "职责 说明.pdf"
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        sheet = service.unit_assessment_sheet(ctx, round_id, "A")
        item = sheet.domains[1].items[0]
        assert item.code == "governance.organisation"
        assert (item.level, item.gaps) == (1, [DOC, CDO_FILED])
        # Partial credit: nothing earned at level 2 yet, the score is the level.
        assert item.score == 1.0
        # The returned answer goes back to draft when changed, and can be submitted again.
        service.save_assessment_answer(
            ctx, round_id, "A", DOC, AnswerIn(met=True, statement="补充盖章页")
        )
        service.submit_assessment_answers(ctx, round_id, "A")
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        service.review_assessment_answer(ctx, round_id, "A", DOC, ReviewIn(decision="accept"))
        results = service.round_results(ctx, round_id)
        item = service.unit_assessment_sheet(ctx, round_id, "A").domains[1].items[0]
    # Level 2 also needs the platform's fact (a filed CDO): half of level 2 is earned.
    assert (item.level, item.score, item.gaps) == (1, 1.5, [CDO_FILED])
    a = next(u for u in results.units if u.unit_code == "A")
    governance = next(d for d in a.domains if d.code == "governance")
    # One of three items scored 1.5 (weights 33.33/33.33/33.34): 1.5 × 33.33 / 100.
    assert governance.score == pytest.approx(0.5, abs=0.001)
    assert a.level == 0 and results.kind == "self_assessment"
    with acting(database, SYSTEM) as ctx:
        page = audit.view_audit(ctx, action="assess.answer_reviewed")
    assert page.total == 3


def test_disclosure_a_unit_sees_only_its_own_answers(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    _answer_level_one_and_two(database, seeded, round_id)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert [u.unit_code for u in service.round_results(ctx, round_id).units] == ["A"]
        assert [u.unit_code for u in service.get_assessment_round(ctx, round_id).units] == ["A"]
    # S's staff see nothing of A; B's CDO (A's reviewer) does, B's liaison does not.
    street = Actor(
        kind="user", id=99, name="s.liaison", role=Role.DATA_LIAISON, unit_id=seeded.unit_ids["S"]
    )
    for who in (street, seeded.other_unit_actor(Role.DATA_LIAISON)):
        with pytest.raises(Forbidden), acting(database, who) as ctx:
            service.unit_assessment_sheet(ctx, round_id, "A")
    with acting(database, _b_cdo(seeded)) as ctx:
        assert {u.unit_code for u in service.round_results(ctx, round_id).units} == {"A", "B"}


def test_reviewer_of_another_pair_and_own_evidence_are_refused(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    _answer_level_one_and_two(database, seeded, round_id)
    # S's CDO is not A's assigned reviewer.
    s_cdo = Actor(
        kind="user", id=98, name="s.cdo", role=Role.UNIT_CDO, unit_id=seeded.unit_ids["S"]
    )
    with pytest.raises(Forbidden), acting(database, s_cdo) as ctx:
        service.review_assessment_answer(ctx, round_id, "A", ATTEST, ReviewIn(decision="accept"))
    # A return without a reason, or with one that says nothing, is refused; nothing changes.
    for reason in ("", "不行"):
        with pytest.raises(Invalid), acting(database, _b_cdo(seeded)) as ctx:
            service.review_assessment_answer(
                ctx, round_id, "A", ATTEST, ReviewIn(decision="return", reason=reason)
            )
    # Someone who provided the evidence never reviews it, even from the bureau.
    provider = Actor(
        kind="user", id=7, name="a.liaison", role=Role.CDO_EXECUTIVE, unit_id=seeded.unit_ids["R"]
    )
    with pytest.raises(Forbidden), acting(database, provider) as ctx:
        service.review_assessment_answer(ctx, round_id, "A", ATTEST, ReviewIn(decision="accept"))
    with acting(database, SYSTEM) as ctx:
        denied = audit.view_audit(ctx, action="operation.denied")
        answers = {a.indicator: a for a in service.unit_answers(ctx, round_id, "A")}
    assert denied.total == 2
    assert answers[ATTEST].state == "submitted"


def test_after_the_deadline_answers_are_refused(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    with acting(database, SYSTEM) as ctx:
        ctx.db.execute(update(AssessRound).values(deadline=utcnow().date() - timedelta(days=2)))
    with pytest.raises(Conflict) as err, acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.save_assessment_answer(ctx, round_id, "A", ATTEST, AnswerIn(met=True))
    assert "deadline" in err.value.message.en


def test_submitting_a_met_document_answer_without_a_document_is_refused(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.save_assessment_answer(ctx, round_id, "A", ATTEST, AnswerIn(met=True))
        service.save_assessment_answer(ctx, round_id, "A", DOC, AnswerIn(met=True))
    with pytest.raises(Invalid) as err, acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.submit_assessment_answers(ctx, round_id, "A")
    assert DOC in err.value.errors[0].message.en
    with acting(database, SYSTEM) as ctx:
        states = {a.indicator: a.state for a in service.unit_answers(ctx, round_id, "A")}
    assert states == {ATTEST: "draft", DOC: "draft"}  # nothing half-submitted


def test_bad_documents_are_refused_and_nothing_is_stored(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    for name, data in [
        ("run.pdf", b"MZ\x90\x00" + b"\x00" * 100),
        ("a.exe", b"MZ"),
        ("x.pdf", b"<html>"),
    ]:
        with pytest.raises(Invalid), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
            service.attach_assessment_document(ctx, round_id, "A", DOC, name, data)
    with acting(database, SYSTEM) as ctx:
        assert service.unit_answers(ctx, round_id, "A") == []
    assert not (database.settings.data_dir / "assess").exists()


def test_a_document_of_a_failed_transaction_does_not_stay_behind(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    folder = database.settings.data_dir / "assess" / "documents"
    kept = PDF + b"% kept\n"
    lost = PDF + b"% lost\n"
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.save_assessment_answer(ctx, round_id, "A", DOC, AnswerIn(met=True))
        service.attach_assessment_document(ctx, round_id, "A", DOC, "kept.pdf", kept)
    on_disk = {p.name for p in folder.rglob("*") if p.is_file()}
    assert on_disk == {hashlib.sha256(kept).hexdigest()}
    # The upload is written, then the transaction fails: its new file goes, the committed
    # document holding the same content as another upload of the failed work stays.
    with (
        pytest.raises(Conflict),
        acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx,
    ):
        service.attach_assessment_document(ctx, round_id, "A", DOC, "lost.pdf", lost)
        service.attach_assessment_document(ctx, round_id, "A", DOC, "again.pdf", kept)
        assert len({p.name for p in folder.rglob("*") if p.is_file()}) == 2
        raise Conflict("后续步骤失败。", "A later step failed.")
    assert {p.name for p in folder.rglob("*") if p.is_file()} == on_disk
    with acting(database, SYSTEM) as ctx:
        (answer,) = service.unit_answers(ctx, round_id, "A")
    assert [d.filename for d in answer.documents] == ["kept.pdf"]
    # A committed upload is never removed afterwards.
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.attach_assessment_document(ctx, round_id, "A", DOC, "lost.pdf", lost)
    assert len({p.name for p in folder.rglob("*") if p.is_file()}) == 2


def test_platform_indicators_are_measured_not_answered(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    with pytest.raises(Conflict), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.save_assessment_answer(ctx, round_id, "A", PLATFORM, AnswerIn(met=True))
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.collect_platform_evidence(ctx, round_id)
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        done = service.collect_platform_evidence(ctx, round_id)
    assert set(done) == {"A", "B", "S"} and done["A"][0] == 43
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        answers = {a.indicator: a for a in service.unit_answers(ctx, round_id, "A")}
        chain = answers[PLATFORM]
        assert chain.verdict == "pass" and chain.details["figures"]["intact"] == 1
        assert chain.provided_by == "platform" and chain.state == "submitted"
        # Nothing to measure yet: the unit has no datasets, so coverage fails.
        cover = answers["security.protection.l2.classification_coverage"]
        assert cover.value is None and cover.verdict == "fail"
        service.review_assessment_answer(ctx, round_id, "A", PLATFORM, ReviewIn(decision="accept"))


def test_expired_evidence_earns_no_credit(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    _answer_level_one_and_two(database, seeded, round_id)
    with acting(database, _b_cdo(seeded)) as ctx:
        service.review_assessment_answer(ctx, round_id, "A", ATTEST, ReviewIn(decision="accept"))
        assert service.unit_assessment_sheet(ctx, round_id, "A").domains[1].items[0].level == 1
    with acting(database, SYSTEM) as ctx:
        ctx.db.execute(
            update(AssessAnswer)
            .where(AssessAnswer.indicator == ATTEST)
            .values(provided_at=utcnow() - timedelta(days=91))
        )
    with acting(database, _b_cdo(seeded)) as ctx:
        sheet = service.unit_assessment_sheet(ctx, round_id, "A")
    row = sheet.domains[1].items[0].indicators[0]
    assert row.answer is not None and row.answer.expired and row.credit == 0
    assert sheet.domains[1].items[0].level == 0


def test_the_results_score_every_unit_as_its_own_sheet_does(database: Database) -> None:
    """The results (every unit's answers read at once, only what scoring needs) agree with
    each unit's sheet (its whole answers): accepted, returned, expired and absent answers."""
    seeded = seed_org(database)
    round_id = open_round(database)
    _answer_level_one_and_two(database, seeded, round_id)
    with acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        service.save_assessment_answer(ctx, round_id, "B", ATTEST, AnswerIn(met=True))
        assert service.submit_assessment_answers(ctx, round_id, "B") == 1
    with acting(database, _b_cdo(seeded)) as ctx:
        service.review_assessment_answer(ctx, round_id, "A", ATTEST, ReviewIn(decision="accept"))
        service.review_assessment_answer(
            ctx, round_id, "A", DOC, ReviewIn(decision="return", reason="缺少盖章页")
        )
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.review_assessment_answer(ctx, round_id, "B", ATTEST, ReviewIn(decision="accept"))
    with acting(database, SYSTEM) as ctx:  # B's evidence has gone stale
        ctx.db.execute(
            update(AssessAnswer)
            .where(AssessAnswer.unit_id == seeded.unit_ids["B"])
            .values(provided_at=utcnow() - timedelta(days=91))
        )
    with acting(database, seeded.actor(Role.CDO_EXECUTIVE)) as ctx:
        results = service.round_results(ctx, round_id)
        sheets = {u: service.unit_assessment_sheet(ctx, round_id, u) for u in ("A", "B", "S")}
    assert {u.unit_code for u in results.units} == set(sheets)
    for unit in results.units:
        sheet = sheets[unit.unit_code]
        assert (unit.level, unit.score) == (sheet.level, sheet.score), unit.unit_code
        assert [(d.level, d.score) for d in unit.domains] == [
            (d.level, d.score) for d in sheet.domains
        ], unit.unit_code
    by_code = {u.unit_code: u for u in results.units}
    governance = [d.score for d in by_code["A"].domains if d.code == "governance"]
    assert governance[0] > 0  # A's accepted answer counts
    assert by_code["B"].score == by_code["S"].score  # B's expired one does not


def test_opening_a_round_validates_everything_at_once(database: Database) -> None:
    seed_org(database)
    today = utcnow().date()
    with acting(database, SYSTEM) as ctx:
        service.seed_assessment_models(ctx)
    with pytest.raises(Invalid) as err, acting(database, SYSTEM) as ctx:
        service.open_assessment_round(
            ctx,
            RoundIn(
                title="x",
                model_code="dcmm-1999",
                unit_codes=["A", "A", "ZZ"],
                period_start=today,
                period_end=today - timedelta(days=1),
                deadline=today - timedelta(days=1),
                reviewers={"A": "A"},
            ),
        )
    fields = {e.field for e in err.value.errors}
    assert fields == {"period_end", "deadline", "unit_codes", "reviewers", "model_code"}


def test_a_closed_round_refuses_answers_and_reviews(database: Database) -> None:
    seeded = seed_org(database)
    round_id = open_round(database)
    _answer_level_one_and_two(database, seeded, round_id)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.close_assessment_round(ctx, round_id)
    with pytest.raises(Conflict), acting(database, _b_cdo(seeded)) as ctx:
        service.review_assessment_answer(ctx, round_id, "A", ATTEST, ReviewIn(decision="accept"))
