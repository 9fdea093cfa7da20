"""Clerical review: a run keeps its undecided pairs, a reviewer decides them (masked per
role, audited), and the decisions hold in later full and incremental runs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shuzhi.audit.models import AuditEntry
from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, NotFound
from shuzhi.masterdata import service
from shuzhi.masterdata.models import (
    MasterdataLibrary,
    MasterdataMembership,
    MasterdataReviewPair,
    ReviewDecision,
    ReviewStatus,
)
from shuzhi.masterdata.schemas import ReviewDecisionIn
from tests.conftest import acting
from tests.factories import seed_org
from tests.masterdata.helpers import library, load, person, two_departments


def _uncertain(i: int) -> list[str]:
    """Person ``i`` as B holds them: no resident ID and another phone (the engine scores the
    pair with A's record between the review and the match threshold)."""
    row = person(i)
    return [row[0], "", "13700000000", row[3], row[4]]


def _entity_of(database: Database, run_id: int, code: str, row: int) -> str:
    with acting(database, SYSTEM) as ctx:
        return str(
            ctx.db.scalar(
                select(MasterdataMembership.entity_id).where(
                    MasterdataMembership.run_id == run_id,
                    MasterdataMembership.resource_code == code,
                    MasterdataMembership.row == row,
                )
            )
        )


@pytest.fixture
def queued(database: Database) -> tuple[str, str, int]:
    """Library ``population`` run once: A's person 0 and B's uncertain copy form the one
    open review pair; returns A, B and the pair's id."""
    seed_org(database)
    a, b = two_departments(database)
    load(database, a, [person(i) for i in range(12)])
    load(database, b, [_uncertain(0), *(person(i) for i in range(1, 5))])
    library(database, a, b)
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population")
        pairs = service.list_masterdata_review(ctx, "population")
    assert run.review_pairs == 1
    assert len(pairs) == 1
    assert {(pairs[0].left.resource_code, pairs[0].left.row)} | {
        (pairs[0].right.resource_code, pairs[0].right.row)
    } == {(a, 1), (b, 1)}
    assert _entity_of(database, run.id, a, 1) != _entity_of(database, run.id, b, 1)
    return a, b, pairs[0].id


def _decide(database: Database, pair_id: int, decision: ReviewDecision, note: str = "") -> None:
    with acting(database, SYSTEM) as ctx:
        service.decide_masterdata_review_pair(
            ctx, "population", pair_id, ReviewDecisionIn(decision=decision, note=note)
        )


def test_pair_side_by_side_with_the_explanation(
    database: Database, queued: tuple[str, str, int]
) -> None:
    a, _b, pair_id = queued
    with acting(database, SYSTEM) as ctx:
        clear = service.view_masterdata_review_pair(ctx, "population", pair_id)
    sides = {clear.left.resource_code: clear.left, clear.right.resource_code: clear.right}
    assert sides[a].values["name"] == person(0)[0]
    assert sides[a].values["resident_id"] == person(0)[1]
    assert "birth_date=exact" in clear.explanation and 0.5 <= clear.probability < 0.99


def test_match_decision_joins_the_records_in_the_next_full_run(
    database: Database, queued: tuple[str, str, int]
) -> None:
    a, b, pair_id = queued
    _decide(database, pair_id, ReviewDecision.MATCH, "同一人：住址一致")
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population")
        decided = service.list_masterdata_review(ctx, "population", ReviewStatus.DECIDED)
        still_open = service.list_masterdata_review(ctx, "population")
        entries = ctx.db.execute(
            select(AuditEntry.action, AuditEntry.actor).where(
                AuditEntry.action == "masterdata.review_pair_decided"
            )
        ).all()
    assert _entity_of(database, run.id, a, 1) == _entity_of(database, run.id, b, 1)
    assert run.review_pairs == 0 and still_open == []
    assert [(p.id, p.decision, p.note) for p in decided] == [
        (pair_id, ReviewDecision.MATCH, "同一人：住址一致")
    ]
    assert decided[0].decided_by and decided[0].decided_at is not None
    assert len(entries) == 1


def test_a_decided_pair_cannot_be_decided_again(
    database: Database, queued: tuple[str, str, int]
) -> None:
    _a, _b, pair_id = queued
    _decide(database, pair_id, ReviewDecision.NOT_MATCH)
    with pytest.raises(Conflict):
        _decide(database, pair_id, ReviewDecision.MATCH)
    with acting(database, SYSTEM) as ctx, pytest.raises(NotFound):
        service.view_masterdata_review_pair(ctx, "population", pair_id + 999)


def _lower_threshold(database: Database, pair_id: int) -> None:
    """The library's match threshold set just below the pair's probability: the engine
    alone would now merge the pair."""
    with acting(database, SYSTEM) as ctx:
        lib = ctx.db.scalar(select(MasterdataLibrary).where(MasterdataLibrary.code == "population"))
        pair = ctx.db.get(MasterdataReviewPair, pair_id)
        assert lib is not None and pair is not None
        lib.threshold = pair.probability - 1e-6


def test_not_match_keeps_the_records_apart_where_the_engine_would_merge(
    database: Database, queued: tuple[str, str, int]
) -> None:
    a, b, pair_id = queued
    _decide(database, pair_id, ReviewDecision.NOT_MATCH, "不同人")
    _lower_threshold(database, pair_id)
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population")
    assert _entity_of(database, run.id, a, 1) != _entity_of(database, run.id, b, 1)
    assert run.report["kept_apart_by_review"] == 1


def test_without_a_decision_the_lower_threshold_merges_them(
    database: Database, queued: tuple[str, str, int]
) -> None:
    """The control of the test above: the threshold alone would merge the pair."""
    a, b, pair_id = queued
    _lower_threshold(database, pair_id)
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population")
    assert _entity_of(database, run.id, a, 1) == _entity_of(database, run.id, b, 1)


def test_decisions_hold_in_incremental_runs(
    database: Database, queued: tuple[str, str, int]
) -> None:
    a, b, pair_id = queued
    with acting(database, SYSTEM) as ctx:
        before = service.list_masterdata_runs(ctx, "population")[0].id
    left, right = _entity_of(database, before, a, 1), _entity_of(database, before, b, 1)
    _decide(database, pair_id, ReviewDecision.MATCH)
    # B's next version adds a person: the incremental run has a new record to link.
    load(database, b, [_uncertain(0), *(person(i) for i in range(1, 6))])
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population", incremental=True)
    joined = _entity_of(database, run.id, a, 1)
    with acting(database, SYSTEM) as ctx:
        events = service.view_masterdata_entity(ctx, "population", joined).events
    assert run.mode == "incremental"
    assert _entity_of(database, run.id, a, 1) == _entity_of(database, run.id, b, 1)
    assert {left, right} & {_entity_of(database, run.id, a, 1)}
    assert any(e.kind == "merged" and "review" in e.reason for e in events)


def test_not_match_holds_in_incremental_runs(
    database: Database, queued: tuple[str, str, int]
) -> None:
    a, b, pair_id = queued
    _decide(database, pair_id, ReviewDecision.NOT_MATCH)
    _lower_threshold(database, pair_id)
    # A's copy of person 0 comes again as a new record of B's next version (other row):
    # linked by the engine to both, it must not bridge the two records decided apart.
    load(database, b, [_uncertain(0), *(person(i) for i in range(1, 5)), person(0)])
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population", incremental=True)
    assert run.mode == "incremental"
    assert _entity_of(database, run.id, a, 1) != _entity_of(database, run.id, b, 1)


def test_a_changed_record_leaves_the_queue_and_its_new_pair_opens(
    database: Database, queued: tuple[str, str, int]
) -> None:
    _a, b, pair_id = queued
    _decide(database, pair_id, ReviewDecision.NOT_MATCH)
    changed = _uncertain(0)
    changed[2] = "13600000000"  # B's record changed: the decision was about other values
    load(database, b, [changed, *(person(i) for i in range(1, 5))])
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population")
        open_pairs = service.list_masterdata_review(ctx, "population")
    assert run.review_pairs == 1
    assert [p.id for p in open_pairs] != [pair_id] and len(open_pairs) == 1


def test_reviewer_roles_see_masked_values(database: Database, queued: tuple[str, str, int]) -> None:
    a, _b, pair_id = queued

    with acting(database, SYSTEM) as ctx:
        lib = ctx.db.scalar(select(MasterdataLibrary).where(MasterdataLibrary.code == "population"))
        assert lib is not None
        unit = lib.unit_id
    cdo = Actor(kind="user", id=1, name="cdo", role=Role.CDO, unit_id=unit)
    executive = Actor(kind="user", id=2, name="exec", role=Role.CDO_EXECUTIVE, unit_id=unit)
    with acting(database, cdo) as ctx:
        masked = service.view_masterdata_review_pair(ctx, "population", pair_id)
    with acting(database, executive) as ctx:
        clear = service.view_masterdata_review_pair(ctx, "population", pair_id)
    m = {masked.left.resource_code: masked.left, masked.right.resource_code: masked.right}[a]
    c = {clear.left.resource_code: clear.left, clear.right.resource_code: clear.right}[a]
    assert masked.masked and not clear.masked
    assert c.values["resident_id"] == person(0)[1]
    assert m.values["resident_id"] != person(0)[1] and "*" in str(m.values["resident_id"])
    assert m.values["phone"] != person(0)[2]
    with acting(database, SYSTEM) as ctx:
        viewed = ctx.db.execute(
            select(AuditEntry.action).where(AuditEntry.action == "masterdata.review_pair_viewed")
        ).all()
    assert len(viewed) == 2


def test_an_incremental_run_queues_a_new_records_uncertain_pair(
    database: Database, queued: tuple[str, str, int]
) -> None:
    a, b, pair_id = queued
    # B's next version adds person 8 (so far only in A) as it holds person 0: no ID, another
    # phone.
    load(database, b, [_uncertain(0), *(person(i) for i in range(1, 5)), _uncertain(8)])
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population", incremental=True)
        pairs = service.list_masterdata_review(ctx, "population")
    assert run.mode == "incremental" and run.review_pairs == 2
    fresh = [p for p in pairs if p.id != pair_id]
    assert len(fresh) == 1 and [p.id for p in pairs if p.id == pair_id] == [pair_id]
    sides = {(fresh[0].left.resource_code, fresh[0].left.row)}
    sides |= {(fresh[0].right.resource_code, fresh[0].right.row)}
    assert sides == {(a, 9), (b, 6)}
    assert "birth_date=exact" in fresh[0].explanation and fresh[0].last_run_id == run.id
