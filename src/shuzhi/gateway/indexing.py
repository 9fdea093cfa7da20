"""Key indexes built by the load: a new version is indexed before it becomes current.

The gateway subscribes to ``VersionWritten``: in the load's short read it lists the key
columns that active grants of the entry offer lookups on, and builds those indexes beside
the lake's own analysis (on the load's worker thread, reading only the lake). The load then
registers the version; lookups switch to it, with its index ready, when the gateway's cache
of current versions moves (a few seconds), and the previous version serves until then.
"""

from __future__ import annotations

from shuzhi import hooks
from shuzhi.context import Ctx
from shuzhi.gateway import keyindex
from shuzhi.lake import service as lake
from shuzhi.sharing import access


def on_lake_collecting(ctx: Ctx, event: hooks.LakeCollecting) -> None:
    """Subscriber: ``shuzhi lake gc`` removes the key indexes of versions that are gone."""
    event.found.extend(keyindex.garbage(ctx.settings.data_dir, event.gone))


def _nothing(ctx: Ctx, loaded: hooks.VersionLoaded) -> None:
    """The index files are the result; nothing to store in the database."""


def on_version_written(ctx: Ctx, event: hooks.VersionWritten) -> None:
    """Subscriber: build the new version's key indexes as part of its load."""
    columns = access.lookup_key_columns(ctx.db, event.resource_code)
    if not columns or not keyindex.indexable(event.version):
        return
    data_dir = ctx.settings.data_dir
    engine = lake.query_engine(ctx)

    def run() -> hooks.Finish:
        for column in columns:
            keyindex.ensure(engine, data_dir, event.version, column)
        return _nothing

    event.alongside.append(run)
