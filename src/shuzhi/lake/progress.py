"""How far a read has got, for progress bars: bytes of a file, rows of a database.

Readers feed a ``ByteMeter`` chunk sizes or file positions; the callback sees a count that
never goes down, never exceeds the file size and ends at exactly the file size once the
file has been read (a second pass over the same file, e.g. a transcoding copy after a
scan, does not move it further).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

BytesCallback = Callable[[int], None]


class ByteMeter:
    """A non-decreasing count of the bytes of one file read so far."""

    def __init__(self, callback: BytesCallback | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0
        self._read = 0

    def _report(self, value: int) -> None:
        value = min(value, self.total)
        if self.callback is not None and value > self.done:
            self.done = value
            self.callback(value)

    def add(self, count: int) -> None:
        """``count`` more bytes were read (chunked reads)."""
        self._read += count
        self._report(self._read)

    def at(self, position: int) -> None:
        """Reading has reached ``position`` (sequential reads)."""
        self._report(position)

    def share(self, fraction: float) -> None:
        """This share of the file has been read (readers that only know their progress)."""
        self._report(int(self.total * max(0.0, min(1.0, fraction))))

    def finish(self) -> None:
        """The whole file has been read."""
        self._report(self.total)

    def chain(self, other: BytesCallback | None) -> BytesCallback:
        """``add`` plus another per-chunk callback, for functions that take just one."""
        if other is None:
            return self.add

        def both(count: int) -> None:
            self.add(count)
            other(count)

        return both


class CountingFile(io.RawIOBase):
    """A binary file whose reads are counted into a meter (for libraries taking a file)."""

    def __init__(self, path: Path, meter: ByteMeter) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 — closed by close()
        self._meter = meter

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._fh.readinto(buffer)
        self._meter.add(count or 0)
        return count or 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()
        super().close()
