"""Assessment rows of the permission matrix (tests/auth/test_permission_matrix.py).

Each call targets the unit under test in a round of its own over departments A and B, in
which A reviews B and B reviews A: so a unit CDO of A may read and review B's evidence but
never its own unit's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import count

from shuzhi.assess import service
from shuzhi.assess.schemas import ActionIn, AnswerIn, ReviewIn, WeightsIn
from shuzhi.context import SYSTEM, Ctx, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from tests.assess.helpers import ATTEST, DOC, PDF, open_round
from tests.conftest import acting

R = {Role.CDO, Role.CDO_EXECUTIVE, Role.AUDITOR}
STAFF = {Role.UNIT_CDO, Role.DATA_LIAISON}
EXEC = {Role.CDO_EXECUTIVE}
LEADERS = {Role.CDO, Role.CDO_EXECUTIVE}
NONE: set[Role] = set()

EXPECTED: dict[str, tuple[set[Role], set[Role]]] = {
    "view_assessment_models": (R | STAFF, R | STAFF),
    "seed_assessment_models": (EXEC, EXEC),
    "edit_assessment_model": (EXEC, EXEC),
    "open_assessment_round": (LEADERS, LEADERS),
    "close_assessment_round": (LEADERS, LEADERS),
    "view_assessment": (R | STAFF, R | {Role.UNIT_CDO}),
    "answer_indicator": (STAFF, NONE),
    "attach_evidence_document": (STAFF, NONE),
    "submit_answers": (STAFF, NONE),
    "collect_platform_evidence": (EXEC, EXEC),
    "review_answer": (EXEC, EXEC | {Role.UNIT_CDO}),
    "manage_improvement_plan": (EXEC | STAFF, EXEC),
}

_n = count()


def _round(database: Database, unit: str) -> tuple[int, str]:
    return open_round(database, units=("A", "B")), unit


def _drafted(database: Database, unit: str) -> tuple[int, str]:
    round_id, _ = _round(database, unit)
    with acting(database, SYSTEM) as ctx:
        service.save_assessment_answer(ctx, round_id, unit, ATTEST, AnswerIn(met=True))
    return round_id, unit


def _submitted(database: Database, unit: str) -> tuple[int, str]:
    round_id, _ = _drafted(database, unit)
    with acting(database, SYSTEM) as ctx:
        service.submit_assessment_answers(ctx, round_id, unit)
    return round_id, unit


def _args(a: object) -> tuple[int, str]:
    assert isinstance(a, tuple)
    return int(a[0]), str(a[1])


def _seeded(database: Database, unit: str) -> str:
    with acting(database, SYSTEM) as ctx:
        service.seed_assessment_models(ctx)
    return unit


def _open(c: Ctx, u: object) -> object:
    from shuzhi.assess.schemas import RoundIn

    today = utcnow().date()
    return service.open_assessment_round(
        c,
        RoundIn(
            title=f"轮次{next(_n)}",
            model_code="dcmm-2018",
            unit_codes=[str(u)],
            period_start=today,
            period_end=today,
            deadline=today + timedelta(days=10),
        ),
    )


def _action(c: Ctx, a: object) -> object:
    round_id, unit = _args(a)
    data = ActionIn(
        title="制定数据管理制度", owner="王芳", due_on=utcnow().date() + timedelta(days=60)
    )
    return service.add_improvement_action(c, round_id, unit, data)


Call = Callable[[Ctx, object], object]
Prep = Callable[[Database, str], object]
OPERATIONS: dict[str, tuple[Prep, Call]] = {
    "view_assessment_models": (_seeded, lambda c, u: service.list_assessment_models(c)),
    "seed_assessment_models": (lambda d, u: u, lambda c, u: service.seed_assessment_models(c)),
    "edit_assessment_model": (
        _seeded,
        lambda c, u: service.set_assessment_weights(c, "dcmm-2018", WeightsIn(partial_credit=0.4)),
    ),
    "open_assessment_round": (_seeded, _open),
    "close_assessment_round": (_round, lambda c, a: service.close_assessment_round(c, _args(a)[0])),
    "view_assessment": (_round, lambda c, a: service.unit_assessment_sheet(c, *_args(a))),
    "answer_indicator": (
        _round,
        lambda c, a: service.save_assessment_answer(c, *_args(a), ATTEST, AnswerIn(met=True)),
    ),
    "attach_evidence_document": (
        _round,
        lambda c, a: service.attach_assessment_document(c, *_args(a), DOC, "制度.pdf", PDF),
    ),
    "submit_answers": (_drafted, lambda c, a: service.submit_assessment_answers(c, *_args(a))),
    "collect_platform_evidence": (
        _round,
        lambda c, a: service.collect_platform_evidence(c, _args(a)[0], [_args(a)[1]]),
    ),
    "review_answer": (
        _submitted,
        lambda c, a: service.review_assessment_answer(
            c, *_args(a), ATTEST, ReviewIn(decision="accept")
        ),
    ),
    "manage_improvement_plan": (_round, _action),
}
