"""Clerical review: the pairs a run leaves for a person, stored across runs, shown side by
side (masked, audited) and decided; the decisions the next runs apply."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Conflict, NotFound
from shuzhi.lake import service as lake
from shuzhi.masterdata import runner
from shuzhi.masterdata.events import ReviewPairDecided, ReviewPairViewed
from shuzhi.masterdata.models import (
    LibraryKind,
    MasterdataLibrary,
    MasterdataMember,
    MasterdataReviewPair,
    MasterdataRun,
    ReviewDecision,
    ReviewStatus,
    RunMode,
)
from shuzhi.masterdata.schemas import ReviewDecisionIn, ReviewPairOut, ReviewRecordOut
from shuzhi.masterdata.service.common import find_library, in_clear, mask_value, unit_code_of


def decisions_of(ctx: Ctx, library: MasterdataLibrary) -> list[runner.Decision]:
    rows = ctx.db.scalars(
        select(MasterdataReviewPair).where(
            MasterdataReviewPair.library_id == library.id,
            MasterdataReviewPair.status == ReviewStatus.DECIDED,
        )
    )
    return [
        runner.Decision(
            (r.left_resource_code, r.left_digest),
            (r.right_resource_code, r.right_digest),
            r.decision == ReviewDecision.MATCH,
        )
        for r in rows
    ]


def _pair_fingerprint(left: tuple[str, str], right: tuple[str, str]) -> str:
    import hashlib

    text = "\x1f".join((*left, *right))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def store_review(
    ctx: Ctx,
    library: MasterdataLibrary,
    run: MasterdataRun,
    mode: RunMode,
    result: runner.RunResult,
) -> int:
    """Keep the run's review pairs: new ones open, ones seen before updated (a decided pair
    stays decided), open ones the run no longer finds gone (a full run scores every pair;
    an incremental run only drops the pairs whose records are no longer there). Returns
    the size of the open queue."""
    present = set(
        zip(
            result.features.column("source").to_pylist(),
            result.digests,
            strict=True,
        )
    )
    existing = {
        r.fingerprint: r
        for r in ctx.db.scalars(
            select(MasterdataReviewPair).where(MasterdataReviewPair.library_id == library.id)
        )
    }
    seen: set[str] = set()
    for f in result.review:
        fp = _pair_fingerprint(f.left.key, f.right.key)
        seen.add(fp)
        row = existing.get(fp)
        if row is None:
            row = MasterdataReviewPair(
                library_id=library.id,
                fingerprint=fp,
                status=ReviewStatus.OPEN,
                first_run_id=run.id,
                note="",
            )
            ctx.db.add(row)
            existing[fp] = row
        elif row.status == ReviewStatus.GONE:
            row.status = ReviewStatus.OPEN
        row.left_resource_code, row.left_version = f.left.resource_code, f.left.version
        row.left_row, row.left_digest = f.left.row, f.left.digest
        row.right_resource_code, row.right_version = f.right.resource_code, f.right.version
        row.right_row, row.right_digest = f.right.row, f.right.digest
        row.probability, row.weight, row.explanation = f.probability, f.weight, f.explanation
        row.last_run_id = run.id
    for fp, row in existing.items():
        if fp in seen or row.status != ReviewStatus.OPEN:
            continue
        gone = (row.left_resource_code, row.left_digest) not in present or (
            row.right_resource_code,
            row.right_digest,
        ) not in present
        if mode is RunMode.FULL or gone:
            row.status = ReviewStatus.GONE
    ctx.db.flush()
    return sum(1 for r in existing.values() if r.status == ReviewStatus.OPEN)


def _record_values(
    ctx: Ctx, library: MasterdataLibrary, resource_code: str, version: int, row: int
) -> dict[str, str | None]:
    """The mapped values of one source record (the member's mapping, that version's row)."""
    from shuzhi.lake.readers import text_value

    member = ctx.db.scalar(
        select(MasterdataMember).where(
            MasterdataMember.library_id == library.id,
            MasterdataMember.resource_code == resource_code,
        )
    )
    if member is None:
        return {}
    mapping = {str(k): str(v) for k, v in dict(member.mapping).items()}
    try:
        files = lake.version_of(ctx, resource_code, version)
        if files is None:
            return {}
        table = pq.read_table(files.data_path, columns=sorted(set(mapping.values())))
    except (NotFound, OSError, pa.ArrowException, KeyError):
        return {}
    if not 1 <= row <= table.num_rows:
        return {}
    line = table.slice(row - 1, 1).to_pylist()[0]
    return {f: text_value(line.get(c)) for f, c in mapping.items()}


def _review_out(
    ctx: Ctx,
    library: MasterdataLibrary,
    r: MasterdataReviewPair,
    *,
    values: bool = False,
    clear: bool = False,
) -> ReviewPairOut:
    kind = library.kind.value if isinstance(library.kind, LibraryKind) else str(library.kind)

    def side(code: str, version: int, row: int) -> ReviewRecordOut:
        member = ctx.db.scalar(
            select(MasterdataMember.unit_id).where(
                MasterdataMember.library_id == library.id,
                MasterdataMember.resource_code == code,
            )
        )
        shown: dict[str, str | None] = {}
        if values:
            for field, value in _record_values(ctx, library, code, version, row).items():
                masked = value
                if value is not None and not clear:
                    masked = mask_value(value, runner.category(kind, field))
                shown[field] = masked
        return ReviewRecordOut(
            resource_code=code,
            unit_code=unit_code_of(ctx, member) if member else None,
            version=version,
            row=row,
            values=shown,
        )

    return ReviewPairOut(
        id=r.id,
        library=library.code,
        status=ReviewStatus(r.status),
        probability=r.probability,
        weight=r.weight,
        explanation=r.explanation,
        left=side(r.left_resource_code, r.left_version, r.left_row),
        right=side(r.right_resource_code, r.right_version, r.right_row),
        decision=ReviewDecision(r.decision) if r.decision else None,
        note=r.note,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        first_run_id=r.first_run_id,
        last_run_id=r.last_run_id,
        masked=not clear,
    )


def list_masterdata_review(
    ctx: Ctx, code: str, status: ReviewStatus = ReviewStatus.OPEN, limit: int = 200
) -> list[ReviewPairOut]:
    """A library's review pairs of one status, the most uncertain (closest to even odds)
    first; where the records are, not their values."""
    library = find_library(ctx, code)
    require(ctx, "view_masterdata", library.unit_id, code)
    rows = ctx.db.scalars(
        select(MasterdataReviewPair)
        .where(MasterdataReviewPair.library_id == library.id, MasterdataReviewPair.status == status)
        .order_by(MasterdataReviewPair.probability.desc(), MasterdataReviewPair.id)
        .limit(max(1, min(limit, 1000)))
    )
    return [_review_out(ctx, library, r) for r in rows]


def _pair(ctx: Ctx, library: MasterdataLibrary, pair_id: int) -> MasterdataReviewPair:
    row = ctx.db.get(MasterdataReviewPair, pair_id)
    if row is None or row.library_id != library.id:
        raise NotFound("该复核记录对不存在。", "No such review pair.")
    return row


def view_masterdata_review_pair(ctx: Ctx, code: str, pair_id: int) -> ReviewPairOut:
    """One pair side by side: both records' mapped values (masked per the reader, as golden
    records are) and the engine's explanation. A data access: audited."""
    library = find_library(ctx, code)
    require(ctx, "view_masterdata_review_pair", library.unit_id, code)
    row = _pair(ctx, library, pair_id)
    clear = in_clear(ctx, library)
    out = _review_out(ctx, library, row, values=True, clear=clear)
    record(ctx, ReviewPairViewed(library.code, row.id, library.unit_id, not clear))
    return out


def decide_masterdata_review_pair(
    ctx: Ctx, code: str, pair_id: int, data: ReviewDecisionIn
) -> ReviewPairOut:
    """Decide an open pair: ``match`` makes the two records one entity from the next run
    on, ``not_match`` keeps them apart; the pair then stays out of the queue until one of
    its records changes."""
    library = find_library(ctx, code)
    require(ctx, "decide_masterdata_review_pair", library.unit_id, code)
    row = _pair(ctx, library, pair_id)
    if row.status != ReviewStatus.OPEN:
        raise Conflict(
            "该记录对已复核或已不在队列中。", "This pair was already decided or left the queue."
        )
    note = data.note.strip()
    row.status = ReviewStatus.DECIDED
    row.decision = data.decision
    row.note = note
    row.decided_by = ctx.actor.label
    row.decided_at = utcnow()
    ctx.db.flush()
    record(
        ctx,
        ReviewPairDecided(
            library.code,
            row.id,
            library.unit_id,
            data.decision.value,
            f"{row.left_resource_code}:{row.left_row}",
            f"{row.right_resource_code}:{row.right_row}",
            note[:500],
        ),
    )
    return _review_out(ctx, library, row)
