"""The rejects file (opened in spreadsheets to see what went wrong) holds no live formula."""

from __future__ import annotations

import csv
from pathlib import Path

from shuzhi.lake.readers import FileSource
from shuzhi.lake.writer import LoadOptions, write_version
from shuzhi.security.cells import needs_guard, unguard


def test_rejected_lines_are_written_inert(tmp_path: Path) -> None:
    lines = ["a,b,c"] + [f"{i},x{i},y{i}" for i in range(98)]
    lines.insert(4, '=HYPERLINK("http://evil.example","x")')  # too few fields
    lines.insert(49, "-2+3,1,2,3")  # too many fields
    path = tmp_path / "f.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    v = write_version(FileSource(path), tmp_path / "lake", LoadOptions(max_reject_ratio=0.05))
    assert v.version.rejects_path is not None
    with v.version.rejects_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [unguard(r["raw"]) for r in rows] == [
        '=HYPERLINK("http://evil.example","x")',
        "-2+3,1,2,3",
    ]
    assert all(r["raw"].startswith("'") for r in rows)
    assert not any(needs_guard(value) for r in rows for value in r.values())
