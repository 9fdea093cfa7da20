"""Scratch directories for the files tests write (CSV and Parquet sources, engine work
directories): each is removed when the test session ends (``conftest.pytest_sessionfinish``,
which every test worker runs), or at the latest when the process exits normally."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

_made: list[Path] = []


def scratch_dir(prefix: str = "shuzhi-test-") -> Path:
    """A new directory under the system's temporary directory, removed after the session."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _made.append(path)
    return path


def remove_scratch() -> None:
    """Remove every scratch directory this process made."""
    while _made:
        shutil.rmtree(_made.pop(), ignore_errors=True)


atexit.register(remove_scratch)
