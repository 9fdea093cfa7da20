"""Running one search: the matched set, its total and facet counts, and one ranked page.

Exact bm25/ts_rank scores are computed only when the matched set is small enough to
score quickly (``FullTextBackend.exact_rank_limit``); a broader match is ordered by
"every word in the title" first, then by key, which costs one extra index lookup.

Totals and facet counts are computed in one statement from matched documents per facet
set; without query text those come from the per-bucket counts (``search_doc_count``),
so browsing and filter-only searches never touch every document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.sql.elements import BindParameter, TextClause

from shuzhi.context import Ctx
from shuzhi.search.backends import FullTextBackend
from shuzhi.search.query import Expr


@dataclass
class Plan:
    backend: FullTextBackend
    where: list[str]
    params: dict[str, Any]
    binds: list[BindParameter[Any]] = field(default_factory=list)
    has_text: bool = False

    @classmethod
    def create(
        cls,
        backend: FullTextBackend,
        kind: str,
        filters: Mapping[str, Sequence[str]],
        viewer_unit_id: int | None,
        viewer_sees_all: bool,
    ) -> Plan:
        plan = cls(backend, ["d.kind = :kind"], {"kind": kind})
        if not viewer_sees_all:
            plan.where.append("(d.scope_unit_id IS NULL OR d.scope_unit_id = :viewer)")
            plan.params["viewer"] = viewer_unit_id
        for i, (name, values) in enumerate(sorted(filters.items())):
            plan.where.append(
                f"d.facet_set_id IN (SELECT set_id FROM search_facet "
                f"WHERE field = :ff{i} AND value IN :fv{i})"
            )
            plan.params |= {f"ff{i}": name, f"fv{i}": list(values)}
            plan.binds.append(bindparam(f"fv{i}", expanding=True))
        return plan

    def match(self, expr: Expr) -> None:
        self.has_text = True
        self.params["q"] = self.backend.render_query(expr)
        self.params["tq"] = self.backend.render_title_query(expr)

    def _sql(self, select_list: str, *, ranked: bool = False) -> str:
        source = "search_doc d"
        if self.has_text:
            matched = self.backend.ranked if ranked else self.backend.matched
            source = f"({matched}) m {self.backend.join} search_doc d ON d.id = m.id"
        return f"SELECT {select_list} FROM {source} WHERE {' AND '.join(self.where)}"

    def _clause(self, sql: str, *extra: BindParameter[Any]) -> TextClause:
        return text(sql).bindparams(*self.binds, *extra)

    def _params(self, sql: str, **more: Any) -> dict[str, Any]:
        # Only the parameters the statement names (drivers reject unused ones).
        return {k: v for k, v in {**self.params, **more}.items() if f":{k}" in sql}

    def _by_set(self) -> str:
        """Matched documents per facet set, as rows (set_id, n)."""
        if self.has_text:
            return self._sql("d.facet_set_id AS set_id, count(*) AS n") + " GROUP BY d.facet_set_id"
        where = " AND ".join(self.where)
        return (
            "SELECT d.facet_set_id AS set_id, sum(d.n) AS n FROM search_doc_count d "
            f"WHERE {where} GROUP BY d.facet_set_id"
        )

    def count(self, ctx: Ctx) -> int:
        if self.has_text:
            sql = self._sql("count(*)")
        else:
            sql = f"SELECT sum(d.n) FROM search_doc_count d WHERE {' AND '.join(self.where)}"
        return int(ctx.db.scalar(self._clause(sql), self._params(sql)) or 0)

    def count_with_facets(
        self, ctx: Ctx, fields: Sequence[str]
    ) -> tuple[int, dict[str, dict[str, int]]]:
        """The total and, per field and value, the matches (most frequent first)."""
        sql = (
            f"WITH by_set AS MATERIALIZED ({self._by_set()}) "
            "SELECT NULL AS field, NULL AS value, sum(n) AS n FROM by_set UNION ALL "
            "SELECT f.field, f.value, sum(b.n) FROM by_set b "
            "JOIN search_facet f ON f.set_id = b.set_id "
            "WHERE f.field IN :fields GROUP BY f.field, f.value"
        )
        clause = self._clause(sql, bindparam("fields", expanding=True))
        total = 0
        counts: dict[str, Counter[str]] = {name: Counter() for name in fields}
        for name, value, n in ctx.db.execute(clause, self._params(sql, fields=list(fields))):
            if name is None:
                total = int(n or 0)
            else:
                counts[name][value] = int(n)
        facets = {
            name: dict(sorted(c.items(), key=lambda item: (-item[1], item[0])))
            for name, c in counts.items()
        }
        return total, facets

    def page(self, ctx: Ctx, total: int, sort: str, limit: int, offset: int) -> list[str]:
        ranked = self.has_text and sort == "relevance" and total <= self.backend.exact_rank_limit
        if ranked:
            order = f"{self.backend.best_first}, d.key"
        elif self.has_text and sort == "relevance":
            order = f"d.id IN ({self.backend.title_matched}) DESC, d.key"
        else:
            order = "d.key"
        sql = self._sql("d.key", ranked=ranked) + f" ORDER BY {order} LIMIT :limit OFFSET :offset"
        rows = ctx.db.execute(self._clause(sql), self._params(sql, limit=limit, offset=offset))
        return [key for (key,) in rows]
