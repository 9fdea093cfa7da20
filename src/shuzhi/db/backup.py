"""Backups of a data directory and their restoration elsewhere.

A backup is a directory (or a ``.tar``/``.tar.gz`` archive of one)::

    backup.json          written last: format, when, what, and every file's size and SHA-256
    database.sqlite      the SQLite database, copied with SQLite's online backup API
                         (consistent while the server runs); absent for PostgreSQL
    files/…              the data directory's files, at their paths inside it

What is copied, in this order:

1. the database (SQLite only; PostgreSQL has its own tools, see docs/deploy.md): one
   consistent snapshot, taken while the server keeps serving;
2. the data directory's files: the datasets (Parquet, rejects, manifests — immutable once
   their manifest exists, so every version the snapshot names is complete), the secrets kept
   there (``secret_key``, ``credentials_key``: without them sessions, sealed source URLs and
   the audit chain's MACs cannot be read), and the audit anchors — only the lines up to the
   snapshot's last audit entry, because anchors written after it would make the restored log
   look cut off.

Left out, because they are rebuilt or transient: the gateway's key indexes
(``gateway/keys``, rebuilt at the first lookup), staged uploads, work directories of loads in
progress (``.tmp-…``), lock files and the query engine's spill directory.

The backup is written under a temporary name next to its destination and renamed when
complete, so a backup that exists is whole. A restore checks every file against the manifest
while copying it into a staging directory next to the target, and renames the staging
directory into place only when everything matched: a corrupt or incomplete backup is refused
and nothing is left half-written. It never overwrites a non-empty data directory unless told
to (``--force``), and then moves the old one aside rather than deleting it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text

from shuzhi import __version__
from shuzhi.audit.anchors import ANCHOR_FILE
from shuzhi.audit.events import AuditEvent
from shuzhi.audit.service import record
from shuzhi.context import Actor, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.db.migrate import MIGRATIONS
from shuzhi.errors import Invalid, ShuzhiError
from shuzhi.settings import Settings

FORMAT = "shuzhi.backup/1"
MANIFEST = "backup.json"
DATABASE_FILE = "database.sqlite"
FILES = "files"
SQLITE_NAME = "shuzhi.db"
# Paths inside the data directory never copied (rebuilt or transient), and name patterns.
SKIPPED_DIRS = ("gateway/keys", "uploads", "tables")
SKIPPED_PREFIXES = (".tmp-", ".spill", ".restore-", ".backup-")
SKIPPED_NAMES = (".lock",)
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")
CHUNK = 1 << 20


class BackupRefused(Invalid):
    """A backup or restore that cannot be done as asked; nothing was written."""

    def __init__(self, zh: str, en: str) -> None:
        ShuzhiError.__init__(self, zh, en)
        self.errors = []


@dataclass(frozen=True)
class BackupTaken(AuditEvent):
    action: ClassVar[str] = "system.backup_taken"
    target_type: ClassVar[str] = "data_directory"
    target_fields: ClassVar[tuple[str, ...]] = ("destination",)
    destination: str
    database: str


@dataclass
class BackupReport:
    destination: Path
    database: str  # "sqlite" (included) or "postgresql" (not included: pg_dump)
    files: int
    bytes: int
    audit_seq: int | None


@dataclass
class RestoreReport:
    target: Path
    database: str
    files: int
    bytes: int
    moved_aside: Path | None = None
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashed(source: Path, target: Path) -> tuple[int, str]:
    """Copy a file, hashing what was written; (bytes, sha256)."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return size, digest.hexdigest()


def _is_archive(path: Path) -> bool:
    return path.name.endswith(ARCHIVE_SUFFIXES)


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file of the settings (None for a server database)."""
    if not settings.is_sqlite:
        return None
    name = make_url(settings.database_url).database
    return Path(name).resolve() if name else None


def _skipped(relative: Path) -> bool:
    text = relative.as_posix()
    if any(text == d or text.startswith(f"{d}/") for d in SKIPPED_DIRS):
        return True
    return any(
        part.startswith(SKIPPED_PREFIXES) or part in SKIPPED_NAMES for part in relative.parts
    )


def data_files(data_dir: Path, exclude: set[Path]) -> Iterator[Path]:
    """The data directory's regular files that a backup holds, relative to it, sorted."""
    root = data_dir.resolve()
    found = []
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.resolve() in exclude:
            continue
        relative = path.relative_to(root)
        if relative.as_posix() == ANCHOR_FILE or _skipped(relative):
            continue
        found.append(relative)
    yield from sorted(found)


def _sqlite_snapshot(source: Path, target: Path) -> int | None:
    """Copy a live SQLite database with the online backup API; its last audit entry."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst, pages=4096)
        found = dst.execute("SELECT seq FROM audit_head WHERE id = 1").fetchone()
    finally:
        src.close()
        dst.close()
    return int(found[0]) if found else None


def _anchor_lines(path: Path, up_to: int | None) -> bytes:
    """The anchor file's lines recording entries up to ``up_to`` (all when None)."""
    if not path.exists():
        return b""
    kept = []
    for raw in path.read_bytes().splitlines(keepends=True):
        seq = raw.split(b"\t", 1)[0]
        if up_to is None or (seq.isdigit() and int(seq) <= up_to):
            kept.append(raw if raw.endswith(b"\n") else raw + b"\n")
    return b"".join(kept)


def _revisions(database: Database) -> list[str]:
    with database.engine.connect() as conn:
        return sorted(MigrationContext.configure(conn).get_current_heads())


def _known_revisions() -> set[str]:
    """Every migration this release knows."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}


# ------------------------------------------------------------------------------- backup


def _check_destination(
    destination: Path, data_dir: Path, db_file: Path | None, files_only: bool
) -> None:
    if destination.exists():
        raise BackupRefused(
            f"备份目标 {destination} 已存在，不会覆盖，请指定新的位置。",
            f"The backup destination {destination} exists; it is never overwritten."
            " Name a new one.",
        )
    if destination.is_relative_to(data_dir):
        raise BackupRefused(
            "备份不能放在数据目录之内，请指定数据目录以外的位置。",
            "A backup cannot be written inside the data directory; name a place outside it.",
        )
    if db_file is None and not files_only:
        raise BackupRefused(
            "PostgreSQL 数据库请用 pg_dump 备份（见 docs/deploy.md）；"
            "数据目录中的文件可用 shuzhi backup --files-only 备份。",
            "Back up a PostgreSQL database with pg_dump (see docs/deploy.md); back up the"
            " data directory's files with `shuzhi backup --files-only`.",
        )


def _copy_files(
    data_dir: Path, work: Path, exclude: set[Path], audit_seq: int | None
) -> tuple[dict[str, dict[str, Any]], int]:
    """The data directory's files (and the anchors up to the snapshot's last entry) copied
    into ``work``, with their sizes and digests."""
    files: dict[str, dict[str, Any]] = {}
    total = 0
    for relative in data_files(data_dir, exclude):
        size, digest = _copy_hashed(data_dir / relative, work / FILES / relative)
        files[relative.as_posix()] = {"size": size, "sha256": digest}
        total += size
    anchors = _anchor_lines(data_dir / ANCHOR_FILE, audit_seq)
    if anchors:
        (work / FILES).mkdir(exist_ok=True)
        (work / FILES / ANCHOR_FILE).write_bytes(anchors)
        files[ANCHOR_FILE] = {"size": len(anchors), "sha256": hashlib.sha256(anchors).hexdigest()}
        total += len(anchors)
    return files, total


def _publish(work: Path, destination: Path) -> None:
    """Move the finished backup to its name (an archive is written beside it, then renamed)."""
    if _is_archive(destination):
        mode = "w:gz" if destination.name.endswith(("gz", "tgz")) else "w"
        partial = destination.with_name(f".{destination.name}.partial")
        with tarfile.open(partial, mode) as tar:  # type: ignore[call-overload]
            tar.add(work, arcname=".")
        partial.rename(destination)
    else:
        work.rename(destination)


def take_backup(
    database: Database, destination: Path, actor: Actor, *, files_only: bool = False
) -> BackupReport:
    """Write a backup of the data directory (and, on SQLite, its database) to ``destination``.

    On PostgreSQL the database is not included: ``files_only`` must be given, and the
    database is dumped with ``pg_dump`` (docs/deploy.md).
    """
    settings = database.settings
    data_dir = settings.data_dir.resolve()
    destination = destination.resolve()
    db_file = sqlite_file(settings)
    _check_destination(destination, data_dir, db_file, files_only)
    kind = "postgresql" if db_file is None else ("files-only" if files_only else "sqlite")
    # The backup is an access to every record: audited before the snapshot, so it holds
    # its own entry.
    with unit_of_work(database, actor) as ctx:
        record(ctx, BackupTaken(destination=str(destination), database=kind))
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=destination.parent))
    try:
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "shuzhi_version": __version__,
            "database": "sqlite" if kind == "sqlite" else "none",
            "database_kind": "sqlite" if db_file is not None else "postgresql",
            "revisions": _revisions(database),
        }
        audit_seq: int | None = None
        exclude: set[Path] = set()
        if db_file is not None:
            exclude = {Path(f"{db_file}{s}") for s in ("", "-wal", "-shm", "-journal")}
            if kind == "sqlite":
                audit_seq = _sqlite_snapshot(db_file, work / DATABASE_FILE)
                manifest["database_file"] = {
                    "size": (work / DATABASE_FILE).stat().st_size,
                    "sha256": _sha256(work / DATABASE_FILE),
                }
        manifest["files"], total = _copy_files(data_dir, work, exclude, audit_seq)
        manifest["audit_seq"] = audit_seq
        (work / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
        )
        _publish(work, destination)
        return BackupReport(destination, kind, len(manifest["files"]), total, audit_seq)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------- restore


def _refuse_damaged(detail_zh: str, detail_en: str) -> BackupRefused:
    return BackupRefused(
        f"备份不完整或已损坏，未恢复任何内容：{detail_zh}",
        f"The backup is incomplete or damaged; nothing was restored: {detail_en}",
    )


@contextmanager
def _opened(source: Path, scratch: Path) -> Iterator[Path]:
    """The backup's directory (an archive is unpacked into ``scratch`` first)."""
    if not source.exists():
        raise BackupRefused(f"备份 {source} 不存在。", f"The backup {source} does not exist.")
    if source.is_dir():
        yield source
        return
    if not _is_archive(source):
        raise _refuse_damaged(
            "不是备份目录或 .tar/.tar.gz 归档", "not a backup directory or archive"
        )
    unpacked = scratch / "unpacked"
    try:
        with tarfile.open(source) as tar:
            tar.extractall(unpacked, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _refuse_damaged(
            f"归档无法读取（{exc}）", f"the archive cannot be read ({exc})"
        ) from exc
    yield unpacked


def _read_manifest(root: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _refuse_damaged(
            f"缺少或无法读取 {MANIFEST}", f"{MANIFEST} is missing or unreadable"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse_damaged("不是本系统的备份格式", f"not a {FORMAT} backup")
    if not isinstance(manifest.get("files"), dict):
        raise _refuse_damaged("清单没有文件列表", "the manifest lists no files")
    return manifest


def _listed(root: Path, manifest: dict[str, Any]) -> None:
    """Every file in the backup is listed, and every listed file is there."""
    present = (
        {
            p.relative_to(root / FILES).as_posix()
            for p in (root / FILES).rglob("*")
            if p.is_file() or p.is_symlink()
        }
        if (root / FILES).exists()
        else set()
    )
    listed = set(manifest["files"])
    missing, extra = sorted(listed - present), sorted(present - listed)
    if missing:
        raise _refuse_damaged(f"缺少文件 {missing[0]}", f"file {missing[0]} is missing")
    if extra:
        raise _refuse_damaged(f"清单外的文件 {extra[0]}", f"file {extra[0]} is not in the manifest")
    for name in listed:
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise _refuse_damaged(f"不安全的路径 {name}", f"unsafe path {name}")


def _check_copy(name: str, expected: dict[str, Any], got: tuple[int, str]) -> None:
    if got != (expected.get("size"), expected.get("sha256")):
        raise _refuse_damaged(f"文件 {name} 校验和不符", f"the checksum of {name} does not match")


def _empty(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def _check_target(target: Path, db_target: Path | None, force: bool) -> None:
    """Refuse to overwrite anything unless asked to (and then nothing is deleted)."""
    if not force:
        if not _empty(target):
            raise BackupRefused(
                f"目标数据目录 {target} 不是空的；确需替换请加 --force（原目录会被移到一旁保留）。",
                f"The target data directory {target} is not empty; add --force to replace it"
                " (the old one is moved aside, not deleted).",
            )
        if db_target is not None and not db_target.is_relative_to(target) and db_target.exists():
            raise BackupRefused(
                f"目标数据库文件 {db_target} 已存在；确需替换请加 --force。",
                f"The target database file {db_target} exists; add --force to replace it.",
            )
    if target.exists() and not target.is_dir():
        raise BackupRefused(f"{target} 不是目录。", f"{target} is not a directory.")


def _check_manifest(manifest: dict[str, Any], target_sqlite: bool) -> bool:
    """Whether the backup holds a SQLite database; refuses what cannot be restored here."""
    has_database = manifest.get("database") == "sqlite"
    if has_database and not target_sqlite:
        raise BackupRefused(
            "该备份含 SQLite 数据库，只能恢复到使用 SQLite 的数据目录。",
            "This backup holds a SQLite database; it can only be restored into a data"
            " directory that uses SQLite.",
        )
    unknown = set(manifest.get("revisions") or []) - _known_revisions()
    if unknown:
        raise BackupRefused(
            f"该备份由更新的版本生成（迁移 {sorted(unknown)[0]} 未知），请先升级本系统。",
            f"The backup was made by a newer release (migration {sorted(unknown)[0]} is"
            " unknown here); upgrade first.",
        )
    return has_database


def _stage(
    root: Path, manifest: dict[str, Any], staging: Path, scratch: Path, has_database: bool
) -> tuple[int, Path | None]:
    """Copy every file (and the database) out of the backup, each checked against the
    manifest; returns the bytes copied and the staged database file."""
    total = 0
    for name, expected in sorted(manifest["files"].items()):
        got = _copy_hashed(root / FILES / name, staging / name)
        _check_copy(name, expected, got)
        total += got[0]
    if not has_database:
        return total, None
    if not (root / DATABASE_FILE).is_file():
        raise _refuse_damaged("缺少数据库文件", "the database file is missing")
    staged_db = scratch / SQLITE_NAME
    got = _copy_hashed(root / DATABASE_FILE, staged_db)
    _check_copy(DATABASE_FILE, manifest.get("database_file") or {}, got)
    return total + got[0], staged_db


def _place_database(staged_db: Path, db_target: Path, target: Path, staging: Path) -> str | None:
    """Put the restored SQLite file where the settings expect it (inside the data directory
    or elsewhere); a database already there is moved aside. Returns a note for the report."""
    if db_target.is_relative_to(target):
        inside = staging / db_target.relative_to(target)
        inside.parent.mkdir(parents=True, exist_ok=True)
        staged_db.rename(inside)
        return None
    note = None
    if db_target.exists():
        aside = db_target.with_name(f"{db_target.name}.before-restore-{_stamp()}")
        db_target.rename(aside)
        note = f"old database moved to {aside}"
    db_target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(staged_db, db_target)
    return note


def _swap_in(staging: Path, target: Path) -> Path | None:
    """Rename the staged directory into place; a non-empty old one is moved aside."""
    aside = None
    if target.exists():
        if _empty(target):
            target.rmdir()
        else:
            aside = target.with_name(f"{target.name}.before-restore-{_stamp()}")
            target.rename(aside)
    staging.rename(target)
    os.chmod(target, 0o700)
    return aside


def restore_backup(
    source: Path,
    target: Path,
    database_url: str | None = None,
    *,
    force: bool = False,
) -> RestoreReport:
    """Restore ``source`` into the data directory ``target`` (which may be anywhere).

    ``database_url`` is the target's database (default: SQLite in ``target``). A SQLite
    backup is restored only into a SQLite database; a files-only backup restores the files
    and leaves the database to ``pg_restore``. Everything is copied to a staging directory
    and checked first; only then is anything put in place.
    """
    source, target = source.resolve(), target.resolve()
    url = database_url or f"sqlite:///{target / SQLITE_NAME}"
    target_sqlite = url.startswith("sqlite")
    db_target = Path(make_url(url).database or "").resolve() if target_sqlite else None
    _check_target(target, db_target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".restore-{target.name}-", dir=target.parent))
    scratch = Path(tempfile.mkdtemp(prefix=".restore-scratch-", dir=target.parent))
    try:
        with _opened(source, scratch) as root:
            manifest = _read_manifest(root)
            _listed(root, manifest)
            has_database = _check_manifest(manifest, target_sqlite)
            total, staged_db = _stage(root, manifest, staging, scratch, has_database)
        trimmed = [] if has_database else _trim_to_restored_log(staging / ANCHOR_FILE, url)
        report = RestoreReport(
            target, "sqlite" if has_database else "none", len(manifest["files"]), total
        )
        if staged_db is not None and db_target is not None:
            note = _place_database(staged_db, db_target, target, staging)
            report.notes.extend([note] if note else [])
        report.moved_aside = _swap_in(staging, target)
        if not has_database:
            report.notes.extend(trimmed)
            report.notes.append(
                "database not in the backup: restore it with pg_restore first (docs/deploy.md)"
            )
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def _audit_head(database_url: str) -> int | None:
    """The last audit entry of a reachable database (None: unreachable or not set up)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT seq FROM audit_head WHERE id = 1")).first()
    except Exception:
        return None
    finally:
        engine.dispose()
    return int(found[0]) if found else None


def _trim_to_restored_log(anchors: Path, database_url: str) -> list[str]:
    """Drop anchor lines past the end of the restored database's audit log (a dump taken
    before the files were copied): they record entries the restored log never had."""
    if not anchors.exists():
        return []
    head = _audit_head(database_url)
    if head is None:
        return [
            "the target database was not reachable: anchors kept as backed up; restore the"
            " database first and run restore again if `shuzhi audit verify` reports anchors"
            " past the end of the log"
        ]
    lines = anchors.read_bytes().splitlines(keepends=True)
    kept = _anchor_lines(anchors, head)
    if len(kept.splitlines()) == len(lines):
        return []
    anchors.write_bytes(kept)
    dropped = len(lines) - len(kept.splitlines())
    return [f"{dropped} anchor line(s) past the restored log's last entry ({head}) left out"]


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
