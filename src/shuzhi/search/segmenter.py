"""Chinese-aware tokens for the full-text index: database tokenizers cannot split Chinese.

Text is normalised (NFKC, lower case), then cut into runs of CJK ideographs and runs of
other letters/digits. A CJK run is indexed as jieba's search-mode words plus every
character bigram and single character, so a 2-character word is found inside any longer
word (人口 inside 常住人口基本信息) whatever jieba decides. Other runs (codes such as
330182, USCC) are indexed whole. Tokens contain only letters and digits, never
whitespace or query syntax, so both backends can take them verbatim.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import jieba

# Unified ideographs, extension A, compatibility ideographs and the supplementary planes.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
# Longer tokens are cut: nobody searches for them, and PostgreSQL limits lexeme size.
MAX_TOKEN_CHARS = 64
# Text beyond this is not indexed (a catalogue abstract is far shorter).
MAX_TEXT_CHARS = 20_000


_JIEBA_LOCK = threading.Lock()


def _jieba() -> jieba.Tokenizer:
    # lru_cache does not hold concurrent first callers back: without the lock every request
    # thread of a fresh server loads its own copy of the dictionary (seconds each).
    with _JIEBA_LOCK:
        return _load_jieba()


@lru_cache(maxsize=1)
def _load_jieba() -> jieba.Tokenizer:
    # jieba logs its dictionary loading at INFO; that is noise for a server.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def normalise(text: str) -> str:
    """Full-width to half-width, lower case: the same text form for documents and queries."""
    return unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS]).lower()


def runs(text: str) -> Iterator[str]:
    """Maximal runs of CJK ideographs or of other letters and digits, in order."""
    for match in _RUN.finditer(normalise(text)):
        run = match.group()
        if not is_cjk(run):
            yield run[:MAX_TOKEN_CHARS]
        elif run.isalnum():
            yield run
        else:  # unassigned code points inside the CJK blocks separate runs
            yield from "".join(c if c.isalnum() else " " for c in run).split()


def is_cjk(run: str) -> bool:
    return _CJK_RUN.match(run) is not None


def bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def segment(text: str) -> list[str]:
    """The tokens indexed for ``text`` (pure: no database, deterministic)."""
    tokens: list[str] = []
    for run in runs(text):
        if not is_cjk(run):
            tokens.append(run)
            continue
        tokens.extend(_cjk_tokens(run))
    return tokens


@lru_cache(maxsize=8192)
def _cjk_tokens(run: str) -> tuple[str, ...]:
    # Catalogue documents repeat the same runs (item names, unit names) thousands of times.
    words = [w for w in _jieba().cut_for_search(run, HMM=False) if len(w) > 2]
    return (*(w[:MAX_TOKEN_CHARS] for w in words), *bigrams(run), *run)


def words(run: str) -> list[str]:
    """A CJK run cut into words the way a reader would (for queries)."""
    return [w for w in _jieba().cut(run, HMM=False) if w.strip()]
