"""The common shape of every normaliser's answer: the raw value, what it became, and how sure.

A normaliser never throws away what it was given and never upgrades a guess into a fact. Each
part of a value it reads carries a ``Check``: ``valid`` (verified by a rule that could have
failed), ``invalid`` (a rule failed), ``unverified`` (read, but nothing could confirm it, e.g.
the birth date of an ID whose check digit fails) or ``unknown`` (absent or not decidable).
Flags name what was changed or noticed, for the record of how a key was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Check(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIED = "unverified"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Field:
    """One normalised text field: ``raw`` as given, ``value`` as normalised (None: blank)."""

    raw: str | None
    value: str | None
    check: Check
    flags: frozenset[str] = frozenset()


def flagged(*pairs: tuple[bool, str]) -> frozenset[str]:
    """The flags whose condition holds (keeps the callers' flag logic on one line each)."""
    return frozenset(flag for condition, flag in pairs if condition)
