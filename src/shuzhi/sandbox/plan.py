"""The checked query and the statements built from it: one SELECT over the granted
datasets' relations with the analyst's outputs renamed ``c0…`` plus, per dataset, ``COUNT(DISTINCT
entity)`` as ``__k0…`` for the minimum group size; the differencing statements; the plan summary.

Everything here is generated from the checked tree (``shuzhi.sandbox.checker``), never from
the analyst's text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from shuzhi.sandbox.rules import ColumnRole

HAVING = "__having"  # the statement's column answering the HAVING condition per group
NUMBER, TEXT, DATE, TIMESTAMP, BOOL = "number", "text", "date", "timestamp", "bool"


def kind_of_type(arrow_type: str) -> str | None:
    """The kind of a stored column from its Arrow type's name (``None``: none of these)."""
    name = arrow_type.lower()
    if name in ("string", "large_string", "utf8", "large_utf8"):
        return TEXT
    if name.startswith(("int", "uint", "float", "double", "halffloat", "decimal")):
        return NUMBER
    if name.startswith("date"):
        return DATE
    if name.startswith("timestamp"):
        return TIMESTAMP
    if name in ("bool", "boolean"):
        return BOOL
    return None


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
    # Each column's kind (``kind_of_type``): what a comparison with it must convert.
    kinds: Mapping[str, str] = field(default_factory=dict)

    def kind(self, column: str) -> str | None:
        return self.kinds.get(column)

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
        # HAVING is answered as a column and applied after suppression, by the executor: in
        # the engine it would drop small groups too, and which were dropped would show.
        if self.having is not None:
            select.append(f'COALESCE(({self._sql(self.having, dialect)}), FALSE) AS "{HAVING}"')
        sql = f"SELECT {', '.join(select)} FROM {self.from_clause(relations)}"
        if self.where is not None:
            sql += f" WHERE {self._sql(self.where, dialect)}"
        if self.group:
            sql += f" GROUP BY {', '.join(self.group_sql(dialect))}"
        if self.order:
            sql += " ORDER BY " + ", ".join(
                f'"c{i}" {"DESC" if desc else "ASC"} NULLS LAST' for i, desc in self.order
            )
        return sql  # LIMIT is applied after suppression and HAVING, by the executor

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
