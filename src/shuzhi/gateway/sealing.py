"""Call rows sealed in batches by the audit log.

The meter writes each batch of calls as rows of ``gateway_call`` and one audit entry
(``CallsSealed``) holding their number and a SHA-256 over them; every row names that entry's
sequence number (``seal``). The entry is chained like any other, so the rows are as
tamper-evident as the log: ``audit verify`` hands the seals it walks to ``on_seals_checking``,
which recomputes each digest from the rows stored now. A row altered, removed or added under
a seal changes its digest or count; a row added without a seal after sealing began is found
too. One entry per batch instead of one per call is what lets the audit keep up with the
gateway (the calls' details are stored once, in the rows, not copied into the log).

The digest is over the rows sorted by call id, each as the list of its values in ``FIELDS``
order (time as ISO 8601 in UTC, day as ISO date, vocabularies as their codes), encoded as
compact JSON: what the writer sends and what any database gives back read the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC
from itertools import groupby
from typing import Any

from sqlalchemy import String, Table, func, select, type_coerce

from shuzhi import hooks
from shuzhi.context import Ctx
from shuzhi.gateway.models import ApiCall

RECORDS = "gateway_call"  # the kind of records, as the seal's target id

FIELDS = (
    "call_id",
    "at",
    "day",
    "endpoint",
    "resource_code",
    "consumer_unit_id",
    "provider_unit_id",
    "application_id",
    "application_code",
    "key_id",
    "grant_id",
    "filter",
    "rows",
    "latency_us",
    "status",
    "outcome",
    "client",
)

_CALLS: Table = ApiCall.__table__  # type: ignore[assignment]
# Read back as stored: the vocabularies as their codes (not turned into enum members, which
# is most of the cost of re-reading a year's calls), the time through its UTC type.
_COLUMNS = [
    _CALLS.c.seal,
    *(
        type_coerce(_CALLS.c[name], String()).label(name)
        if name in ("endpoint", "outcome")
        else _CALLS.c[name]
        for name in FIELDS
    ),
]
# Seals whose rows are read in one query while verifying.
SEALS_PER_READ = 50


_AT, _DAY, _ENDPOINT, _OUTCOME = (FIELDS.index(n) for n in ("at", "day", "endpoint", "outcome"))


def _plain(values: Iterable[Any]) -> list[Any]:
    """A row's values in ``FIELDS`` order as JSON takes them: the time in UTC and the day as
    ISO text, the vocabularies as their codes (``str`` of a ``StrEnum`` member is its code)."""
    out = list(values)
    out[_AT] = out[_AT].astimezone(UTC).isoformat()
    out[_DAY] = out[_DAY].isoformat()
    out[_ENDPOINT], out[_OUTCOME] = str(out[_ENDPOINT]), str(out[_OUTCOME])
    return out


def _sealed(values: list[list[Any]]) -> tuple[int, str]:
    values.sort(key=lambda v: v[0])
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return len(values), hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest_values(values: Iterable[Sequence[Any]]) -> tuple[int, str]:
    """The number of rows and the SHA-256 over them, as the seal records it; each row given
    as its values in ``FIELDS`` order."""
    return _sealed([_plain(v) for v in values])


def _problem(seq: int, details: str, rows: Sequence[Sequence[Any]]) -> str | None:
    try:
        sealed = json.loads(details)
        count, expected = int(sealed["count"]), str(sealed["digest"])
    except (ValueError, KeyError, TypeError):
        return f"entry {seq} seals call records but its details are unreadable"
    found, actual = _sealed([_plain(row[1:]) for row in rows])  # the seal comes first
    if found != count:
        return (
            f"entry {seq} seals {count} call records but {found} name it"
            " (call records removed or added)"
        )
    if actual != expected:
        return f"the {count} call records sealed by entry {seq} differ from their seal (altered)"
    return None


def _unsealed_after(ctx: Ctx, seqs: Sequence[int]) -> int | None:
    """The id of a row without a seal written after a row sealed by one of ``seqs``."""
    first = ctx.db.scalar(select(func.min(_CALLS.c.id)).where(_CALLS.c.seal.in_(seqs)))
    if first is None:
        return None
    found: int | None = ctx.db.scalar(
        select(_CALLS.c.id).where(_CALLS.c.seal.is_(None), _CALLS.c.id > first).limit(1)
    )
    return found


def on_seals_checking(ctx: Ctx, event: hooks.SealsChecking) -> None:
    """Subscriber: recompute every seal over call records from the rows stored now."""
    mine = [(seq, details) for seq, kind, details in event.seals if kind == RECORDS]
    if not mine:
        return
    event.handled.add(RECORDS)
    for start in range(0, len(mine), SEALS_PER_READ):
        part = dict(mine[start : start + SEALS_PER_READ])
        rows = ctx.db.execute(
            select(*_COLUMNS).where(_CALLS.c.seal.in_(list(part))).order_by(_CALLS.c.seal)
        ).all()
        by_seal = {seq: list(group) for seq, group in groupby(rows, key=lambda r: r[0])}
        for seq, details in part.items():
            problem = _problem(seq, details, by_seal.get(seq, []))
            if problem is not None:
                event.broken.append((seq, problem))
        event.records.append(sum(len(group) for group in by_seal.values()))
    unsealed = _unsealed_after(ctx, [seq for seq, _ in mine])
    if unsealed is not None:
        event.broken.append(
            (
                mine[0][0],
                f"call record {unsealed} was written after calls were sealed but no seal"
                " names it (added)",
            )
        )
