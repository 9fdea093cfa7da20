"""The per-bucket document counts stay equal to a recount after any index/remove sequence."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.search import models as m
from shuzhi.search.service import SearchDoc, index_documents, remove_documents, search
from tests.conftest import acting

KEYS = ["a", "b", "c", "d", "e"]
UNITS = ["GAJ", "RSJ", "SCJ"]
SCOPES = [None, 1, 2]
FIELDS = ("unit", "tag")
_kinds = itertools.count()


@dataclass(frozen=True)
class Put:
    keys: tuple[str, ...]
    unit: str
    tags: tuple[str, ...]
    scope: int | None


@dataclass(frozen=True)
class Drop:
    keys: tuple[str, ...]


KEY_LISTS = st.lists(st.sampled_from(KEYS), min_size=1, max_size=4).map(tuple)
OPS = st.lists(
    st.one_of(
        st.builds(
            Put,
            KEY_LISTS,
            st.sampled_from(UNITS),
            st.lists(st.sampled_from(["x", "y"]), max_size=2, unique=True).map(tuple),
            st.sampled_from(SCOPES),
        ),
        st.builds(Drop, KEY_LISTS),
    ),
    min_size=1,
    max_size=8,
)


def _apply(database: Database, kind: str, ops: list[Put | Drop]) -> dict[str, Put]:
    """Run ``ops`` (one transaction each) and return the documents a model says remain."""
    model: dict[str, Put] = {}
    for op in ops:
        with acting(database, SYSTEM) as ctx:
            if isinstance(op, Put):
                facets = {"unit": op.unit, "tag": list(op.tags)}
                index_documents(
                    ctx, [SearchDoc(kind, k, "标题", "正文", facets, op.scope) for k in op.keys]
                )
                model |= dict.fromkeys(op.keys, op)
            else:
                remove_documents(ctx, kind, op.keys)
                for key in op.keys:
                    model.pop(key, None)
    return model


def _expected(
    model: dict[str, Put], viewer: int | None, sees_all: bool
) -> tuple[int, dict[str, dict[str, int]]]:
    seen = [p for p in model.values() if sees_all or p.scope is None or p.scope == viewer]
    units = Counter(p.unit for p in seen)
    tags = Counter(t for p in seen for t in p.tags)
    return len(seen), {"unit": dict(units), "tag": dict(tags)}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_counts_match_a_recount_after_any_sequence(
    database: Database, ops: list[Put | Drop]
) -> None:
    kind = f"k{next(_kinds)}"
    model = _apply(database, kind, ops)
    d, c = m.IndexedDoc, m.DocCount
    with acting(database, SYSTEM) as ctx:
        recount = Counter(
            {
                (s, u): n
                for s, u, n in ctx.db.execute(
                    select(d.facet_set_id, d.scope_unit_id, func.count())
                    .where(d.kind == kind)
                    .group_by(d.facet_set_id, d.scope_unit_id)
                )
            }
        )
        stored: Counter[tuple[int, int | None]] = Counter()
        for s, u, n in ctx.db.execute(
            select(c.facet_set_id, c.scope_unit_id, c.n).where(c.kind == kind)
        ):
            assert n > 0
            stored[(s, u)] += n
        assert stored == recount
        for viewer, sees_all in [(None, True), (1, False), (2, False), (None, False)]:
            result = search(
                ctx, kind, "", facet_fields=FIELDS, viewer_unit_id=viewer, viewer_sees_all=sees_all
            )
            total, facets = _expected(model, viewer, sees_all)
            assert (result.total, result.facets) == (total, facets)
            assert (
                search(ctx, kind, "", viewer_unit_id=viewer, viewer_sees_all=sees_all).total
                == total
            )
            filtered = search(
                ctx,
                kind,
                "",
                filters={"unit": ["GAJ"]},
                facet_fields=("tag",),
                viewer_unit_id=viewer,
                viewer_sees_all=sees_all,
            )
            gaj = {k: p for k, p in model.items() if p.unit == "GAJ"}
            total, facets = _expected(gaj, viewer, sees_all)
            assert (filtered.total, filtered.facets) == (total, {"tag": facets["tag"]})
            text = search(
                ctx,
                kind,
                "标题",
                facet_fields=FIELDS,
                viewer_unit_id=viewer,
                viewer_sees_all=sees_all,
            )
            assert (text.total, text.facets) == _expected(model, viewer, sees_all)
