"""The issue's "bad input and abuse" list, run as an attacker would against real DuckDB data
under a real sandbox grant. Every attack is refused (naming its rule) or answered with the
small groups suppressed, is audited, and no released figure is about fewer than k people.
Budget exhaustion is the last test (DP grants; more in test_private)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from shuzhi.audit import service as audit
from shuzhi.audit.schemas import AuditFilter
from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.sandbox import service
from shuzhi.sandbox.rules import QueryRefused, SandboxForbidden
from shuzhi.sandbox.schemas import QueryIn, QueryOut
from shuzhi.sharing import service as sharing
from tests.conftest import acting
from tests.factories import seed_org
from tests.sandbox.helpers import COMMUNITIES, HEALTH_TERMS, K, Sandbox, people, sandbox
from tests.sharing.helpers import shared_entry

Row = dict[str, Any]


@pytest.fixture
def sb(database: Database) -> Sandbox:
    return sandbox(database, seed_org(database))


def refused(sb: Sandbox, sql: str, rule: str) -> QueryRefused | SandboxForbidden:
    with pytest.raises((QueryRefused, SandboxForbidden)) as caught:
        sb.query(sql)
    err = caught.value
    assert isinstance(err, (QueryRefused, SandboxForbidden))
    assert err.rule == rule, (sql, err.rule, err.message.en)
    assert f"rule {rule}" in err.message.en and f"规则 {rule}" in err.message.zh
    return err


def population(where: Callable[[Row], bool] = lambda r: True) -> list[Row]:
    return [r for r in people() if where(r)]


def assert_groups_safe(out: QueryOut, where: Callable[[Row], bool] = lambda r: True) -> None:
    """Every released row is about at least k distinct people (checked from the source)."""
    assert out.status == "done"
    rows = population(where)
    if "社区" in out.columns:
        at = out.columns.index("社区")
        for released in out.rows:
            people_in = {r["身份证号"] for r in rows if r["社区"] == released[at]}
            assert len(people_in) >= K, released
    else:
        assert len({r["身份证号"] for r in rows}) >= K or not out.rows


def h(sb: Sandbox) -> str:
    return f'"{sb.health}"'


# ---- the attacks ------------------------------------------------------------------------


def test_select_star(sb: Sandbox) -> None:
    refused(sb, f"SELECT * FROM {h(sb)}", "select_star")
    refused(sb, f"SELECT t.* FROM {h(sb)} t", "select_star")


def test_plain_row_level_select(sb: Sandbox) -> None:
    refused(sb, f"SELECT 社区, 年龄 FROM {h(sb)}", "row_level")
    refused(sb, f"SELECT DISTINCT 社区 FROM {h(sb)}", "distinct")


def test_id_column_through_an_alias(sb: Sandbox) -> None:
    refused(
        sb,
        f"SELECT 身份证号 AS 地区, COUNT(*) FROM {h(sb)} GROUP BY 身份证号",
        "join_key_misuse",
    )
    refused(sb, f"SELECT x.诊断 AS 社区名, COUNT(*) FROM {h(sb)} x GROUP BY 1", "hidden_column")
    # An alias named like a column cannot make a later clause mean the column.
    refused(sb, f"SELECT COUNT(*) AS 社区 FROM {h(sb)}", "alias_shadows_column")


def test_min_max_of_an_identifier(sb: Sandbox) -> None:
    refused(sb, f"SELECT MIN(身份证号) FROM {h(sb)}", "extreme_on_identifier")
    refused(sb, f"SELECT 社区, MAX(身份证号) FROM {h(sb)} GROUP BY 社区", "extreme_on_identifier")
    # MIN/MAX of a value the provider did not allow it on: one person's value.
    refused(sb, f"SELECT MAX(医疗费用) FROM {h(sb)}", "extreme_not_allowed")
    refused(sb, f"SELECT MIN(年龄) FROM {h(sb)}", "extreme_not_allowed")


def test_group_by_the_id_column(sb: Sandbox) -> None:
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} GROUP BY 身份证号", "group_by_identifier")


def test_cte_or_subquery_returning_rows(sb: Sandbox) -> None:
    refused(
        sb,
        f"WITH x AS (SELECT * FROM {h(sb)}) SELECT COUNT(*) FROM x",
        "cte",
    )
    refused(sb, f"SELECT COUNT(*) FROM (SELECT 身份证号 FROM {h(sb)})", "subquery")
    refused(
        sb,
        f"SELECT COUNT(*) FROM {h(sb)} WHERE 社区 IN (SELECT 社区 FROM {h(sb)})",
        "subquery",
    )
    refused(sb, f"SELECT (SELECT MAX(诊断) FROM {h(sb)}), COUNT(*) FROM {h(sb)}", "subquery")


def _lonely_age() -> tuple[int, int]:
    """An age held by exactly one resident of 东苑, and 东苑's size."""
    ages = Counter(r["年龄"] for r in people() if r["社区"] == "东苑")
    age = next(a for a, n in sorted(ages.items()) if n == 1)
    return age, COMMUNITIES["东苑"]


def test_union_of_two_aggregates_differing_by_one_person(sb: Sandbox) -> None:
    age, _ = _lonely_age()
    refused(
        sb,
        f"SELECT COUNT(*) FROM {h(sb)} WHERE 社区 = '东苑' UNION ALL "
        f"SELECT COUNT(*) FROM {h(sb)} WHERE 社区 = '东苑' AND 年龄 <> {age}",
        "set_operation",
    )
    refused(
        sb,
        f"SELECT COUNT(*) FROM {h(sb)} INTERSECT SELECT COUNT(*) FROM {h(sb)}",
        "set_operation",
    )


def test_differencing_two_queries(sb: Sandbox) -> None:
    age, size = _lonely_age()
    first = sb.query(f"SELECT COUNT(*), AVG(医疗费用) FROM {h(sb)} WHERE 社区 = '东苑'")
    assert first.rows == [[size, pytest.approx(first.rows[0][1])]]
    assert_groups_safe(first, lambda r: r["社区"] == "东苑")
    # The same population minus one person: the difference would be that person's figures.
    refused(
        sb,
        f"SELECT COUNT(*), AVG(医疗费用) FROM {h(sb)} WHERE 社区 = '东苑' AND 年龄 <> {age}",
        "differencing",
    )
    # Written another way (NOT, IN): still one person apart.
    refused(
        sb,
        f"SELECT COUNT(*) FROM {h(sb)} WHERE NOT (年龄 IN ({age})) AND 社区 IN ('东苑')",
        "differencing",
    )
    # The same population again (a rewritten filter) is fine, and so is one k or more apart.
    again = sb.query(f"SELECT COUNT(*) FROM {h(sb)} WHERE 社区 IN ('东苑')")
    assert again.rows == [[size]]
    other = sb.query(f"SELECT COUNT(*) FROM {h(sb)} WHERE 社区 = '西苑'")
    assert other.rows == [[COMMUNITIES["西苑"]]]


def test_differencing_inside_one_group(sb: Sandbox) -> None:
    """Per group: removing one person from one community while changing others by more."""
    age, _ = _lonely_age()
    sb.query(f"SELECT 社区, COUNT(*) FROM {h(sb)} GROUP BY 社区")
    refused(
        sb,
        f"SELECT 社区, COUNT(*) FROM {h(sb)} WHERE NOT (社区 = '东苑' AND 年龄 = {age}) "
        "GROUP BY 社区",
        "differencing",
    )


def test_count_where_id_equals(sb: Sandbox) -> None:
    someone = people()[0]["身份证号"]
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} WHERE 身份证号 = '{someone}'", "join_key_misuse")
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} WHERE 诊断 = '诊断1'", "hidden_column")
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} WHERE 医疗费用 > 1000", "where_non_dimension")


def test_filter_down_to_one_person_is_suppressed(sb: Sandbox) -> None:
    age, _ = _lonely_age()
    out = sb.query(
        f"SELECT 社区, COUNT(*), SUM(医疗费用) FROM {h(sb)} WHERE 年龄 = {age} AND 社区 = '东苑' "
        "GROUP BY 社区"
    )
    assert out.rows == [] and sb.withheld(out) == 1
    # Without grouping too: the one row is about one person and is not released.
    out = sb.query(
        f"SELECT COUNT(*) FROM {h(sb)} WHERE 年龄 = {age} AND 社区 = '东苑' AND 慢病 = '是'"
    )
    assert out.rows == [] and sb.withheld(out) == 1


def test_small_groups_are_suppressed_and_counted(sb: Sandbox) -> None:
    out = sb.query(f"SELECT 社区, COUNT(*) AS n FROM {h(sb)} GROUP BY 社区 ORDER BY n DESC")
    assert out.rows == [["东苑", 40], ["西苑", 25]] and sb.withheld(out) == 1
    assert_groups_safe(out)
    # HAVING cannot bring a small group back.
    out = sb.query(f"SELECT 社区, COUNT(*) FROM {h(sb)} GROUP BY 社区 HAVING COUNT(*) < 5")
    assert out.rows == [] and sb.withheld(out) == 1


def test_limit_and_order_by_tricks(sb: Sandbox) -> None:
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} ORDER BY 身份证号 LIMIT 1", "join_key_misuse")
    refused(
        sb,
        f"SELECT 社区, COUNT(*) FROM {h(sb)} GROUP BY 社区 ORDER BY MIN(身份证号)",
        "extreme_on_identifier",
    )
    refused(sb, f"SELECT 社区, COUNT(*) FROM {h(sb)} GROUP BY 社区 LIMIT 1 OFFSET 1", "limit")
    # LIMIT applies after suppression: the smallest released group still has k people.
    out = sb.query(f"SELECT 社区, COUNT(*) AS n FROM {h(sb)} GROUP BY 社区 ORDER BY n ASC LIMIT 1")
    assert out.rows == [["西苑", 25]] and sb.withheld(out) == 1


def test_window_functions(sb: Sandbox) -> None:
    refused(sb, f"SELECT 社区, COUNT(*) OVER () FROM {h(sb)}", "window")
    refused(
        sb,
        f"SELECT 社区, ROW_NUMBER() OVER (ORDER BY 身份证号) FROM {h(sb)} GROUP BY 社区",
        "window",
    )


def test_string_functions_leaking_hidden_characters(sb: Sandbox) -> None:
    refused(sb, f"SELECT SUBSTRING(诊断, 1, 1), COUNT(*) FROM {h(sb)} GROUP BY 1", "hidden_column")
    refused(
        sb,
        f"SELECT COUNT(DISTINCT SUBSTRING(身份证号, 1, 6)) FROM {h(sb)}",
        "string_function_non_dimension",
    )
    refused(sb, f"SELECT SUM(LENGTH(诊断)) FROM {h(sb)}", "string_function_non_dimension")
    refused(sb, f"SELECT SUM(LENGTH(医疗费用)) FROM {h(sb)}", "string_function_non_dimension")
    refused(
        sb,
        f"SELECT regexp_extract(社区, '.'), COUNT(*) FROM {h(sb)} GROUP BY 1",
        "function_not_allowed",
    )
    # On a dimension a string function is allowed, and groups are still k-checked.
    out = sb.query(f"SELECT LEFT(社区, 1) AS 首字, COUNT(*) FROM {h(sb)} GROUP BY 1")
    assert sorted(out.rows) == [["东", 40], ["西", 25]] and sb.withheld(out) == 1


def test_comments_do_not_change_the_meaning(sb: Sandbox) -> None:
    out = sb.query(
        f"SELECT 社区, /* , MIN(身份证号) */ COUNT(*) -- , MAX(身份证号)\n"
        f"FROM {h(sb)} GROUP BY 社区 -- HAVING COUNT(*) > 0 UNION SELECT 身份证号"
    )
    assert out.columns == ["社区", "COUNT(*)"] and len(out.rows) == 2
    assert_groups_safe(out)
    refused(sb, f"SELECT /* harmless */ 身份证号 FROM {h(sb)}", "join_key_misuse")
    # Comment markers inside a string are text, not a comment.
    out = sb.query(f"SELECT 社区, COUNT(*) FROM {h(sb)} WHERE 社区 = '东苑--' GROUP BY 社区")
    assert out.rows == [] and sb.withheld(out) == 0


@pytest.mark.parametrize(
    "name",
    [
        "身份證號",  # traditional characters
        "社區",
        "社\u200b区",  # zero-width space inside
        "社区\u00a0",  # a no-break space after
        "ｓｈｅｑｕ",  # full-width Latin
        "社\u0301区",  # a combining mark
    ],
)
def test_unicode_look_alikes_resolve_to_nothing(sb: Sandbox, name: str) -> None:
    refused(sb, f'SELECT "{name}", COUNT(*) FROM {h(sb)} GROUP BY "{name}"', "unknown_column")
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} WHERE \"{name}\" = 'x'", "unknown_column")


def test_look_alike_table_names(sb: Sandbox) -> None:
    code = sb.health.replace("0", "０")  # full-width zero
    refused(sb, f'SELECT COUNT(*) FROM "{code}"', "unknown_table")


def test_joins_on_non_join_columns(sb: Sandbox) -> None:
    p = f'"{sb.population}"'
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} a JOIN {p} b ON a.社区 = b.独居", "join")
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} a, {p} b", "join")
    refused(
        sb, f"SELECT COUNT(*) FROM {h(sb)} a LEFT JOIN {p} b ON a.身份证号 = b.身份证号", "join"
    )
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} a CROSS JOIN {p} b", "join")
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} a JOIN {h(sb)} b ON a.身份证号 = b.身份证号", "join")


def test_cross_department_join_on_the_join_key(sb: Sandbox) -> None:
    p = f'"{sb.population}"'
    out = sb.query(
        f"SELECT a.社区, COUNT(*) AS n FROM {h(sb)} a JOIN {p} b ON a.身份证号 = b.身份证号 "
        "WHERE b.独居 = '是' AND a.慢病 = '是' GROUP BY a.社区 ORDER BY n DESC"
    )
    expected = Counter(r["社区"] for r in people() if r["独居"] == "是" and r["慢病"] == "是")
    released = {c: n for c, n in out.rows}
    assert released == {c: n for c, n in expected.items() if n >= K} == {"东苑": 13}
    assert sb.withheld(out) == sum(1 for n in expected.values() if n < K)
    assert_groups_safe(out, lambda r: r["独居"] == "是" and r["慢病"] == "是")


def test_datasets_outside_the_grant(sb: Sandbox) -> None:
    other = shared_entry(sb.database, "unconditional", loaded=True)
    err = refused(sb, f'SELECT COUNT(*) FROM "{other}"', "unknown_table")
    assert isinstance(err, Forbidden)
    refused(sb, "SELECT COUNT(*) FROM read_parquet('/etc/passwd')", "unknown_table")
    refused(sb, "SELECT COUNT(*) FROM sharing_grant", "unknown_table")
    refused(sb, f"SELECT COUNT(*) FROM main.{h(sb)}", "unknown_table")


def test_revoked_grant_mid_session(sb: Sandbox) -> None:
    assert sb.query(f"SELECT COUNT(*) FROM {h(sb)}").rows == [[68]]
    provider = sb.seeded.other_unit_actor(Role.UNIT_CDO)
    grant_id = _grant_id(sb)
    with acting(sb.database, provider) as ctx:
        sharing.revoke_grant(ctx, grant_id, "数据使用目的已变更，停止授权")
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)}", "unknown_table")
    # The other dataset's grant still answers.
    assert sb.query(f'SELECT 独居, COUNT(*) FROM "{sb.population}" GROUP BY 独居').rows


def _grant_id(sb: Sandbox) -> int:
    from sqlalchemy import select

    from shuzhi.sandbox.models import SandboxTerms

    with acting(sb.database, SYSTEM) as ctx:
        found = ctx.db.scalar(
            select(SandboxTerms.grant_id).where(SandboxTerms.resource_code == sb.health)
        )
    assert found is not None
    return found


def test_statements_and_placeholders(sb: Sandbox) -> None:
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)}; DROP TABLE x", "one_statement")
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} WHERE 社区 = ?", "construct")
    refused(sb, "SELEC COUNT(*)", "syntax")


def test_every_attack_is_audited(sb: Sandbox) -> None:
    with pytest.raises(Invalid):
        sb.query(f"SELECT * FROM {h(sb)}")
    sb.query(f"SELECT 社区, COUNT(*) FROM {h(sb)} GROUP BY 社区")
    with acting(sb.database, Actor(kind="user", name="auditor", role=Role.AUDITOR)) as ctx:
        refusals = audit.view_audit(ctx, action="sandbox.query_refused").items
        runs = audit.view_audit(ctx, action="sandbox.query_run").items
    assert refusals[0].details["rule"] == "select_star"
    assert refusals[0].outcome == "denied"
    assert runs[0].details["suppressed"] == 1 and runs[0].details["rows_released"] == 2
    assert runs[0].details["plan"]["datasets"] == [sb.health]


def test_the_audit_log_keeps_no_value_a_query_names(sb: Sandbox) -> None:
    someone = people()[0]["身份证号"]
    phone = "13812345678"
    refused(sb, f"SELECT COUNT(*) FROM {h(sb)} WHERE 身份证号 = '{someone}'", "join_key_misuse")
    refused(sb, f"SELEC COUNT(*) FROM {h(sb)} WHERE x = '{someone}'", "syntax")
    sb.query(
        f"SELECT 社区, COUNT(*) FROM {h(sb)} WHERE 慢病 = '{phone}' OR 年龄 = {phone} "
        "OR 年龄 = 92 GROUP BY 社区"
    )
    with acting(sb.database, Actor(kind="user", name="auditor", role=Role.AUDITOR)) as ctx:
        entries = audit.view_audit(ctx, action="sandbox.query_refused").items
        entries += audit.view_audit(ctx, action="sandbox.query_run").items
        found = sum(
            audit.view_audit(ctx, filters=AuditFilter(q=value)).total for value in (someone, phone)
        )
    kept = json.dumps([e.details for e in entries], ensure_ascii=False)
    assert someone not in kept and phone not in kept and someone[:14] not in kept
    assert found == 0
    # Digests, alike for one value wherever it was typed; short numbers stay as typed.
    digests = re.findall(r"'#([0-9a-f]+)'", kept)
    assert len(digests) >= 5 and len(set(digests)) == 2
    assert "年龄 = 92" in kept


def test_budget_exhaustion_refuses_the_next_query(database: Database) -> None:
    terms = {**HEALTH_TERMS, "dp_required": True, "epsilon": 0.5}
    sb = sandbox(database, seed_org(database), terms)
    sql = f'SELECT 社区, COUNT(*) FROM "{sb.health}" GROUP BY 社区'
    principal = sb.principal()
    actor = Actor(
        kind="api_key",
        id=principal.key_id,
        name=f"app:{principal.application_code}",
        role=Role.CONSUMER,
        unit_id=principal.unit_id,
    )
    with acting(database, actor) as ctx:
        first = service.run_query(ctx, QueryIn(sql=sql, epsilon=0.5), application=principal)
    assert first.epsilon_spent == pytest.approx(0.5)
    assert all(row[0] != "南苑" for row in first.rows)
    with pytest.raises(SandboxForbidden) as refused, acting(database, actor) as ctx:
        service.run_query(ctx, QueryIn(sql=sql, epsilon=0.01), application=principal)
    assert refused.value.rule == "budget_exhausted"


def _lone_resident() -> Row:
    """A resident of 南苑 (a community under k) alone there with their age."""
    rows = population(lambda r: r["社区"] == "南苑")
    return next(r for r in rows if sum(1 for o in rows if o["年龄"] == r["年龄"]) == 1)


# Each fails in the engine, unless built to yield null, exactly when the one resident's value
# crosses ``line``: a cast out of range, an integer overflow, a division by zero; or, for the
# conversion of stored text, whether anyone matches at all.
CROSSING = [
    "SELECT COUNT(CAST(医疗费用 - {line} + 2147483647 AS INT)) FROM {h} WHERE {who}",
    "SELECT COUNT(CAST(医疗费用 - {line} + 999 AS DECIMAL(3, 0))) FROM {h} WHERE {who}",
    "SELECT SUM(CAST(医疗费用 AS BIGINT) * {big}) FROM {h} WHERE {who}",
    "SELECT COUNT(1 / CAST(医疗费用 - {line} AS BIGINT)) FROM {h} WHERE {who}",
    # (whether anyone matches ``who`` at all, here)
    "SELECT COUNT(*) FROM {h} WHERE {who} AND 慢病 = {line}",
]


@pytest.mark.parametrize("template", CROSSING)
def test_no_stored_value_can_make_a_query_fail(sb: Sandbox, template: str) -> None:
    target = _lone_resident()
    value = int(target["医疗费用"])
    who = f"社区 = '南苑' AND 年龄 = {target['年龄']}"
    answers = [
        sb.query(template.format(h=h(sb), who=who, line=line, big=(2**63 - 1) // line))
        for line in (value - 1, value, value + 1)
    ]
    # One resident under k: nothing released, and nothing tells the three lines apart.
    assert [(a.status, a.rows, a.suppressed) for a in answers] == [("done", [], None)] * 3


def test_text_compared_with_a_number_is_read_as_one(sb: Sandbox) -> None:
    # The engine would convert every stored 社区 to a number and fail on the first.
    out = sb.query(f"SELECT COUNT(*) FROM {h(sb)} WHERE 社区 = 1 OR 社区 IN (2, 3)")
    assert out.rows == [[0]] or out.rows == []
    refused(
        sb, f"SELECT COUNT(*) FROM {h(sb)} WHERE 年龄 = CAST('2020-01-01' AS DATE)", "type_mismatch"
    )
    refused(sb, f"SELECT LEFT(社区, 年龄), COUNT(*) FROM {h(sb)} GROUP BY 1", "construct")


def test_having_cannot_tell_a_small_group_from_none(sb: Sandbox) -> None:
    target = _lone_resident()
    value = target["医疗费用"]
    sql = (
        f"SELECT 社区, COUNT(*) FROM {h(sb)} WHERE 社区 = '南苑' AND 年龄 = {target['年龄']} "
        "GROUP BY 社区 HAVING SUM(医疗费用) > {line}"
    )
    below, above = sb.query(sql.format(line=value - 1)), sb.query(sql.format(line=value))
    assert below.rows == above.rows == [] and below.suppressed is above.suppressed is None
    # The providers' record: the group was left out for its size both times, HAVING aside.
    assert sb.withheld(below) == sb.withheld(above) == 1
    # On released groups HAVING still filters.
    out = sb.query(f"SELECT 社区, COUNT(*) FROM {h(sb)} GROUP BY 社区 HAVING COUNT(*) > 30")
    assert out.rows == [["东苑", 40]]


def test_an_engine_failure_is_refused_without_its_message(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    from shuzhi.lake import service as lake
    from shuzhi.sandbox.models import QueryStatus, SandboxQuery

    with acting(sb.database, SYSTEM) as ctx:
        current = lake.current_version(ctx, sb.health)
        assert current is not None
        data = current[1].data_path
    hidden = data.with_name(data.name + ".away")
    data.rename(hidden)  # a real failure: the engine cannot read the version
    try:
        err = refused(sb, f"SELECT 社区, COUNT(*) FROM {h(sb)} GROUP BY 社区", "engine_error")
    finally:
        hidden.rename(data)
    said = err.message.en + err.message.zh + caplog.text
    assert data.name not in said and str(data.parent) not in said
    assert "a checked sandbox query failed in the engine" in caplog.text
    with acting(sb.database, SYSTEM) as ctx:
        kept = ctx.db.query(SandboxQuery).order_by(SandboxQuery.id.desc()).first()
        assert kept is not None and kept.status == QueryStatus.REFUSED
        assert kept.rule == "engine_error"
        entries = audit.view_audit(ctx, action="sandbox.query_refused").items
        assert any(e.details.get("rule") == "engine_error" for e in entries)
