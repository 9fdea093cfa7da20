"""Running one search: the matched set, its total and facet counts, and one ranked page.

Every plan here returns exactly the same total, facet counts and page; plans differ only
in cost, and the cheapest is chosen from a few facts read first:

- How dense the match is: counted in a few id windows (a sample of the kind's
  documents). A query matching most of its kind is counted through the documents of the
  kind it does *not* match (a text query on the kind token every document carries),
  subtracted from the per-bucket counts in ``search_doc_count``; a sparser one through
  its matches. Without text, counts come from ``search_doc_count`` alone.
- A page in key order is either read from the matches (every match joined, filtered and
  ordered) or found by walking the ``(kind, key)`` index and testing each row, which
  stops after the page when matches are dense. A walk is bounded: if the rows it may
  visit hold too few matches, the page is read instead.
- Exact bm25/ts_rank scores are computed only when the matched set is small enough to
  score quickly (``FullTextBackend.exact_rank_limit``); a broader match is ordered by
  "every word in the title" first, then by key: the title matches come first in key
  order (found through a title-only index), then the other matches in key order.

Text conditions use the simplified query (``query.simplify``: same matches, fewer
tokens); exact scores use the query as written.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.sql.elements import BindParameter, TextClause

from shuzhi.context import Ctx
from shuzhi.search.backends import DocSet, FullTextBackend
from shuzhi.search.query import Expr, simplify, size

# A match this dense (share of the kind's documents) is counted through its complement.
DENSE_SHARE = 0.5
# Fewer documents of the kind in the sampled id window: no density estimate.
MIN_SAMPLE = 30
# A walk may visit this many times the rows it is expected to need, plus a margin.
WALK_SLACK = 4.0
WALK_MARGIN = 200


@dataclass(frozen=True)
class Member:
    """A membership condition of a page: in (or, ``negated``, not in) a set."""

    docs: DocSet
    negated: bool = False


@dataclass
class Plan:
    backend: FullTextBackend
    where: list[str]
    params: dict[str, Any]
    binds: list[BindParameter[Any]] = field(default_factory=list)
    has_text: bool = False
    filtered: bool = False
    tokens: int = 0
    # Facts learnt before the page is planned.
    match_share: float | None = None
    title_share: float | None = None
    dense: bool = False
    kind_docs: int = 0
    visible_docs: int = 0
    visible_known: bool = False
    sized: bool = False

    @classmethod
    def create(
        cls,
        backend: FullTextBackend,
        kind: str,
        filters: Mapping[str, Sequence[str]],
        viewer_unit_id: int | None,
        viewer_sees_all: bool,
    ) -> Plan:
        plan = cls(backend, ["d.kind = :kind"], {"kind": kind}, filtered=bool(filters))
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
        kind = self.params["kind"]
        matching = simplify(expr)
        self.tokens = size(matching)
        rendered = self.backend.render_query(matching)
        self.params |= {
            DocSet.MATCH.value: rendered,
            DocSet.TITLE.value: rendered,
            DocSet.COMPLEMENT.value: self.backend.render_complement(kind, matching),
            "rq": self.backend.render_query(expr),
            "wq": self.backend.render_window_query(kind, matching),
        }

    # ------------------------------------------------------------ plumbing

    def choose(self, decision: str, costs: Mapping[str, float]) -> str:
        """The cheapest option of one decision (the first listed on a tie)."""
        return min(costs, key=lambda option: costs[option])

    def _run(self, ctx: Ctx, sql: str, **more: Any) -> list[Any]:
        # Only the parameters the statement names (drivers reject unused ones).
        params = {k: v for k, v in {**self.params, **more}.items() if f":{k}" in sql}
        clause: TextClause = text(sql).bindparams(
            *(b for b in self.binds if b.key in params),
            *(
                bindparam(k, expanding=True)
                for k, v in params.items()
                if k in more and isinstance(v, list)
            ),
        )
        return list(ctx.db.execute(clause, params))

    def _conditions(self, *extra: str, kind: bool = True) -> str:
        return " AND ".join([*(self.where if kind else self.where[1:]), *extra]) or "1 = 1"

    # ------------------------------------------------------------ estimates

    def _estimate(self, ctx: Ctx) -> None:
        """Shares of the kind's documents matching the query and its title query, sampled.

        The sample is the window of ids around the middle of the id range (all of them in
        a small index); too few documents of the kind there give no estimate.
        """
        middle = "(SELECT max(id) / 2 FROM search_doc)"
        window = self.backend.window.format(lo=f"{middle} - :half", hi=f"{middle} + :half")
        sql = f"SELECT w.*, (SELECT max(id) FROM search_doc) FROM ({window}) w"
        half = self.backend.window_ids // 2
        ((seen, matched, titled, top),) = self._run(ctx, sql, half=half)
        if seen and (seen >= MIN_SAMPLE or (top or 0) <= 2 * half):
            self.match_share = min(1.0, matched / seen)
            self.title_share = min(self.match_share, titled / seen)

    # ------------------------------------------------------------ counting

    def totals(self, ctx: Ctx, fields: Sequence[str]) -> tuple[int, dict[str, dict[str, int]]]:
        """The total and, per field and value, the matches (most frequent first)."""
        visible = (
            "SELECT d.facet_set_id AS set_id, sum(d.n) AS n FROM search_doc_count d "
            f"WHERE {self._conditions()} GROUP BY d.facet_set_id"
        )
        if not self.has_text:
            by_set = "SELECT set_id, n FROM visible"
        else:
            self._estimate(ctx)
            share = self.match_share
            costs = {"matches": share if share is not None else 0.0}
            costs["complement"] = 1.0 - share + 0.1 if share is not None else math.inf
            self.dense = self.choose("count", costs) == "complement"
            if self.dense:
                by_set = (
                    "SELECT set_id, sum(n) AS n FROM (SELECT set_id, n FROM visible UNION ALL "
                    "SELECT d.facet_set_id, -count(*) FROM "
                    f"{self.backend.source[DocSet.COMPLEMENT]} WHERE {self._conditions()} "
                    "GROUP BY d.facet_set_id) x GROUP BY set_id"
                )
            else:
                visible = ""
                by_set = (
                    "SELECT d.facet_set_id AS set_id, count(*) AS n FROM "
                    f"{self.backend.source[DocSet.MATCH]} WHERE {self._conditions()} "
                    "GROUP BY d.facet_set_id"
                )
        parts = ["SELECT 0 AS part, NULL AS field, NULL AS value, sum(n) AS n FROM by_set"]
        if visible:
            parts.append("SELECT 1, NULL, NULL, sum(n) FROM visible")
        if not self.has_text and len(self.where) > 1:  # the kind's size, for the page plan
            parts.append(
                "SELECT 3, NULL, NULL, sum(c.n) FROM search_doc_count c WHERE c.kind = :kind"
            )
        if fields:
            parts.append(
                "SELECT 2, f.field, f.value, sum(b.n) FROM by_set b "
                "JOIN search_facet f ON f.set_id = b.set_id "
                "WHERE f.field IN :fields GROUP BY f.field, f.value"
            )
        ctes = [f"visible AS MATERIALIZED ({visible})"] if visible else []
        ctes.append(f"by_set AS MATERIALIZED ({by_set})")
        sql = f"WITH {', '.join(ctes)} " + " UNION ALL ".join(parts)
        total = 0
        counts: dict[str, Counter[str]] = {name: Counter() for name in fields}
        for part, name, value, n in self._run(ctx, sql, fields=list(fields)):
            if part == 0:
                total = int(n or 0)
            elif part == 1:
                self.visible_docs, self.visible_known = int(n or 0), True
            elif part == 3:
                self.kind_docs, self.sized = int(n or 0), True
            elif int(n):
                counts[name][value] = int(n)
        if not self.has_text and len(self.where) == 1:
            self.kind_docs, self.sized = total, True
        facets = {
            name: dict(sorted(c.items(), key=lambda item: (-item[1], item[0])))
            for name, c in counts.items()
        }
        return total, facets

    def _sizes(self, ctx: Ctx) -> None:
        """How many documents the kind holds and how many of them the search may see."""
        if self.sized:
            return
        self.sized = True
        visible = f"SELECT sum(d.n) FROM search_doc_count d WHERE {self._conditions()}"
        if self.visible_known or len(self.where) == 1:  # counted already, or the kind's
            visible = "NULL"
        sql = f"SELECT (SELECT sum(c.n) FROM search_doc_count c WHERE c.kind = :kind), ({visible})"
        ((kind_docs, visible_docs),) = self._run(ctx, sql)
        self.kind_docs = int(kind_docs or 0)
        if not self.visible_known:
            visible_docs = self.kind_docs if len(self.where) == 1 else visible_docs
            self.visible_docs, self.visible_known = int(visible_docs or 0), True

    # ------------------------------------------------------------ pages

    def page(self, ctx: Ctx, total: int, sort: str, limit: int, offset: int) -> list[str]:
        if not self.has_text or sort != "relevance":
            self._sizes(ctx)
            members = (Member(DocSet.MATCH),) if self.has_text else ()
            return self._first(ctx, members, total, limit, offset)
        if total <= self.backend.exact_rank_limit:
            sql = (
                f"SELECT d.key FROM {self.backend.ranked} WHERE {self._conditions()} "
                f"ORDER BY {self.backend.best_first}, d.key LIMIT :limit OFFSET :offset"
            )
            return [key for (key,) in self._run(ctx, sql, limit=limit, offset=offset)]
        self._sizes(ctx)
        end = offset + limit
        titled = round((self.title_share or 0.0) * self.visible_docs)
        head = self._first(ctx, (Member(DocSet.TITLE),), min(titled, total), end, 0, exact=False)
        if len(head) == end:
            return head[offset:]
        skip = max(0, offset - len(head))
        others = (Member(DocSet.MATCH), Member(DocSet.TITLE, negated=True))
        rest = self._first(ctx, others, total - len(head), end - len(head) - skip, skip)
        return head[offset:] + rest

    def _set_size(self, docs: DocSet) -> float:
        """Estimated documents of the kind in a set (before scope and filters)."""
        share = {
            DocSet.MATCH: self.match_share,
            DocSet.TITLE: self.title_share,
            DocSet.COMPLEMENT: None if self.match_share is None else 1 - self.match_share,
        }[docs]
        return (share if share is not None else 1.0) * self.kind_docs

    def _evaluation(self, docs: DocSet) -> float:
        """Estimated cost of evaluating one set's text query once (it reads posting lists)."""
        share = 0.2 if docs == DocSet.TITLE else 1.0  # titles are short: short lists
        backend = self.backend
        per_doc = backend.eval_cost + backend.eval_token_cost * self.tokens
        return per_doc * self.kind_docs * share

    def _membership(self, member: Member, rows: float) -> tuple[str, float]:
        """The cheapest condition for testing ``rows`` rows, and its cost."""
        backend, docs = self.backend, member.docs
        test = backend.test_cost + backend.test_token_cost * self.tokens
        costs = {
            "test": rows * test,
            "ids": self._evaluation(docs) + self._set_size(docs) * backend.build_cost,
        }
        # "+d.id": a filter on the rows the plan reads, never a way in by id (SQLite would
        # otherwise look up every id of the set instead of reading the planned rows).
        conditions = {"test": backend.row_in[docs], "ids": f"+d.id IN ({backend.ids[docs]})"}
        if docs == DocSet.MATCH and self.dense:
            conditions["complement"] = f"+d.id NOT IN ({backend.ids[DocSet.COMPLEMENT]})"
            costs["complement"] = (
                self._evaluation(DocSet.COMPLEMENT)
                + self._set_size(DocSet.COMPLEMENT) * backend.build_cost
            )
        chosen = self.choose(f"member {docs.name}", costs)
        condition = conditions[chosen]
        return (f"NOT ({condition})" if member.negated else condition), costs[chosen]

    def _first(
        self,
        ctx: Ctx,
        members: Sequence[Member],
        count: int,
        limit: int,
        offset: int,
        *,
        exact: bool = True,
    ) -> list[str]:
        """Keys ``offset..offset+limit`` in key order of visible documents in ``members``.

        ``count`` is how many visible documents are in every member (an estimate unless
        ``exact``); it sizes the index walk.
        """
        backend, want = self.backend, offset + limit
        visit = want * self.kind_docs / count if count else float(self.kind_docs)
        budget = min(self.kind_docs, int(visit * WALK_SLACK) + WALK_MARGIN)
        tested = visit * self.visible_docs / max(self.kind_docs, 1)
        walk = [self._membership(m, min(tested, budget)) for m in members]
        costs = {"walk": min(visit, budget) * backend.walk_cost + sum(c for _, c in walk)}
        if not exact and count == 0:
            costs["walk"] = math.inf
        # Reads: every document of one member set (joined, filtered, ordered), or every
        # visible document when filters narrow the kind (through their own index).
        reads: dict[str, tuple[str, list[str]]] = {}
        if members and not members[0].negated:
            docs = members[0].docs
            size = self._set_size(docs)
            tests = [self._membership(m, size) for m in members[1:]]
            reads[f"read {docs.name}"] = (backend.source[docs], [c for c, _ in tests])
            costs[f"read {docs.name}"] = (
                size * backend.read_cost + self._evaluation(docs) + sum(c for _, c in tests)
            )
        if self.filtered or not members:
            size = float(self.visible_docs)
            tests = [self._membership(m, size) for m in members]
            reads["read visible"] = ("search_doc d", [c for c, _ in tests])
            costs["read visible"] = size * backend.read_cost + sum(c for _, c in tests)
            if not self.filtered:
                costs["read visible"] = math.inf  # nothing narrower than the kind to read
        chosen = self.choose("page", costs)
        if chosen == "walk":
            bounded = budget < self.kind_docs
            # The walk stops at the page or at the budget-th key of the kind, if sooner.
            bound = (
                "d.key <= (SELECT b.key FROM search_doc b WHERE b.kind = :kind "
                "ORDER BY b.key LIMIT 1 OFFSET :budget)"
            )
            conditions = [bound] if bounded else []
            conditions += [c for c, _ in walk]
            sql = (
                f"SELECT d.key FROM search_doc d WHERE {self._conditions(*conditions)} "
                "ORDER BY d.key LIMIT :limit OFFSET :offset"
            )
            keys = [k for (k,) in self._run(ctx, sql, budget=budget, limit=limit, offset=offset)]
            if len(keys) == limit or not bounded:
                return keys
            del costs["walk"]  # too few in the budget: the cheapest read instead
            chosen = self.choose("page after walk", costs)
        source, conditions = reads[chosen]
        if source == "search_doc d":
            # The kind index would be walked again; the filters' index is narrower.
            conditions = ["d.kind || '' = :kind", *self.where[1:], *conditions]
            where = " AND ".join(conditions)
        else:
            where = self._conditions(*conditions)
        sql = f"SELECT d.key FROM {source} WHERE {where} ORDER BY d.key LIMIT :limit OFFSET :offset"
        return [k for (k,) in self._run(ctx, sql, limit=limit, offset=offset)]
