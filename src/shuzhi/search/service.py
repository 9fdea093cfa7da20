"""Chinese full-text search over documents that other capabilities index (catalogue, portal).

These functions check no permission and write no audit entry: the calling capability
checks its own operation with ``require``, decides what the viewer may see
(``viewer_unit_id`` / ``viewer_sees_all``) and audits the data access it makes.

Errors: ``Invalid`` for malformed documents, over-long queries, a page offset beyond
``MAX_OFFSET``, unknown sort orders and unstorable filter values; nothing else is
raised for any query text.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, text

from shuzhi.context import Ctx
from shuzhi.errors import ErrorCollector
from shuzhi.search import models as m
from shuzhi.search import query, store
from shuzhi.search.backends import FullTextBackend, backend_for
from shuzhi.search.plan import Plan
from shuzhi.search.query import build, canonical_term, synonym_candidates
from shuzhi.search.store import Prepared

MAX_QUERY_CHARS = 200
MAX_LIMIT = 200
MAX_OFFSET = 10_000
SORTS = ("relevance", "key")
# Longer synonym terms are never looked for inside a query.
MAX_SYNONYM_CHARS = query.MAX_SYNONYM_CHARS
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class SearchDoc:
    """One document as a capability hands it over; ``(kind, key)`` identifies it."""

    kind: str
    key: str
    title: str
    body: str
    facets: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    # None: visible to every caller allowed to search this kind; else only to that unit
    # (and to region-wide viewers).
    scope_unit_id: int | None = None


@dataclass(frozen=True)
class SearchResult:
    total: int
    keys: list[str]
    facets: dict[str, dict[str, int]]


# ---------------------------------------------------------------- validation


def _storable(value: str, limit: int) -> bool:
    """Non-empty, short enough, and free of control characters and lone surrogates."""
    return 0 < len(value) <= limit and not any(
        unicodedata.category(c) in ("Cc", "Cs") for c in value
    )


def _check_name(errors: ErrorCollector, where: str, name: object, limit: int) -> None:
    if not isinstance(name, str) or len(name) > limit or not _NAME.fullmatch(name):
        errors.add(
            where,
            f"名称须为小写字母开头的字母、数字或下划线，最多 {limit} 个字符。",
            f"Names are lower-case letters, digits and underscores (at most {limit}).",
        )


def _facet_values(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _prepare(doc: SearchDoc, errors: ErrorCollector, where: str) -> Prepared:
    _check_name(errors, f"{where}.kind", doc.kind, m.KIND_CHARS)
    if not isinstance(doc.key, str) or not _storable(doc.key, m.KEY_CHARS):
        errors.add(
            f"{where}.key",
            f"标识须为 1–{m.KEY_CHARS} 个可见字符。",
            f"The key must be 1–{m.KEY_CHARS} visible characters.",
        )
    pairs: set[tuple[str, str]] = set()
    for name, value in doc.facets.items():
        _check_name(errors, f"{where}.facets", name, m.FIELD_CHARS)
        for item in _facet_values(value):
            if not isinstance(item, str) or not _storable(item, m.VALUE_CHARS):
                errors.add(
                    f"{where}.facets.{name}",
                    f"分面取值须为 1–{m.VALUE_CHARS} 个可见字符。",
                    f"Facet values must be 1–{m.VALUE_CHARS} visible characters.",
                )
            else:
                pairs.add((name, item))
    return Prepared(doc.kind, doc.key, doc.title, doc.body, doc.scope_unit_id, tuple(sorted(pairs)))


# ---------------------------------------------------------------- writing


def _backend(ctx: Ctx) -> FullTextBackend:
    return backend_for(ctx.database.capabilities.name)


def index_documents(ctx: Ctx, docs: Iterable[SearchDoc]) -> None:
    """Insert or replace documents by ``(kind, key)``; streams in chunks for bulk loads."""
    for number, chunk in enumerate(store.chunks(docs)):
        errors = ErrorCollector()
        latest = {}
        for i, doc in enumerate(chunk):
            prepared = _prepare(doc, errors, f"docs[{number * store.CHUNK + i}]")
            latest[prepared.ident] = prepared
        errors.raise_if_any()
        store.write(ctx, _backend(ctx), sorted(latest.values(), key=lambda p: p.ident))


def remove_documents(ctx: Ctx, kind: str, keys: Iterable[str]) -> None:
    """Remove documents; keys that are not indexed are ignored."""
    errors = ErrorCollector()
    _check_name(errors, "kind", kind, m.KIND_CHARS)
    errors.raise_if_any()
    for chunk in store.chunks(k for k in keys if isinstance(k, str) and _storable(k, m.KEY_CHARS)):
        store.remove(ctx, _backend(ctx), kind, chunk)


# ---------------------------------------------------------------- synonyms


def _cleaned_groups(groups: Iterable[Sequence[str]]) -> list[list[str]]:
    """Each group's distinct canonical terms; every malformed group reported at once."""
    errors = ErrorCollector()
    cleaned: list[list[str]] = []
    for i, group in enumerate(groups):
        terms = list(dict.fromkeys(canonical_term(t) for t in group if isinstance(t, str)))
        terms = [t for t in terms if t]
        if len(terms) < 2 or any(len(t) > m.TERM_CHARS for t in terms):
            errors.add(
                f"groups[{i}]",
                f"每组至少两个不同的词，每个词最多 {m.TERM_CHARS} 个字符。",
                f"Each group needs two or more distinct terms of at most {m.TERM_CHARS} "
                "characters.",
            )
        cleaned.append(terms)
    errors.raise_if_any()
    return cleaned


def set_synonyms(ctx: Ctx, groups: Iterable[Sequence[str]]) -> None:
    """Add synonym groups; a group sharing a term with an existing group replaces it."""
    cleaned = _cleaned_groups(groups)
    for terms in cleaned:
        old = select(m.SynonymTerm.group_id).where(m.SynonymTerm.term.in_(terms))
        ctx.db.execute(delete(m.SynonymTerm).where(m.SynonymTerm.group_id.in_(old)))
        group_id = (ctx.db.scalar(select(func.max(m.SynonymTerm.group_id))) or 0) + 1
        ctx.db.execute(insert(m.SynonymTerm), [{"term": t, "group_id": group_id} for t in terms])


def searchable_term(term: str) -> str:
    """The form a synonym term is stored and looked up in; empty: nothing searchable."""
    return canonical_term(term)


def _merged(groups: Iterable[Sequence[str]]) -> list[list[str]]:
    """Groups sharing a term become one group (a term belongs to one group only)."""
    parent: dict[str, str] = {}

    def root(term: str) -> str:
        while parent[term] != term:
            parent[term] = parent[parent[term]]
            term = parent[term]
        return term

    for group in groups:
        for term in group:
            parent.setdefault(term, term)
        for term in group[1:]:
            parent[root(term)] = root(group[0])
    merged: dict[str, list[str]] = {}
    for term in parent:
        merged.setdefault(root(term), []).append(term)
    return [sorted(g) for g in merged.values()]


def replace_synonyms(ctx: Ctx, groups: Iterable[Sequence[str]]) -> int:
    """Make ``groups`` the whole synonym list (groups sharing a term merge); returns groups."""
    cleaned = _cleaned_groups(groups)
    merged = _merged(cleaned)
    ctx.db.execute(delete(m.SynonymTerm))
    rows = [{"term": t, "group_id": i + 1} for i, terms in enumerate(merged) for t in terms]
    for chunk in store.chunks(rows):
        ctx.db.execute(insert(m.SynonymTerm), chunk)
    return len(merged)


def synonym_groups(ctx: Ctx) -> list[list[str]]:
    """Every synonym group, for an administration page."""
    rows = ctx.db.execute(
        select(m.SynonymTerm.group_id, m.SynonymTerm.term).order_by(
            m.SynonymTerm.group_id, m.SynonymTerm.term
        )
    )
    return [[term for _, term in group] for _, group in itertools.groupby(rows, lambda r: r[0])]


def _synonyms_for(ctx: Ctx, query: str) -> dict[str, list[str]]:
    found: dict[str, int] = {}
    for chunk in store.chunks(sorted(synonym_candidates(query))):
        rows = ctx.db.execute(
            select(m.SynonymTerm.term, m.SynonymTerm.group_id).where(m.SynonymTerm.term.in_(chunk))
        )
        found.update({term: group_id for term, group_id in rows})
    if not found:
        return {}
    members: dict[int, list[str]] = {}
    groups = ctx.db.execute(
        select(m.SynonymTerm.group_id, m.SynonymTerm.term).where(
            m.SynonymTerm.group_id.in_(set(found.values()))
        )
    )
    for group_id, term in groups:
        members.setdefault(group_id, []).append(term)
    return {term: sorted(members[group_id]) for term, group_id in found.items()}


# ---------------------------------------------------------------- searching


def _check_search(
    kind: str,
    query: str,
    filters: Mapping[str, Sequence[str]],
    facet_fields: Sequence[str],
    offset: int,
    sort: str,
) -> None:
    errors = ErrorCollector()
    _check_name(errors, "kind", kind, m.KIND_CHARS)
    if not isinstance(query, str) or len(query) > MAX_QUERY_CHARS:
        errors.add(
            "q",
            f"检索词过长（最多 {MAX_QUERY_CHARS} 个字符）。",
            f"The search text is too long (at most {MAX_QUERY_CHARS} characters).",
        )
    if offset > MAX_OFFSET:
        errors.add(
            "offset",
            f"最多只能翻到第 {MAX_OFFSET} 条结果，请增加筛选条件缩小范围。",
            f"Results beyond number {MAX_OFFSET} cannot be paged to; add filters to narrow "
            "the search.",
        )
    if sort not in SORTS:
        errors.add("sort", "排序方式只能是 relevance 或 key。", "Sort by relevance or key.")
    for name in [*filters, *facet_fields]:
        _check_name(errors, "filters", name, m.FIELD_CHARS)
    for name, values in filters.items():
        if not all(isinstance(v, str) and _storable(v, m.VALUE_CHARS) for v in values):
            errors.add(
                f"filters.{name}",
                f"筛选值须为 1–{m.VALUE_CHARS} 个可见字符。",
                f"Filter values must be 1–{m.VALUE_CHARS} visible characters.",
            )
    errors.raise_if_any()


def search(
    ctx: Ctx,
    kind: str,
    query: str,
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
    facet_fields: Sequence[str] = (),
    limit: int = 20,
    offset: int = 0,
    viewer_unit_id: int | None = None,
    viewer_sees_all: bool = False,
    sort: str = "relevance",
) -> SearchResult:
    """Documents of ``kind`` matching every word of ``query`` (empty: all), best first.

    Filters are ANDed across fields and ORed within one field; a field given no values
    is ignored. Facet counts cover every match after filters, not only the page.
    """
    given = {k: _facet_values(v) for k, v in (filters or {}).items()}
    _check_search(kind, query, given, facet_fields, offset, sort)
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    active = {k: sorted(set(v)) for k, v in given.items() if v}
    backend = _backend(ctx)
    for statement in backend.before_search:
        ctx.db.execute(text(statement))
    plan = Plan.create(backend, kind, active, viewer_unit_id, viewer_sees_all)
    expr = build(query, _synonyms_for(ctx, query)) if query.strip() else None
    if expr is not None:  # None also for text without letters or digits: match all
        plan.match(expr)
    total, facets = plan.totals(ctx, facet_fields)
    keys = plan.page(ctx, total, sort, limit, offset) if offset < total else []
    return SearchResult(total=total, keys=keys, facets=facets)


# ---------------------------------------------------------------- suggested words

SUGGEST_SECONDS = 600
_suggested: dict[tuple[str, str, tuple[str, ...]], tuple[float, list[str]]] = {}
_suggested_lock = threading.Lock()


def suggest(ctx: Ctx, kind: str, candidates: Sequence[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``candidates`` finding the most documents of ``kind`` that everyone
    may see (most first), for a search box to suggest; remembered for ten minutes."""
    key = (ctx.database.settings.database_url, kind, tuple(candidates))
    now = time.monotonic()
    with _suggested_lock:
        known = _suggested.get(key)
    if known is not None and now - known[0] < SUGGEST_SECONDS:
        return known[1][:n]
    found: list[tuple[int, int, str]] = []
    for i, term in enumerate(candidates):
        if not term.strip() or len(term) > MAX_QUERY_CHARS:
            continue
        total = search(ctx, kind, term, limit=1, sort="key").total
        if total:
            found.append((-total, i, term))
    words = [term for _, _, term in sorted(found)]
    with _suggested_lock:
        _suggested[key] = (now, words)
    return words[:n]
