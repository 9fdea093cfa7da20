"""Keeping every sandbox query: stored and audited when answered (in the request's
transaction), and when refused (after the rollback, in a transaction of its own)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shuzhi.audit import service as audit
from shuzhi.context import Ctx
from shuzhi.sandbox.checker import CheckedQuery
from shuzhi.sandbox.events import QueryRefusedEvent, QueryRun
from shuzhi.sandbox.literals import digested, digits_digested, key_of
from shuzhi.sandbox.models import QueryStatus, SandboxQuery, SandboxQueryDataset
from shuzhi.sandbox.private import PrivateAnswer
from shuzhi.sandbox.schemas import QueryOut
from shuzhi.sharing.grants import AppPrincipal, CallGrant


class Recorder:
    """Stores and audits a query: answered in the request's transaction, refused after its
    rollback in a transaction of its own."""

    def __init__(
        self, ctx: Ctx, sql: str, analyst: str, unit_id: int, app: AppPrincipal | None
    ) -> None:
        self.ctx, self.sql, self.analyst, self.unit_id, self.app = ctx, sql, analyst, unit_id, app
        self.key = key_of(ctx.settings.secret_key)  # the audit log keeps literals digested

    def _row(self, status: QueryStatus) -> SandboxQuery:
        return SandboxQuery(
            analyst=self.analyst,
            unit_id=self.unit_id,
            application_id=self.app.application_id if self.app else None,
            actor=self.ctx.actor.label,
            sql=self.sql,
            status=status,
            plan={},
            rows_released=0,
            suppressed=0,
        )

    def refused(self, rule: str, en: str, zh: str) -> Callable[[Ctx], None]:
        def keep(ctx: Ctx) -> None:
            row = self._row(QueryStatus.REFUSED)
            row.rule, row.reason = rule, en
            ctx.db.add(row)
            ctx.db.flush()
            audit.record(
                ctx,
                QueryRefusedEvent(
                    query_id=row.id,
                    unit=self.unit_id,
                    application=self.app.application_code if self.app else None,
                    sql=digested(self.sql, self.key),
                    rule=rule,
                    reason=digits_digested(en, self.key),
                ),
                outcome="denied",
            )

        return keep

    def done(
        self,
        checked: CheckedQuery,
        grants: list[CallGrant],
        columns: list[str],
        rows: list[list[Any]],
        suppressed: int | None,
        noisy: PrivateAnswer | None = None,
    ) -> QueryOut:
        ctx = self.ctx
        row = self._row(QueryStatus.DONE)
        row.plan = checked.summary()
        if noisy is not None:
            row.plan["dp"] = {"epsilon": noisy.epsilon, "delta": noisy.delta}
        row.signature = checked.signature()
        row.filter_sql = checked.where_sql()
        row.rows_released, row.suppressed, row.k = len(rows), suppressed or 0, checked.k
        ctx.db.add(row)
        ctx.db.flush()
        for g in grants:
            ctx.db.add(
                SandboxQueryDataset(
                    query_id=row.id,
                    resource_code=g.resource_code,
                    provider_unit_id=g.provider_unit_id,
                    grant_id=g.grant_id,
                )
            )
        audit.record(
            ctx,
            QueryRun(
                query_id=row.id,
                unit=self.unit_id,
                application=self.app.application_code if self.app else None,
                sql=digested(self.sql, self.key),
                plan=_plan_digested(row.plan, self.key),
                rows_released=len(rows),
                suppressed=suppressed or 0,
                epsilon_spent=noisy.epsilon if noisy else None,
            ),
        )
        return QueryOut(
            id=row.id,
            status="done",
            columns=columns,
            rows=rows,
            suppressed=None,  # kept for the providers; to the analyst it would name small groups
            epsilon_spent=noisy.epsilon if noisy else None,
            delta_spent=noisy.delta if noisy else None,
            intervals=noisy.intervals if noisy else None,
            k=checked.k,
        )


def _plan_digested(plan: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The plan as the audit log keeps it: the SQL of its parts with literals digested."""
    out = dict(plan)
    for part in ("where", "having"):
        if isinstance(out.get(part), str):
            out[part] = digested(out[part], key)
    for part in ("group_by", "outputs"):
        if isinstance(out.get(part), list):
            out[part] = [digested(x, key) if isinstance(x, str) else x for x in out[part]]
    return out
