"""Lake: files of loads that never registered and stale staged uploads (next load, gc)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from shuzhi import hooks
from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.lake.events import (
    LakeGarbageCollected,
)
from shuzhi.lake.manifest import LOCK_FILE, MANIFEST_SUFFIX, TEMP_PREFIX
from shuzhi.lake.models import Dataset
from shuzhi.lake.query import SORTED_PREFIX, SPILL_DIR
from shuzhi.lake.schemas import (
    GarbageItem,
    GarbageKind,
    LakeGarbage,
)
from shuzhi.lake.service.common import lake_root
from shuzhi.lake.service.ingest import _end_transaction, _registered, _stale_uploads
from shuzhi.lake.writer import (
    abandoned,
    leftovers,
    locked,
    remove,
)

# A sort's work directory younger than this is left alone (its lock may not be held yet).
SORT_GRACE_SECONDS = 60.0


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def _kind(path: Path, manifests: set[str]) -> GarbageKind:
    if path.name.startswith(TEMP_PREFIX):
        return "work_directory"
    stem = path.name.split(".", 1)[0]
    return "unregistered_version" if stem in manifests else "incomplete_version"


def _dataset_directories(root: Path, codes: set[str]) -> list[Path]:
    """Directories loads have written to: the known datasets' and any holding a load lock."""
    found = {root / code for code in codes}
    if root.is_dir():
        for lock in root.rglob(LOCK_FILE):
            relative = lock.parent.relative_to(root)
            if relative.parts and not any(p.startswith(".") for p in relative.parts):
                found.add(lock.parent)
    return sorted(d for d in found if d.is_dir())


def collect_lake_garbage(ctx: Ctx, *, apply: bool = False) -> LakeGarbage:
    """Find what killed loads and uploads left behind: version files written but never
    registered, data files without a manifest, work directories, staged uploads whose
    process is gone. With ``apply`` remove them. Datasets being loaded right now (their load
    lock is held) are left alone and listed as busy. Audited either way."""
    require(ctx, "collect_lake_garbage")
    root = lake_root(ctx)
    data_dir = ctx.settings.data_dir.resolve()
    codes = set(ctx.db.scalars(select(Dataset.resource_code)))
    _end_transaction(ctx)
    items: list[GarbageItem] = []
    busy: list[str] = []
    for directory in _dataset_directories(root, codes):
        code = directory.relative_to(root).as_posix()
        with locked(directory, wait=False) as free:
            if not free:
                busy.append(code)
                continue
            # Read under the lock: a load registers (commits) before it lets go of it.
            known = _registered(ctx, code)
            _end_transaction(ctx)
            found = leftovers(directory, keep=known)
            manifests = {
                p.name[: -len(MANIFEST_SUFFIX)] for p in directory.glob(f"*{MANIFEST_SUFFIX}")
            }
            items += [
                GarbageItem(
                    path=p.resolve().relative_to(data_dir).as_posix(),
                    kind=_kind(p, manifests),
                    bytes=_size(p),
                )
                for p in found
            ]
            if apply:
                remove(found)
    # Files other capabilities derived from versions (key indexes) whose version is gone.
    gone = frozenset(data_dir / i.path for i in items if i.kind != "work_directory")
    collecting = hooks.LakeCollecting(gone)
    hooks.publish(ctx, collecting)
    derived = [p for p in collecting.found if p.resolve().is_relative_to(data_dir)]
    items += [
        GarbageItem(
            path=p.resolve().relative_to(data_dir).as_posix(), kind="derived_file", bytes=_size(p)
        )
        for p in derived
    ]
    if apply:
        remove(derived)
    uploads = _stale_uploads(ctx.settings)
    items += [
        GarbageItem(
            path=p.resolve().relative_to(data_dir).as_posix(), kind="staged_upload", bytes=_size(p)
        )
        for p in uploads
    ]
    if apply:
        remove(uploads)
    # Sorted answers an engine wrote out (Spark's, for key indexes) in a process now gone.
    sorts = abandoned(root / SPILL_DIR, f"{SORTED_PREFIX}*", SORT_GRACE_SECONDS)
    items += [
        GarbageItem(
            path=p.resolve().relative_to(data_dir).as_posix(),
            kind="work_directory",
            bytes=_size(p),
        )
        for p in sorts
    ]
    if apply:
        remove(sorts)
    report = LakeGarbage(applied=apply, items=items, busy=busy)
    record(
        ctx,
        LakeGarbageCollected(
            "lake",
            apply,
            len(items),
            report.bytes,
            len(busy),
            ", ".join(i.path for i in items)[:1000],
        ),
    )
    return report
