"""Key indexes built by the load: a new version is indexed before it becomes current.

The gateway subscribes to ``VersionWritten``: in the load's short read it lists the key
columns that active grants of the entry offer lookups on, and builds those indexes beside
the lake's own analysis, in a worker process of its own (the lake's: forked from its fork
server, at a lower CPU priority, within the load's time and memory limits), so that a load
started by the web server takes neither its interpreter nor its query engine. The load then
registers the version; lookups switch to it, with its index ready, when the gateway's cache
of current versions moves (a few seconds), and the previous version serves until then. A
build that fails is logged and does not fail the load: the gateway builds the index when a
lookup first needs it (answering 503 meanwhile).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from shuzhi import hooks
from shuzhi.context import Ctx
from shuzhi.failures import log_unexpected
from shuzhi.gateway import keybuild, keyindex
from shuzhi.lake import service as lake
from shuzhi.lake import worker
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import DuckDBEngine, QueryEngine
from shuzhi.settings import Settings
from shuzhi.sharing import access

log = logging.getLogger("shuzhi.gateway")

# The index build's scheduling priority (nice value) in the lake's worker process: below the
# load's own work (the lake worker's 5), far below serving (0).
BUILD_NICENESS = 15


def on_lake_collecting(ctx: Ctx, event: hooks.LakeCollecting) -> None:
    """Subscriber: ``shuzhi lake gc`` removes the key indexes of versions that are gone."""
    event.found.extend(keyindex.garbage(ctx.settings.data_dir, event.gone))


def _nothing(ctx: Ctx, loaded: hooks.VersionLoaded) -> None:
    """The index files are the result; nothing to store in the database."""


def build_indexes(
    relay: Callable[[str, int], None], settings: Settings, version: Version, columns: list[str]
) -> list[Path]:
    """The worker process's job: build ``version``'s indexes on ``columns`` with the lake's
    query engine."""
    from shuzhi.db.engine import Database

    _yield_to_serving()
    database = Database(settings)
    try:
        if settings.query_engine == "spark":
            engine: QueryEngine = lake.open_engine(database)
        else:  # one engine thread: the build's own threads join and compress beside it
            engine = DuckDBEngine(settings.data_dir.resolve() / lake.DATASETS_DIR, threads=1)
        try:
            built = [keybuild.ensure(engine, settings.data_dir, version, c) for c in columns]
        finally:
            engine.close()
        return [p for p in built if p is not None]
    finally:
        lake.close_engine(database)
        database.dispose()


def _yield_to_serving() -> None:
    """Lower the build's CPU priority to ``BUILD_NICENESS`` (from the lake worker's own):
    on a machine that also serves, requests then take the cores as soon as they need them and
    the build runs in what they leave."""
    with contextlib.suppress(OSError):
        os.nice(max(0, BUILD_NICENESS - os.nice(0)))


def on_version_written(ctx: Ctx, event: hooks.VersionWritten) -> None:
    """Subscriber: build the new version's key indexes as part of its load."""
    columns = access.lookup_key_columns(ctx.db, event.resource_code)
    columns = [c for c in columns if keyindex.indexable(event.version, c)]
    if not columns:
        return
    settings = ctx.settings
    limits = worker.WorkerLimits.of(settings)

    def run() -> hooks.Finish:
        try:
            worker.run_job(build_indexes, (settings, event.version, columns), limits)
        except Exception as err:
            log_unexpected(
                log, err, "building the key indexes of %s failed", event.version.version_id
            )
        return _nothing

    event.alongside.append(run)
