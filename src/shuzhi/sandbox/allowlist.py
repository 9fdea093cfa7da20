"""The allow-list of the query checker: which node types, functions and casts a query may
use, how a column name resolves to a granted dataset's column, and the checks of FROM, JOIN,
scalar expressions, aggregates and conditions against the columns' roles. Each check returns a
rebuilt copy of the node, so the statement that runs is made of checked nodes only.

A node type not listed here is refused (rule ``construct``), so a new SQL feature of the
parser cannot slip through.

No value a query reads may make the engine fail. Whether a statement fails is an answer too:
a cast that fails on one person's value, or a sum that overflows on it, tells whether that
person's value crosses a line, however small their group. So every conversion the engine would
make of a stored value is built as a cast that yields null instead of failing (``safe_cast``):
explicit casts, arithmetic (in double precision, divisions by zero null), and the text side of
a comparison between text and a number, date or truth value. Positions and lengths given to
functions must be number literals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlglot import exp

from shuzhi.sandbox.plan import BOOL, DATE, NUMBER, TEXT, TIMESTAMP, TableRules
from shuzhi.sandbox.rules import ColumnRole, QueryRefused, SandboxForbidden

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
TEXT_TO_TEXT = (exp.Substring, exp.Left, exp.Right, exp.Upper, exp.Lower, exp.Trim)
ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg, exp.Paren)
# Function arguments that are positions, lengths or digits: number literals only.
LITERAL_ARGUMENTS = {"start", "length", "expression", "decimals"}
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
LITERALS = (exp.Literal, exp.Null, exp.Boolean)
NUMBER_TYPES = {
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
    exp.DataType.Type.DOUBLE,
    exp.DataType.Type.FLOAT,
    exp.DataType.Type.DECIMAL,
}
CAST_TYPES = NUMBER_TYPES | {
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.TEXT,
    exp.DataType.Type.DATE,
}
OUTPUT, AGG, WHERE, GROUP, HAVING = "output", "aggregate", "where", "group", "having"
# What a value of each kind is read as when the other side of a comparison is text.
KIND_TYPES = {NUMBER: "DOUBLE", DATE: "DATE", TIMESTAMP: "TIMESTAMP", BOOL: "BOOLEAN"}


def safe_cast(node: exp.Expression, to: str | exp.DataType) -> exp.Expression:
    """``node`` converted to ``to``, null where a value does not convert (``TRY_CAST`` on every
    engine; sqlglot writes a plain ``CAST`` for Spark unless the cast is marked safe)."""
    kind = to if isinstance(to, exp.DataType) else exp.DataType.build(to)
    return exp.TryCast(this=node, to=kind, safe=True)


def _number(node: exp.Expression) -> exp.Expression:
    """An operand of arithmetic in double precision (no integer overflow can fail)."""
    if isinstance(node, exp.Literal) and not node.is_string:
        return node
    return safe_cast(node, "DOUBLE")


class Scope:
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
            real = match_column(name, self.tables[i].roles)
            if real is not None:
                found.append((i, real))
        if not found:
            raise QueryRefused("unknown_column", name)
        if len(found) > 1:
            raise QueryRefused("ambiguous_column", name)
        return found[0]


def match_column(name: str, columns: Mapping[str, ColumnRole]) -> str | None:
    """Exact match; ASCII names also case-insensitively (unquoted names in SQL are), never
    any other folding, so look-alike characters do not resolve to a column."""
    if name in columns:
        return name
    if name.isascii():
        hits = [c for c in columns if c.isascii() and c.lower() == name.lower()]
        if len(hits) == 1:
            return hits[0]
    return None


class ExpressionChecker:
    """Checks FROM, JOIN and expressions of one query in a scope of granted datasets."""

    def __init__(self, granted: Sequence[TableRules]) -> None:
        self.granted = granted
        self.scope = Scope()

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
        for eq in conjuncts(on):
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
            return exp.Neg(this=_number(self.expr(node.this, context)))
        if isinstance(node, exp.Paren):
            return exp.Paren(this=self.expr(node.this, context))
        if isinstance(node, exp.Div):
            return exp.SafeDivide(
                this=_number(self.expr(node.this, context)),
                expression=_number(self.expr(node.expression, context)),
            )
        if isinstance(node, ARITHMETIC):
            return type(node)(
                this=_number(self.expr(node.this, context)),
                expression=_number(self.expr(node.expression, context)),
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
            return safe_cast(self.expr(node.this, context), to.copy())
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
            if key in LITERAL_ARGUMENTS and not isinstance(node, exp.Coalesce):
                if not isinstance(value, exp.Literal) or value.is_string:
                    raise QueryRefused("construct", f"{node.sql_name()} needs a number literal")
                args[key] = self._literal(value)
                continue
            if isinstance(node, exp.Abs) and key == "this":
                args[key] = _number(self.expr(value, context))
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
                    return safe_cast(n.copy(), "DOUBLE")
            return n

        return node.transform(cast, copy=False)

    def kind(self, node: exp.Expression) -> str | None:
        """The kind of a checked expression's values (``None``: unknown or null)."""
        if isinstance(node, exp.Column):
            if isinstance(node.table, str) and node.table.startswith("t"):
                return self.scope.tables[int(node.table[1:])].kind(node.name)
            return None
        if isinstance(node, exp.Literal):
            return TEXT if node.is_string else NUMBER
        if isinstance(node, exp.Boolean):
            return BOOL
        if isinstance(node, exp.Cast):  # TryCast as well
            to = node.args["to"].this
            if to in NUMBER_TYPES:
                return NUMBER
            return DATE if to == exp.DataType.Type.DATE else TEXT
        if isinstance(node, exp.Paren):
            return self.kind(node.this)
        if isinstance(node, exp.Coalesce):
            kinds = [self.kind(n) for n in [node.this, *node.expressions]]
            return next((k for k in kinds if k is not None), None)
        if isinstance(node, exp.Min | exp.Max):
            return self.kind(node.this)
        if isinstance(node, TEXT_FUNCS):
            return TEXT if isinstance(node, TEXT_TO_TEXT) else NUMBER
        if isinstance(node, (*ARITHMETIC, exp.SafeDivide, *NUMERIC_FUNCS, *AGGREGATES)):
            return NUMBER
        return None

    def comparable(self, nodes: list[exp.Expression]) -> list[exp.Expression]:
        """Operands compared with one another, the text ones read as the others' kind
        (``safe_cast``): the engine would otherwise convert text values and fail on one
        that does not convert. Two kinds neither of which is text are refused."""
        kinds = [self.kind(n) for n in nodes]
        others = {k for k in kinds if k not in (None, TEXT)}
        if others == {DATE, TIMESTAMP}:
            others = {TIMESTAMP}  # a date widens to a timestamp without fail
        if len(others) > 1:
            raise QueryRefused("type_mismatch", " / ".join(sorted(others)))
        if not others or TEXT not in kinds:
            return nodes
        target = KIND_TYPES[others.pop()]
        return [safe_cast(n, target) if k == TEXT else n for n, k in zip(nodes, kinds, strict=True)]

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
            this, other = self.comparable(
                [self.expr(node.this, context), self.expr(node.expression, context)]
            )
            return type(node)(this=this, expression=other)
        if isinstance(node, exp.In):
            if node.args.get("query") or node.args.get("field") or node.args.get("unnest"):
                raise QueryRefused("subquery")
            values = node.expressions
            if not values or len(values) > 1000:
                raise QueryRefused("construct", "IN list")
            this, *rest = self.comparable(
                [self.expr(node.this, context), *(self.expr(v, context) for v in values)]
            )
            return exp.In(this=this, expressions=rest)
        if isinstance(node, exp.Between):
            this, low, high = self.comparable(
                [
                    self.expr(node.this, context),
                    self.expr(node.args["low"], context),
                    self.expr(node.args["high"], context),
                ]
            )
            return exp.Between(this=this, low=low, high=high)
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


def conjuncts(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Paren):
        return conjuncts(node.this)
    if isinstance(node, exp.And):
        return conjuncts(node.this) + conjuncts(node.expression)
    return [node]
