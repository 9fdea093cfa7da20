"""The key indexes of one serving process: opened when present, built once in the
background when missing, answered with 503 and ``Retry-After`` meanwhile."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

from shuzhi.errors import Unavailable
from shuzhi.failures import log_unexpected
from shuzhi.gateway.keybuild import ensure
from shuzhi.gateway.keyindex import KeyIndex, index_path, indexable, remove_earlier
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import QueryEngine

log = logging.getLogger("shuzhi.gateway")

RETRY_AFTER_SECONDS = 5
WAIT_STEP_SECONDS = 0.05  # how often a waiting lookup looks for the index
RETRY_FAILED_SECONDS = 60.0


def pending() -> Unavailable:
    """The answer to a lookup whose index is being built: never a scan of the whole file."""
    return Unavailable(
        "该数据版本的键索引正在建立，请稍后再试。",
        "The key index of this data version is being built; try again shortly.",
        retry_after=RETRY_AFTER_SECONDS,
    )


class KeyIndexes:
    """The indexes of one process: opened when present, built once when missing.

    A version's indexes are normally built by its load, before it becomes current. One that
    is missing (a version loaded before indexes were built at load, a grant offering a new
    key column) is built in the background, once; meanwhile lookups are answered 503 with
    ``Retry-After`` (``pending()``), never by scanning the whole file. A failed build is
    retried after ``RETRY_FAILED_SECONDS``."""

    def __init__(self, engine: QueryEngine, data_dir: Path, *, background: bool = True) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.background = background
        self._open: dict[Path, KeyIndex] = {}
        self._known: dict[tuple[str, str, str], KeyIndex] = {}  # no path work when warm
        self._building: set[Path] = set()
        self._failed: dict[Path, float] = {}  # when the last build failed
        self._lock = threading.Lock()

    def get(self, version: Version, key_column: str) -> KeyIndex | None:
        """The ready index; None when the version cannot be indexed (the engine serves it).
        Raises ``Unavailable`` (503, Retry-After) while the index is being built."""
        known = (str(version.directory), version.data_file, key_column)
        hit = self._known.get(known)
        if hit is not None:
            return hit
        path = index_path(self.data_dir, version, key_column)
        found = self._open.get(path)
        if found is not None:
            self._known[known] = found
            return found
        if not indexable(version, key_column):
            return None
        if path.exists():
            index = KeyIndex(path, key_column)
            with self._lock:
                self._open[path] = index
            # The version is served: earlier versions' indexes serve nobody any more (a
            # process still reading one keeps its open files).
            remove_earlier(self.data_dir, version, key_column)
            return index
        with self._lock:
            failed = self._failed.get(path)
            retry = failed is None or time.monotonic() - failed >= RETRY_FAILED_SECONDS
            if path in self._building or not retry:
                raise pending()
            self._building.add(path)
        if self.background:
            threading.Thread(
                target=self._build, args=(version, key_column, path), daemon=True
            ).start()
            raise pending()
        self._build(version, key_column, path)
        if not path.exists():
            raise pending()
        return self.get(version, key_column)

    async def ready(self, version: Version, key_column: str, seconds: float) -> KeyIndex | None:
        """``get``, waiting up to ``seconds`` (without blocking the event loop) for an index
        being built: a small version's index is there before the lookup needs to give up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            try:
                return self.get(version, key_column)
            except Unavailable:
                if loop.time() >= deadline:
                    raise
            await asyncio.sleep(WAIT_STEP_SECONDS)

    def _build(self, version: Version, key_column: str, path: Path) -> None:
        try:
            ensure(self.engine, self.data_dir, version, key_column)
        except Exception as err:
            log_unexpected(log, err, "building the key index %s failed", path.name)
            with self._lock:
                self._failed[path] = time.monotonic()
        finally:
            with self._lock:
                self._building.discard(path)
