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
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text
from sqlalchemy.sql.elements import TextClause

from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import ErrorCollector
from shuzhi.search import models as m
from shuzhi.search.backends import FullTextBackend, backend_for
from shuzhi.search.query import build, canonical_term, synonym_candidates
from shuzhi.search.segmenter import segment

MAX_QUERY_CHARS = 200
MAX_LIMIT = 200
MAX_OFFSET = 10_000
SORTS = ("relevance", "key")
_CHUNK = 500
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


@dataclass(frozen=True)
class _Prepared:
    doc: SearchDoc
    facets: list[tuple[str, str]]

    @property
    def ident(self) -> tuple[str, str]:
        return (self.doc.kind, self.doc.key)


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


def _prepare(doc: SearchDoc, errors: ErrorCollector, where: str) -> _Prepared:
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
    return _Prepared(doc, sorted(pairs))


# ---------------------------------------------------------------- writing


def _backend(ctx: Ctx) -> FullTextBackend:
    return backend_for(ctx.database.capabilities.name)


def _chunks(items: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _ids(ctx: Ctx, kind: str, keys: Sequence[str]) -> dict[str, int]:
    rows = ctx.db.execute(
        select(m.IndexedDoc.key, m.IndexedDoc.id).where(
            m.IndexedDoc.kind == kind, m.IndexedDoc.key.in_(keys)
        )
    )
    return {key: doc_id for key, doc_id in rows}


def _expanding(sql: str) -> TextClause:
    return text(sql).bindparams(bindparam("ids", expanding=True))


def _drop_content(ctx: Ctx, doc_ids: list[int]) -> None:
    """Forget the facets and text of documents about to be rewritten or removed."""
    if not doc_ids:
        return
    ctx.db.execute(delete(m.IndexedFacet).where(m.IndexedFacet.doc_id.in_(doc_ids)))
    backend = _backend(ctx)
    if backend.delete_text is not None:
        ctx.db.execute(_expanding(backend.delete_text), {"ids": doc_ids})


def _write_chunk(ctx: Ctx, chunk: list[_Prepared]) -> None:
    now = utcnow()
    ids: dict[tuple[str, str], int] = {}
    for kind, group in itertools.groupby(
        sorted(chunk, key=lambda p: p.ident), lambda p: p.ident[0]
    ):
        ids.update(((kind, k), v) for k, v in _ids(ctx, kind, [p.doc.key for p in group]).items())
    _drop_content(ctx, list(ids.values()))
    if ids:
        ctx.db.execute(
            text("UPDATE search_doc SET scope_unit_id = :scope, updated_at = :now WHERE id = :id"),
            [
                {"scope": p.doc.scope_unit_id, "now": now, "id": ids[p.ident]}
                for p in chunk
                if p.ident in ids
            ],
        )
    new = [p for p in chunk if p.ident not in ids]
    if new:
        ctx.db.execute(
            insert(m.IndexedDoc),
            [
                {
                    "kind": p.doc.kind,
                    "key": p.doc.key,
                    "scope_unit_id": p.doc.scope_unit_id,
                    "updated_at": now,
                }
                for p in new
            ],
        )
        for kind, group in itertools.groupby(new, lambda p: p.ident[0]):
            found = _ids(ctx, kind, [p.doc.key for p in group])
            ids.update(((kind, k), v) for k, v in found.items())
    facets = [{"doc_id": ids[p.ident], "field": f, "value": v} for p in chunk for f, v in p.facets]
    if facets:
        ctx.db.execute(insert(m.IndexedFacet), facets)
    backend = _backend(ctx)
    ctx.db.execute(
        text(backend.write_text),
        [
            {"id": ids[p.ident], **backend.encode(segment(p.doc.title), segment(p.doc.body))}
            for p in chunk
        ],
    )


def index_documents(ctx: Ctx, docs: Iterable[SearchDoc]) -> None:
    """Insert or replace documents by ``(kind, key)``; streams in chunks for bulk loads."""
    for number, chunk in enumerate(_chunks(docs)):
        errors = ErrorCollector()
        latest = {}
        for i, doc in enumerate(chunk):
            prepared = _prepare(doc, errors, f"docs[{number * _CHUNK + i}]")
            latest[prepared.ident] = prepared
        errors.raise_if_any()
        _write_chunk(ctx, sorted(latest.values(), key=lambda p: p.ident))


def remove_documents(ctx: Ctx, kind: str, keys: Iterable[str]) -> None:
    """Remove documents; keys that are not indexed are ignored."""
    errors = ErrorCollector()
    _check_name(errors, "kind", kind, m.KIND_CHARS)
    errors.raise_if_any()
    for chunk in _chunks(k for k in keys if isinstance(k, str) and _storable(k, m.KEY_CHARS)):
        doc_ids = list(_ids(ctx, kind, chunk).values())
        _drop_content(ctx, doc_ids)
        if doc_ids:
            ctx.db.execute(delete(m.IndexedDoc).where(m.IndexedDoc.id.in_(doc_ids)))


# ---------------------------------------------------------------- synonyms


def set_synonyms(ctx: Ctx, groups: Iterable[Sequence[str]]) -> None:
    """Add synonym groups; a group sharing a term with an existing group replaces it."""
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
    for terms in cleaned:
        old = select(m.SynonymTerm.group_id).where(m.SynonymTerm.term.in_(terms))
        ctx.db.execute(delete(m.SynonymTerm).where(m.SynonymTerm.group_id.in_(old)))
        group_id = (ctx.db.scalar(select(func.max(m.SynonymTerm.group_id))) or 0) + 1
        ctx.db.execute(insert(m.SynonymTerm), [{"term": t, "group_id": group_id} for t in terms])


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
    for chunk in _chunks(sorted(synonym_candidates(query))):
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


@dataclass
class _Plan:
    """The matched set, shared by the page, total and facet queries."""

    where: list[str]
    params: dict[str, Any]
    binds: list[Any]
    # Text match: the backend's id subqueries (without and with a score), else None.
    matched: str | None = None
    ranked: str | None = None
    order: str = "d.key"

    def sql(self, select_list: str, *, ranked: bool = False) -> str:
        source = "search_doc d"
        text_match = (self.ranked or self.matched) if ranked else self.matched
        if text_match is not None:
            source = f"({text_match}) m JOIN search_doc d ON d.id = m.id"
        return f"SELECT {select_list} FROM {source} WHERE {' AND '.join(self.where)}"

    def clause(self, sql: str) -> TextClause:
        return text(sql).bindparams(*self.binds)


def _check_search(
    query: str,
    filters: Mapping[str, Sequence[str]],
    facet_fields: Sequence[str],
    offset: int,
    sort: str,
) -> None:
    errors = ErrorCollector()
    if len(query) > MAX_QUERY_CHARS:
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


def _plan(
    ctx: Ctx,
    kind: str,
    query: str,
    filters: Mapping[str, list[str]],
    viewer_unit_id: int | None,
    viewer_sees_all: bool,
    sort: str,
) -> _Plan:
    plan = _Plan(["d.kind = :kind"], {"kind": kind}, [])
    if not viewer_sees_all:
        plan.where.append("(d.scope_unit_id IS NULL OR d.scope_unit_id = :viewer)")
        plan.params["viewer"] = viewer_unit_id
    for i, (name, values) in enumerate(sorted(filters.items())):
        plan.where.append(
            f"d.id IN (SELECT doc_id FROM search_facet WHERE field = :ff{i} AND value IN :fv{i})"
        )
        plan.params |= {f"ff{i}": name, f"fv{i}": values}
        plan.binds.append(bindparam(f"fv{i}", expanding=True))
    if not query.strip():
        return plan
    expr = build(query, _synonyms_for(ctx, query))
    if expr is None:  # only punctuation: treated like an empty query
        return plan
    backend = _backend(ctx)
    plan.matched, plan.params["q"] = backend.matched, backend.render_query(expr)
    if sort == "relevance":
        plan.ranked, plan.order = backend.ranked, f"{backend.best_first}, d.key"
    return plan


def _facet_counts(ctx: Ctx, plan: _Plan, fields: Sequence[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {name: {} for name in fields}
    if not fields:
        return out
    sql = (
        "SELECT f.field, f.value, count(*) AS n FROM search_facet f "
        f"WHERE f.field IN :facet_fields AND f.doc_id IN ({plan.sql('d.id')}) "
        "GROUP BY f.field, f.value ORDER BY n DESC, f.value"
    )
    clause = plan.clause(sql).bindparams(bindparam("facet_fields", expanding=True))
    for name, value, count in ctx.db.execute(clause, {**plan.params, "facet_fields": fields}):
        out[name][value] = int(count)
    return out


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
    _check_search(query, given, facet_fields, offset, sort)
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    errors = ErrorCollector()
    _check_name(errors, "kind", kind, m.KIND_CHARS)
    errors.raise_if_any()
    active = {k: sorted(set(v)) for k, v in given.items() if v}
    plan = _plan(ctx, kind, query, active, viewer_unit_id, viewer_sees_all, sort)
    page_sql = plan.sql("d.key, count(*) OVER () AS total", ranked=True) + (
        f" ORDER BY {plan.order} LIMIT :limit OFFSET :offset"
    )
    rows = ctx.db.execute(plan.clause(page_sql), {**plan.params, "limit": limit, "offset": offset})
    keys, total = [], 0
    for key, count in rows:
        keys.append(key)
        total = int(count)
    if not keys and offset:
        total = int(ctx.db.scalar(plan.clause(plan.sql("count(*)")), plan.params) or 0)
    return SearchResult(total=total, keys=keys, facets=_facet_counts(ctx, plan, facet_fields))
