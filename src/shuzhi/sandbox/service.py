"""Sandbox operations: sandbox grants (a delivery mode of sharing with column roles), and
aggregate queries checked, run inside the platform and released only for groups of at
least k distinct people."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from shuzhi import hooks
from shuzhi.audit import service as audit
from shuzhi.auth.permissions import require, scope_unit
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import ErrorCollector, Invalid, NotFound
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import QueryEngine
from shuzhi.org import service as org
from shuzhi.sandbox import checker, private
from shuzhi.sandbox.checker import CheckedQuery, TableRules
from shuzhi.sandbox.events import (
    SandboxGrantEnded,
    TermsDecided,
    TermsRequested,
)
from shuzhi.sandbox.models import QueryStatus, SandboxQuery, SandboxQueryDataset, SandboxTerms
from shuzhi.sandbox.plan import HAVING, kind_of_type
from shuzhi.sandbox.recorder import Recorder
from shuzhi.sandbox.rules import NARROWER, ColumnRole, QueryRefused, SandboxForbidden
from shuzhi.sandbox.schemas import (
    BudgetOut,
    ColumnOut,
    QueryIn,
    QueryOut,
    QueryRecordOut,
    SandboxDecisionIn,
    SandboxGrantOut,
    SandboxRequestIn,
    SandboxTermsIn,
)
from shuzhi.sharing import access
from shuzhi.sharing import service as sharing
from shuzhi.sharing.grants import AppPrincipal, CallGrant, DeliveryMode
from shuzhi.sharing.schemas import DecisionIn, RequestCreate, RequestOut

log = logging.getLogger("shuzhi.sandbox")

# How many earlier filters of the same analyst and datasets a query is compared with.
DIFFERENCING_WINDOW = 50
MAX_GROUPS = 10_000


# ---- terms ------------------------------------------------------------------------------


def _dataset_columns(ctx: Ctx, resource_code: str) -> dict[str, str]:
    current = lake.current_version(ctx, resource_code)
    if current is None:
        raise Invalid.field(
            "resource_code",
            "数据集尚未加载，无法设置沙箱规则。",
            "The dataset has no data loaded yet: sandbox terms name its columns.",
        )
    return {c.name: c.type for c in current[1].columns}


def validate_terms(ctx: Ctx, resource_code: str, terms: SandboxTermsIn) -> None:
    """Every problem of the terms at once, each in Chinese and English."""
    columns = _dataset_columns(ctx, resource_code)
    errors = ErrorCollector()
    for name in terms.columns:
        if name not in columns:
            errors.add(
                f"terms.columns.{name}", f"数据集中没有列「{name}」。", f"No column {name!r}."
            )
    entity = terms.entity_column
    if entity not in columns:
        errors.add("terms.entity_column", f"数据集中没有列「{entity}」。", f"No column {entity!r}.")
    elif terms.columns.get(entity, ColumnRole.HIDDEN) in (
        ColumnRole.DIMENSION,
        ColumnRole.AGGREGATE,
    ):
        errors.add(
            "terms.entity_column",
            "个人标识列只能是关联键或隐藏列。",
            "The entity column may only be a join key or hidden.",
        )
    for name in terms.extremes:
        if terms.columns.get(name) != ColumnRole.AGGREGATE:
            errors.add(
                f"terms.extremes.{name}",
                f"只能对聚合列允许 MIN/MAX/分位数：「{name}」。",
                f"MIN/MAX/quantiles may be allowed on aggregate columns only: {name!r}.",
            )
    if not any(r in (ColumnRole.DIMENSION, ColumnRole.AGGREGATE) for r in terms.columns.values()):
        errors.add(
            "terms.columns",
            "至少需要一个维度列或聚合列。",
            "At least one dimension or aggregate column is needed.",
        )
    if terms.dp_required and terms.epsilon is None:
        errors.add("terms.epsilon", "要求差分隐私时须设定 ε 预算。", "DP requires an ε budget.")
    for name, (low, high) in terms.bounds.items():
        if terms.columns.get(name) != ColumnRole.AGGREGATE:
            errors.add(
                f"terms.bounds.{name}",
                f"只能为聚合列设定取值范围：「{name}」。",
                f"Value ranges are set for aggregate columns only: {name!r}.",
            )
        elif not (math.isfinite(low) and math.isfinite(high) and low < high):
            errors.add(
                f"terms.bounds.{name}",
                f"「{name}」的取值范围须为有限数且下限小于上限。",
                f"The range of {name!r} must be finite numbers, the lower below the upper.",
            )
    errors.raise_if_any()


def _narrows(asked: SandboxTermsIn, given: SandboxTermsIn) -> None:
    errors = ErrorCollector()
    for name, role in given.columns.items():
        wanted = asked.columns.get(name, ColumnRole.HIDDEN)
        if role not in NARROWER[wanted]:
            errors.add(
                f"terms.columns.{name}",
                f"决定不能放宽列「{name}」的用途。",
                f"The decision may not widen the use of column {name!r}.",
            )
    if given.entity_column != asked.entity_column:
        errors.add("terms.entity_column", "不能更改个人标识列。", "The entity column is fixed.")
    if given.k < asked.k:
        errors.add("terms.k", "最小分组人数只能提高。", "The minimum group size may only grow.")
    if not set(given.extremes) <= set(asked.extremes):
        errors.add("terms.extremes", "不能增加 MIN/MAX 列。", "No MIN/MAX columns may be added.")
    if asked.dp_required and not given.dp_required:
        errors.add("terms.dp_required", "不能取消差分隐私。", "DP cannot be dropped.")
    if asked.epsilon is not None and (given.epsilon is None or given.epsilon > asked.epsilon):
        errors.add("terms.epsilon", "ε 只能降低。", "ε may only be lowered.")
    errors.raise_if_any()


def request_sandbox(ctx: Ctx, data: SandboxRequestIn) -> RequestOut:
    """File a share request with the sandbox delivery mode and its terms (one dataset)."""
    validate_terms(ctx, data.resource_code, data.terms)
    visible = [c for c, r in data.terms.columns.items() if r != ColumnRole.HIDDEN]
    if data.terms.entity_column not in visible:
        visible.append(data.terms.entity_column)
    base = RequestCreate.model_validate(
        {
            **data.model_dump(exclude={"terms", "columns", "delivery"}),
            "columns": visible,
            "delivery": [DeliveryMode.SANDBOX],
        }
    )
    out = sharing.submit_share_request(ctx, base)
    terms = data.terms.model_dump(mode="json")
    row = SandboxTerms(
        request_id=out.id,
        resource_code=out.resource_code,
        application_id=_application_id(ctx, out.application_code),
        consumer_unit_id=_unit(ctx, out.consumer_unit_code),
        provider_unit_id=_unit(ctx, out.provider_unit_code),
        requested=terms,
    )
    if out.grant_id is not None:  # granted at once (unconditional entry): as asked
        row.granted, row.grant_id, row.decided_at = terms, out.grant_id, utcnow()
    ctx.db.add(row)
    ctx.db.flush()
    audit.record(
        ctx,
        TermsRequested(
            request_id=out.id,
            unit=row.consumer_unit_id,
            resource_code=out.resource_code,
            terms=terms,
        ),
    )
    return out


def decide_sandbox(ctx: Ctx, request_id: int, data: SandboxDecisionIn) -> RequestOut:
    """The provider decides a sandbox request; partly_approve may narrow the terms."""
    row = ctx.db.scalar(select(SandboxTerms).where(SandboxTerms.request_id == request_id))
    if row is None:
        raise NotFound("没有该沙箱申请。", "No such sandbox request.")
    asked = SandboxTermsIn.model_validate(row.requested)
    given = asked
    if data.terms is not None and data.outcome != "refuse":
        validate_terms(ctx, row.resource_code, data.terms)
        _narrows(asked, data.terms)
        if data.terms != asked and data.outcome != "partly_approve":
            raise Invalid.field(
                "terms",
                "收窄沙箱规则时请选择「部分同意」。",
                "Narrowed terms are a partial approval (partly_approve).",
            )
        given = data.terms
    decision = DecisionIn.model_validate(data.model_dump(exclude={"terms"}))
    out = sharing.decide_share_request(ctx, request_id, decision)
    if out.grant_id is not None:
        row.granted = given.model_dump(mode="json")
        row.grant_id = out.grant_id
        row.decided_at = utcnow()
    audit.record(
        ctx,
        TermsDecided(
            request_id=request_id,
            unit=row.provider_unit_id,
            grant_id=out.grant_id,
            terms=row.granted,
        ),
    )
    return out


def on_grant_revoked(ctx: Ctx, event: hooks.GrantRevoked) -> None:
    """A revoked sandbox grant stops answering at once (the grant's state is what queries
    check); the end is recorded for the sandbox's own trail."""
    row = ctx.db.scalar(select(SandboxTerms).where(SandboxTerms.grant_id == event.grant_id))
    if row is not None:
        audit.record(
            ctx,
            SandboxGrantEnded(
                grant_id=event.grant_id,
                unit=event.provider_unit_id,
                resource_code=event.resource_code,
            ),
        )


def _application_id(ctx: Ctx, code: str) -> int:
    found = access.application_id_for_code(ctx.db, code)
    if found is None:
        raise NotFound("应用系统不存在。", "No such application.")
    return found


def _unit(ctx: Ctx, code: str) -> int:
    unit = org.unit_id_for_code(ctx, code)
    if unit is None:
        raise NotFound("单位不存在。", "No such unit.")
    return unit


# ---- the granted datasets ---------------------------------------------------------------


@dataclass(frozen=True)
class Granted:
    grant: CallGrant
    application_code: str
    terms: SandboxTermsIn
    version: Version
    types: dict[str, str]

    def rules(self) -> TableRules:
        roles = {
            c.name: self.terms.columns.get(c.name, ColumnRole.HIDDEN) for c in self.version.columns
        }
        return TableRules(
            resource_code=self.grant.resource_code,
            stable_name=lake.table_name(self.grant.resource_code),
            roles=roles,
            extremes=frozenset(self.terms.extremes),
            entity=self.terms.entity_column,
            k=self.terms.k,
            text_columns=frozenset(
                n for n, t in self.types.items() if t in ("string", "large_string")
            ),
            kinds={n: k for n, t in self.types.items() if (k := kind_of_type(t)) is not None},
        )


def _granted(ctx: Ctx, *, application: AppPrincipal | None, unit_id: int) -> list[Granted]:
    now = utcnow()
    found = access.sandbox_grants(
        ctx.db,
        now,
        application_id=application.application_id if application else None,
        unit_id=None if application else unit_id,
    )
    out: list[Granted] = []
    for grant, code in found:
        row = ctx.db.scalar(select(SandboxTerms).where(SandboxTerms.grant_id == grant.grant_id))
        if row is None or row.granted is None:
            continue  # a sandbox grant decided without terms gives nothing to query
        current = lake.current_version(ctx, grant.resource_code)
        if current is None:
            continue
        version = current[1]
        out.append(
            Granted(
                grant=grant,
                application_code=code,
                terms=SandboxTermsIn.model_validate(row.granted),
                version=version,
                types={c.name: c.type for c in version.columns},
            )
        )
    return out


def _analyst(application: AppPrincipal | None, unit_id: int) -> str:
    """Who a query is charged to: the application, or the unit's console users together."""
    return f"app:{application.application_id}" if application else f"unit:{unit_id}"


def sandbox_budget(
    ctx: Ctx, *, application: AppPrincipal | None = None, unit_code: str | None = None
) -> list[BudgetOut]:
    """What is left of each differentially private grant's budget for the caller."""
    unit_id = application.unit_id if application else _unit_or_own(ctx, unit_code)
    require(ctx, "view_sandbox_grants", unit_id)
    if unit_id is None:
        return []
    analyst = _analyst(application, unit_id)
    out: list[BudgetOut] = []
    for g in _granted(ctx, application=application, unit_id=unit_id):
        if not g.terms.dp_required:
            continue
        b = private.Budgeted(g.grant.grant_id, g.grant.resource_code, g.terms)
        left_e, left_d, queries = private.remaining(ctx, analyst, b)
        out.append(
            BudgetOut(
                grant_id=b.grant_id,
                resource_code=b.resource_code,
                epsilon_budget=b.epsilon,
                epsilon_spent=b.epsilon - left_e,
                epsilon_remaining=max(left_e, 0.0),
                delta_budget=b.delta,
                delta_spent=b.delta - left_d,
                delta_remaining=max(left_d, 0.0),
                queries=queries,
                default_query_epsilon=private.query_epsilon(None, [b]),
            )
        )
    return out


def list_sandbox_grants(
    ctx: Ctx, *, application: AppPrincipal | None = None, unit_code: str | None = None
) -> list[SandboxGrantOut]:
    """The caller's sandbox grants: schemas and column roles, never a sample row."""
    unit_id = application.unit_id if application else _unit_or_own(ctx, unit_code)
    require(ctx, "view_sandbox_grants", unit_id)
    if unit_id is None:
        return []
    return [
        SandboxGrantOut(
            grant_id=g.grant.grant_id,
            resource_code=g.grant.resource_code,
            table=lake.table_name(g.grant.resource_code),
            entry_name="",
            provider_unit_id=g.grant.provider_unit_id,
            application_code=g.application_code,
            purpose=g.grant.purpose,
            expires_at=g.grant.expires_at,
            entity_column=g.terms.entity_column,
            k=g.terms.k,
            dp_required=g.terms.dp_required,
            epsilon=g.terms.epsilon,
            delta=g.terms.delta,
            columns=[
                ColumnOut(
                    name=c.name,
                    type=c.type,
                    role=g.terms.columns.get(c.name, ColumnRole.HIDDEN),
                    extremes=c.name in g.terms.extremes,
                )
                for c in g.version.columns
            ],
        )
        for g in _granted(ctx, application=application, unit_id=unit_id)
    ]


def _unit_or_own(ctx: Ctx, unit_code: str | None) -> int | None:
    if unit_code is None:
        return ctx.actor.unit_id
    return org.unit_id_for_code(ctx, unit_code)


# ---- queries ----------------------------------------------------------------------------


def run_query(
    ctx: Ctx,
    data: QueryIn,
    *,
    application: AppPrincipal | None = None,
    unit_code: str | None = None,
) -> QueryOut:
    """Check, run and release an aggregate query (audited, refused or answered)."""
    unit_id = application.unit_id if application else _unit_or_own(ctx, unit_code)
    require(ctx, "run_sandbox_query", unit_id)
    assert unit_id is not None
    analyst = _analyst(application, unit_id)
    record = Recorder(ctx, data.sql, analyst, unit_id, application)
    try:
        checker.parse(data.sql)
        granted = _granted(ctx, application=application, unit_id=unit_id)
        if not granted:
            raise SandboxForbidden("no_grant")
        by_code = {g.grant.resource_code: g for g in granted}
        checked = checker.check(data.sql, [g.rules() for g in granted])
        used = [by_code[t.resource_code] for t in checked.tables]
        grants = [g.grant for g in used]
        engine = lake.query_engine(ctx)
        if len(used) == 1:
            checked.one_row_per_person = _one_row_per_person(engine, used[0])
        relations, params = _relations(engine, used)
        _differencing(ctx, engine, checked, relations, params, analyst)
        budgets = [
            private.Budgeted(g.grant.grant_id, g.grant.resource_code, g.terms)
            for g in used
            if g.terms.dp_required
        ]
        if budgets:
            noisy = private.answer(
                ctx,
                engine,
                checked,
                budgets,
                relations,
                params,
                analyst=analyst,
                dialect=_dialect(engine),
                epsilon=data.epsilon,
            )
            return record.done(checked, grants, noisy.columns, noisy.rows, None, noisy)
        columns, rows, suppressed = _execute(engine, checked, relations, params)
    except (QueryRefused, SandboxForbidden) as err:
        err.after_rollback = record.refused(err.rule, err.message.en, err.message.zh)
        raise
    except Exception as exc:  # the engine's, whatever its kind: see _engine_failure
        raise _engine_failure(record, exc) from None
    return record.done(checked, grants, columns, rows, suppressed)


def _engine_failure(record: Recorder, exc: Exception) -> QueryRefused:
    """A checked query the engine failed on, refused in words that owe nothing to the
    failure. The checker builds statements no stored value can make fail (``allowlist``);
    should one fail still, its message may quote a value, so neither the analyst nor the
    log sees it, and the refusal is kept and audited like any other, the privacy budget
    charged as if answered."""
    log.warning("a checked sandbox query failed in the engine (%s)", type(exc).__name__)
    err = QueryRefused("engine_error")
    keep = record.refused(err.rule, err.message.en, err.message.zh)
    charges = exc.charges if isinstance(exc, private.FailedAfterCharge) else []

    def after_rollback(ctx: Ctx) -> None:
        keep(ctx)
        private.charge_again(ctx, charges)

    err.after_rollback = after_rollback
    return err


def _one_row_per_person(engine: QueryEngine, g: Granted) -> bool:
    """Whether the version holds each person at most once (the engine remembers the counts
    of a version's column)."""
    values, distinct = engine.column_counts(g.version, g.terms.entity_column)
    return values == distinct


def _relations(engine: QueryEngine, used: list[Granted]) -> tuple[list[str], list[Any]]:
    relations: list[str] = []
    params: list[Any] = []
    for g in used:
        relation, p = engine.relation(g.version)
        relations.append(relation)
        params.extend(p)
    return relations, params


def _dialect(engine: QueryEngine) -> str:
    return "spark" if engine.capabilities.name == "spark" else "duckdb"


def _execute(
    engine: QueryEngine, checked: CheckedQuery, relations: list[str], params: list[Any]
) -> tuple[list[str], list[list[Any]], int]:
    """Run the built statement; groups of fewer than k distinct people of any dataset
    touched are suppressed (and counted, for the providers' record), then HAVING and LIMIT
    apply to what is left."""
    sql = checked.statement(relations, _dialect(engine))
    table = engine.run_statement(sql, params)
    n_out, n_tables = len(checked.outputs), len(checked.tables)
    k = checked.k
    released: list[list[Any]] = []
    suppressed = 0
    for row in table.to_pylist():
        values = list(row.values())
        counts = values[n_out : n_out + n_tables]
        if any(c is None or int(c) < k for c in counts):
            suppressed += 1
            continue
        if checked.having is not None and row[HAVING] is not True:
            continue
        released.append(values[:n_out])
    if len(released) > MAX_GROUPS:
        raise QueryRefused("too_many_groups", str(MAX_GROUPS))
    if checked.limit is not None:
        released = released[: checked.limit]
    return checked.names, released, suppressed


def _differencing(
    ctx: Ctx,
    engine: QueryEngine,
    checked: CheckedQuery,
    relations: list[str],
    params: list[Any],
    analyst: str,
) -> None:
    """Refuse a query whose population differs from an earlier query's (same analyst, same
    datasets and joins) by fewer than k distinct people in any group of this query."""
    mine = checked.where_sql()
    earlier = list(
        dict.fromkeys(
            f
            for f in ctx.db.scalars(
                select(SandboxQuery.filter_sql)
                .where(
                    SandboxQuery.analyst == analyst,
                    SandboxQuery.signature == checked.signature(),
                    SandboxQuery.status == QueryStatus.DONE,
                )
                .order_by(SandboxQuery.id.desc())
                .limit(DIFFERENCING_WINDOW)
            )
            if f != mine
        )
    )
    # The stored filters are the checker's own output for the same datasets; they are
    # parsed and checked again before they are put into a statement.
    rules = checked.tables
    safe: list[str | None] = []
    for f in earlier:
        safe.append(None if f is None else checker.recheck_filter(f, rules))
    if not safe:
        return
    k = checked.k
    for sql in checked.difference_statements(relations, safe, _dialect(engine)):
        for row in engine.run_statement(sql, params).to_pylist():
            mine = row["m"]
            for j in range(len(safe)):
                theirs, diff = row[f"o{j}"], row[f"d{j}"]
                # Only a group released both times can be subtracted: both at least k.
                if mine >= k and theirs >= k and 0 < diff < k:
                    raise QueryRefused("differencing")


def list_queries(ctx: Ctx, unit_code: str | None = None, limit: int = 100) -> list[QueryRecordOut]:
    """Every query run on a provider unit's data (the provider's view), newest first."""
    unit_id = _unit_or_own(ctx, unit_code)
    require(ctx, "view_sandbox_queries", unit_id)
    scoped = scope_unit(ctx, "view_sandbox_queries")
    query = select(SandboxQuery).order_by(SandboxQuery.id.desc()).limit(max(1, min(limit, 500)))
    provider = scoped if scoped is not None else unit_id
    if provider is not None:
        query = query.where(
            SandboxQuery.id.in_(
                select(SandboxQueryDataset.query_id).where(
                    SandboxQueryDataset.provider_unit_id == provider
                )
            )
        )
    return [
        QueryRecordOut(
            id=q.id,
            analyst=q.analyst,
            unit_id=q.unit_id,
            actor=q.actor,
            sql=q.sql,
            status=q.status.value,
            rule=q.rule,
            reason=q.reason,
            plan=dict(q.plan),
            rows_released=q.rows_released,
            suppressed=q.suppressed,
            created_at=q.created_at,
        )
        for q in ctx.db.scalars(query)
    ]
