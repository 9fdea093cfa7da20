"""User text → a boolean query over index tokens, rendered safely for each backend.

Words are ANDed; a word matching a synonym group becomes an OR over the group's terms.
A CJK word of three or more characters matches either as an indexed jieba word or as
all of its bigrams, so recall never depends on jieba cutting a document the same way
it cuts the query. Every token is quoted when rendered, so user text can never inject
FTS5 or tsquery syntax.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from shuzhi.search.segmenter import bigrams, is_cjk, runs, words

# Synonym terms longer than this are not looked for inside a query.
MAX_SYNONYM_CHARS = 16


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Expr, ...]


Expr = Token | AllOf | AnyOf
Synonyms = Mapping[str, Sequence[str]]  # normalised term -> every term of its group


def _combine(kind: type[AllOf] | type[AnyOf], parts: Sequence[Expr]) -> Expr | None:
    unique = tuple(dict.fromkeys(parts))
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else kind(unique)


def run_condition(run: str) -> Expr:
    """One run of the query: a code, a single character, or a CJK word."""
    if not is_cjk(run) or len(run) <= 2:
        return Token(run)
    via_bigrams = _combine(AllOf, [Token(b) for b in bigrams(run)])
    assert via_bigrams is not None
    return AnyOf((Token(run), via_bigrams))


def phrase_condition(text: str) -> Expr | None:
    """All runs of a (synonym) term must match."""
    return _combine(AllOf, [run_condition(r) for r in runs(text)])


def canonical_term(term: str) -> str:
    """The stored form of a synonym term: normalised runs joined by single spaces."""
    return " ".join(runs(term))


def synonym_candidates(query: str) -> set[str]:
    """Every piece of the query that could be a synonym term (to look up in one go)."""
    out: set[str] = set()
    for run in runs(query):
        if not is_cjk(run):
            out.add(run)
            continue
        for i in range(len(run)):
            for j in range(i + 1, min(len(run), i + MAX_SYNONYM_CHARS) + 1):
                out.add(run[i:j])
    return out


def _as_words(term: str) -> Expr | None:
    """What ``term`` matches as typed, without synonyms: each of its words, anywhere."""
    pieces: list[str] = []
    for run in runs(term):
        pieces.extend(words(run) if is_cjk(run) else [run])
    meaningful = [p for p in pieces if len(p) > 1 or not is_cjk(p)]
    return _combine(AllOf, [c for p in meaningful or pieces if (c := phrase_condition(p))])


def _expand(term: str, synonyms: Synonyms) -> Expr | None:
    """A word of the query: as typed, or (a synonym term) as typed or any other wording of
    its group, each of those as a phrase. Synonyms only ever widen what the words find."""
    group = synonyms.get(term)
    if not group:
        return phrase_condition(term)
    others = [c for t in group if t != term and (c := phrase_condition(t)) is not None]
    own = _as_words(term)
    return _combine(AnyOf, [own, *others] if own is not None else others)


def _cjk_pieces(run: str, synonyms: Synonyms) -> Iterator[str]:
    """Longest synonym terms first (left to right); the text between them cut by jieba."""
    start = i = 0
    while i < len(run):
        for size in range(min(MAX_SYNONYM_CHARS, len(run) - i), 0, -1):
            if run[i : i + size] in synonyms:
                yield from words(run[start:i]) if i > start else ()
                yield run[i : i + size]
                i = start = i + size
                break
        else:
            i += 1
    if start < len(run):
        yield from words(run[start:])


def build(query: str, synonyms: Synonyms) -> Expr | None:
    """The query expression, or None when the text holds nothing searchable."""
    pieces: list[str] = []
    for run in runs(query):
        pieces.extend(_cjk_pieces(run, synonyms) if is_cjk(run) else [run])
    # Single characters between words are mostly particles (的, 和); keep them only alone.
    meaningful = [p for p in pieces if len(p) > 1 or not is_cjk(p) or p in synonyms]
    chosen = meaningful or pieces
    return _combine(AllOf, [e for p in chosen if (e := _expand(p, synonyms)) is not None])


def _implied(token: Token) -> frozenset[str]:
    """Tokens every document holding ``token`` also holds (a CJK word brings its bigrams)."""
    if is_cjk(token.text) and len(token.text) > 2:
        return frozenset([token.text, *bigrams(token.text)])
    return frozenset([token.text])


def _required(expr: Expr) -> frozenset[str] | None:
    """The tokens a match of ``expr`` must hold, if ``expr`` is a plain conjunction."""
    if isinstance(expr, Token):
        return _implied(expr)
    if isinstance(expr, AllOf) and all(isinstance(p, Token) for p in expr.parts):
        return frozenset().union(*(_implied(p) for p in expr.parts if isinstance(p, Token)))
    return None


def simplify(expr: Expr) -> Expr:
    """An expression matching exactly the same documents, with fewer tokens to look up.

    Documents index every bigram of every CJK run, so a CJK word implies its bigrams and
    an alternative that implies another alternative of the same ``AnyOf`` adds nothing:
    ``AnyOf(身份证, AllOf(身份, 份证))`` matches what ``AllOf(身份, 份证)`` matches. Scores
    differ, so ranked pages keep the original expression.
    """
    if isinstance(expr, Token):
        return expr
    parts: list[Expr] = []
    for part in map(simplify, expr.parts):  # (a AND (b AND c)) is (a AND b AND c)
        same = isinstance(part, AllOf | AnyOf) and type(part) is type(expr)
        parts.extend(part.parts if same and not isinstance(part, Token) else [part])
    if isinstance(expr, AllOf):
        combined = _combine(AllOf, parts)
        assert combined is not None
        return combined
    needs = [_required(p) for p in parts]
    kept = [
        part
        for i, (part, need) in enumerate(zip(parts, needs, strict=True))
        if need is None
        or not any(
            other is not None and other <= need and (other < need or j < i)
            for j, other in enumerate(needs)
            if j != i
        )
    ]
    combined = _combine(AnyOf, kept)
    assert combined is not None
    return combined


def size(expr: Expr) -> int:
    """How many tokens the expression looks up (a cost measure)."""
    return 1 if isinstance(expr, Token) else sum(size(p) for p in expr.parts)


def render_fts5(expr: Expr) -> str:
    if isinstance(expr, Token):
        return '"' + expr.text.replace('"', '""') + '"'
    joiner = " AND " if isinstance(expr, AllOf) else " OR "
    return "(" + joiner.join(render_fts5(p) for p in expr.parts) + ")"


def render_tsquery(expr: Expr, weights: str = "") -> str:
    """tsquery text; ``weights`` (e.g. "A") restricts every token to those weights."""
    if isinstance(expr, Token):
        lexeme = "'" + expr.text.replace("\\", "\\\\").replace("'", "''") + "'"
        return f"{lexeme}:{weights}" if weights else lexeme
    joiner = " & " if isinstance(expr, AllOf) else " | "
    return "(" + joiner.join(render_tsquery(p, weights) for p in expr.parts) + ")"
