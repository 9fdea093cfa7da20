"""Scores and levels from indicator credits: pure functions over a round's model snapshot.

The rule, stated once:

- An indicator's *credit* is 1 when it is met (its answer accepted by a reviewer, not
  expired, and saying "met" — for a platform indicator: the verdict ``pass``), the model's
  ``partial_credit`` for an accepted platform verdict ``partial``, else 0.
- An item *reaches level n* when every indicator of every level ≤ n has credit 1 (a level
  without indicators is passed through). Its level is the highest such n (0: not even
  level 1).
- Its *score* is its level plus, when the model gives partial credit (``partial_credit`` >
  0), the weighted share of credit earned at the next level:
  ``score = level + Σ w·credit / Σ w`` over the indicators of level ``level + 1``.
- A domain's score is the weighted mean of its items' scores (item weights); the overall
  score is the weighted mean of the domains' scores (domain weights).
- A score maps to a level through the model's bands: the number of band lower bounds it
  reaches (``[1, 2, 3, 4, 5]``: [1,2) → 1 … 5 → 5; below 1 → 0).
- The *gaps* of an item are the indicators of its next level that are not fully met.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_LEVEL = 5


@dataclass(frozen=True)
class ItemScore:
    code: str
    level: int
    score: float
    gaps: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DomainScore:
    code: str
    level: int
    score: float
    items: list[ItemScore]


@dataclass(frozen=True)
class UnitScore:
    level: int
    score: float
    domains: list[DomainScore]


def band_level(score: float, bands: Sequence[float]) -> int:
    """How many band lower bounds ``score`` reaches (rounding noise forgiven)."""
    return sum(1 for lower in bands if score >= float(lower) - 1e-9)


def weighted_mean(pairs: Sequence[tuple[float, float]]) -> float:
    """Σ w·x / Σ w over ``(x, w)``; 0 without weight."""
    total = sum(w for _, w in pairs)
    return sum(x * w for x, w in pairs) / total if total > 0 else 0.0


def score_item(
    item: Mapping[str, Any], credits: Mapping[str, float], partial_credit: float
) -> ItemScore:
    by_level: dict[int, list[Mapping[str, Any]]] = {}
    for ind in item["indicators"]:
        by_level.setdefault(int(ind["level"]), []).append(ind)
    level = 0
    for n in range(1, MAX_LEVEL + 1):
        if all(credits.get(i["code"], 0.0) >= 1.0 for i in by_level.get(n, [])):
            level = n
        else:
            break
    score = float(level)
    gaps: list[str] = []
    if level < MAX_LEVEL:
        following = by_level.get(level + 1, [])
        gaps = [i["code"] for i in following if credits.get(i["code"], 0.0) < 1.0]
        if partial_credit > 0 and following:
            earned = weighted_mean(
                [(min(1.0, credits.get(i["code"], 0.0)), float(i["weight"])) for i in following]
            )
            score += min(earned, 0.999)
    return ItemScore(item["code"], level, round(score, 3), gaps)


def score_unit(snapshot: Mapping[str, Any], credits: Mapping[str, float]) -> UnitScore:
    """Every item, domain and the whole of one unit, from its indicators' credits."""
    partial = float(snapshot.get("partial_credit", 0.0))
    bands = snapshot["bands"]
    domains: list[DomainScore] = []
    for d in snapshot["domains"]:
        items = [score_item(i, credits, partial) for i in d["items"]]
        score = weighted_mean(
            [(s.score, float(i["weight"])) for s, i in zip(items, d["items"], strict=True)]
        )
        domains.append(DomainScore(d["code"], band_level(score, bands), round(score, 3), items))
    overall = weighted_mean(
        [(s.score, float(d["weight"])) for s, d in zip(domains, snapshot["domains"], strict=True)]
    )
    return UnitScore(band_level(overall, bands), round(overall, 3), domains)
