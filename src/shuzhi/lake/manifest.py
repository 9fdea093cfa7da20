"""Versions on disk: a version exists only once its manifest exists.

Layout of a dataset directory::

    v000001-3f2a9c1b7d4e.parquet        the rows (zstd Parquet)
    v000001-3f2a9c1b7d4e.rejects.csv    rejected rows (line, reason, detail, raw), if any
    v000001-3f2a9c1b7d4e.manifest.json  written last; names the Parquet file and its hash
    .tmp-…/                             work in progress; removed by the next load
    .lock                               serialises loads into this directory (``writer.locked``)

The current version is the complete version with the highest sequence number.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_FORMAT = "shuzhi.lake.version/1"
MANIFEST_SUFFIX = ".manifest.json"
DATA_SUFFIX = ".parquet"
REJECTS_SUFFIX = ".rejects.csv"
TEMP_PREFIX = ".tmp-"
LOCK_FILE = ".lock"


@dataclass(frozen=True)
class ColumnSchema:
    name: str
    type: str
    source_name: str


@dataclass(frozen=True)
class RejectSummary:
    count: int = 0
    ratio: float = 0.0
    max_ratio: float = 0.0
    by_reason: dict[str, int] = field(default_factory=dict)
    file: str | None = None


@dataclass(frozen=True)
class Version:
    """One immutable, complete load of a dataset."""

    directory: Path
    version_id: str
    sequence: int
    created_at: str
    data_file: str
    data_file_sha256: str
    data_bytes: int
    row_count: int
    columns: tuple[ColumnSchema, ...]
    content_hash: str
    source: dict[str, Any]
    rejects: RejectSummary
    timings: dict[str, float]

    @property
    def data_path(self) -> Path:
        return self.directory / self.data_file

    @property
    def rejects_path(self) -> Path | None:
        return self.directory / self.rejects.file if self.rejects.file else None

    @property
    def manifest_path(self) -> Path:
        return self.directory / f"{self.version_id}{MANIFEST_SUFFIX}"

    def column_types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("directory")
        data["columns"] = [asdict(c) for c in self.columns]
        return {"format": MANIFEST_FORMAT, **data}

    @classmethod
    def from_json(cls, directory: Path, data: dict[str, Any]) -> Version:
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unknown manifest format {data.get('format')!r}")
        return cls(
            directory=directory,
            version_id=data["version_id"],
            sequence=int(data["sequence"]),
            created_at=data["created_at"],
            data_file=data["data_file"],
            data_file_sha256=data["data_file_sha256"],
            data_bytes=int(data["data_bytes"]),
            row_count=int(data["row_count"]),
            columns=tuple(ColumnSchema(**c) for c in data["columns"]),
            content_hash=data["content_hash"],
            source=dict(data["source"]),
            rejects=RejectSummary(**data["rejects"]),
            timings={k: float(v) for k, v in data["timings"].items()},
        )

    def verify(self) -> bool:
        """Recompute the Parquet file's SHA-256 against the manifest (integrity check)."""
        return file_sha256(self.data_path) == self.data_file_sha256


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def load_version(manifest: Path) -> Version:
    return Version.from_json(manifest.parent, json.loads(manifest.read_text(encoding="utf-8")))


def list_versions(directory: Path) -> list[Version]:
    """Complete versions, oldest first; a manifest whose data file is missing is ignored."""
    if not directory.is_dir():
        return []
    found = []
    for manifest in directory.glob(f"v*{MANIFEST_SUFFIX}"):
        try:
            version = load_version(manifest)
        except (ValueError, KeyError, TypeError, OSError):
            continue
        if version.data_path.is_file():
            found.append(version)
    return sorted(found, key=lambda v: v.sequence)


def current_version(directory: Path) -> Version | None:
    versions = list_versions(directory)
    return versions[-1] if versions else None
