"""Checking the audit log: the chain recomputed entry by entry and compared with the anchors
outside the database and the signed checkpoints (see ``service`` for how it is written)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from shuzhi import hooks
from shuzhi.audit import anchors, archive
from shuzhi.audit.chain import ALG_LEGACY, ALG_MAC, chain_mac, expected_hash, same
from shuzhi.audit.events import SEALED_RECORDS, AuditSealed
from shuzhi.audit.models import GENESIS, AuditCheckpoint, AuditEntry, AuditHead
from shuzhi.audit.schemas import VerifyReport
from shuzhi.context import Ctx

_ENTRIES = AuditEntry.__table__


def _walk(ctx: Ctx, after: int = 0, batch: int = 5000) -> Iterator[Any]:
    """Plain rows after ``after`` in sequence order, in batches, so verifying a long log
    keeps memory flat."""
    table = AuditEntry.__table__
    last = after
    while True:
        rows = ctx.db.execute(
            select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def _entries(ctx: Ctx, after: int) -> Iterator[Any]:
    """Entries after ``after`` in sequence order: first from the archive files, then from
    the database (rows an interrupted archive run left behind are skipped)."""
    through, _ = archive.archived_through(ctx)
    if after < through:
        try:
            for entry in archive.archived_entries(ctx):
                if entry.seq > after:
                    yield entry
        except archive.ArchiveBroken as bad:
            raise ChainBroken(bad.seq, bad.reason) from None
    yield from _walk(ctx, after=max(after, through))


def _seals(entry: Any, legacy: int, prev: str) -> bool:
    """Whether ``entry`` is the seal over the ``legacy`` SHA-256 entries ending in ``prev``."""
    if entry.action != AuditSealed.action:
        return False
    try:
        details = json.loads(entry.details)
    except ValueError:
        return False
    return bool(details.get("legacy_entries") == legacy and details.get("legacy_head") == prev)


@dataclass(frozen=True)
class _Start:
    """Where a walk begins: after entry ``seq`` (0: the start), which ends in ``prev``."""

    seq: int = 0
    prev: str = GENESIS
    checkpoint: bool = False


class ChainBroken(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.reason = seq, reason


def _checkpoints(ctx: Ctx, head_seq: int) -> list[AuditCheckpoint]:
    """Every checkpoint, oldest first, each with a valid MAC and within the log's length."""
    rows = list(ctx.db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
    for cp in rows:
        mac = anchors.checkpoint_mac(ctx.settings, cp.seq, cp.hash, cp.count, cp.at)
        if not same(mac, cp.mac) or cp.count != cp.seq:
            raise ChainBroken(
                cp.seq,
                f"the checkpoint at entry {cp.seq} does not carry a valid MAC (edited, or"
                " written under another audit key)",
            )
        if cp.seq > head_seq:
            raise ChainBroken(
                head_seq + 1,
                f"the checkpoint and anchor written at {cp.at} record entry {cp.seq}, but the"
                f" log ends at entry {head_seq} (entries removed from the end)",
            )
    return rows


def _start(
    ctx: Ctx, checkpoints: list[AuditCheckpoint], marks: list[anchors.Anchor], mac: Any
) -> _Start:
    """The newest checkpoint confirmed by its anchor line and by its entry."""
    if not checkpoints:
        return _Start()
    cp = checkpoints[-1]
    if not any(m.seq == cp.seq and m.at == cp.at and same(m.head, cp.hash) for m in marks):
        raise ChainBroken(
            cp.seq,
            f"the checkpoint at entry {cp.seq} has no matching line in the anchors file"
            " (the database was rewritten, or the anchors file replaced)",
        )
    through, last_hash = archive.archived_through(ctx)
    if cp.seq == through:  # the newest checkpoint ends the newest archive
        if not same(last_hash, cp.hash):
            raise ChainBroken(
                cp.seq, f"the archive ending at entry {cp.seq} differs from its checkpoint"
            )
        return _Start(cp.seq, cp.hash, checkpoint=True)
    entry = ctx.db.execute(select(_ENTRIES).where(_ENTRIES.c.seq == cp.seq)).first()
    if entry is None:
        raise ChainBroken(cp.seq, f"entry {cp.seq}, named by a checkpoint, is missing")
    digest = expected_hash(entry, mac)
    if entry.alg != ALG_MAC:
        return _Start()  # a checkpoint inside the sealed SHA-256 entries: check them all
    if digest is None or not same(digest, entry.hash) or not same(entry.hash, cp.hash):
        raise ChainBroken(
            cp.seq,
            f"entry {cp.seq} differs from its checkpoint written at {cp.at}"
            " (the log was rewritten)",
        )
    return _Start(cp.seq, cp.hash, checkpoint=True)


def _check_earlier_anchors(
    ctx: Ctx, marks: list[anchors.Anchor], checkpoints: list[AuditCheckpoint]
) -> None:
    """Anchors up to the starting checkpoint against their checkpoint (same seq and head),
    or, for anchors written before checkpoints existed, against their entry's stored hash."""
    signed = {(cp.seq, cp.hash) for cp in checkpoints}
    through, _ = archive.archived_through(ctx)  # archived entries: left to the full check
    rest = [m for m in marks if (m.seq, m.head) not in signed and m.seq > through]
    for i in range(0, len(rest), 500):
        chunk = rest[i : i + 500]
        stored = dict(
            ctx.db.execute(
                select(_ENTRIES.c.seq, _ENTRIES.c.hash).where(
                    _ENTRIES.c.seq.in_([m.seq for m in chunk])
                )
            ).all()
        )
        for mark in chunk:
            if not same(str(stored.get(mark.seq, "")), mark.head):
                raise ChainBroken(
                    mark.seq,
                    f"entry {mark.seq} differs from the anchor written at {mark.at}"
                    " (the log was rewritten)",
                )


@dataclass
class _Walk:
    """The running state of a walk along the chain; each step raises ``ChainBroken``."""

    mac: Any
    prev: str
    count: int
    keyed: bool
    anchored: set[int]
    pinned: dict[int, AuditCheckpoint]
    legacy: int = 0
    checked: int = 0
    at_anchor: dict[int, str] = field(default_factory=dict)

    def step(self, entry: Any) -> None:
        expected = self.count + 1
        if entry.seq != expected:
            raise ChainBroken(expected, f"entry {expected} is missing (next is {entry.seq})")
        if entry.prev_hash != self.prev:
            raise ChainBroken(entry.seq, "previous-hash link broken (reordered or replaced)")
        digest = expected_hash(entry, self.mac)
        if digest is None:
            raise ChainBroken(entry.seq, f"unknown hash algorithm {entry.alg!r}")
        if entry.alg == ALG_LEGACY:
            self._legacy(entry, digest)
        else:
            self._keyed(entry, digest)
        if entry.seq in self.anchored:
            self.at_anchor[entry.seq] = entry.hash
        cp = self.pinned.get(entry.seq)
        if cp is not None and not same(cp.hash, entry.hash):
            raise ChainBroken(
                entry.seq,
                f"entry {entry.seq} differs from its checkpoint written at {cp.at}"
                " (the log was rewritten)",
            )
        self.prev, self.count, self.checked = entry.hash, entry.seq, self.checked + 1

    def _legacy(self, entry: Any, digest: str) -> None:
        if self.keyed:
            raise ChainBroken(
                entry.seq,
                "entry hashed without the audit key after keyed entries"
                " (re-hashed with plain SHA-256)",
            )
        if not same(digest, entry.hash):
            raise ChainBroken(entry.seq, "content does not match its hash (altered)")
        self.legacy += 1

    def _keyed(self, entry: Any, digest: str) -> None:
        if self.legacy and not self.keyed and not _seals(entry, self.legacy, self.prev):
            raise ChainBroken(
                entry.seq,
                f"the {self.legacy} entries from before the audit key are not followed by"
                " their seal",
            )
        if not same(digest, entry.hash):
            raise ChainBroken(
                entry.seq,
                "content does not match its MAC (altered, or re-chained without the audit key)",
            )
        self.keyed = True

    def finish(self, head_seq: int, head_hash: str, marks: list[anchors.Anchor]) -> None:
        """The end of the log against its head and every anchor."""
        if self.legacy and not self.keyed:
            raise ChainBroken(
                1,
                f"all {self.legacy} entries are marked as hashed without the audit key and no"
                " seal follows them (re-hashed with plain SHA-256)",
            )
        if head_seq != self.count or head_hash != self.prev:
            raise ChainBroken(
                self.count + 1,
                f"log ends at entry {self.count} but the head records {head_seq}"
                " (entries removed from the end)",
            )
        for mark in marks:
            if mark.seq > self.count:
                raise ChainBroken(
                    self.count + 1,
                    f"the anchor written at {mark.at} records entry {mark.seq}, but the log"
                    f" ends at entry {self.count} (entries removed from the end)",
                )
            if mark.seq in self.anchored and not same(self.at_anchor[mark.seq], mark.head):
                raise ChainBroken(
                    mark.seq,
                    f"entry {mark.seq} differs from the anchor written at {mark.at}"
                    " (the log was rewritten)",
                )


# Seals handed to the capabilities at a time (each reads the records of its own).
SEALS_PER_CHECK = 200


@dataclass
class _Seals:
    """Entries sealing records kept outside the log, met along the walk and handed in
    groups to the capabilities that keep the records (``hooks.SealsChecking``)."""

    ctx: Ctx
    waiting: list[tuple[int, str, str]] = field(default_factory=list)
    seals: int = 0
    records: int = 0

    def step(self, entry: Any) -> None:
        if entry.target_type != SEALED_RECORDS:
            return
        self.waiting.append((entry.seq, entry.target_id, entry.details))
        if len(self.waiting) >= SEALS_PER_CHECK:
            self.check()

    def check(self) -> None:
        if not self.waiting:
            return
        event = hooks.SealsChecking(tuple(self.waiting))
        hooks.publish(self.ctx, event)
        for seq, kind, _ in self.waiting:
            if kind not in event.handled:
                raise ChainBroken(
                    seq, f"entry {seq} seals records of kind {kind!r}, which nothing checks"
                )
        if event.broken:
            raise ChainBroken(*min(event.broken))
        self.seals += len(self.waiting)
        self.records += sum(event.records)
        self.waiting.clear()


def link_checker(ctx: Ctx, after: int, prev: str) -> _Walk:
    """A walk continuing the chain after entry ``after`` (ending in ``prev``): its ``step``
    raises ``ChainBroken`` at the first entry that does not follow."""
    return _Walk(
        mac=chain_mac(ctx.settings),
        prev=prev,
        count=after,
        keyed=after > 0,
        anchored=set(),
        pinned={},
    )


def check_chain(ctx: Ctx, *, full: bool = True) -> VerifyReport:
    """Recompute the chain and compare it with the anchors and checkpoints; name the first
    problem.

    ``full`` reads every entry. Otherwise the walk starts after the newest checkpoint whose
    MAC, anchor line and entry agree (checkpoints before it are checked by their MAC only),
    so tampering with entries before that checkpoint is left to the full check.
    """
    mac = chain_mac(ctx.settings)
    try:
        marks = sorted(anchors.read_anchors(ctx.settings), key=lambda a: a.seq)
    except anchors.BadAnchor as bad:
        return VerifyReport(
            ok=False, entries=0, reason=f"{bad} ({anchors.anchor_path(ctx.settings)})"
        )
    head = ctx.db.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, GENESIS)
    try:
        checkpoints = _checkpoints(ctx, head_seq)
        begin = _Start() if full else _start(ctx, checkpoints, marks, mac)
        _check_earlier_anchors(ctx, [m for m in marks if m.seq <= begin.seq], checkpoints)
    except ChainBroken as bad:
        return VerifyReport(ok=False, entries=0, first_bad_seq=bad.seq, reason=bad.reason)
    walk = _Walk(
        mac=mac,
        prev=begin.prev,
        count=begin.seq,
        keyed=begin.checkpoint,
        anchored={a.seq for a in marks if a.seq > begin.seq},
        pinned={cp.seq: cp for cp in checkpoints if cp.seq > begin.seq},
    )
    seals = _Seals(ctx)
    try:
        for entry in _entries(ctx, after=begin.seq):
            walk.step(entry)
            seals.step(entry)
        walk.finish(head_seq, head_hash, marks)
        seals.check()
    except ChainBroken as bad:
        return VerifyReport(
            ok=False,
            entries=walk.count,
            legacy_entries=walk.legacy,
            first_bad_seq=bad.seq,
            reason=bad.reason,
        )
    return VerifyReport(
        ok=True,
        entries=walk.count,
        legacy_entries=walk.legacy,
        anchors=len(marks),
        checked=walk.checked,
        from_checkpoint=begin.seq if begin.checkpoint else None,
        seals=seals.seals,
        sealed_records=seals.records,
    )
