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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from shuzhi.sandbox.rules import ColumnRole, QueryRefused, SandboxForbidden

MAX_SQL_CHARS = 20_000
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class TableRules:
    """One granted dataset as the checker sees it."""

    resource_code: str
    stable_name: str  # ds_<code>: another name the analyst may use
    roles: Mapping[str, ColumnRole]  # every column of the dataset (unlisted: hidden)
    extremes: frozenset[str]  # columns MIN/MAX/quantiles are allowed on
    entity: str  # the column counting distinct people
    k: int
    # Columns stored as text (text sources): read as numbers inside SUM/AVG/MIN/MAX, a
    # non-numeric value counting as null (as the lake's own aggregates do).
    text_columns: frozenset[str] = frozenset()

    def role(self, column: str) -> ColumnRole:
        return self.roles.get(column, ColumnRole.HIDDEN)

    def identifiers(self) -> frozenset[str]:
        keys = {c for c, r in self.roles.items() if r == ColumnRole.JOIN_KEY}
        return frozenset(keys | {self.entity})


@dataclass
class CheckedQuery:
    """A query that passed every rule, ready to be built for an engine."""

    tables: list[TableRules]
    outputs: list[exp.Expression]  # sanitised, in select order
    names: list[str]  # what the analyst sees as column names
    aggregates: list[bool]  # whether each output is an aggregate
    joins: list[list[tuple[str, str, str, str]]]  # per joined table: (ta, ca, tb, cb)
    where: exp.Expression | None = None
    group: list[exp.Expression] = field(default_factory=list)
    having: exp.Expression | None = None
    order: list[tuple[int, bool]] = field(default_factory=list)  # (output index, desc)
    limit: int | None = None
    # Set by the executor from the data (the person column is unique in the one dataset).
    one_row_per_person: bool = False

    @property
    def k(self) -> int:
        """The strictest minimum group size of the datasets touched."""
        return max(t.k for t in self.tables)

    def _sql(self, node: exp.Expression, dialect: str) -> str:
        return node.sql(dialect=dialect, comments=False)

    def from_clause(self, relations: Sequence[str]) -> str:
        """``relations[i]`` is the engine's relation for ``tables[i]`` (e.g. read_parquet(?))."""
        parts = [f'{relations[0]} AS "t0"']
        for i, conds in enumerate(self.joins, start=1):
            on = " AND ".join(
                f'"{ta}".{quote(ca)} = "{tb}".{quote(cb)}' for ta, ca, tb, cb in conds
            )
            parts.append(f'INNER JOIN {relations[i]} AS "t{i}" ON {on}')
        return " ".join(parts)

    def where_sql(self, dialect: str = "duckdb") -> str | None:
        return None if self.where is None else self._sql(self.where, dialect)

    def group_sql(self, dialect: str = "duckdb") -> list[str]:
        return [self._sql(g, dialect) for g in self.group]

    def signature(self) -> str:
        """The datasets and joins: filters are comparable only between equal signatures."""
        return json.dumps(
            {"tables": [t.resource_code for t in self.tables], "joins": self.joins},
            ensure_ascii=False,
            sort_keys=True,
        )

    def statement(self, relations: Sequence[str], dialect: str = "duckdb") -> str:
        select = [f'{self._sql(o, dialect)} AS "c{i}"' for i, o in enumerate(self.outputs)]
        # People per group; on one dataset known to hold one row per person, counting its
        # non-empty person values gives the same figure without a distinct count.
        distinct = "" if len(self.tables) == 1 and self.one_row_per_person else "DISTINCT "
        select += [
            f'COUNT({distinct}"t{i}".{quote(t.entity)}) AS "__k{i}"'
            for i, t in enumerate(self.tables)
        ]
        sql = f"SELECT {', '.join(select)} FROM {self.from_clause(relations)}"
        if self.where is not None:
            sql += f" WHERE {self._sql(self.where, dialect)}"
        if self.group:
            sql += f" GROUP BY {', '.join(self.group_sql(dialect))}"
        if self.having is not None:
            sql += f" HAVING {self._sql(self.having, dialect)}"
        if self.order:
            sql += " ORDER BY " + ", ".join(
                f'"c{i}" {"DESC" if desc else "ASC"} NULLS LAST' for i, desc in self.order
            )
        return sql  # LIMIT is applied after suppression, by the executor

    def difference_statements(
        self, relations: Sequence[str], earlier: Sequence[str | None], dialect: str = "duckdb"
    ) -> list[str]:
        """One statement per dataset: per group of this query, how many distinct people of
        the dataset are in this query's population (``m``), in an earlier filter's
        (``o<j>``; ``None``: no filter) and in exactly one of the two (``d<j>``).

        A person is in a population when any of their rows matches the filter. People are
        first reduced to one row each (GROUP BY the groups and the person), then counted:
        one hash aggregation instead of a distinct count per filter."""
        mine = self.where_sql(dialect) or "TRUE"
        groups = self.group_sql(dialect)
        keys = [f'{g} AS "g{n}"' for n, g in enumerate(groups)]
        outer_keys = [f'"g{n}"' for n in range(len(groups))]
        statements = []
        for i, t in enumerate(self.tables):
            entity = f'"t{i}".{quote(t.entity)}'
            flags = [f'BOOL_OR(COALESCE(({mine}), FALSE)) AS "m"']
            counts = ['SUM(CASE WHEN "m" THEN 1 ELSE 0 END) AS "m"']
            for j, other in enumerate(earlier):
                flags.append(f'BOOL_OR(COALESCE(({other or "TRUE"}), FALSE)) AS "o{j}"')
                counts.append(f'SUM(CASE WHEN "o{j}" THEN 1 ELSE 0 END) AS "o{j}"')
                counts.append(f'SUM(CASE WHEN "m" <> "o{j}" THEN 1 ELSE 0 END) AS "d{j}"')
            inner = (
                f"SELECT {', '.join([*keys, *flags])} FROM {self.from_clause(relations)}"
                f" WHERE {entity} IS NOT NULL GROUP BY {', '.join([*groups, entity])}"
            )
            sql = f'SELECT {", ".join(counts)} FROM ({inner}) AS "people"'
            if outer_keys:
                sql += f" GROUP BY {', '.join(outer_keys)}"
            statements.append(sql)
        return statements

    def summary(self) -> dict[str, Any]:
        """The parsed plan in brief (audit, provider's view)."""
        return {
            "datasets": [t.resource_code for t in self.tables],
            "outputs": self.names,
            "where": self.where_sql(),
            "group_by": self.group_sql(),
            "having": None if self.having is None else self._sql(self.having, "duckdb"),
            "joins": self.joins,
            "k": self.k,
            "limit": self.limit,
        }


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---- allow-lists ------------------------------------------------------------------------

COUNTING = (exp.Count,)
SUMMING = (exp.Sum, exp.Avg, exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance)
EXTREMES = (exp.Min, exp.Max, exp.Median, exp.Quantile, exp.PercentileCont, exp.PercentileDisc)
AGGREGATES = COUNTING + SUMMING + EXTREMES
NUMERIC_FUNCS = (exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Coalesce, exp.Cast)
TEXT_FUNCS = (
    exp.Substring,
    exp.Left,
    exp.Right,
    exp.Upper,
    exp.Lower,
    exp.Length,
    exp.Trim,
    exp.Year,
    exp.Month,
    exp.Day,
)
ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg, exp.Paren)
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
LITERALS = (exp.Literal, exp.Null, exp.Boolean)
CAST_TYPES = {
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
    exp.DataType.Type.DOUBLE,
    exp.DataType.Type.FLOAT,
    exp.DataType.Type.DECIMAL,
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.TEXT,
    exp.DataType.Type.DATE,
}
OUTPUT, AGG, WHERE, GROUP, HAVING = "output", "aggregate", "where", "group", "having"


class _Scope:
    """The datasets of one query under their internal aliases t0, t1…"""

    def __init__(self) -> None:
        self.tables: list[TableRules] = []
        self.aliases: dict[str, int] = {}  # what the analyst may qualify columns with

    def all_columns(self) -> set[str]:
        return {c for t in self.tables for c in t.roles}

    def resolve(self, col: exp.Column) -> tuple[int, str]:
        if col.args.get("db") or col.args.get("catalog"):
            raise QueryRefused("unknown_column", col.sql(comments=False))
        name = col.name
        qualifier = col.table
        candidates = range(len(self.tables))
        if qualifier:
            if qualifier not in self.aliases:
                raise QueryRefused("unknown_table", qualifier)
            candidates = range(self.aliases[qualifier], self.aliases[qualifier] + 1)
        found: list[tuple[int, str]] = []
        for i in candidates:
            real = _match(name, self.tables[i].roles)
            if real is not None:
                found.append((i, real))
        if not found:
            raise QueryRefused("unknown_column", name)
        if len(found) > 1:
            raise QueryRefused("ambiguous_column", name)
        return found[0]


def _match(name: str, columns: Mapping[str, ColumnRole]) -> str | None:
    """Exact match; ASCII names also case-insensitively (unquoted names in SQL are), never
    any other folding, so look-alike characters do not resolve to a column."""
    if name in columns:
        return name
    if name.isascii():
        hits = [c for c in columns if c.isascii() and c.lower() == name.lower()]
        if len(hits) == 1:
            return hits[0]
    return None


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


class _Checker:
    def __init__(self, granted: Sequence[TableRules]) -> None:
        self.granted = granted
        self.scope = _Scope()

    # -- FROM and JOIN ---------------------------------------------------------------------

    def _table(self, node: exp.Expression) -> int:
        if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
            raise QueryRefused("unknown_table", node.sql(comments=False)[:100])
        if node.args.get("db") or node.args.get("catalog") or node.args.get("joins"):
            raise QueryRefused("unknown_table", node.sql(comments=False)[:100])
        name = node.name
        matches = [t for t in self.granted if name in (t.resource_code, t.stable_name)]
        if not matches and name.isascii():
            matches = [t for t in self.granted if t.stable_name == name.lower()]
        if not matches:
            raise SandboxForbidden("unknown_table", name)
        table = matches[0]
        if table in self.scope.tables:
            raise QueryRefused("join", "a dataset may appear only once")
        index = len(self.scope.tables)
        self.scope.tables.append(table)
        alias = node.args.get("alias")
        if alias is not None:
            if not isinstance(alias, exp.TableAlias) or alias.args.get("columns"):
                raise QueryRefused("construct", "table alias with column list")
            self.scope.aliases[alias.name] = index
        else:
            self.scope.aliases[name] = index
        return index

    def _join(self, join: exp.Join, index: int) -> list[tuple[str, str, str, str]]:
        kind = (join.args.get("kind") or "").upper()
        if join.args.get("side") or kind not in ("", "INNER") or join.args.get("using"):
            raise QueryRefused("join")
        on = join.args.get("on")
        if on is None:
            raise QueryRefused("join", "a join needs ON conditions")
        conds = []
        for eq in _conjuncts(on):
            if not isinstance(eq, exp.EQ):
                raise QueryRefused("join")
            left, right = eq.this, eq.expression
            if not isinstance(left, exp.Column) or not isinstance(right, exp.Column):
                raise QueryRefused("join")
            (li, lc), (ri, rc) = self.scope.resolve(left), self.scope.resolve(right)
            for i, c in ((li, lc), (ri, rc)):
                role = self.scope.tables[i].role(c)
                if role == ColumnRole.HIDDEN:
                    raise QueryRefused("hidden_column", c)
                if role != ColumnRole.JOIN_KEY:
                    raise QueryRefused("join", f"{c} is not a join key")
            if li == ri or index not in (li, ri):
                raise QueryRefused("join", "join conditions must link the joined dataset")
            conds.append((f"t{li}", lc, f"t{ri}", rc))
        return conds

    # -- expressions -----------------------------------------------------------------------

    def _column(self, col: exp.Column, context: str, grouped: bool = False) -> exp.Column:
        index, real = self.scope.resolve(col)
        table = self.scope.tables[index]
        role = table.role(real)
        if role == ColumnRole.HIDDEN:
            raise QueryRefused("hidden_column", real)
        if context == GROUP and real in table.identifiers():
            raise QueryRefused("group_by_identifier", real)
        if role == ColumnRole.JOIN_KEY:
            raise QueryRefused("join_key_misuse", real)
        if context == AGG:
            if role not in (ColumnRole.AGGREGATE, ColumnRole.DIMENSION):
                raise QueryRefused("aggregate_argument", real)
        elif role != ColumnRole.DIMENSION or real == table.entity:
            rule = {
                OUTPUT: "output_non_dimension",
                WHERE: "where_non_dimension",
                GROUP: "group_non_dimension",
                HAVING: "output_non_dimension",
            }[context]
            if context == GROUP and real in table.identifiers():
                rule = "group_by_identifier"
            raise QueryRefused(rule, real)
        return exp.Column(
            this=exp.Identifier(this=real, quoted=True),
            table=exp.Identifier(this=f"t{index}", quoted=True),
        )

    def _literal(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Literal):
            text = node.this
            if not isinstance(text, str) or len(text) > 1000:
                raise QueryRefused("construct", "literal")
            return exp.Literal(this=text, is_string=node.is_string)
        if isinstance(node, exp.Null):
            return exp.Null()
        if isinstance(node, exp.Boolean):
            return exp.Boolean(this=bool(node.this))
        raise QueryRefused("construct", type(node).__name__)

    def expr(self, node: exp.Expression, context: str) -> exp.Expression:
        """A checked, rebuilt copy of a scalar (non-aggregate) expression."""
        if isinstance(node, exp.Column):
            if not isinstance(node.this, exp.Identifier):
                raise QueryRefused("select_star")
            return self._column(node, context)
        if isinstance(node, LITERALS):
            return self._literal(node)
        if isinstance(node, exp.Neg):
            return exp.Neg(this=self.expr(node.this, context))
        if isinstance(node, exp.Paren):
            return exp.Paren(this=self.expr(node.this, context))
        if isinstance(node, ARITHMETIC):
            return type(node)(
                this=self.expr(node.this, context),
                expression=self.expr(node.expression, context),
            )
        if isinstance(node, AGGREGATES):
            if context in (OUTPUT, HAVING):
                return self.aggregate(node)
            if context == AGG:
                raise QueryRefused("nested_aggregate")
            raise QueryRefused("construct", f"aggregate in {context}")
        if isinstance(node, exp.Cast):
            to = node.args.get("to")
            if not isinstance(to, exp.DataType) or to.this not in CAST_TYPES:
                raise QueryRefused("function_not_allowed", "CAST type")
            return exp.Cast(this=self.expr(node.this, context), to=to.copy())
        if isinstance(node, NUMERIC_FUNCS):
            return self._function(node, context)
        if isinstance(node, TEXT_FUNCS):
            if context == AGG:
                raise QueryRefused("string_function_non_dimension", node.key.upper())
            return self._function(node, context)
        if isinstance(node, exp.Window):
            raise QueryRefused("window")
        if isinstance(node, exp.Func):
            raise QueryRefused("function_not_allowed", node.sql_name())
        raise QueryRefused("construct", type(node).__name__)

    def _function(self, node: exp.Func, context: str) -> exp.Expression:
        args: dict[str, Any] = {}
        for key, value in node.args.items():
            if value is None:
                continue
            if isinstance(value, list):
                args[key] = [self.expr(v, context) for v in value]
            elif isinstance(value, exp.Expression):
                args[key] = self.expr(value, context)
            elif isinstance(value, bool):
                args[key] = value
            else:
                raise QueryRefused("construct", node.sql_name())
        return cast(exp.Expression, type(node)(**args))

    def aggregate(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Count):
            arg = node.this
            if isinstance(arg, exp.Star):
                return exp.Count(this=exp.Star())
            if isinstance(arg, exp.Distinct):
                values = arg.expressions
                if len(values) != 1:
                    raise QueryRefused("aggregate_argument", "COUNT(DISTINCT one column)")
                value = values[0]
                if isinstance(value, exp.Column):
                    index, real = self.scope.resolve(value)
                    table = self.scope.tables[index]
                    if real == table.entity and table.role(real) != ColumnRole.HIDDEN:
                        col = exp.Column(
                            this=exp.Identifier(this=real, quoted=True),
                            table=exp.Identifier(this=f"t{index}", quoted=True),
                        )
                        return exp.Count(this=exp.Distinct(expressions=[col]))
                    return exp.Count(this=exp.Distinct(expressions=[self._column(value, AGG)]))
                if isinstance(value, TEXT_FUNCS):
                    raise QueryRefused("string_function_non_dimension", value.key.upper())
                raise QueryRefused("aggregate_argument")
            return exp.Count(this=self.expr(arg, AGG))
        if isinstance(node, EXTREMES):
            arg = node.this
            if not isinstance(arg, exp.Column):
                raise QueryRefused("aggregate_argument", node.sql_name())
            index, real = self.scope.resolve(arg)
            table = self.scope.tables[index]
            if real in table.identifiers():
                raise QueryRefused("extreme_on_identifier", real)
            if table.role(real) == ColumnRole.HIDDEN:
                raise QueryRefused("hidden_column", real)
            if real not in table.extremes:
                raise QueryRefused("extreme_not_allowed", real)
            rebuilt: dict[str, Any] = {"this": self._column(arg, AGG)}
            for key in ("expression", "quantile"):
                extra = node.args.get(key)
                if extra is not None:
                    if not isinstance(extra, exp.Literal) or extra.is_string:
                        raise QueryRefused("aggregate_argument", "quantile")
                    rebuilt[key] = self._literal(extra)
            for key, value in node.args.items():
                if key not in ("this", "expression", "quantile") and value is not None:
                    raise QueryRefused("construct", node.sql_name())
            return self._numeric(type(node)(**rebuilt))
        if isinstance(node, SUMMING):
            for key, value in node.args.items():
                if key != "this" and value is not None:
                    raise QueryRefused("construct", node.sql_name())
            if isinstance(node.this, exp.Distinct):
                raise QueryRefused("aggregate_argument", "DISTINCT")
            return self._numeric(type(node)(this=self.expr(node.this, AGG)))
        raise QueryRefused("function_not_allowed", node.key.upper())

    def _numeric(self, node: exp.Expression) -> exp.Expression:
        """Text columns inside a numeric aggregate are read as numbers (TRY_CAST)."""

        def cast(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and isinstance(n.table, str) and n.table.startswith("t"):
                table = self.scope.tables[int(n.table[1:])]
                if n.name in table.text_columns:
                    return exp.TryCast(this=n.copy(), to=exp.DataType.build("DOUBLE"))
            return n

        return node.transform(cast, copy=False)

    def predicate(self, node: exp.Expression, context: str) -> exp.Expression:
        """WHERE/HAVING conditions: logic over comparisons."""
        if isinstance(node, (exp.And, exp.Or)):
            return type(node)(
                this=self.predicate(node.this, context),
                expression=self.predicate(node.expression, context),
            )
        if isinstance(node, exp.Not):
            return exp.Not(this=self.predicate(node.this, context))
        if isinstance(node, exp.Paren):
            return exp.Paren(this=self.predicate(node.this, context))
        if isinstance(node, COMPARISONS):
            return type(node)(
                this=self.expr(node.this, context),
                expression=self.expr(node.expression, context),
            )
        if isinstance(node, exp.In):
            if node.args.get("query") or node.args.get("field") or node.args.get("unnest"):
                raise QueryRefused("subquery")
            values = node.expressions
            if not values or len(values) > 1000:
                raise QueryRefused("construct", "IN list")
            return exp.In(
                this=self.expr(node.this, context),
                expressions=[self.expr(v, context) for v in values],
            )
        if isinstance(node, exp.Between):
            return exp.Between(
                this=self.expr(node.this, context),
                low=self.expr(node.args["low"], context),
                high=self.expr(node.args["high"], context),
            )
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise QueryRefused("construct", "IS")
            return exp.Is(this=self.expr(node.this, context), expression=exp.Null())
        if isinstance(node, (exp.Like, exp.ILike)):
            pattern = node.expression
            if not isinstance(pattern, exp.Literal) or not pattern.is_string:
                raise QueryRefused("construct", "LIKE needs a text pattern")
            if node.args.get("escape"):
                raise QueryRefused("construct", "LIKE ESCAPE")
            return type(node)(this=self.expr(node.this, context), expression=self._literal(pattern))
        if isinstance(node, exp.Boolean):
            return self._literal(node)
        raise QueryRefused("construct", type(node).__name__)

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
                if not name or _match(name, {c: ColumnRole.HIDDEN for c in columns}) is not None:
                    raise QueryRefused("alias_shadows_column", name)
                aliases[name] = len(outputs)
            built = self.expr(node, OUTPUT)
            has_agg = built.find(*AGGREGATES) is not None
            outputs.append(built)
            aggregated.append(has_agg)
            if name is None:
                name = node.name if isinstance(node, exp.Column) else node.sql(comments=False)
            names.append(name)

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


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]
