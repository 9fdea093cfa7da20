"""Answering a checked query with differential privacy, where a grant requires it.

The checked query's own relation (its datasets, joins and filter, rebuilt from the checked
tree) becomes the source of ``bounding.bounded_statement``: the engine bounds every
person's contribution and aggregates once; ``privacy`` adds the noise and keeps only groups
whose noisy count clears the threshold. The privacy unit is the first dataset's person
column (joins are on keys naming the same people). Only COUNT, SUM and AVG are answered:
a COUNT counts people (a person's rows count once per group), SUM and AVG clamp each value
to the range the provider set for the column. ORDER BY and LIMIT apply to the noisy figures.

The cost — ``epsilon`` asked for, or a tenth of the smallest budget — is charged to the
analyst's ledger of every DP dataset touched before the engine runs, in the request's
transaction: a failed query rolls its charge back with it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlalchemy import select, update
from sqlglot import exp

from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.db.cas import affected
from shuzhi.lake.query import QueryEngine
from shuzhi.sandbox import bounding, privacy
from shuzhi.sandbox.checker import CheckedQuery
from shuzhi.sandbox.models import SandboxBudget
from shuzhi.sandbox.privacy import Contribution, GroupFigures, Measure, MeasureKind
from shuzhi.sandbox.rules import QueryRefused, SandboxForbidden
from shuzhi.sandbox.schemas import SandboxTermsIn

DEFAULT_DELTA_BUDGET = 1e-5
QUERY_SHARE = 0.1  # of the smallest ε budget, spent by a query that names no ε
CONTRIBUTION = Contribution(max_groups=1, max_rows=1)


@dataclass(frozen=True)
class Budgeted:
    """One DP dataset of a query: its grant, terms and position in the query."""

    grant_id: int
    resource_code: str
    terms: SandboxTermsIn

    @property
    def epsilon(self) -> float:
        return float(self.terms.epsilon or 0.0)

    @property
    def delta(self) -> float:
        return float(self.terms.delta or DEFAULT_DELTA_BUDGET)


@dataclass(frozen=True)
class PrivateAnswer:
    columns: list[str]
    rows: list[list[Any]]
    intervals: list[list[list[float] | None]]
    epsilon: float
    delta: float


@dataclass(frozen=True)
class _Shape:
    """Which output is a group (its index in GROUP BY) and which a measure (its index)."""

    measures: list[Measure]
    values: list[exp.Expression]  # per SUM/MEAN measure, the expression summed
    outputs: list[tuple[str, int]]  # ("group", i) or ("measure", j) per output column


def _measure(node: exp.Expression, bounds: dict[str, tuple[float, float]]) -> Measure:
    if isinstance(node, exp.Count) and node.find(exp.Distinct) is None:
        return Measure(MeasureKind.COUNT)
    if not isinstance(node, exp.Sum | exp.Avg):
        raise QueryRefused("dp_aggregate", node.sql(comments=False))
    columns = list(node.find_all(exp.Column))
    if len(columns) != 1 or columns[0].name not in bounds:
        raise QueryRefused("dp_bounds", node.sql(comments=False))
    low, high = bounds[columns[0].name]
    return Measure(MeasureKind.SUM if isinstance(node, exp.Sum) else MeasureKind.MEAN, low, high)


def shape(checked: CheckedQuery, terms: Sequence[SandboxTermsIn]) -> _Shape:
    """What the query asks for, in the terms DP can answer; refused otherwise."""
    if checked.having is not None:
        raise QueryRefused("dp_having")
    bounds: dict[str, tuple[float, float]] = {}
    for t in terms:
        bounds.update(t.bounds)
    groups = [g.sql(comments=False) for g in checked.group]
    measures: list[Measure] = []
    values: list[exp.Expression] = []
    outputs: list[tuple[str, int]] = []
    for node, aggregate in zip(checked.outputs, checked.aggregates, strict=True):
        if not aggregate:
            outputs.append(("group", groups.index(node.sql(comments=False))))
            continue
        m = _measure(node, bounds)
        if m.needs_sum:
            values.append(node.this)
        outputs.append(("measure", len(measures)))
        measures.append(m)
    return _Shape(measures or [Measure(MeasureKind.COUNT)], values, outputs)


def query_epsilon(asked: float | None, budgets: Sequence[Budgeted]) -> float:
    return asked if asked is not None else QUERY_SHARE * min(b.epsilon for b in budgets)


def remaining(ctx: Ctx, analyst: str, b: Budgeted) -> tuple[float, float, int]:
    """Epsilon and delta left of one grant's budget for the analyst, and queries so far."""
    row = ctx.db.scalar(
        select(SandboxBudget).where(
            SandboxBudget.analyst == analyst, SandboxBudget.grant_id == b.grant_id
        )
    )
    if row is None:
        return b.epsilon, b.delta, 0
    return b.epsilon - row.epsilon_spent, b.delta - row.delta_spent, row.queries


def _charge(ctx: Ctx, analyst: str, b: Budgeted, epsilon: float, delta: float) -> None:
    """Add a query's cost to the ledger only while it stays within the budget."""
    row = ctx.db.scalar(
        select(SandboxBudget).where(
            SandboxBudget.analyst == analyst, SandboxBudget.grant_id == b.grant_id
        )
    )
    if row is None:
        row = SandboxBudget(
            analyst=analyst,
            grant_id=b.grant_id,
            resource_code=b.resource_code,
            epsilon_spent=0.0,
            delta_spent=0.0,
            queries=0,
        )
        ctx.db.add(row)
        ctx.db.flush()
    t = SandboxBudget
    done = ctx.db.execute(
        update(t)
        .where(
            t.id == row.id,
            t.epsilon_spent + epsilon <= b.epsilon * (1 + 1e-9),
            t.delta_spent + delta <= b.delta * (1 + 1e-9),
        )
        .values(
            epsilon_spent=t.epsilon_spent + epsilon,
            delta_spent=t.delta_spent + delta,
            queries=t.queries + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if affected(done) != 1:
        left_e, left_d, _ = remaining(ctx, analyst, b)
        raise SandboxForbidden(
            "budget_exhausted",
            f"{b.resource_code}: ε {epsilon:.4g} asked, {max(left_e, 0):.4g} left;"
            f" δ {delta:.3g} asked, {max(left_d, 0):.3g} left",
        )


@dataclass(frozen=True)
class Charge:
    analyst: str
    budget: Budgeted
    epsilon: float
    delta: float


class FailedAfterCharge(Exception):
    """The engine failed on a query whose budgets were charged (in the rolled-back
    transaction): ``charge_again`` keeps the charges in the refusal's own."""

    def __init__(self, charges: list[Charge]) -> None:
        super().__init__("the engine failed after the privacy budget was charged")
        self.charges = charges


def charge_again(ctx: Ctx, charges: Sequence[Charge]) -> None:
    for c in charges:
        _charge(ctx, c.analyst, c.budget, c.epsilon, c.delta)


def answer(
    ctx: Ctx,
    engine: QueryEngine,
    checked: CheckedQuery,
    budgets: Sequence[Budgeted],
    relations: list[str],
    params: list[Any],
    *,
    analyst: str,
    dialect: str,
    epsilon: float | None,
) -> PrivateAnswer:
    """Charge the budgets, run the bounded statement, release noisy figures."""
    wanted = shape(checked, [b.terms for b in budgets])
    eps = query_epsilon(epsilon, budgets)
    delta = min(b.delta * eps / b.epsilon for b in budgets)
    plan = privacy.plan(
        wanted.measures, CONTRIBUTION, epsilon=eps, delta=delta, min_group=checked.k
    )
    charges = [Charge(analyst, b, plan.epsilon, plan.delta) for b in budgets]
    for c in charges:
        _charge(ctx, c.analyst, c.budget, c.epsilon, c.delta)
    source = f"SELECT * FROM {checked.from_clause(relations)}"
    if checked.where is not None:
        source += f" WHERE {checked.where_sql(dialect)}"
    parsed = sqlglot.parse_one(source, read=dialect)
    assert isinstance(parsed, exp.Select)
    statement = bounding.bounded_statement(
        parsed,
        entity=exp.column(checked.tables[0].entity, table="t0", quoted=True),
        groups=checked.group,
        values=wanted.values,
        measures=wanted.measures,
        contribution=CONTRIBUTION,
        min_group=checked.k,
        seed=secrets.randbits(31),
    )
    try:
        table = engine.run_statement(statement.sql(dialect=dialect), params)
    except Exception as exc:  # the charge stands (``charge_again``): a failure is an answer
        raise FailedAfterCharge(charges) from exc
    n_groups = len(checked.group)
    figures = [
        GroupFigures(
            key=tuple(r[bounding.group_name(i)] for i in range(n_groups)),
            count=int(r[bounding.COUNT]),
            sums=tuple(float(r[bounding.sum_name(j)] or 0.0) for j in range(len(wanted.values))),
        )
        for r in table.to_pylist()
    ]
    released = privacy.release(plan, figures)
    rows: list[list[Any]] = []
    intervals: list[list[list[float] | None]] = []
    for row in released.rows:
        values: list[Any] = []
        spans: list[list[float] | None] = []
        for kind, i in wanted.outputs:
            if kind == "group":
                values.append(row.key[i])
                spans.append(None)
                continue
            f = row.figures[i]
            count = wanted.measures[i].kind is MeasureKind.COUNT
            values.append(int(f.value) if count else f.value)
            spans.append([f.low, f.high])
        rows.append(values)
        intervals.append(spans)
    rows, intervals = _ordered(checked, rows, intervals)
    return PrivateAnswer(checked.names, rows, intervals, released.epsilon, released.delta)


def _ordered(
    checked: CheckedQuery, rows: list[list[Any]], intervals: list[list[list[float] | None]]
) -> tuple[list[list[Any]], list[list[list[float] | None]]]:
    pairs = list(zip(rows, intervals, strict=True))
    for i, desc in reversed(checked.order):  # stable sorts, last key first; nulls last
        present = sorted(
            (p for p in pairs if p[0][i] is not None), key=lambda p: p[0][i], reverse=desc
        )
        pairs = present + [p for p in pairs if p[0][i] is None]
    if checked.limit is not None:
        pairs = pairs[: checked.limit]
    return [p[0] for p in pairs], [p[1] for p in pairs]
