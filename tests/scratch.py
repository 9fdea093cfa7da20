"""Scratch directories for the files tests write (CSV and Parquet sources, engine work
directories). A module declares one as a ``Scratch``, made on first use: processes that only
import the module (the engines' worker processes unpickling a test's function) make none. Each
is removed when the test session ends (``conftest.pytest_sessionfinish``, which every test
worker runs), or at the latest when the process exits normally."""

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


class Scratch:
    """A module's scratch directory, made when first used (``scratch / "name"``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._path: Path | None = None

    @property
    def path(self) -> Path:
        if self._path is None or not self._path.is_dir():
            self._path = scratch_dir(self.prefix)
        return self._path

    def __truediv__(self, name: str) -> Path:
        return self.path / name


def remove_scratch() -> None:
    """Remove every scratch directory this process made."""
    while _made:
        shutil.rmtree(_made.pop(), ignore_errors=True)


atexit.register(remove_scratch)
