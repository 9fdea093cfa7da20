"""Column classification from sampled values and the column name.

Decision, in order (thresholds in ``ClassifierConfig``):

1. Checksum evidence dominates: if most values pass a check digit (resident ID, USCC,
   organisation code), that is the category whatever the column is called.
2. Clear values dominate too: a column of (nearly) nothing but valid mobile numbers or
   Luhn-valid bank cards, with enough distinct values and no running sequence, is that
   category whatever the column is called (备注, 说明, 订单号 …): a misleading name must never
   publish phone numbers unmasked.
3. A positive header cue decides between the categories it names when enough values are
   compatible with one of them (an 11-digit column named LXDH is a mobile phone).
4. Otherwise values alone decide, but only for formats specific enough to trust without a
   name, only if the name is not a negative cue (订单号, amount …) and, for identifier-like
   formats, only if the values are not a running sequence (order or work-order numbers).
5. Anything else is ``none``; the evidence says what was close.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from shuzhi.security.categories import Category
from shuzhi.security.detectors import DETECTORS, VALIDATED_BY, Cell, make_cell
from shuzhi.security.headers import HeaderCue, header_cue
from shuzhi.standards.dates import has_time, parse_date
from shuzhi.standards.text import NULL_TOKENS, normalize

C = Category
SAMPLE_LIMIT = 1000
_PRUNE_HEAD = 100  # distinct values every detector sees before unlikely ones are dropped
_PRUNE_MARGIN = 0.25  # a pre-screen this far below a threshold skips the full count

CHECKSUM_CATEGORIES = (C.RESIDENT_ID, C.USCC, C.ORG_CODE)
# Identifier-like formats that a running sequence of business numbers can imitate.
_SERIAL_PRONE = frozenset(
    {C.MOBILE_PHONE, C.LANDLINE_PHONE, C.BANK_CARD, C.PASSPORT, C.TRAVEL_PERMIT, C.POSTAL_CODE}
    | {C.TAIWAN_PERMIT, C.SAR_PASSPORT}
)


@dataclass(frozen=True)
class ValueRule:
    """When values alone may decide a category: minimum validated and compatible shares."""

    strong: float
    support: float = 0.0


@dataclass(frozen=True)
class ClearRule:
    """When values decide whatever the header says.

    ``strong``: minimum share of non-empty values validated as the category or as one of
    ``companions`` (a contact column with the odd landline); ``alone``: minimum share of the
    category itself; ``support``: minimum share compatible with its format.
    """

    strong: float
    alone: float
    support: float = 0.0
    companions: tuple[Category, ...] = ()


@dataclass(frozen=True)
class ClassifierConfig:
    checksum_ratio: float = 0.8
    header_support: float = 0.5
    # With a header cue, these categories still need this share of validated values
    # (2–4 Han characters or a place name alone are too common to trust).
    header_strong: Mapping[Category, float] = field(
        default_factory=lambda: {C.ADDRESS: 0.3, C.HEALTH: 0.3}
    )
    # Order matters for ties: more specific formats first.
    value_rules: Mapping[Category, ValueRule] = field(
        default_factory=lambda: {
            C.EMAIL: ValueRule(0.8),
            C.IP_ADDRESS: ValueRule(0.8),
            C.DIPLOMATIC_PLATE: ValueRule(0.8),
            C.LICENSE_PLATE: ValueRule(0.8),
            C.PASSPORT: ValueRule(0.8),
            C.TRAVEL_PERMIT: ValueRule(0.8),
            C.SAR_PASSPORT: ValueRule(0.8),
            C.TAIWAN_PERMIT: ValueRule(0.8),
            C.MOBILE_PHONE: ValueRule(0.8),
            C.LANDLINE_PHONE: ValueRule(0.8),
            C.BANK_CARD: ValueRule(0.6, 0.8),
            C.PRECISE_LOCATION: ValueRule(0.8),
            C.ETHNICITY: ValueRule(0.8),
            C.RELIGION: ValueRule(0.3, 0.8),
            C.GENDER: ValueRule(0.9),
            C.BIRTH_DATE: ValueRule(0.8),
            C.HEALTH: ValueRule(0.6, 0.7),
            C.ADDRESS: ValueRule(0.5, 0.8),
            C.PERSON_NAME: ValueRule(0.75, 0.9),
        }
    )
    # Formats without a check digit of their own (mobile numbers) need near-certainty; bank
    # cards carry the Luhn digit (a random number passes one time in ten) but some legacy
    # domestic debit cards fail it, so 85 % Luhn-valid among card-shaped values is clear.
    clear_rules: Mapping[Category, ClearRule] = field(
        default_factory=lambda: {
            C.MOBILE_PHONE: ClearRule(0.95, 0.8, companions=(C.LANDLINE_PHONE,)),
            C.BANK_CARD: ClearRule(0.85, 0.85, support=0.95),
        }
    )
    # A few values repeated (placeholders, a short code list) are no evidence of people: an
    # identifier-like format decides from values only with this many distinct values (or
    # all values distinct in a smaller sample).
    clear_min_distinct: int = 10
    name_min_distinct: float = 0.3  # names repeat little; status words repeat a lot
    birth_min_spread_years: int = 15  # a population spans generations; event dates do not
    birth_min_age_years: int = 15  # median age of the people in a birth-date column


DEFAULT_CONFIG = ClassifierConfig()


@dataclass(frozen=True)
class ColumnClassification:
    name: str
    category: Category
    confidence: float  # 0..1
    evidence: list[str]


class _Profile:
    """Sampled values; detector results are computed on demand (most are never needed)."""

    def __init__(self, values: Sequence[str | None]) -> None:
        raw = Counter(v for v in values[:SAMPLE_LIMIT] if v)
        counts: Counter[str] = Counter()
        for value, k in raw.items():
            text = normalize(value)
            if text.lower() not in NULL_TOKENS:
                counts[text] += k
        self.cells = [(make_cell(v), k) for v, k in counts.items()]
        self.n = sum(counts.values())
        self.distinct = len(counts)
        self.serial = _is_serial(self.cells)
        self.strong: dict[Category, int] = {}
        self.weak: dict[Category, int] = {}
        self._head = self.cells[:_PRUNE_HEAD]
        self._head_n = sum(k for _, k in self._head) or 1
        self._estimates: dict[Category, tuple[float, float]] = {}
        self._birth: tuple[bool, str] | None = None

    def _run(self, c: Category) -> None:
        if c in self.strong:
            return
        detect = DETECTORS[c]
        strong = weak = 0
        for cell, k in self.cells:
            score = detect(cell)
            if score == 2:
                strong += k
            elif score == 1:
                weak += k
        self.strong[c], self.weak[c] = strong, weak

    def _estimate(self, c: Category) -> tuple[float, float]:
        if c not in self._estimates:
            detect = DETECTORS[c]
            scores = [(detect(cell), k) for cell, k in self._head]
            strong = sum(k for s, k in scores if s == 2) / self._head_n
            self._estimates[c] = strong, sum(k for s, k in scores if s) / self._head_n
        return self._estimates[c]

    def estimate(self, c: Category) -> float:
        """Share of compatible values among the first distinct values (a cheap pre-screen)."""
        return self.support(c) if c in self.strong else self._estimate(c)[1]

    def might_reach(self, c: Category, strong: float, support: float = 0.0) -> bool:
        head_strong, head_support = self._estimate(c)
        return head_strong >= strong - _PRUNE_MARGIN and head_support >= support - _PRUNE_MARGIN

    def strong_ratio(self, c: Category) -> float:
        self._run(c)
        return self.strong[c] / self.n

    def support(self, c: Category) -> float:
        self._run(c)
        return (self.strong[c] + self.weak[c]) / self.n


_TAIL = re.compile(r"^([A-Z]*)(\d{4,})$")


def _is_serial(cells: list[tuple[Cell, int]]) -> bool:
    """A running sequence of numbers (same prefix, densely packed), like order numbers."""
    prefixes: Counter[str] = Counter()
    numbers: list[int] = []
    for cell, _ in cells:
        m = _TAIL.match(cell.code.lstrip("+"))
        if m is not None:
            prefixes[m.group(1)] += 1
            numbers.append(int(m.group(2)))
    if len(numbers) < 10 or len(numbers) < 0.8 * len(cells):
        return False
    if prefixes.most_common(1)[0][1] < 0.8 * len(numbers):
        return False
    return max(numbers) - min(numbers) <= 20 * len(numbers)


def _pct(x: float) -> str:
    return f"{round(100 * x)}%"


def _value_evidence(p: _Profile, c: Category) -> list[str]:
    out = [f"{_pct(p.strong_ratio(c))} of {p.n} values {VALIDATED_BY[c]}"]
    if p.weak[c]:
        out.append(f"{_pct(p.weak[c] / p.n)} more have the {c.value} shape only")
    return out


def _birth_dates_plausible(p: _Profile, config: ClassifierConfig) -> tuple[bool, str]:
    if p._birth is None:
        p._birth = _birth_check(p, config)
    return p._birth


def _birth_check(p: _Profile, config: ClassifierConfig) -> tuple[bool, str]:
    years: list[int] = []
    timed = 0
    for cell, k in p.cells:
        born = parse_date(cell.text)
        if born is not None:
            years.extend([born.year] * k)
            timed += k if has_time(cell.text) else 0
    if not years:
        return False, "no dates"
    years.sort()
    lo, mid, hi = (years[int(q * (len(years) - 1))] for q in (0.1, 0.5, 0.9))
    age = date.today().year - mid
    detail = f"years {lo}–{hi}, median {mid}"
    if timed > 0.2 * len(years):
        return False, f"{detail}; values carry times of day"
    spread_ok = hi - lo >= config.birth_min_spread_years
    return spread_ok and age >= config.birth_min_age_years, detail


def _varied(p: _Profile, config: ClassifierConfig) -> bool:
    """Enough distinct values for an identifier format to mean people, not a code list."""
    return p.distinct >= min(config.clear_min_distinct, p.n)


def _clear_values(
    p: _Profile, config: ClassifierConfig
) -> tuple[Category, float, list[str]] | None:
    """The category values establish beyond doubt, whatever the header says."""
    if p.serial or not _varied(p, config):
        return None
    for c, rule in config.clear_rules.items():
        if not p.might_reach(c, rule.alone, rule.support):
            continue
        alone = p.strong_ratio(c)
        if alone < rule.alone or p.support(c) < rule.support:
            continue
        evidence = _value_evidence(p, c)
        share = alone
        for k in rule.companions if alone < rule.strong else ():
            more = p.strong_ratio(k)
            share = min(1.0, share + more)
            if more:
                evidence.append(f"{_pct(more)} more are {k.value} numbers")
        if share < rule.strong:
            continue
        evidence.append(
            f"values decide whatever the header says: {_pct(share)} valid"
            f" (at least {_pct(rule.strong)}), {p.distinct} distinct values"
        )
        return c, round(min(0.97, 0.6 + 0.35 * share), 2), evidence
    return None


def _value_only(
    p: _Profile, cue: HeaderCue, config: ClassifierConfig
) -> tuple[Category, float, list[str]] | None:
    if cue.negative:
        return None
    best: tuple[float, Category] | None = None
    for c, rule in config.value_rules.items():
        if not p.might_reach(c, rule.strong, rule.support):
            continue
        r = p.strong_ratio(c)
        if r < rule.strong or p.support(c) < rule.support:
            continue
        if c in _SERIAL_PRONE and (p.serial or not _varied(p, config)):
            continue
        if c is C.PERSON_NAME and p.distinct < config.name_min_distinct * p.n:
            continue
        if c is C.BIRTH_DATE and not _birth_dates_plausible(p, config)[0]:
            continue
        if best is None or r > best[0]:
            best = (r, c)
    phones_ok = not p.serial and _varied(p, config)
    if best is None and phones_ok and p.might_reach(C.LANDLINE_PHONE, 0.1):
        # A contact column mixing mobiles and landlines: the majority kind names it.
        phones = p.strong_ratio(C.MOBILE_PHONE) + p.strong_ratio(C.LANDLINE_PHONE)
        if phones >= config.value_rules[C.MOBILE_PHONE].strong:
            best = (phones, max(_PHONE_PAIR, key=p.strong_ratio))
    if best is None:
        return None
    r, c = best
    evidence = _value_evidence(p, c)
    if c is C.BIRTH_DATE:
        evidence.append(_birth_dates_plausible(p, config)[1])
    return c, round(min(0.9, 0.45 + 0.45 * r), 2), evidence


_PHONE_PAIR = (C.MOBILE_PHONE, C.LANDLINE_PHONE)


def _header_evidence(name: str, cue: HeaderCue) -> list[str]:
    if cue.positive:
        cats = " / ".join(c.value for c in cue.categories)
        return [f"header {name!r} matches {cats} ({cue.matched})"]
    if cue.negative:
        return [f"header {name!r} names non-personal data ({cue.matched})"]
    return []


def classify_column(
    name: str, values: Sequence[str | None], config: ClassifierConfig = DEFAULT_CONFIG
) -> ColumnClassification:
    """Category of one column from its name and up to 1,000 sampled values."""
    cue = header_cue(name)
    evidence = _header_evidence(name, cue)
    p = _Profile(values)
    if p.n == 0:
        if cue.positive:
            evidence.append("no non-empty values to confirm the header")
            return ColumnClassification(name, cue.categories[0], 0.3, evidence)
        return ColumnClassification(name, C.NONE, 0.5, [*evidence, "no non-empty values"])

    for c in CHECKSUM_CATEGORIES:
        if not p.might_reach(c, config.checksum_ratio):
            continue
        r = p.strong_ratio(c)
        if r >= config.checksum_ratio:
            agree = 0.05 if c in cue.categories else 0.0
            confidence = round(min(0.99, 0.55 + 0.4 * r + agree), 2)
            return ColumnClassification(name, c, confidence, [*_value_evidence(p, c), *evidence])

    clear = _clear_values(p, config)
    if clear is not None:
        c, confidence, value_evidence = clear
        return ColumnClassification(name, c, confidence, [*value_evidence, *evidence])

    if cue.positive:
        c = max(cue.categories, key=p.support)
        sup, r = p.support(c), p.strong_ratio(c)
        enough = r >= config.header_strong.get(c, 0.0)
        if (sup >= config.header_support and enough) or c is C.BIOMETRIC:
            confidence = round(min(0.97, 0.5 + 0.3 * sup + 0.15 * r), 2)
            return ColumnClassification(name, c, confidence, [*evidence, *_value_evidence(p, c)])
        evidence.append(f"values do not confirm the header: {_pct(sup)} fit {c.value}")

    found = _value_only(p, cue, config)
    if found is not None:
        c, confidence, value_evidence = found
        if p.serial:
            value_evidence.append("values are not a running sequence")
        return ColumnClassification(name, c, confidence, [*value_evidence, *evidence])

    closest = max(DETECTORS, key=p.estimate)
    near = p.estimate(closest)
    if near > 0:
        evidence.append(f"closest: about {_pct(near)} of values fit {closest.value}")
    if p.serial:
        evidence.append("values are a running sequence of numbers")
    confidence = 0.9 if cue.negative else round(0.9 - 0.4 * near, 2)
    return ColumnClassification(name, C.NONE, confidence, evidence)


def classify_table(
    columns: Mapping[str, Sequence[str | None]], config: ClassifierConfig = DEFAULT_CONFIG
) -> list[ColumnClassification]:
    """Classify every column of a table (column name → sampled values), in column order."""
    return [classify_column(name, values, config) for name, values in columns.items()]
