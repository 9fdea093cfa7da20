"""Writing the index: documents, their facet value sets and their backend text rows."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update

from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.search import models as m
from shuzhi.search.backends import FullTextBackend
from shuzhi.search.segmenter import segment

CHUNK = 500


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


def doc_ids(ctx: Ctx, kind: str, keys: Sequence[str]) -> dict[str, int]:
    rows = ctx.db.execute(
        select(m.IndexedDoc.key, m.IndexedDoc.id).where(
            m.IndexedDoc.kind == kind, m.IndexedDoc.key.in_(keys)
        )
    )
    return {key: doc_id for key, doc_id in rows}


def _ids_of(ctx: Ctx, docs: Sequence[Prepared]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for kind, group in itertools.groupby(sorted(docs, key=lambda p: p.ident), lambda p: p.kind):
        out.update(((kind, k), v) for k, v in doc_ids(ctx, kind, [p.key for p in group]).items())
    return out


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
    if ids and backend.delete_text is not None:
        clause = text(backend.delete_text).bindparams(bindparam("ids", expanding=True))
        ctx.db.execute(clause, {"ids": ids})


def write(ctx: Ctx, backend: FullTextBackend, docs: Sequence[Prepared]) -> None:
    """Insert or replace one chunk of documents (unique by identity)."""
    now = utcnow()
    sets = _facet_set_ids(ctx, docs)
    ids = _ids_of(ctx, docs)
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
        ids |= _ids_of(ctx, new)
    ctx.db.execute(
        text(backend.write_text),
        [{"id": ids[p.ident], **backend.encode(segment(p.title), segment(p.body))} for p in docs],
    )


def remove(ctx: Ctx, backend: FullTextBackend, kind: str, keys: Sequence[str]) -> None:
    ids = list(doc_ids(ctx, kind, keys).values())
    if ids:
        _drop_text(ctx, backend, ids)
        ctx.db.execute(delete(m.IndexedDoc).where(m.IndexedDoc.id.in_(ids)))
