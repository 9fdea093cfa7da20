"""The statement that bounds each person's contribution before noise is added.

Built as a sqlglot tree from the checked query's own relation (its FROM, joins and WHERE),
so it runs on DuckDB and transpiles to Spark SQL unchanged in meaning:

1. one row per person and group: the person's bounded row count ``least(count(*), max_rows)``
   and, per measure, the person's average clamped value times that count — a person with
   more rows than allowed is scaled down, not cut at an arbitrary row;
2. each person keeps at most ``max_groups`` groups, chosen by a hash salted with a secret
   per-query seed, so the analyst cannot steer which groups survive;
3. per group: the bounded count and sums, and only groups of at least ``min_group`` distinct
   people (the rows of step 2 are one per person and group, so ``count(*)`` counts people).

Rows whose person column is empty are left out: nobody can bound what they contribute.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from shuzhi.sandbox.privacy import Contribution, Measure

ENTITY = "__entity"
COUNT = "__n"
RANK = "__rank"


def group_name(i: int) -> str:
    return f"__g{i}"


def sum_name(j: int) -> str:
    return f"__s{j}"


def bounded_statement(
    source: exp.Select,
    *,
    entity: exp.Expression,
    groups: Sequence[exp.Expression],
    values: Sequence[exp.Expression],
    measures: Sequence[Measure],
    contribution: Contribution,
    min_group: int,
    seed: int,
) -> exp.Select:
    """Per group ``__g<i>``: the bounded count ``__n`` and a bounded sum ``__s<j>`` per value."""
    sums = [m for m in measures if m.needs_sum]
    if len(sums) != len(values):
        raise ValueError("one value expression per sum measure")
    per = _per_person(source, entity, groups, values, sums, contribution.max_rows)
    keys = [exp.column(group_name(i)) for i in range(len(groups))]
    salt = exp.Literal.number(seed)
    ranked = exp.select(
        exp.Star(),
        exp.Window(
            this=exp.RowNumber(),
            partition_by=[exp.column(ENTITY)],
            order=exp.Order(
                expressions=[
                    exp.Ordered(
                        this=exp.Anonymous(
                            this="HASH",
                            expressions=[exp.column(ENTITY), *[k.copy() for k in keys], salt],
                        )
                    )
                ]
            ),
        ).as_(RANK),
    ).from_(per.subquery("per"))
    outer = (
        exp.select(
            *[k.copy().as_(k.name) for k in keys],
            exp.Sum(this=exp.column(COUNT)).as_(COUNT),
            *[exp.Sum(this=exp.column(sum_name(j))).as_(sum_name(j)) for j in range(len(sums))],
        )
        .from_(ranked.subquery("ranked"))
        .where(
            exp.LTE(this=exp.column(RANK), expression=exp.Literal.number(contribution.max_groups))
        )
        .having(exp.GTE(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(min_group)))
    )
    if keys:
        outer = outer.group_by(*[k.copy() for k in keys])
    return outer


def _per_person(
    source: exp.Select,
    entity: exp.Expression,
    groups: Sequence[exp.Expression],
    values: Sequence[exp.Expression],
    sums: Sequence[Measure],
    max_rows: int,
) -> exp.Select:
    bounded_count = exp.Least(
        this=exp.Count(this=exp.Star()), expressions=[exp.Literal.number(max_rows)]
    )
    per = source.copy()
    per.set("expressions", [])
    per = per.select(
        entity.copy().as_(ENTITY),
        *[g.copy().as_(group_name(i)) for i, g in enumerate(groups)],
        bounded_count.as_(COUNT),
        *[
            exp.Mul(
                this=exp.Coalesce(
                    this=exp.Avg(this=_clamped(v, m)), expressions=[exp.Literal.number(0)]
                ),
                expression=bounded_count.copy(),
            ).as_(sum_name(j))
            for j, (v, m) in enumerate(zip(values, sums, strict=True))
        ],
        append=False,
    )
    per = per.where(exp.Not(this=exp.Is(this=entity.copy(), expression=exp.Null())))
    return per.group_by(entity.copy(), *[g.copy() for g in groups])


def _clamped(value: exp.Expression, m: Measure) -> exp.Expression:
    as_double = exp.Cast(this=value.copy(), to=exp.DataType.build("DOUBLE"))
    return exp.Least(
        this=exp.Greatest(this=as_double, expressions=[_number(m.lower)]),
        expressions=[_number(m.upper)],
    )


def _number(x: float) -> exp.Expression:
    literal = exp.Literal.number(repr(abs(float(x))))
    return exp.Neg(this=literal) if x < 0 else literal
