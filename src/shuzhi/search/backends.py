"""How each metadata backend stores and matches the pre-segmented tokens, as data.

SQLite: an FTS5 table (title, body) over space-joined tokens, ranked by bm25 with the
title weighted ten times the body, and a second FTS5 table holding the titles alone (a
title match then reads short title lists instead of filtering the full lists by column).
PostgreSQL: a weighted tsvector column (title A, body B) built literally from the tokens
(no parser, like the ``simple`` configuration without its word splitting) and a title
tsvector, each matched by a GIN index; ranked by ts_rank.

Every document's text also carries one *kind token*, so "documents of this kind that do
not match" is itself a text query: a query matching most of a kind is counted through
the few documents it misses. The token is made of private-use characters, which the
segmenter never emits, so no user text can produce or match it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from shuzhi.search.query import Expr, Token, render_fts5, render_tsquery

# PostgreSQL keeps positions up to this value; larger ones are clamped anyway.
_MAX_PG_POSITION = 16383
_KIND_MARK, _KIND_SEPARATOR = "\ue000", "\ue001"


def kind_token(kind: str) -> str:
    """The token every document of ``kind`` carries (kind names are ``[a-z][a-z0-9_]*``)."""
    return _KIND_MARK + kind.replace("_", _KIND_SEPARATOR)


class DocSet(StrEnum):
    """Sets of documents a plan reads, each defined by one bound text query."""

    MATCH = "q"  # documents matching the query
    COMPLEMENT = "cq"  # documents of the kind not matching it
    TITLE = "tq"  # documents whose title alone matches it


@dataclass(frozen=True)
class FullTextBackend:
    """SQL fragments and encoders for one backend; ``d`` is always a ``search_doc`` row."""

    name: str
    render_query: Callable[[Expr], str]
    # The query for DocSet.COMPLEMENT: documents of the kind that do not match.
    render_complement: Callable[[str, Expr], str]
    # The query counted in an id window (``window``) to estimate how dense a match is.
    render_window_query: Callable[[str, Expr], str]
    # FROM fragments yielding the rows ``d`` of one set (bound parameter: the set's value).
    source: Mapping[DocSet, str]
    # Conditions on a row ``d`` testing membership one row at a time (for index walks).
    row_in: Mapping[DocSet, str]
    # Ids of one set, as a subquery (for ``d.id IN (...)``, built once per statement).
    ids: Mapping[DocSet, str]
    # FROM fragment yielding ``d`` for the matches of ``:rq`` (the query as written:
    # scores depend on its exact form), and the ORDER BY expression putting the best first.
    ranked: str
    best_first: str
    # One row for the ids {lo}..{hi} (placeholders): documents of ``:kind``, how many
    # of them match ``:wq`` and how many titles match ``:tq`` (an estimate).
    window: str
    # Width of each window and how many are read.
    window_ids: int
    # Matched sets larger than this are not scored exactly (scoring reads every match).
    exact_rank_limit: int
    # Rough costs in microseconds, to choose between plans: one row of an index walk; a
    # one-row membership test (fixed part and per query token); one row read from a text
    # match (join, filter, order); one id of a set built for ``IN``; evaluating a text
    # query once, per document of the kind (fixed part and per query token).
    walk_cost: float
    test_cost: float
    test_token_cost: float
    read_cost: float
    build_cost: float
    eval_cost: float
    eval_token_cost: float
    # Remove text rows of documents ``:ids`` (empty: the text lives on the document row).
    delete_text: Sequence[str]
    # Write the text of document ``:id`` from the parameters ``encode`` returns.
    write_text: Sequence[str]
    encode: Callable[[str, Sequence[str], Sequence[str]], dict[str, str]]
    # Refresh the planner's statistics of the index's tables after a bulk write (``store``):
    # run in a savepoint, the first statement taking the lock the others need without
    # waiting (SQLSTATE 55P03 when another transaction holds it: the refresh is skipped).
    analyze: Sequence[str] = ()
    # Run at the start of every search, in its transaction.
    before_search: Sequence[str] = ()


def _fts5_encode(kind: str, title: Sequence[str], body: Sequence[str]) -> dict[str, str]:
    return {"title": " ".join(title), "body": " ".join([*body, kind_token(kind)])}


def _tsvector_literal(kind: str, title: Sequence[str], body: Sequence[str]) -> dict[str, str]:
    def lexeme(token: str) -> str:
        return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"

    parts: list[str] = []
    for weight, offset, tokens in (("A", 0, title), ("B", len(title), body)):
        for i, token in enumerate(tokens):
            parts.append(f"{lexeme(token)}:{min(offset + i + 1, _MAX_PG_POSITION)}{weight}")
    title_lexemes = " ".join(lexeme(t) for t in title)
    return {"tsv": " ".join([*parts, lexeme(kind_token(kind))]), "tsv_title": title_lexemes}


def _fts5_match(table: str, param: str) -> str:
    return f"SELECT rowid AS id FROM {table} WHERE {table} MATCH :{param}"


def _fts5_source(table: str, param: str) -> str:
    return f"({_fts5_match(table, param)}) m CROSS JOIN search_doc d ON d.id = m.id"


def _fts5_row_in(table: str, param: str) -> str:
    return f"EXISTS (SELECT 1 FROM {table} WHERE {table} MATCH :{param} AND rowid = d.id)"


_FTS5_TABLES = {
    DocSet.MATCH: "search_fts",
    DocSet.COMPLEMENT: "search_fts",
    DocSet.TITLE: "search_fts_title",
}

SQLITE_FTS5 = FullTextBackend(
    name="sqlite",
    render_query=render_fts5,
    render_complement=lambda kind, expr: (
        render_fts5(Token(kind_token(kind))) + " NOT " + render_fts5(expr)
    ),
    render_window_query=lambda kind, expr: (
        render_fts5(Token(kind_token(kind))) + " AND " + render_fts5(expr)
    ),
    source={s: _fts5_source(t, s.value) for s, t in _FTS5_TABLES.items()},
    row_in={s: _fts5_row_in(t, s.value) for s, t in _FTS5_TABLES.items()},
    ids={s: _fts5_match(t, s.value) for s, t in _FTS5_TABLES.items()},
    ranked="(SELECT rowid AS id, bm25(search_fts, 10.0, 1.0) AS score "
    "FROM search_fts WHERE search_fts MATCH :rq) m CROSS JOIN search_doc d ON d.id = m.id",
    best_first="score",
    window="SELECT (SELECT count(*) FROM search_doc WHERE id BETWEEN {lo} AND {hi} "
    "AND +kind = :kind), (SELECT count(*) FROM search_fts WHERE search_fts MATCH :wq "
    "AND rowid BETWEEN {lo} AND {hi}), (SELECT count(*) FROM search_fts_title "
    "WHERE search_fts_title MATCH :tq AND rowid BETWEEN {lo} AND {hi})",
    window_ids=2000,
    exact_rank_limit=3000,
    walk_cost=0.3,
    test_cost=5.0,
    test_token_cost=30.0,
    read_cost=0.5,
    build_cost=0.12,
    eval_cost=0.025,
    eval_token_cost=0.005,
    delete_text=(
        "DELETE FROM search_fts WHERE rowid IN :ids",
        "DELETE FROM search_fts_title WHERE rowid IN :ids",
    ),
    write_text=(
        "INSERT INTO search_fts (rowid, title, body) VALUES (:id, :title, :body)",
        "INSERT INTO search_fts_title (rowid, title) VALUES (:id, :title)",
    ),
    encode=_fts5_encode,
)

# The tables of the search index (PostgreSQL), as a statement lists them.
INDEX_TABLES = "search_doc, search_facet_set, search_facet, search_doc_count"
_PG_COLUMNS = {DocSet.MATCH: "tsv", DocSet.COMPLEMENT: "tsv", DocSet.TITLE: "tsv_title"}


def _pg_row_in(column: str, param: str) -> str:
    return f"d.{column} @@ CAST(:{param} AS tsquery)"


def _pg_source(condition: str) -> str:
    # OFFSET 0 keeps the text match a unit of its own: the planner would otherwise merge
    # it with the facet filters and rescan the text index once per facet set.
    return f"(SELECT * FROM search_doc d WHERE {condition} OFFSET 0) d"


POSTGRES_TSVECTOR = FullTextBackend(
    name="postgresql",
    render_query=render_tsquery,
    render_complement=lambda kind, expr: (
        render_tsquery(Token(kind_token(kind))) + " & !" + render_tsquery(expr)
    ),
    render_window_query=lambda kind, expr: render_tsquery(expr),
    source={s: _pg_source(_pg_row_in(c, s.value)) for s, c in _PG_COLUMNS.items()},
    row_in={s: _pg_row_in(c, s.value) for s, c in _PG_COLUMNS.items()},
    ids={
        s: f"SELECT d.id FROM search_doc d WHERE {_pg_row_in(c, s.value)} OFFSET 0"
        for s, c in _PG_COLUMNS.items()
    },
    ranked=_pg_source(_pg_row_in("tsv", "rq")),
    best_first="ts_rank(d.tsv, CAST(:rq AS tsquery)) DESC",
    window="SELECT count(*), count(*) FILTER (WHERE tsv @@ CAST(:wq AS tsquery)), "
    "count(*) FILTER (WHERE tsv_title @@ CAST(:tq AS tsquery)) "
    "FROM search_doc WHERE id BETWEEN {lo} AND {hi} AND kind = :kind",
    window_ids=400,
    exact_rank_limit=3000,
    walk_cost=1.0,
    test_cost=10.0,
    test_token_cost=1.0,
    read_cost=6.0,
    build_cost=6.0,
    eval_cost=0.01,
    eval_token_cost=0.002,
    delete_text=(),
    write_text=(
        "UPDATE search_doc SET tsv = CAST(:tsv AS tsvector), "
        "tsv_title = CAST(:tsv_title AS tsvector) WHERE id = :id",
    ),
    encode=_tsvector_literal,
    # Without statistics PostgreSQL plans the search over a freshly loaded index as if its
    # tables were nearly empty: 12–16 s a search over the demo's 1,739 entries until the
    # autovacuum daemon analysed them, 37 ms after.
    analyze=(
        f"LOCK TABLE {INDEX_TABLES} IN SHARE UPDATE EXCLUSIVE MODE NOWAIT",
        f"ANALYZE {INDEX_TABLES}",
    ),
    # Plan every search for its own parameters. The driver prepares a statement on the
    # server the fifth time a connection runs it, and PostgreSQL may then run it on one plan
    # made for any parameters; a search's best plan depends on how many documents its words
    # match. At 100,000 entries, once the tables were analysed, a faceted keyword search
    # took about 600 ms on such a plan and 26 ms on its own.
    before_search=("SET LOCAL plan_cache_mode = force_custom_plan",),
)

BACKENDS = {b.name: b for b in (SQLITE_FTS5, POSTGRES_TSVECTOR)}


def backend_for(capabilities_name: str) -> FullTextBackend:
    """The full-text backend for a metadata database (``BackendCapabilities.name``)."""
    return BACKENDS[capabilities_name]
