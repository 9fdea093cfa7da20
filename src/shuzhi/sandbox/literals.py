"""What the audit log keeps of an analyst's SQL: the statement as typed, its values replaced by
keyed digests.

A query names the people it is about in its literals (``WHERE 身份证号 = '1101…'``, a phone
typed as a number) and the audit log is read by more roles than the data is. Every text
literal, and every number of six digits or more, becomes ``'#<digest>'``, the platform's keyed
digest of the value (``security.digests``): without the platform's secret key no one can tell
which value it was, and the same value always digests alike, so queries about one person can
still be found together. Shorter numbers (ages, limits, positions) stay as typed. A statement
the tokenizer cannot read has its quoted text and long digit runs replaced the same way.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import TokenType
from sqlglot.errors import TokenError

from shuzhi.security import digests

MIN_DIGITS = 6  # a number with fewer digits says nothing about one person
_LOOSE = re.compile(r"'(?:[^']|'')*'?|\d{6,}")  # quoted text (maybe unterminated), digit runs
_DIGIT_RUN = re.compile(r"\d{6,}")


def key_of(secret_key: str) -> bytes:
    return digests.digest_key(secret_key)


def _token(value: str, key: bytes) -> str:
    return f"'#{digests.digest(value, key)}'"


def digested(sql: str, key: bytes) -> str:
    """``sql`` with its text literals and long numbers replaced by their keyed digests."""
    try:
        tokens = sqlglot.tokenize(sql, read="duckdb")
    except TokenError:
        return _LOOSE.sub(lambda m: _token(m.group(0).strip("'"), key), sql)
    out: list[str] = []
    last = 0
    for t in tokens:
        value = t.token_type is TokenType.STRING or (
            t.token_type is TokenType.NUMBER and sum(c.isdigit() for c in t.text) >= MIN_DIGITS
        )
        if value:
            out += [sql[last : t.start], _token(t.text, key)]
            last = t.end + 1
    out.append(sql[last:])
    return "".join(out)


def digits_digested(text: str, key: bytes) -> str:
    """Prose (a refusal's reason, which may quote the statement) with long digit runs
    replaced by their keyed digests."""
    return _DIGIT_RUN.sub(lambda m: f"#{digests.digest(m.group(0), key)}", text)
