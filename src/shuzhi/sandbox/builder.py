"""The point-and-click query builder: a dataset, dimension columns to group by, one aggregate
and simple equality filters on dimension columns become the SQL the editor shows. What is
built is only text for the editor: it runs through the checker like any typed query."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from shuzhi.errors import ErrorCollector
from shuzhi.sandbox.rules import ColumnRole
from shuzhi.sandbox.schemas import SandboxGrantOut

MAX_FILTERS = 3


class Measure(StrEnum):
    COUNT = "count"  # rows
    PEOPLE = "people"  # distinct people (the entity column)
    SUM = "sum"
    AVG = "avg"


@dataclass
class BuilderChoice:
    dataset: str = ""
    group: list[str] = field(default_factory=list)
    measure: Measure = Measure.COUNT
    column: str = ""  # the aggregate column of SUM/AVG
    filters: list[tuple[str, str]] = field(default_factory=list)  # (dimension column, value)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def build_sql(grants: list[SandboxGrantOut], choice: BuilderChoice) -> str:
    """The SQL for a builder choice, or ``Invalid`` naming every wrong field."""
    errors = ErrorCollector()
    grant = next((g for g in grants if g.resource_code == choice.dataset), None)
    if grant is None:
        errors.add("dataset", "请选择一个已授权的数据集。", "Choose a granted dataset.")
        errors.raise_if_any()
    assert grant is not None
    roles = {c.name: c.role for c in grant.columns}
    for name in choice.group:
        if roles.get(name) != ColumnRole.DIMENSION:
            errors.add("group", f"「{name}」不能用于分组。", f"{name!r} cannot be grouped by.")
    if choice.measure in (Measure.SUM, Measure.AVG) and roles.get(choice.column) not in (
        ColumnRole.AGGREGATE,
        ColumnRole.DIMENSION,
    ):
        errors.add("column", "请选择可聚合的列。", "Choose a column that may be aggregated.")
    if len(choice.filters) > MAX_FILTERS:
        errors.add("filters", "筛选条件过多。", f"At most {MAX_FILTERS} filters.")
    for name, text in choice.filters:
        if roles.get(name) != ColumnRole.DIMENSION:
            errors.add("filters", f"「{name}」不能用于筛选。", f"{name!r} cannot be filtered on.")
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
            errors.add("filters", "筛选值含控制字符。", "A filter value holds control characters.")
    errors.raise_if_any()
    if choice.measure == Measure.COUNT:
        value = "COUNT(*)"
    elif choice.measure == Measure.PEOPLE:
        value = f"COUNT(DISTINCT {_ident(grant.entity_column)})"
    else:
        value = f"{choice.measure.value.upper()}({_ident(choice.column)})"
    groups = [_ident(g) for g in dict.fromkeys(choice.group)]
    sql = f"SELECT {', '.join([*groups, value + ' AS ' + _ident(choice.measure.value)])}"
    sql += f" FROM {_ident(grant.resource_code)}"
    if choice.filters:
        sql += " WHERE " + " AND ".join(f"{_ident(c)} = {_text(v)}" for c, v in choice.filters)
    if groups:
        sql += f" GROUP BY {', '.join(groups)} ORDER BY {', '.join(groups)}"
    return sql
