"""Rows that could not be read: streamed to a CSV file, counted by reason, some kept as examples."""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from shuzhi.security.cells import guard

RAW_TEXT_LIMIT = 200
EXAMPLES_KEPT = 20
REJECTS_HEADER = ("line", "reason", "detail", "raw")


class RejectReason(StrEnum):
    TOO_FEW_FIELDS = "too_few_fields"
    TOO_MANY_FIELDS = "too_many_fields"
    INVALID_ENCODING = "invalid_encoding"
    MIXED_ENCODING = "mixed_encoding"
    LINE_TOO_LONG = "line_too_long"
    BAD_QUOTING = "bad_quoting"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_FIELDS = "unknown_fields"
    OTHER = "other"


@dataclass(frozen=True)
class Reject:
    """One rejected row; ``line`` is the 1-based physical line (or sheet row) in the source."""

    line: int | None
    reason: RejectReason
    detail: str
    raw: str

    @classmethod
    def of(cls, line: int | None, reason: RejectReason, detail: str, raw: str | bytes) -> Reject:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        return cls(line, reason, detail, text[:RAW_TEXT_LIMIT])


class RejectSink(Protocol):
    def add(self, reject: Reject) -> None: ...


class DiscardRejects:
    """For previews (``sample_columns``): rejects are not interesting there."""

    def add(self, reject: Reject) -> None:
        return None


class RejectLog:
    """Writes every reject to ``path`` as it arrives, so a broken file never fills memory."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.count = 0
        self.by_reason: Counter[str] = Counter()
        self.examples: list[Reject] = []
        self._fh: io.TextIOWrapper | None = None
        self._writer: csv.DictWriter[str] | None = None

    def add(self, reject: Reject) -> None:
        self.count += 1
        self.by_reason[reject.reason.value] += 1
        if len(self.examples) < EXAMPLES_KEPT:
            self.examples.append(reject)
        if self.path is None:
            return
        if self._writer is None:
            self._fh = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._writer = csv.DictWriter(self._fh, REJECTS_HEADER)
            self._writer.writeheader()
        self._writer.writerow(
            {
                "line": "" if reject.line is None else reject.line,
                "reason": reject.reason.value,
                "detail": guard(reject.detail),  # the file may be opened in a spreadsheet
                "raw": guard(reject.raw),
            }
        )

    def close(self) -> Path | None:
        """Flush and fsync; return the file if any reject was written."""
        if self._fh is None:
            return None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        return self.path

    def summary_text(self) -> str:
        parts = ", ".join(f"{reason}: {n}" for reason, n in self.by_reason.most_common())
        lines = [f"line {r.line}: {r.reason.value} ({r.detail})" for r in self.examples[:5]]
        return parts + ("; " + "; ".join(lines) if lines else "")
