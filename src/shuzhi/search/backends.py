"""How each metadata backend stores and matches the pre-segmented tokens, as data.

SQLite: an FTS5 table (title, body) over space-joined tokens, ranked by bm25 with the
title weighted ten times the body. PostgreSQL: a weighted tsvector column (title A,
body B) built literally from the tokens (no parser, like the ``simple`` configuration
without its word splitting), matched by a GIN index and ranked by ts_rank.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shuzhi.search.query import Expr, render_fts5, render_tsquery

# PostgreSQL keeps positions up to this value; larger ones are clamped anyway.
_MAX_PG_POSITION = 16383


@dataclass(frozen=True)
class FullTextBackend:
    """SQL fragments and encoders for one backend; ``d`` is the ``search_doc`` row."""

    name: str
    render_query: Callable[[Expr], str]
    # The same query restricted to titles (bound parameter ``:tq``).
    render_title_query: Callable[[Expr], str]
    # Ids of the documents matching ``:q``, with (``ranked``) or without their score.
    matched: str
    ranked: str
    # ORDER BY expression over ``ranked``'s ``score`` putting the best match first.
    best_first: str
    # Ids of the documents whose title matches ``:tq`` (orders broad matches).
    title_matched: str
    # Matched sets larger than this are not scored exactly (scoring reads every match).
    exact_rank_limit: int
    # Join operator that keeps the left side as the outer loop (SQLite's planner would
    # otherwise rerun the whole text match for every document row).
    join: str
    # Remove text rows of documents ``:ids`` (None: the text lives on the document row).
    delete_text: str | None
    # Write the text of document ``:id`` from the parameters ``encode`` returns.
    write_text: str
    encode: Callable[[Sequence[str], Sequence[str]], dict[str, str]]


def _fts5_encode(title: Sequence[str], body: Sequence[str]) -> dict[str, str]:
    return {"title": " ".join(title), "body": " ".join(body)}


def _tsvector_literal(title: Sequence[str], body: Sequence[str]) -> dict[str, str]:
    parts: list[str] = []
    for weight, offset, tokens in (("A", 0, title), ("B", len(title), body)):
        for i, token in enumerate(tokens):
            lexeme = token.replace("\\", "\\\\").replace("'", "''")
            parts.append(f"'{lexeme}':{min(offset + i + 1, _MAX_PG_POSITION)}{weight}")
    return {"tsv": " ".join(parts)}


SQLITE_FTS5 = FullTextBackend(
    name="sqlite",
    render_query=render_fts5,
    render_title_query=lambda expr: "{title} : " + render_fts5(expr),
    matched="SELECT rowid AS id FROM search_fts WHERE search_fts MATCH :q",
    ranked="SELECT rowid AS id, bm25(search_fts, 10.0, 1.0) AS score "
    "FROM search_fts WHERE search_fts MATCH :q",
    best_first="score",
    join="CROSS JOIN",
    title_matched="SELECT rowid FROM search_fts WHERE search_fts MATCH :tq",
    exact_rank_limit=3000,
    delete_text="DELETE FROM search_fts WHERE rowid IN :ids",
    write_text="INSERT INTO search_fts (rowid, title, body) VALUES (:id, :title, :body)",
    encode=_fts5_encode,
)

POSTGRES_TSVECTOR = FullTextBackend(
    name="postgresql",
    render_query=render_tsquery,
    render_title_query=lambda expr: render_tsquery(expr, weights="A"),
    matched="SELECT id FROM search_doc WHERE tsv @@ CAST(:q AS tsquery)",
    ranked="SELECT id, ts_rank(tsv, CAST(:q AS tsquery)) AS score "
    "FROM search_doc WHERE tsv @@ CAST(:q AS tsquery)",
    best_first="score DESC",
    join="JOIN",
    title_matched="SELECT id FROM search_doc WHERE tsv @@ CAST(:tq AS tsquery)",
    exact_rank_limit=3000,
    delete_text=None,
    write_text="UPDATE search_doc SET tsv = CAST(:tsv AS tsvector) WHERE id = :id",
    encode=_tsvector_literal,
)

BACKENDS = {b.name: b for b in (SQLITE_FTS5, POSTGRES_TSVECTOR)}


def backend_for(capabilities_name: str) -> FullTextBackend:
    """The full-text backend for a metadata database (``BackendCapabilities.name``)."""
    return BACKENDS[capabilities_name]
