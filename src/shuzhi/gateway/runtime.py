"""The gateway's per-process state: caches, rate limits, the meter and key indexes.

One ``GatewayRuntime`` per application (``app.state.gateway``). Principals (by key hash) and
grants (by application and resource code) are cached for a few seconds; a background thread
polls the sharing workflow's grants revision every second and drops both caches when it
moves, so a revoked key or grant stops working within about a second, without a database
round trip on the request path. Current dataset versions are cached for the same few seconds
(and dropped with the others when the revision moves).

The same thread keeps this process registered in ``gateway_node`` (``nodes.NodeRegistry``):
the number of live serving processes divides each grant's rate limit among them. Every piece
of per-process state and its bounded staleness is listed in docs/deploy.md.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.errors import NotFound, ShuzhiError, Unavailable
from shuzhi.gateway import redaction
from shuzhi.gateway.cache import TTLCache
from shuzhi.gateway.cursor import CursorCodec
from shuzhi.gateway.keycache import RETRY_AFTER_SECONDS, WAIT_STEP_SECONDS, KeyIndexes
from shuzhi.gateway.limits import RateLimiter
from shuzhi.gateway.meter import CallMeter, WriterProcess, write_calls
from shuzhi.gateway.nodes import HEARTBEAT_SECONDS, NodeRegistry
from shuzhi.lake import service as lake
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import QueryEngine
from shuzhi.security.masking import pseudonym_key
from shuzhi.settings import Settings
from shuzhi.sharing import access
from shuzhi.sharing.grants import AppPrincipal, CallGrant

log = logging.getLogger("shuzhi.gateway")


class GrantSource(Protocol):
    """What the gateway asks the sharing workflow (a seam: tests may supply their own)."""

    def authenticate(self, session: Session, token: str, now: datetime) -> AppPrincipal: ...

    def grant(
        self, session: Session, principal: AppPrincipal, resource_code: str, now: datetime
    ) -> CallGrant: ...

    def revision(self, session: Session) -> object: ...


class SharingGrants:
    """The real source: the sharing capability's access checks."""

    def authenticate(self, session: Session, token: str, now: datetime) -> AppPrincipal:
        return access.authenticate_application(session, token, now)

    def grant(
        self, session: Session, principal: AppPrincipal, resource_code: str, now: datetime
    ) -> CallGrant:
        return access.grant_for_call(session, principal, resource_code, now)

    def revision(self, session: Session) -> object:
        return access.grants_revision(session)


@dataclass(frozen=True)
class GatewayOptions:
    cache_seconds: float = 5.0
    # After cache_seconds an answer is refreshed in the background and served meanwhile, for
    # at most stale_seconds (revocations clear the caches at once, whatever the age).
    stale_seconds: float = 60.0
    revision_poll_seconds: float = 1.0
    # Register this process in gateway_node and share rate limits among the live ones.
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    flush_rows: int = 500
    flush_seconds: float = 1.0
    # Write the meter's batches in a child process (servers); False: in the meter's thread.
    meter_process: bool = False
    # Calls waiting to be written beyond which the gateway answers 503 (audit before data).
    meter_max_pending: int = 200_000
    workers: int = 1
    default_page: int = 100
    max_page: int = 1000
    key_index: bool = True
    key_index_background: bool = True
    # How long a lookup waits for a missing key index being built before answering 503.
    key_index_wait_seconds: float = 1.0
    # Lookups the engine answers at once in this process (a version without a key index:
    # each may read the whole file); a lookup waits key_index_wait_seconds for a turn, then
    # is answered 503 with Retry-After.
    engine_lookups: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayOptions:
        """The serving options (``SHUZHI_GATEWAY_*`` and ``WEB_CONCURRENCY``, see settings)."""
        return cls(
            cache_seconds=settings.gateway_cache_seconds,
            flush_rows=settings.gateway_flush_rows,
            flush_seconds=settings.gateway_flush_seconds,
            meter_process=settings.gateway_meter_process,
            workers=settings.workers,
        )


def _fresh(err: ShuzhiError) -> ShuzhiError:
    """A cached refusal raised anew (re-raising one instance would grow its traceback)."""
    clone = type(err).__new__(type(err))
    clone.__dict__.update(err.__dict__)
    clone.args = err.args
    return clone


def key_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class GatewayRuntime:
    def __init__(
        self,
        database: Database,
        engine: QueryEngine,
        options: GatewayOptions | None = None,
        grants: GrantSource | None = None,
    ) -> None:
        self.database = database
        self.engine = engine
        self.options = options or GatewayOptions()
        self.source: GrantSource = grants or SharingGrants()
        ttl = self.options.cache_seconds
        stale = self.options.stale_seconds
        self.principals: TTLCache[str, AppPrincipal | ShuzhiError] = TTLCache(ttl, max_age=stale)
        self.grants: TTLCache[tuple[int, str], CallGrant | ShuzhiError] = TTLCache(
            ttl, max_age=stale
        )
        self.versions: TTLCache[str, Version | ShuzhiError] = TTLCache(ttl, 1000, max_age=stale)
        self._inflight: dict[tuple[int, object], asyncio.Future[Any]] = {}
        self.plans: dict[tuple[Any, ...], Any] = {}
        self.meter = CallMeter(
            database,
            batch_size=self.options.flush_rows,
            interval=self.options.flush_seconds,
            max_pending=self.options.meter_max_pending,
            writer=WriterProcess(database.settings) if self.options.meter_process else write_calls,
        )
        self.limiter = RateLimiter(self.options.workers)
        self.keys = KeyIndexes(
            engine, database.settings.data_dir, background=self.options.key_index_background
        )
        self._engine_turns = threading.BoundedSemaphore(max(1, self.options.engine_lookups))
        secret = database.settings.secret_key
        self.cursors = CursorCodec(secret)
        self.mask_key = pseudonym_key(secret)
        self.digest_key = redaction.digest_key(secret)
        self.nodes = NodeRegistry(database)
        self._revision: object = None
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------ principals and grants

    def start(self) -> None:
        """Start the background thread (at the application's start-up; else at the first
        call): the revision poll and this process's heartbeat."""
        self._start_poller()

    def _start_poller(self) -> None:
        if self._poller is None and not self._stop.is_set():
            self._poller = threading.Thread(
                target=self._poll, name="shuzhi-gateway-grants", daemon=True
            )
            self._poller.start()

    def _poll(self) -> None:
        next_beat = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_beat:
                self.heartbeat()
                next_beat = time.monotonic() + self.options.heartbeat_seconds
            self.check_revision()
            self._stop.wait(self.options.revision_poll_seconds)

    def heartbeat(self) -> int:
        """Refresh this process's registration; each process's share of a rate limit is the
        limit divided by the live processes (kept as it was when the database is away)."""
        try:
            live = self.nodes.beat()
        except Exception:
            log.exception("the gateway node heartbeat failed; rate-limit shares unchanged")
            return self.limiter.workers
        self.limiter.workers = max(1, live)
        return self.limiter.workers

    def check_revision(self) -> bool:
        """Drop cached principals and grants when the workflow's revision moved."""
        try:
            with self.database.sessions() as session:
                revision = self.source.revision(session)
        except Exception:
            log.exception("reading the grants revision failed; clearing caches to be safe")
            revision = object()
        if revision == self._revision:
            return False
        self._revision = revision
        self.principals.clear()
        self.grants.clear()
        self.versions.clear()
        return True

    def _authenticate(self, token: str, now: datetime) -> AppPrincipal | ShuzhiError:
        try:
            with self.database.sessions.begin() as session:
                return self.source.authenticate(session, token, now)
        except ShuzhiError as err:
            return err

    def _grant(
        self, principal: AppPrincipal, resource_code: str, now: datetime
    ) -> CallGrant | ShuzhiError:
        try:
            with self.database.sessions.begin() as session:
                return self.source.grant(session, principal, resource_code, now)
        except ShuzhiError as err:
            return err

    async def _through(
        self, cache: TTLCache[Any, Any], key: object, fetch: Callable[[], Any]
    ) -> Any:
        """The cached answer; a stale one is served while a single refresh runs behind it,
        a missing one is fetched once however many calls wait for it."""
        found = cache.lookup(key)
        flight = (id(cache), key)
        if found is not None:
            value, fresh = found
            if not fresh and flight not in self._inflight:
                self._inflight[flight] = self._fetch(cache, key, fetch, flight)
            return value
        pending = self._inflight.get(flight)
        if pending is None:
            pending = self._inflight[flight] = self._fetch(cache, key, fetch, flight)
        return await asyncio.shield(pending)

    def _fetch(
        self, cache: TTLCache[Any, Any], key: object, fetch: Callable[[], Any], flight: Any
    ) -> asyncio.Future[Any]:
        generation = cache.generation
        future = asyncio.ensure_future(run_in_threadpool(fetch))

        def done(f: asyncio.Future[Any]) -> None:
            self._inflight.pop(flight, None)
            if not f.cancelled() and f.exception() is None:
                cache.put(key, f.result(), generation)

        future.add_done_callback(done)
        return future

    async def principal(self, token: str, now: datetime) -> AppPrincipal:
        self._start_poller()
        digest = key_hash(token)
        found = self.principals.get(digest)  # the hot path: a fresh answer, no awaiting
        if found is None:
            found = await self._through(
                self.principals, digest, lambda: self._authenticate(token, now)
            )
        if isinstance(found, ShuzhiError):
            raise _fresh(found)
        return found

    async def grant(self, principal: AppPrincipal, resource_code: str, now: datetime) -> CallGrant:
        key = (principal.key_id, resource_code)
        found = self.grants.get(key)
        if found is None:
            found = await self._through(
                self.grants, key, lambda: self._grant(principal, resource_code, now)
            )
        if isinstance(found, ShuzhiError):
            raise _fresh(found)
        return found

    # ------------------------------------------------------------ datasets

    def _current(self, resource_code: str) -> Version | ShuzhiError:
        with unit_of_work(self.database, SYSTEM) as ctx:
            found = lake.current_version(ctx, resource_code)
        if found is None:
            return NotFound(
                f"目录 {resource_code} 暂无可共享的数据。",
                f"Entry {resource_code} has no data to share yet.",
            )
        return found[1]

    async def version(self, resource_code: str) -> Version:
        found = self.versions.get(resource_code)
        if found is None:
            found = await self._through(
                self.versions, resource_code, lambda: self._current(resource_code)
            )
        if isinstance(found, ShuzhiError):
            raise _fresh(found)
        return found

    async def engine_lookup(
        self, version: Version, key_column: str, value: Any, columns: list[str], limit: int
    ) -> list[dict[str, Any]]:
        """A keyed lookup the engine answers (the version has no key index): at most
        ``engine_lookups`` at once in this process, so that a burst of lookups never becomes
        a pile of whole-file scans; a lookup waits ``key_index_wait_seconds`` for a turn,
        then is answered 503 with ``Retry-After``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.key_index_wait_seconds
        while not self._engine_turns.acquire(blocking=False):
            if loop.time() >= deadline:
                raise Unavailable(
                    "按键查询繁忙，请稍后再试。",
                    "Too many keyed lookups are being answered; try again shortly.",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            await asyncio.sleep(WAIT_STEP_SECONDS)
        try:
            return await run_in_threadpool(
                self.engine.lookup, version, key_column, value, columns, limit
            )
        finally:
            self._engine_turns.release()

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Stop the threads and write every buffered call (graceful shutdown)."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=10)
            try:
                self.nodes.leave()
            except Exception:
                log.exception("removing this gateway node's registration failed")
        self.meter.close()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Application lifespan: on shutdown the meter writes what it still holds.

    At start-up the objects built so far (routes, templates, caches' code) are moved out of
    the garbage collector's reach (``gc.freeze``): full collections then scan only what
    requests create, which keeps their pauses out of the gateway's tail latency. Shutdown
    hands them back (an application created and stopped many times, as in tests, leaks
    nothing).
    """
    gc.freeze()
    runtime: GatewayRuntime | None = getattr(app.state, "gateway", None)
    if runtime is not None:
        runtime.start()
    try:
        yield
    finally:
        gc.unfreeze()
        runtime = getattr(app.state, "gateway", None)
        if runtime is not None:
            await run_in_threadpool(runtime.close)
