"""Closed stretches of the audit log moved out of the database into Parquet files.

A year of gateway calls is about 48 M entries; kept as rows they cost ≈ 600 bytes each with
their indexes. The operator archives everything before a date (``shuzhi audit archive``):
the entries up to the newest signed checkpoint before that date are checked link by link,
written to ``DATA_DIR/audit/archive/<first>-<last>.parquet`` (compressed columns, in
sequence order), read back and checked again, recorded in ``audit_archive`` with the file's
SHA-256 and last hash, and only then deleted from the database.

The chain is unchanged: each archive ends exactly at a checkpoint, so the entries left in the
database start from a signed, anchored hash. The full check (``verify --full``) walks every
archive file and then the database; the quick check is unaffected. Deleting is done in
batches after the archive is recorded, so an interrupted run leaves rows that are both
archived and still stored; the next run removes them, and every check ignores them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Table, delete, func, select

from shuzhi.audit.chain import ENTRY_FIELDS, same
from shuzhi.audit.models import GENESIS, AuditArchive, AuditCheckpoint, AuditEntry

__all__ = ["AuditArchive"]
from shuzhi.context import Ctx

ARCHIVE_DIR = Path("audit") / "archive"
DELETE_BATCH = 50_000
READ_BATCH = 5_000

_ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]
_COLUMNS = ENTRY_FIELDS
# ``at`` is stored as the text the MAC was computed over, so an archived entry hashes exactly
# as it did in the database, whatever the database's own time type.
SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("at", pa.string()),
        ("actor", pa.string()),
        ("actor_role", pa.string()),
        ("unit_id", pa.int64()),
        ("action", pa.string()),
        ("target_type", pa.string()),
        ("target_id", pa.string()),
        ("outcome", pa.string()),
        ("details", pa.string()),
        ("prev_hash", pa.string()),
        ("hash", pa.string()),
        ("alg", pa.string()),
    ]
)


@dataclass(frozen=True)
class ArchiveReport:
    first: int
    last: int
    file: Path
    bytes: int
    removed: int


class ArchiveBroken(Exception):
    """An archive file is missing, altered, or does not continue the chain."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.reason = seq, reason


class _Stamp:
    """The stored ``at`` text, offered the way the chain reads it (``at.isoformat()``)."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def isoformat(self) -> str:
        return self._text


class ArchivedEntry:
    """One archived entry, with the attributes the chain and the checks read."""

    __slots__ = _COLUMNS
    seq: int
    at: _Stamp
    prev_hash: str
    hash: str
    alg: str
    action: str
    details: str

    def __init__(self, row: dict[str, Any]) -> None:
        for name in _COLUMNS:
            setattr(self, name, row[name])
        self.at = _Stamp(row["at"])


def archive_dir(ctx: Ctx) -> Path:
    return ctx.settings.data_dir / ARCHIVE_DIR


def archives(ctx: Ctx) -> list[AuditArchive]:
    return list(ctx.db.scalars(select(AuditArchive).order_by(AuditArchive.first_seq)))


def archived_through(ctx: Ctx) -> tuple[int, str]:
    """The last archived entry and its hash (0 and the genesis hash when nothing is)."""
    last = ctx.db.scalars(
        select(AuditArchive).order_by(AuditArchive.last_seq.desc()).limit(1)
    ).first()
    return (last.last_seq, last.last_hash) if last else (0, GENESIS)


def boundary(ctx: Ctx, after: int, before: datetime) -> AuditCheckpoint | None:
    """The newest checkpoint past ``after`` whose entry was written before ``before``."""
    return ctx.db.scalars(
        select(AuditCheckpoint)
        .join(AuditEntry, AuditEntry.seq == AuditCheckpoint.seq)
        .where(AuditCheckpoint.seq > after, AuditEntry.at < before)
        .order_by(AuditCheckpoint.seq.desc())
        .limit(1)
    ).first()


def _db_rows(ctx: Ctx, after: int, through: int) -> Iterator[Any]:
    last = after
    while last < through:
        rows = ctx.db.execute(
            select(_ENTRIES)
            .where(_ENTRIES.c.seq > last, _ENTRIES.c.seq <= through)
            .order_by(_ENTRIES.c.seq)
            .limit(READ_BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def _record(row: Any) -> dict[str, Any]:
    out = {name: getattr(row, name) for name in _COLUMNS}
    out["at"] = row.at.isoformat()
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_file(ctx: Ctx, after: int, cp: AuditCheckpoint, step: Callable[[Any], None]) -> Path:
    """Entries after ``after`` through the checkpoint, each passed to ``step`` (which raises
    on a broken link) and written; the file, complete and synced, or nothing."""
    directory = archive_dir(ctx)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{after + 1:012d}-{cp.seq:012d}.parquet"
    partial = final.with_suffix(".partial")
    try:
        with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
            for rows in _db_rows(ctx, after, cp.seq):
                for row in rows:
                    step(row)
                writer.write_table(pa.Table.from_pylist([_record(r) for r in rows], SCHEMA))
        with partial.open("rb") as f:
            os.fsync(f.fileno())
        for _ in read_archive(partial):
            pass  # read back once: a file that cannot be read must not replace the rows
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, final)
    return final


def finish_removal(ctx: Ctx) -> int:
    """Delete rows already held by an archive, a batch per commit; how many were deleted."""
    through, _ = archived_through(ctx)
    removed = 0
    while True:
        low = ctx.db.scalar(select(func.min(_ENTRIES.c.seq)).where(_ENTRIES.c.seq <= through))
        if low is None:
            return removed
        high = min(through, low + DELETE_BATCH - 1)
        result = ctx.db.execute(delete(_ENTRIES).where(_ENTRIES.c.seq <= high))
        removed += int(getattr(result, "rowcount", 0) or 0)
        ctx.db.commit()


def read_archive(path: Path) -> Iterator[ArchivedEntry]:
    with pq.ParquetFile(path) as f:
        for batch in f.iter_batches(batch_size=READ_BATCH):
            for row in batch.to_pylist():
                yield ArchivedEntry(row)


def archived_entries(ctx: Ctx) -> Iterator[ArchivedEntry]:
    """Every archived entry in order, each file checked against its record first."""
    expected_first = 1
    for record in archives(ctx):
        path = archive_dir(ctx) / record.file
        if record.first_seq != expected_first:
            raise ArchiveBroken(expected_first, f"archives do not cover entry {expected_first}")
        if not path.is_file():
            raise ArchiveBroken(
                record.first_seq,
                f"the archive file {record.file} of entries {record.first_seq}–{record.last_seq}"
                " is missing",
            )
        if not same(sha256(path), record.sha256):
            raise ArchiveBroken(
                record.first_seq, f"the archive file {record.file} was changed after archiving"
            )
        last = None
        for entry in read_archive(path):
            last = entry
            yield entry
        if last is None or last.seq != record.last_seq or not same(last.hash, record.last_hash):
            raise ArchiveBroken(
                record.last_seq, f"the archive file {record.file} does not end where recorded"
            )
        expected_first = record.last_seq + 1
