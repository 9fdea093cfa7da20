"""The vocabulary of the sandbox: column roles, the rules a query can break, and the
refusal errors that name them (bilingual, with a stable rule code for clients and audit)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shuzhi.errors import FieldError, Forbidden, Invalid, Message


class ColumnRole(StrEnum):
    """What the provider lets a column be used for (the strictest last)."""

    DIMENSION = "dimension"  # may be grouped by, filtered on and output
    AGGREGATE = "aggregate"  # only inside COUNT/SUM/AVG (MIN/MAX/quantiles where allowed)
    JOIN_KEY = "join_key"  # only in join conditions: never output, never filtered on
    HIDDEN = "hidden"  # never used at all (the default for unlisted columns)


# How permissive a role is; a decision may only move a column down this order (narrow),
# and between join_key and aggregate neither is narrower, so only ``hidden`` narrows both.
NARROWER: dict[ColumnRole, frozenset[ColumnRole]] = {
    ColumnRole.DIMENSION: frozenset(ColumnRole),
    ColumnRole.AGGREGATE: frozenset({ColumnRole.AGGREGATE, ColumnRole.HIDDEN}),
    ColumnRole.JOIN_KEY: frozenset({ColumnRole.JOIN_KEY, ColumnRole.HIDDEN}),
    ColumnRole.HIDDEN: frozenset({ColumnRole.HIDDEN}),
}

DEFAULT_K = 10
MIN_K = 2
MAX_K = 100_000


@dataclass(frozen=True)
class Rule:
    code: str
    zh: str
    en: str


def _r(code: str, zh: str, en: str) -> Rule:
    return Rule(code, zh, en)


# Every reason a query is refused. The code is stable (API clients, audit, docs/sandbox.md).
RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        _r("syntax", "查询语句无法解析", "the statement cannot be parsed"),
        _r("one_statement", "只能提交一条 SELECT 语句", "submit exactly one SELECT statement"),
        _r(
            "set_operation",
            "不允许 UNION/INTERSECT/EXCEPT",
            "UNION/INTERSECT/EXCEPT are not allowed",
        ),
        _r("cte", "不允许 WITH 子句（CTE）", "WITH clauses (CTEs) are not allowed"),
        _r("subquery", "不允许子查询", "subqueries are not allowed"),
        _r("window", "不允许窗口函数", "window functions are not allowed"),
        _r("select_star", "不允许 SELECT *", "SELECT * is not allowed"),
        _r(
            "row_level",
            "只允许聚合查询：至少一个聚合函数，其余输出列须出现在 GROUP BY 中",
            "only aggregate queries: at least one aggregate, every other output in GROUP BY",
        ),
        _r("distinct", "不允许 SELECT DISTINCT", "SELECT DISTINCT is not allowed"),
        _r(
            "unknown_table",
            "数据集不在沙箱授权范围内或不存在",
            "the dataset is outside the sandbox grant or does not exist",
        ),
        _r(
            "unknown_column",
            "列名不存在（须与数据集列名完全一致）",
            "no such column (names must match the dataset's exactly)",
        ),
        _r("ambiguous_column", "列名有歧义，请加表别名", "ambiguous column; qualify it"),
        _r("hidden_column", "使用了隐藏列", "a hidden column is used"),
        _r(
            "output_non_dimension",
            "输出中出现了非维度列（聚合列只能在聚合函数内使用）",
            "a non-dimension column is output (aggregate columns only inside aggregates)",
        ),
        _r(
            "where_non_dimension",
            "WHERE 条件中只能使用维度列",
            "WHERE may use dimension columns only",
        ),
        _r(
            "group_non_dimension",
            "GROUP BY 只能使用维度列",
            "GROUP BY may use dimension columns only",
        ),
        _r(
            "group_by_identifier",
            "不能按个人标识列或关联键分组",
            "GROUP BY an identifier or join key is not allowed",
        ),
        _r(
            "join_key_misuse",
            "关联键只能用于 JOIN 条件",
            "join keys may only be used in join conditions",
        ),
        _r(
            "extreme_on_identifier",
            "不能对标识列或关联键取 MIN/MAX/分位数",
            "MIN/MAX/quantiles of an identifier or join key are not allowed",
        ),
        _r(
            "extreme_not_allowed",
            "提供方未允许对此列取 MIN/MAX/分位数（会暴露个人取值）",
            "the provider does not allow MIN/MAX/quantiles of this column (they release one"
            " person's value)",
        ),
        _r("function_not_allowed", "函数不在允许清单中", "the function is not on the allow-list"),
        _r(
            "string_function_non_dimension",
            "字符串/日期函数只能用于维度列",
            "string and date functions may be applied to dimension columns only",
        ),
        _r(
            "aggregate_argument",
            "聚合函数的参数只能是聚合列或维度列的算术表达式",
            "aggregate arguments must be arithmetic over aggregate or dimension columns",
        ),
        _r("nested_aggregate", "不允许嵌套聚合", "nested aggregates are not allowed"),
        _r(
            "alias_shadows_column",
            "别名不能与数据集的列名相同",
            "an alias may not have the name of a dataset column",
        ),
        _r(
            "join",
            "只允许以关联键等值条件进行内连接（INNER JOIN … ON a.键 = b.键）",
            "only INNER JOIN … ON equalities between join keys is allowed",
        ),
        _r("limit", "LIMIT 须为 1–10000 的整数，不允许 OFFSET", "LIMIT must be 1–10000; no OFFSET"),
        _r(
            "order_by",
            "ORDER BY 只能使用输出列",
            "ORDER BY may use output columns only",
        ),
        _r("construct", "不允许的语法", "a construct that is not allowed"),
        _r(
            "type_mismatch",
            "比较或运算的两边类型无法对应（如数字与日期）",
            "the two sides of a comparison or operation are of kinds that do not meet"
            " (such as a number and a date)",
        ),
        _r(
            "engine_error",
            "查询引擎无法执行该查询",
            "the query engine could not run the query",
        ),
        _r(
            "differencing",
            "与您之前的查询相比，筛选出的人群相差不足最小分组人数（差分攻击防护）",
            "the filtered population differs from one of your earlier queries by fewer than the"
            " minimum group size (differencing defence)",
        ),
        _r("too_many_groups", "分组过多", "too many groups"),
        _r(
            "dp_aggregate",
            "差分隐私下只能使用 COUNT、SUM、AVG",
            "under differential privacy only COUNT, SUM and AVG are answered",
        ),
        _r(
            "dp_bounds",
            "提供方未为该列设定差分隐私的取值范围，不能对其求和或求平均",
            "the provider set no value range for this column, so it cannot be summed or"
            " averaged under differential privacy",
        ),
        _r(
            "dp_having",
            "差分隐私下不允许 HAVING（它会按真实数值筛选）",
            "HAVING is not allowed under differential privacy (it filters on true values)",
        ),
        _r(
            "budget_exhausted",
            "差分隐私预算不足",
            "the differential-privacy budget does not cover this query",
        ),
        _r("no_grant", "没有有效的沙箱授权", "no active sandbox grant"),
    )
}


class QueryRefused(Invalid):
    """A query breaks a rule (422): ``rule`` is the stable code, the message names it."""

    def __init__(self, rule: str, detail: str = "") -> None:
        r = RULES[rule]
        where = f"：{detail}" if detail else ""
        where_en = f": {detail}" if detail else ""
        super().__init__(
            f"查询被拒绝（规则 {rule}）：{r.zh}{where}",
            f"Query refused (rule {rule}): {r.en}{where_en}",
            errors=[
                FieldError(
                    "sql", Message(f"规则 {rule}：{r.zh}{where}", f"rule {rule}: {r.en}{where_en}")
                )
            ],
        )
        self.rule = rule
        self.detail = detail


class SandboxForbidden(Forbidden):
    """The caller holds no grant for a dataset it names (403), with the rule code."""

    def __init__(self, rule: str, detail: str = "") -> None:
        r = RULES[rule]
        where = f"：{detail}" if detail else ""
        where_en = f": {detail}" if detail else ""
        super().__init__(
            f"查询被拒绝（规则 {rule}）：{r.zh}{where}",
            f"Query refused (rule {rule}): {r.en}{where_en}",
            operation="run_sandbox_query",
        )
        self.rule = rule
        self.detail = detail
