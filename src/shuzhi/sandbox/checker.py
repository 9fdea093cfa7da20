"""Query checking by parsing: the analyst's SQL is parsed (sqlglot, DuckDB dialect), every
node is checked against an allow-list and every column against its role, and the statement
that runs is built from the checked tree — never from the analyst's text.

The checker is an allow-list: a node type it does not know is refused (rule ``construct``),
so a new SQL feature of the parser cannot slip through. Column names must match a granted
dataset's column exactly (ASCII letters case-insensitively, as the engine would), so a
Unicode look-alike resolves to nothing and is refused as an unknown column. Comments are
dropped by the parser and never reach the built statement; they cannot change its meaning
because the built statement is generated from the tree, not from the text.

What is built (see ``CheckedQuery.statement``): one SELECT over the granted datasets'
relations with the analyst's outputs renamed ``c0…``, plus, per dataset, ``COUNT(DISTINCT
entity)`` as ``__k0…`` computed in the same statement for the minimum group size.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from shuzhi.sandbox.allowlist import (
    AGGREGATES,
    GROUP,
    HAVING,
    OUTPUT,
    WHERE,
    ExpressionChecker,
    match_column,
)
from shuzhi.sandbox.plan import CheckedQuery, TableRules
from shuzhi.sandbox.rules import ColumnRole, QueryRefused

__all__ = [
    "AGGREGATES",
    "MAX_LIMIT",
    "MAX_SQL_CHARS",
    "CheckedQuery",
    "TableRules",
    "check",
    "parse",
    "recheck_filter",
]

MAX_SQL_CHARS = 20_000
MAX_LIMIT = 10_000


def parse(sql: str) -> exp.Expression:
    """The one statement of ``sql``, or ``QueryRefused`` (syntax, one_statement)."""
    if not isinstance(sql, str) or not sql.strip():
        raise QueryRefused("syntax", "empty")
    if len(sql) > MAX_SQL_CHARS or "\x00" in sql:
        raise QueryRefused("syntax", "too long or contains NUL")
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (ParseError, TokenError) as err:
        raise QueryRefused("syntax", str(err).splitlines()[0][:200]) from None
    tree = statements[0] if len(statements) == 1 else None
    if not isinstance(tree, exp.Expression) or not isinstance(tree, exp.Query):
        raise QueryRefused("one_statement")
    return tree


def check(sql: str, granted: Sequence[TableRules]) -> CheckedQuery:
    """Parse and check ``sql`` against the granted datasets; ``QueryRefused`` names the rule."""
    tree = parse(sql)
    if isinstance(tree, exp.SetOperation) or tree.find(exp.SetOperation) is not None:
        raise QueryRefused("set_operation")
    if tree.find(exp.With, exp.CTE) is not None:
        raise QueryRefused("cte")
    if tree.find(exp.Window) is not None:
        raise QueryRefused("window")
    if not isinstance(tree, exp.Select):
        raise QueryRefused("one_statement")
    if tree.find(exp.Subquery, exp.Exists) is not None or any(
        isinstance(node, exp.Query) and node is not tree for node in tree.walk()
    ):
        raise QueryRefused("subquery")
    for item in tree.expressions:
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star):
            raise QueryRefused("select_star")
    return _Checker(granted).select(tree)


class _Checker(ExpressionChecker):
    """The whole SELECT: its clauses in order, on top of the expression checks."""

    # -- the SELECT ------------------------------------------------------------------------

    def select(self, tree: exp.Select) -> CheckedQuery:
        allowed = {
            "expressions",
            "from_",
            "from",
            "joins",
            "where",
            "group",
            "having",
            "order",
            "limit",
            "kind",
        }
        for key, value in tree.args.items():
            if value is None or value == [] or value is False:
                continue
            if key == "distinct":
                raise QueryRefused("distinct")
            if key == "offset":
                raise QueryRefused("limit")
            if key not in allowed:
                raise QueryRefused("construct", key.upper())
        if tree.args.get("kind"):
            raise QueryRefused("construct", "SELECT kind")
        source = tree.args.get("from_") or tree.args.get("from")
        if source is None:
            raise QueryRefused("unknown_table", "no FROM")
        self._table(source.this)
        joins = []
        for i, join in enumerate(tree.args.get("joins") or [], start=1):
            self._table(join.this)
            joins.append(self._join(join, i))
        columns = self.scope.all_columns()

        outputs: list[exp.Expression] = []
        names: list[str] = []
        aggregated: list[bool] = []
        aliases: dict[str, int] = {}
        for item in tree.expressions:
            node, name = item, None
            if isinstance(item, exp.Alias):
                node, name = item.this, item.alias
                if (
                    not name
                    or match_column(name, {c: ColumnRole.HIDDEN for c in columns}) is not None
                ):
                    raise QueryRefused("alias_shadows_column", name)
                aliases[name] = len(outputs)
            built = self.expr(node, OUTPUT)
            has_agg = built.find(*AGGREGATES) is not None
            outputs.append(built)
            aggregated.append(has_agg)
            if name is None:
                name = node.name if isinstance(node, exp.Column) else node.sql(comments=False)
            names.append(name)

        group = self._group(tree, outputs, aggregated, aliases)
        if not any(aggregated):
            raise QueryRefused("row_level")
        for built, agg in zip(outputs, aggregated, strict=True):
            if not agg and built.find(exp.Column) is not None and built not in group:
                raise QueryRefused("row_level", built.sql(comments=False))

        where = tree.args.get("where")
        checked_where = self.predicate(where.this, WHERE) if where is not None else None
        having = tree.args.get("having")
        checked_having = None
        if having is not None:
            checked_having = self.predicate(having.this, HAVING)
            inside = {
                id(c) for a in checked_having.find_all(*AGGREGATES) for c in a.find_all(exp.Column)
            }
            for c in checked_having.find_all(exp.Column):
                if id(c) not in inside and c not in group:
                    raise QueryRefused("row_level", "HAVING on a column not grouped")

        order = self._order(tree, outputs, aliases)
        limit = self._limit(tree)

        return CheckedQuery(
            tables=list(self.scope.tables),
            outputs=outputs,
            names=names,
            aggregates=aggregated,
            joins=joins,
            where=checked_where,
            group=group,
            having=checked_having,
            order=order,
            limit=limit,
        )

    def _group(
        self,
        tree: exp.Select,
        outputs: list[exp.Expression],
        aggregated: list[bool],
        aliases: dict[str, int],
    ) -> list[exp.Expression]:
        group: list[exp.Expression] = []
        group_node = tree.args.get("group")
        if group_node is not None:
            for key, value in group_node.args.items():
                if key != "expressions" and value:
                    raise QueryRefused("construct", "GROUP BY " + key.upper())
            for g in group_node.expressions:
                if isinstance(g, exp.Literal) and not g.is_string and g.this.isdigit():
                    position = int(g.this) - 1
                    if not 0 <= position < len(outputs) or aggregated[position]:
                        raise QueryRefused("group_non_dimension", g.this)
                    group.append(outputs[position].copy())
                    continue
                if isinstance(g, exp.Column) and not g.table and g.name in aliases:
                    raise QueryRefused("group_non_dimension", "GROUP BY an alias")
                group.append(self.expr(g, GROUP))
        return group

    def _order(
        self, tree: exp.Select, outputs: list[exp.Expression], aliases: dict[str, int]
    ) -> list[tuple[int, bool]]:
        order: list[tuple[int, bool]] = []
        order_node = tree.args.get("order")
        if order_node is not None:
            for o in order_node.expressions:
                if not isinstance(o, exp.Ordered):
                    raise QueryRefused("order_by")
                target = o.this
                if (
                    isinstance(target, exp.Literal)
                    and not target.is_string
                    and target.this.isdigit()
                ):
                    position = int(target.this) - 1
                    if not 0 <= position < len(outputs):
                        raise QueryRefused("order_by", target.this)
                elif isinstance(target, exp.Column) and not target.table and target.name in aliases:
                    position = aliases[target.name]
                else:
                    built = self.expr(target, OUTPUT)
                    matches = [i for i, out in enumerate(outputs) if out == built]
                    if not matches:
                        raise QueryRefused("order_by")
                    position = matches[0]
                order.append((position, bool(o.args.get("desc"))))

        return order

    def _limit(self, tree: exp.Select) -> int | None:
        limit: int | None = None
        limit_node = tree.args.get("limit")
        if limit_node is not None:
            value = limit_node.args.get("expression")
            if (
                not isinstance(value, exp.Literal)
                or value.is_string
                or not value.this.isdigit()
                or not 1 <= int(value.this) <= MAX_LIMIT
                or limit_node.args.get("offset")
            ):
                raise QueryRefused("limit")
            limit = int(value.this)

        return limit


def recheck_filter(where_sql: str, tables: Sequence[TableRules]) -> str:
    """A stored filter (the checker's own output over ``t0``, ``t1``…) parsed and checked
    again as a WHERE condition over the same datasets, and built anew."""
    tree = parse(f"SELECT 1 WHERE {where_sql}")
    where = tree.args.get("where")
    if not isinstance(tree, exp.Select) or where is None:
        raise QueryRefused("construct", "stored filter")
    checking = _Checker(tables)
    for i, table in enumerate(tables):
        checking.scope.tables.append(table)
        checking.scope.aliases[f"t{i}"] = i
    return checking.predicate(where.this, WHERE).sql(dialect="duckdb", comments=False)
