"""Every plan gives the same total, facet counts and page as the straightforward one.

The oracle below counts every match and sorts every match (title matches first for broad
relevance pages, as ranking has always been defined); the search under test is run with
every decision of its planner drawn at random, including walks too short to hold the
page (which must fall back), on corpora where a query matches none, some or all of a
kind, next to documents of other kinds with the same words.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from shuzhi.context import SYSTEM, Ctx
from shuzhi.db.engine import Database
from shuzhi.search import backends
from shuzhi.search import plan as plans
from shuzhi.search.backends import DocSet
from shuzhi.search.plan import Plan
from shuzhi.search.query import build
from shuzhi.search.service import (
    SearchDoc,
    SearchResult,
    _synonyms_for,
    index_documents,
    search,
    set_synonyms,
)
from tests.conftest import acting

SYNONYMS = [["公民身份号码", "身份证", "身份证号"], ["统一社会信用代码", "uscc", "信用代码"]]
TITLES = ["常住人口基本信息", "企业法人登记信息", "社保缴费记录", "不动产登记", "车辆台账", "信息"]
BODIES = [
    "信息项：姓名、公民身份号码",
    "信息项：统一社会信用代码、法定代表人",
    "行政区划 330182",
    "登记机关 330182 信息",
    "",
]
QUERIES = [
    "信息",
    "人口",
    "登记",
    "身份证",
    "uscc",
    "330182",
    "常住人口基本信息",
    "法人 登记",
    "信息 330182",
    "不存在",
    "",
]
UNITS = ["GAJ", "RSJ", "SCJ"]
TAGS = ["x", "y"]
FACETS = ("unit", "tag")
_kinds = itertools.count()

DOCS = st.lists(
    st.tuples(
        st.sampled_from(TITLES),
        st.sampled_from(BODIES),
        st.sampled_from(UNITS),
        st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
        st.sampled_from([None, None, None, 1, 2]),
    ),
    min_size=1,
    max_size=30,
)


@dataclasses.dataclass(frozen=True)
class Ask:
    query: str
    filters: dict[str, list[str]]
    viewer: int | None
    sees_all: bool
    sort: str
    limit: int
    offset: int


ASKS = st.builds(
    Ask,
    st.sampled_from(QUERIES),
    st.fixed_dictionaries(
        {},
        optional={
            "unit": st.lists(st.sampled_from(UNITS), max_size=2, unique=True),
            "tag": st.lists(st.sampled_from(TAGS), min_size=1, max_size=1),
        },
    ),
    st.sampled_from([None, 1, 2]),
    st.booleans(),
    st.sampled_from(["relevance", "key"]),
    st.sampled_from([1, 2, 5, 50]),
    st.sampled_from([0, 1, 3, 8]),
)


def _rows(ctx: Ctx, plan: Plan, sql: str, **more: Any) -> list[Any]:
    params = {k: v for k, v in {**plan.params, **more}.items() if f":{k}" in sql}
    binds = [b for b in plan.binds if b.key in params]
    return list(ctx.db.execute(text(sql).bindparams(*binds), params))


def oracle(ctx: Ctx, kind: str, ask: Ask, facet_fields: Sequence[str]) -> SearchResult:
    """Count and order every match in one statement each: slow, obviously right."""
    backend = backends.backend_for(ctx.database.capabilities.name)
    active = {k: sorted(set(v)) for k, v in ask.filters.items() if v}
    plan = Plan.create(backend, kind, active, ask.viewer, ask.sees_all)
    expr = build(ask.query, _synonyms_for(ctx, ask.query)) if ask.query.strip() else None
    source = "search_doc d"
    if expr is not None:
        plan.match(expr)
        source = backend.source[DocSet.MATCH]
    where = " AND ".join(plan.where)
    by_set = _rows(
        ctx, plan, f"SELECT d.facet_set_id, count(*) FROM {source} WHERE {where} GROUP BY 1"
    )
    total = sum(n for _, n in by_set)
    counts: dict[str, Counter[str]] = {name: Counter() for name in facet_fields}
    for set_id, n in by_set:
        for name, value in ctx.db.execute(
            text("SELECT field, value FROM search_facet WHERE set_id = :s"), {"s": set_id}
        ):
            if name in counts:
                counts[name][value] += n
    facets = {
        name: dict(sorted(c.items(), key=lambda item: (-item[1], item[0])))
        for name, c in counts.items()
    }
    if expr is None or ask.sort == "key":
        order = "d.key"
    elif total <= backend.exact_rank_limit:
        source, order = backend.ranked, f"{backend.best_first}, d.key"
    else:
        order = f"CASE WHEN d.id IN ({backend.ids[DocSet.TITLE]}) THEN 0 ELSE 1 END, d.key"
    limit = max(1, min(ask.limit, 200))
    keys = [
        key
        for (key,) in _rows(
            ctx,
            plan,
            f"SELECT d.key FROM {source} WHERE {where} ORDER BY {order} "
            "LIMIT :limit OFFSET :offset",
            limit=limit,
            offset=ask.offset,
        )
    ]
    return SearchResult(total=total, keys=keys, facets=facets)


def _index(database: Database, kind: str, docs: Sequence[tuple[Any, ...]]) -> None:
    with acting(database, SYSTEM) as ctx:
        set_synonyms(ctx, SYNONYMS)
        index_documents(
            ctx,
            [
                SearchDoc(kind, f"k{i:03d}", title, body, {"unit": unit, "tag": tags}, scope)
                for i, (title, body, unit, tags, scope) in enumerate(docs)
            ],
        )
        # The same words under another kind: the complement must never count them.
        index_documents(
            ctx,
            [SearchDoc(f"{kind}_other", f"o{i}", t, b, {}) for i, (t, b, *_) in enumerate(docs)],
        )


def _ask(ctx: Ctx, kind: str, ask: Ask) -> SearchResult:
    return search(
        ctx,
        kind,
        ask.query,
        filters=ask.filters,
        facet_fields=FACETS,
        limit=ask.limit,
        offset=ask.offset,
        viewer_unit_id=ask.viewer,
        viewer_sees_all=ask.sees_all,
        sort=ask.sort,
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(docs=DOCS, asks=st.lists(ASKS, min_size=1, max_size=6), data=st.data())
def test_every_plan_gives_the_oracle_result(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    docs: list[tuple[Any, ...]],
    asks: list[Ask],
    data: st.DataObject,
) -> None:
    kind = f"p{next(_kinds)}"
    _index(database, kind, docs)
    name = database.capabilities.name
    rank_limit = data.draw(st.sampled_from([0, 2, 3000]), label="exact_rank_limit")
    cheap = dataclasses.replace(backends.BACKENDS[name], exact_rank_limit=rank_limit)
    monkeypatch.setitem(backends.BACKENDS, name, cheap)
    monkeypatch.setattr(plans, "WALK_MARGIN", data.draw(st.sampled_from([0, 1, 200])))
    monkeypatch.setattr(plans, "WALK_SLACK", data.draw(st.sampled_from([0.0, 1.0, 4.0])))

    def drawn(self: Plan, decision: str, costs: Mapping[str, float]) -> str:
        return data.draw(st.sampled_from(sorted(costs)), label=decision)

    for ask in asks:
        with acting(database, SYSTEM) as ctx:
            expected = oracle(ctx, kind, ask, FACETS)
            assert _ask(ctx, kind, ask) == expected, ask  # the planner's own choices
            with monkeypatch.context() as patched:
                patched.setattr(Plan, "choose", drawn)
                assert _ask(ctx, kind, ask) == expected, ask


def test_a_dense_query_is_counted_through_its_complement(database: Database) -> None:
    kind = f"p{next(_kinds)}"
    docs: list[tuple[Any, ...]] = [("常住人口基本信息", "信息项", "GAJ", ["x"], None)] * 40
    docs += [("社保缴费记录", "缴费", "RSJ", [], 1)] * 4
    _index(database, kind, docs)
    seen: list[bool] = []
    original = Plan.totals

    def spy(self: Plan, ctx: Ctx, fields: Sequence[str]) -> Any:
        result = original(self, ctx, fields)
        seen.append(self.dense)
        return result

    with acting(database, SYSTEM) as ctx, pytest.MonkeyPatch.context() as patched:
        patched.setattr(Plan, "totals", spy)
        result = search(ctx, kind, "信息", facet_fields=FACETS, viewer_sees_all=True)
        sparse = search(ctx, kind, "社保", facet_fields=FACETS, viewer_sees_all=True)
    assert seen == [True, False]
    assert (result.total, result.facets) == (40, {"unit": {"GAJ": 40}, "tag": {"x": 40}})
    assert (sparse.total, sparse.facets["unit"]) == (4, {"RSJ": 4})
