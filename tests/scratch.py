"""Scratch directories for the files tests write (CSV and Parquet sources, engine work
directories): each is removed when the test process ends, so runs leave nothing behind."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path


def scratch_dir(prefix: str = "shuzhi-test-") -> Path:
    """A new directory under the system's temporary directory, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
