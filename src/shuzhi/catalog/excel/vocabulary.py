"""The compile template: code tables as people write them (names, codes, variants)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shuzhi.catalog.models import CodeTable


def _key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


@dataclass(frozen=True)
class CodeValue:
    code: str
    label_zh: str
    label_en: str = ""
    national_code: str = ""
    parent_code: str | None = None


@dataclass
class Vocabulary:
    """Active code-table values, looked up by code, national code or label (zh or en).

    Built from the catalogue's code tables at import time, so a value the CDO executive
    adds to a table is accepted by the template at once.
    """

    tables: Mapping[str, Sequence[CodeValue]]
    # data element code → its name and synonyms
    elements: Mapping[str, Sequence[str]] = field(default_factory=dict)
    _index: dict[str, dict[str, set[str]]] = field(default_factory=dict, init=False)
    _elements: dict[str, set[str]] = field(default_factory=dict, init=False)
    # A file repeats the same few values (and the same wrong ones) in every row.
    _found: dict[tuple[str, str], tuple[str | None, list[str]]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        for table, values in self.tables.items():
            index: dict[str, set[str]] = {}
            for v in values:
                keys = {v.code, v.label_zh, v.label_en, v.national_code}
                if table == CodeTable.FORMAT_SUBTYPE:
                    keys.add(v.code.split(".", 1)[-1])
                for k in keys:
                    if k:
                        index.setdefault(_key(k), set()).add(v.code)
            self._index[table] = index
        for code, terms in self.elements.items():
            for term in (code, *terms):
                self._elements.setdefault(_key(term), set()).add(code)

    def values(self, table: str) -> Sequence[CodeValue]:
        return self.tables.get(table, ())

    def lookup(self, table: str, text: str) -> tuple[str | None, list[str]]:
        """(code, []) on a match; (None, candidates) when ambiguous; (None, []) when unknown."""
        if (table, text) not in self._found:
            self._found[table, text] = self._lookup(table, text)
        code, candidates = self._found[table, text]
        return code, list(candidates)

    def _lookup(self, table: str, text: str) -> tuple[str | None, list[str]]:
        index = self._index.get(table, {})
        key = _key(text)
        for attempt in (key, key.removesuffix("类"), key.removesuffix("型")):
            found = index.get(attempt)
            if found:
                return (next(iter(found)), []) if len(found) == 1 else (None, sorted(found))
        if len(key) >= 2:  # a unique beginning of a Chinese label: 字符 → 字符型, 每季 → 每季度
            found = {
                v.code
                for v in self.values(table)
                if v.label_zh and _key(v.label_zh).startswith(key)
            }
            if len(found) == 1:
                return next(iter(found)), []
            if found:
                return None, sorted(found)
        return None, []

    def label(self, table: str, code: str) -> str:
        for v in self.values(table):
            if v.code == code:
                return v.label_zh
        return code

    def element(self, text: str) -> tuple[str | None, list[str]]:
        found = self._elements.get(_key(text), set())
        if len(found) == 1:
            return next(iter(found)), []
        return None, sorted(found)
