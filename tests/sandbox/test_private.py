"""Differentially private answers where a grant requires them: noise, intervals, the
threshold, contribution bounds and the ε budget ledger, on real DuckDB data."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from shuzhi.audit import service as audit
from shuzhi.audit.schemas import AuditFilter
from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.engine import Database
from shuzhi.sandbox import service
from shuzhi.sandbox.rules import QueryRefused, SandboxForbidden
from shuzhi.sandbox.schemas import QueryIn, QueryOut
from tests.conftest import acting
from tests.factories import seed_org
from tests.sandbox import helpers
from tests.sandbox.helpers import HEALTH, POPULATION, POPULATION_TERMS, Sandbox, grant, people
from tests.sharing.helpers import application, key

SIZES = {"东苑": 400, "西苑": 300, "南苑": 3}


def _rows() -> list[dict[str, Any]]:
    rows = people(SIZES)
    # one resident of the small community visits 500 times: still one person
    return rows + [dict(rows[-1])] * 500


def _mean_fee(community: str) -> float:
    fees = [min(float(r["医疗费用"]), FEE_CAP) for r in people(SIZES) if r["社区"] == community]
    return float(sum(fees) / len(fees))


FEE_CAP = 8000.0


DP_TERMS: dict[str, Any] = {
    "columns": {
        "身份证号": "join_key",
        "社区": "dimension",
        "慢病": "dimension",
        "医疗费用": "aggregate",
        "年龄": "aggregate",
    },
    "extremes": ["年龄"],
    "entity_column": "身份证号",
    "k": 10,
    "dp_required": True,
    "epsilon": 2.0,
    "delta": 1e-5,
    "bounds": {"医疗费用": [0, FEE_CAP]},
}


@pytest.fixture
def sb(database: Database) -> Sandbox:
    seeded = seed_org(database)
    rows = _rows()
    health = helpers._entry(database, "B", HEALTH, rows)
    population = helpers._entry(database, "S", POPULATION, rows)
    app = application(database, "A")
    token = key(database, app)
    analyst = seeded.actor(Role.DATA_LIAISON)
    grant(database, analyst, health, app, DP_TERMS)
    grant(database, analyst, population, app, POPULATION_TERMS)
    return Sandbox(database, seeded, health, population, app, token)


def _query(sb: Sandbox, sql: str, epsilon: float | None = None) -> QueryOut:
    principal = sb.principal()
    actor = Actor(
        kind="api_key",
        id=principal.key_id,
        name=f"app:{principal.application_code}",
        role=Role.CONSUMER,
        unit_id=principal.unit_id,
    )
    with acting(sb.database, actor) as ctx:
        return service.run_query(ctx, QueryIn(sql=sql, epsilon=epsilon), application=principal)


def _budget(sb: Sandbox) -> dict[str, Any]:
    with acting(sb.database, SYSTEM) as ctx:
        (only,) = service.sandbox_budget(ctx, application=sb.principal())
    return only.model_dump()


def test_counts_come_back_noisy_with_intervals_and_small_groups_left_out(sb: Sandbox) -> None:
    out = _query(sb, f'SELECT 社区, COUNT(*) AS n FROM "{sb.health}" GROUP BY 社区', 1.0)
    assert out.status == "done" and out.columns == ["社区", "n"]
    released = {row[0]: row[1] for row in out.rows}
    assert set(released) == {"东苑", "西苑"}  # 南苑: three people, however many rows
    assert out.suppressed is None  # how many groups were left out is not disclosed
    assert out.epsilon_spent == pytest.approx(1.0)
    assert out.delta_spent is not None and 0 < out.delta_spent <= 1e-5
    assert out.intervals is not None
    for row, spans in zip(out.rows, out.intervals, strict=True):
        assert spans[0] is None and spans[1] is not None
        low, high = spans[1]
        assert low <= row[1] <= high
        assert abs(released[row[0]] - SIZES[row[0]]) < 40  # noise of scale 1, not a guess


def test_repeating_a_query_gives_different_noise(sb: Sandbox) -> None:
    sql = f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区'
    answers = {tuple(r[1] for r in sorted(_query(sb, sql, 0.1).rows)) for _ in range(5)}
    assert len(answers) > 1


def test_averages_are_clamped_to_the_providers_range(sb: Sandbox) -> None:
    out = _query(sb, f'SELECT 社区, AVG(医疗费用) AS avg FROM "{sb.health}" GROUP BY 社区', 1.5)
    assert out.intervals is not None
    for row, spans in zip(out.rows, out.intervals, strict=True):
        assert spans[1] is not None
        assert 0 <= spans[1][0] <= row[1] <= spans[1][1] <= FEE_CAP
        # the true mean of the clamped values, within a few per cent at this ε and size
        assert row[1] == pytest.approx(_mean_fee(row[0]), rel=0.1)


def test_each_query_is_charged_and_an_exhausted_budget_refuses(sb: Sandbox) -> None:
    fresh = _budget(sb)
    assert fresh["epsilon_remaining"] == pytest.approx(2.0)
    assert fresh["default_query_epsilon"] == pytest.approx(0.2)
    sql = f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区'
    _query(sb, sql)  # the default: a tenth of the budget
    _query(sb, sql, 1.0)
    after = _budget(sb)
    assert after["epsilon_spent"] == pytest.approx(1.2) and after["queries"] == 2
    with pytest.raises(SandboxForbidden) as refused:
        _query(sb, sql, 0.9)
    assert refused.value.rule == "budget_exhausted"
    assert "0.8" in refused.value.message.en and "预算" in refused.value.message.zh
    assert _budget(sb)["epsilon_spent"] == pytest.approx(1.2)  # nothing charged
    _query(sb, sql, 0.8)  # what is left can still be spent
    assert _budget(sb)["epsilon_remaining"] == pytest.approx(0.0, abs=1e-9)
    with acting(sb.database, SYSTEM) as ctx:
        page = audit.view_audit(ctx, filters=AuditFilter(action="sandbox."), limit=50)
    refusals = [e for e in page.items if e.outcome == "denied"]
    assert any("budget_exhausted" in str(e.details) for e in refusals)
    spent = [e.details.get("epsilon_spent") for e in page.items if e.outcome == "ok"]
    assert pytest.approx(0.8) in spent


@pytest.mark.parametrize(
    ("select", "rule"),
    [
        ("MAX(年龄)", "dp_aggregate"),
        ("COUNT(DISTINCT 慢病)", "dp_aggregate"),
        ("SUM(年龄)", "dp_bounds"),
        ("AVG(年龄 + 医疗费用)", "dp_bounds"),
    ],
)
def test_what_noise_cannot_answer_is_refused(sb: Sandbox, select: str, rule: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        _query(sb, f'SELECT 社区, {select} FROM "{sb.health}" GROUP BY 社区', 0.5)
    assert refused.value.rule == rule
    assert _budget(sb)["queries"] == 0


def test_having_is_refused_under_dp(sb: Sandbox) -> None:
    with pytest.raises(QueryRefused) as refused:
        _query(
            sb,
            f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区 HAVING COUNT(*) > 5',
            0.5,
        )
    assert refused.value.rule == "dp_having"


def test_a_join_with_a_dataset_without_dp_is_charged_to_the_dp_one(sb: Sandbox) -> None:
    out = _query(
        sb,
        f'SELECT h.社区, p.独居, COUNT(*) AS n FROM "{sb.health}" h'
        f' JOIN "{sb.population}" p ON h.身份证号 = p.身份证号'
        " WHERE h.慢病 = '是' GROUP BY h.社区, p.独居 ORDER BY n DESC LIMIT 3",
        1.0,
    )
    assert out.epsilon_spent == pytest.approx(1.0)
    assert 1 <= len(out.rows) <= 3
    counts = [r[2] for r in out.rows]
    assert counts == sorted(counts, reverse=True)
    assert all(r[0] != "南苑" for r in out.rows)
    assert _budget(sb)["epsilon_spent"] == pytest.approx(1.0)


def test_budget_and_noisy_answers_over_http(client: TestClient, database: Database) -> None:
    seeded = seed_org(database)
    rows = _rows()
    health = helpers._entry(database, "B", HEALTH, rows)
    app = application(database, "A")
    token = key(database, app)
    grant(database, seeded.actor(Role.DATA_LIAISON), health, app, DP_TERMS)
    auth = {"Authorization": f"Bearer {token}"}
    budget = client.get("/api/v1/sandbox/budget", headers=auth).json()
    assert [b["epsilon_remaining"] for b in budget] == [pytest.approx(2.0)]
    sql = f'SELECT 慢病, COUNT(*) FROM "{health}" GROUP BY 慢病'
    answer = client.post(
        "/api/v1/sandbox/queries", json={"sql": sql, "epsilon": 1.5}, headers=auth
    ).json()
    assert answer["status"] == "done" and answer["epsilon_spent"] == pytest.approx(1.5)
    assert answer["suppressed"] is None and len(answer["intervals"]) == len(answer["rows"])
    refused = client.post(
        "/api/v1/sandbox/queries", json={"sql": sql, "epsilon": 1.0}, headers=auth
    )
    assert refused.status_code == 403
    assert "budget_exhausted" in refused.json()["detail"]
    assert client.get("/api/v1/sandbox/budget", headers=auth).json()[0][
        "epsilon_remaining"
    ] == pytest.approx(0.5)


def test_bounds_are_checked_with_the_terms(database: Database) -> None:
    from shuzhi.errors import Invalid

    seeded = seed_org(database)
    health = helpers._entry(database, "B", HEALTH)
    app = application(database, "A")
    terms = DP_TERMS | {"bounds": {"医疗费用": [10, 5], "慢病": [0, 1], "诊断": [0, 1]}}
    with pytest.raises(Invalid) as refused:
        grant(database, seeded.actor(Role.DATA_LIAISON), health, app, terms)
    assert {e.field for e in refused.value.errors} == {
        "terms.bounds.医疗费用",
        "terms.bounds.慢病",
        "terms.bounds.诊断",
    }
