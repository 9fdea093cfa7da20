"""Writing the index: documents, their facet value sets and their backend text rows."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.exc import OperationalError

from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.search import models as m
from shuzhi.search.backends import FullTextBackend
from shuzhi.search.segmenter import segment

CHUNK = 500
# A unit of work that has written this many documents refreshes the index's statistics
# (``FullTextBackend.analyze``), and again each time its count doubles: a bulk load is
# searched with plans for its true size within the same transaction, at a cost that grows
# with the logarithm of its size. Smaller writes leave it to the database's own schedule.
ANALYZE_FROM = 256
_WRITTEN, _ANALYZE_AT = "search_written", "search_analyze_at"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock taken with NOWAIT


@dataclass(frozen=True)
class Prepared:
    """A validated document: its identity, scope, text and sorted facet pairs."""

    kind: str
    key: str
    title: str
    body: str
    scope_unit_id: int | None
    facets: tuple[tuple[str, str], ...]

    @property
    def ident(self) -> tuple[str, str]:
        return (self.kind, self.key)

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.facets, ensure_ascii=False).encode()).hexdigest()


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# Documents sharing a kind, facet set and scope are counted together (search_doc_count).
Bucket = tuple[str, int, int | None]


def _indexed(ctx: Ctx, kind: str, keys: Sequence[str]) -> dict[str, tuple[int, Bucket]]:
    """Id and bucket of each indexed document of ``kind`` among ``keys``."""
    d = m.IndexedDoc
    rows = ctx.db.execute(
        select(d.key, d.id, d.facet_set_id, d.scope_unit_id).where(d.kind == kind, d.key.in_(keys))
    )
    return {key: (doc_id, (kind, set_id, scope)) for key, doc_id, set_id, scope in rows}


def _indexed_of(ctx: Ctx, docs: Sequence[Prepared]) -> dict[tuple[str, str], tuple[int, Bucket]]:
    out: dict[tuple[str, str], tuple[int, Bucket]] = {}
    for kind, group in itertools.groupby(sorted(docs, key=lambda p: p.ident), lambda p: p.kind):
        found = _indexed(ctx, kind, [p.key for p in group])
        out.update(((kind, key), value) for key, value in found.items())
    return out


def _count(ctx: Ctx, deltas: Counter[Bucket]) -> None:
    """Add ``deltas`` to the per-bucket document counts, dropping buckets left empty."""
    c = m.DocCount
    changed = sorted(((b, n) for b, n in deltas.items() if n), key=lambda item: item[0][0])
    for kind, group in itertools.groupby(changed, lambda item: item[0][0]):
        wanted = {(set_id, scope): n for (_, set_id, scope), n in group}
        rows: dict[tuple[int, int | None], int] = {}
        for set_ids in chunks(sorted({set_id for set_id, _ in wanted})):
            query = select(c.facet_set_id, c.scope_unit_id, c.id).where(
                c.kind == kind, c.facet_set_id.in_(set_ids)
            )
            rows.update(
                {(set_id, scope): row_id for set_id, scope, row_id in ctx.db.execute(query)}
            )
        present = [{"row_id": rows[b], "delta": n} for b, n in wanted.items() if b in rows]
        if present:
            ctx.db.execute(
                text("UPDATE search_doc_count SET n = n + :delta WHERE id = :row_id"), present
            )
            emptied = delete(c).where(c.id.in_([p["row_id"] for p in present]), c.n == 0)
            ctx.db.execute(emptied)
        missing = [
            {"kind": kind, "facet_set_id": s, "scope_unit_id": u, "n": n}
            for (s, u), n in wanted.items()
            if (s, u) not in rows
        ]
        if missing:
            ctx.db.execute(insert(c), missing)


def _facet_set_ids(ctx: Ctx, docs: Sequence[Prepared]) -> dict[str, int]:
    """The set id of every digest in ``docs``, creating the sets not seen before."""
    wanted = {p.digest: p.facets for p in docs}
    query = select(m.FacetSet.digest, m.FacetSet.id).where(m.FacetSet.digest.in_(wanted))
    found: dict[str, int] = {d: i for d, i in ctx.db.execute(query)}
    missing = [d for d in wanted if d not in found]
    if missing:
        ctx.db.execute(insert(m.FacetSet), [{"digest": d} for d in missing])
        query = select(m.FacetSet.digest, m.FacetSet.id).where(m.FacetSet.digest.in_(missing))
        created: dict[str, int] = {d: i for d, i in ctx.db.execute(query)}
        rows = [
            {"set_id": created[d], "field": f, "value": v} for d in missing for f, v in wanted[d]
        ]
        if rows:
            ctx.db.execute(insert(m.IndexedFacet), rows)
        found |= created
    return found


def _drop_text(ctx: Ctx, backend: FullTextBackend, ids: list[int]) -> None:
    for statement in backend.delete_text if ids else ():
        clause = text(statement).bindparams(bindparam("ids", expanding=True))
        ctx.db.execute(clause, {"ids": ids})


def write(ctx: Ctx, backend: FullTextBackend, docs: Sequence[Prepared]) -> None:
    """Insert or replace one chunk of documents (unique by identity)."""
    now = utcnow()
    sets = _facet_set_ids(ctx, docs)
    old = _indexed_of(ctx, docs)
    ids = {ident: doc_id for ident, (doc_id, _) in old.items()}
    deltas = Counter((p.kind, sets[p.digest], p.scope_unit_id) for p in docs)
    deltas.subtract(bucket for _, bucket in old.values())
    _count(ctx, deltas)
    _drop_text(ctx, backend, list(ids.values()))
    if ids:
        ctx.db.execute(
            update(m.IndexedDoc),
            [
                {
                    "id": ids[p.ident],
                    "scope_unit_id": p.scope_unit_id,
                    "facet_set_id": sets[p.digest],
                    "updated_at": now,
                }
                for p in docs
                if p.ident in ids
            ],
        )
    new = [p for p in docs if p.ident not in ids]
    if new:
        ctx.db.execute(
            insert(m.IndexedDoc),
            [
                {
                    "kind": p.kind,
                    "key": p.key,
                    "scope_unit_id": p.scope_unit_id,
                    "facet_set_id": sets[p.digest],
                    "updated_at": now,
                }
                for p in new
            ],
        )
        ids |= {ident: doc_id for ident, (doc_id, _) in _indexed_of(ctx, new).items()}
    rows = [
        {"id": ids[p.ident], **backend.encode(p.kind, segment(p.title), segment(p.body))}
        for p in docs
    ]
    for statement in backend.write_text:
        ctx.db.execute(text(statement), rows)
    _written(ctx, backend, len(docs))


def _written(ctx: Ctx, backend: FullTextBackend, count: int) -> None:
    """Count the documents this unit of work wrote; refresh the statistics when due."""
    info = ctx.db.info
    info[_WRITTEN] = written = info.get(_WRITTEN, 0) + count
    if written < info.get(_ANALYZE_AT, ANALYZE_FROM):
        return
    info[_ANALYZE_AT] = 2 * written
    if not backend.analyze:
        return
    # The statements take their lock without waiting (``FullTextBackend.analyze``): held by
    # another transaction (a bulk write analysing, the autovacuum daemon), the refresh is
    # left to that one. Waiting could close a cycle with that writer's row locks.
    try:
        with ctx.db.begin_nested():
            for statement in backend.analyze:
                ctx.db.execute(text(statement))
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise


def remove(ctx: Ctx, backend: FullTextBackend, kind: str, keys: Sequence[str]) -> None:
    found = _indexed(ctx, kind, keys).values()
    if found:
        ids = [doc_id for doc_id, _ in found]
        _drop_text(ctx, backend, ids)
        ctx.db.execute(delete(m.IndexedDoc).where(m.IndexedDoc.id.in_(ids)))
        deltas: Counter[Bucket] = Counter()
        deltas.subtract(bucket for _, bucket in found)
        _count(ctx, deltas)
