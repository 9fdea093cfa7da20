"""Key index files are named after the dataset's place inside the data directory, so a moved
data directory keeps its indexes; files of the former naming are removed once replaced."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from shuzhi.gateway.keyindex import INDEX_DIR, index_path, remove_earlier
from shuzhi.lake.manifest import current_version
from shuzhi.lake.readers import FileSource
from shuzhi.lake.writer import write_version
from tests.lake.helpers import people_rows, write_csv


def test_index_names_survive_moving_the_data_directory(tmp_path: Path) -> None:
    old = tmp_path / "old"
    source = write_csv(tmp_path / "p.csv", people_rows(5))
    before = write_version(FileSource(source), old / "datasets" / "A" / "1").version
    name = index_path(old, before, "姓名").name
    new = tmp_path / "new" / "place"
    new.parent.mkdir()
    shutil.move(old, new)
    after = current_version(new / "datasets" / "A" / "1")
    assert after is not None
    assert index_path(new, after, "姓名") == new / INDEX_DIR / name
    assert index_path(new, after, "公民身份号码").name != name


def test_indexes_of_the_former_naming_are_removed_when_replaced(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "p.csv", people_rows(5))
    version = write_version(FileSource(source), tmp_path / "datasets" / "A" / "1").version
    ident = f"2\x1f{version.directory.resolve()}\x1f姓名"
    legacy = hashlib.sha256(ident.encode()).hexdigest()[:24]
    keys = tmp_path / INDEX_DIR
    keys.mkdir(parents=True)
    stale = keys / f"{legacy}-{version.version_id}-abc.sqlite"
    other = keys / "0123456789abcdef01234567-v000001-x-abc.sqlite"
    stale.touch()
    other.touch()
    removed = remove_earlier(tmp_path, version, "姓名")
    assert removed == [stale] and not stale.exists() and other.exists()
