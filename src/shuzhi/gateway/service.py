"""Gateway operations: what a consumer's system may read, and the statistics of its calls.

Every consumer call runs the same steps: authenticate the application key (cached), find the
grant for (key, resource code) (cached), check expiry, delivery mode and rate limit, then
read through the query engine with the grant's row filter ANDed to the caller's conditions,
keep only granted columns and mask each per the grant. Whatever happens, the call is metered
and audited through the buffered meter. Consumer operations are ``async`` so a warm keyed
lookup runs without leaving the event loop; anything that may block (a cache miss, a scan,
an export) runs in the thread pool.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from starlette.concurrency import run_in_threadpool

from shuzhi.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ShuzhiError,
    Unauthenticated,
    Unavailable,
)
from shuzhi.gateway.cursor import Position
from shuzhi.gateway.filters import (
    Unfit,
    coerce_key,
    conditions,
    conform,
    matches,
    parse_fields,
    parse_filters,
)
from shuzhi.gateway.meter import CallRecord
from shuzhi.gateway.models import Endpoint, Outcome
from shuzhi.gateway.runtime import GatewayRuntime
from shuzhi.gateway.shaping import Plan, plan, shape
from shuzhi.lake.manifest import Version
from shuzhi.lake.query import Filter, Op, Order
from shuzhi.security.cells import csv_writer
from shuzhi.security.disclosure import Disclosure
from shuzhi.sharing.grants import AppPrincipal, CallGrant, DeliveryMode

LOOKUP_LIMIT = 100
OUTCOMES = {
    401: Outcome.UNAUTHENTICATED,
    403: Outcome.FORBIDDEN,
    404: Outcome.NOT_FOUND,
    422: Outcome.INVALID,
    429: Outcome.RATE_LIMITED,
    503: Outcome.BUSY,
}


EXPORT_MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@dataclass(slots=True)
class Call:
    """One consumer call in progress; what it learns on the way is what gets metered."""

    runtime: GatewayRuntime
    endpoint: Endpoint
    resource_code: str
    token: str | None
    client: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)
    call_id: str = field(default_factory=lambda: next_call_id())
    principal: AppPrincipal | None = None
    grant: CallGrant | None = None
    filters: tuple[Filter, ...] = ()
    rows: int = 0
    deferred: bool = False
    # Turned away unread because the meter is behind: counted, not recorded one by one.
    shed: bool = False

    def finish(self, status: int) -> None:
        """Hand the call to the meter (never raises on the request path)."""
        if self.shed:
            self.runtime.meter.shed(self.resource_code, self.at)
            return
        outcome = Outcome.OK if status < 400 else OUTCOMES.get(status, Outcome.ERROR)
        p, g = self.principal, self.grant
        self.runtime.meter.add(
            CallRecord(
                self.call_id,
                self.at,
                self.endpoint.value,
                self.resource_code,
                p.unit_id if p else None,
                g.provider_unit_id if g else None,
                p.application_id if p else None,
                p.application_code if p else None,
                p.key_id if p else None,
                g.grant_id if g else None,
                conditions(self.filters),
                self.runtime.digest_key,
                self.rows,
                int((time.perf_counter() - self.started) * 1_000_000),
                status,
                outcome.value,
                (self.client or "")[:64] or None,
            )
        )


_ID_BASE = f"{time.time_ns():x}{os.getpid():x}"[-20:]
_id_counter = itertools.count(1)


def next_call_id() -> str:
    """Unique across workers and restarts without reading the OS random source per call."""
    return f"{_ID_BASE}{next(_id_counter):012x}"


class _Metered:
    """Meter the call when the operation ends, successfully or not (exports: at stream end)."""

    def __init__(self, call: Call) -> None:
        self.call = call

    def __enter__(self) -> Call:
        return self.call

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: Any
    ) -> None:
        if err is None:
            if not self.call.deferred:
                self.call.finish(200)
        elif isinstance(err, ShuzhiError):
            self.call.finish(err.status)
        else:
            self.call.finish(500)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dumps(value: Any) -> bytes:
    """Compact JSON, as ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``
    gives it (one encoder for every call instead of one made per call)."""
    return _ENCODER.encode(value).encode("utf-8")


# ---------------------------------------------------------------- admission


async def _admit(call: Call, mode: DeliveryMode) -> tuple[CallGrant, Version]:
    runtime = call.runtime
    if runtime.meter.saturated:
        call.shed = True
        raise Unavailable(
            "调用记录写入滞后，为保证每次调用都有审计记录，请稍后再试。",
            "Call records are being written behind schedule; so that every call stays "
            "audited, try again shortly.",
        )
    if not call.token:
        raise Unauthenticated(
            "请在 Authorization 头中提供应用密钥（Bearer）。",
            "Send the application key as `Authorization: Bearer <key>`.",
        )
    call.principal = principal = await runtime.principal(call.token, call.at)
    call.grant = grant = await runtime.grant(principal, call.resource_code, call.at)
    if grant.expires_at <= call.at:
        raise Forbidden("该授权已过期，请申请续期。", "The grant has expired; ask for a renewal.")
    if mode not in grant.delivery:
        raise Forbidden(
            f"该授权不包含此交付方式（{mode.value}）。",
            f"The grant does not include this delivery mode ({mode.value}).",
        )
    runtime.limiter.take(principal.key_id, grant.grant_id, grant.rate_limit_per_minute)
    return grant, await runtime.version(call.resource_code)


def _available(grant: CallGrant, version: Version) -> dict[str, str]:
    """Granted columns present in the current version (name → type), in grant order."""
    types = version.column_types()
    return {name: types[name] for name in grant.columns if name in types}


def _row_filter(grant: CallGrant, version: Version) -> list[Filter]:
    """The grant's row filter in the version's column types (``filters.conform``): what the
    engine applies to pages and exports and what keyed lookups check rows against, alike.
    Its columns need not be granted ones (a partial approval may drop a column and keep the
    conditions on it): they are read to filter, never served."""
    try:
        return conform(grant.row_filter, version.column_types())
    except Unfit:
        # Fail closed: a row filter that cannot be applied must not widen the grant.
        raise Conflict(
            "授权的行过滤条件与当前数据版本不符，暂停提供数据，请联系提供方。",
            "The grant's row filter does not fit the current data version; nothing is served"
            " until the provider fixes it.",
        ) from None


def _plan(runtime: GatewayRuntime, grant: CallGrant, fields: Sequence[str]) -> Plan:
    cache_key = (grant.grant_id, tuple(fields))
    found = runtime.plans.get(cache_key)
    if found is not None and found[0] is grant:
        return found[1]  # type: ignore[no-any-return]
    made = plan(grant, fields, runtime.mask_key)
    if len(runtime.plans) > 10_000:
        runtime.plans.clear()
    runtime.plans[cache_key] = (grant, made)
    return made


def _engine_failed() -> Invalid:
    # The engine's own message could name a column outside the grant: never pass it on.
    return Invalid.field(
        "f", "查询条件无法执行，请检查条件。", "The conditions cannot be applied; check them."
    )


# ---------------------------------------------------------------- records (keyset pages)


def _binding(call: Call, grant: CallGrant, filters: Sequence[Filter], fields: Sequence[str]) -> str:
    text = json.dumps(
        [call.resource_code, grant.grant_id, [[f.column, str(f.op), f.value] for f in filters]],
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256((text + "\x1f" + ",".join(fields)).encode()).hexdigest()


def _scan(
    runtime: GatewayRuntime,
    version: Version,
    columns: list[str],
    filters: list[Filter],
    order: list[Order],
    limit: int,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        for batch in runtime.engine.scan(version, columns, filters, order, limit=limit):
            rows.extend(batch.to_pylist())
    except Invalid:
        raise _engine_failed() from None
    return rows


def _page(
    runtime: GatewayRuntime,
    version: Version,
    columns: list[str],
    filters: list[Filter],
    after: int,
    limit: int,
) -> list[tuple[int, dict[str, Any]]]:
    try:
        return runtime.engine.scan_positions(version, columns, filters, after, limit)
    except Invalid:
        raise _engine_failed() from None


def disclosure(grant: CallGrant) -> Disclosure:
    """The disclosure rules of a grant: what its caller may not ask about (masked columns)."""
    return Disclosure.from_masking(
        {c: m.level for c, m in grant.masking.items() if grant.allows(c)},
        key_column=grant.key_column,
        operation="call_gateway",
    )


async def read_records(
    call: Call,
    conditions: Sequence[str],
    fields: str | None,
    limit: int | None,
    cursor: str | None,
) -> bytes:
    """One page of granted rows: ``{"items": [...], "next": cursor or null}``.

    Pages follow the stored row order (the row position in the current version), never the
    value of a column: a page ordered by a column the caller sees masked would tell where
    each hidden value sits among the others.
    """
    with _Metered(call):
        runtime = call.runtime
        grant, version = await _admit(call, DeliveryMode.API)
        available = _available(grant, version)
        filters = parse_filters(conditions, available)
        call.filters = tuple(filters)
        disclosure(grant).check_filter(filters)
        chosen = parse_fields(fields, list(available))
        size = runtime.options.default_page if limit is None else limit
        if not 1 <= size <= runtime.options.max_page:
            raise Invalid.field(
                "limit",
                f"每页条数应在 1 到 {runtime.options.max_page} 之间。",
                f"limit must be between 1 and {runtime.options.max_page}.",
            )
        row_filter = _row_filter(grant, version)
        if not available:
            raise NotFound("该授权没有可提供的列。", "The grant has no columns to serve.")
        binding = _binding(call, grant, filters, chosen)
        position = runtime.cursors.decode(cursor, binding) if cursor else Position(-1, 0)
        after = position.after
        if isinstance(after, bool) or not isinstance(after, int) or after < -1:
            raise Invalid.field("cursor", "分页游标无效。", "Invalid cursor.")
        fetched = await run_in_threadpool(
            _page, runtime, version, chosen, row_filter + filters, after, size + 1
        )
        page = fetched[:size]
        following = None
        if len(fetched) > size:
            following = runtime.cursors.encode(Position(page[-1][0], 0), binding)
        how = _plan(runtime, grant, chosen)
        call.rows = len(page)
        return _dumps({"items": [shape(r, how) for _, r in page], "next": following})


# ---------------------------------------------------------------- lookup by key


def _no_record() -> NotFound:
    return NotFound("没有该键对应的记录。", "No record has this key.")


@dataclass(frozen=True)
class _Lookup:
    """What a keyed lookup under one grant, version and field list does, worked out once:
    the checks that do not depend on the key (their refusal, if any, in the order the call
    makes them), the columns to read, the row filter and the shaping plan."""

    grant: CallGrant
    version: Version
    before_key: ShuzhiError | None  # refused before the key is read (no key column, fields…)
    after_key: ShuzhiError | None  # refused once the key is known (the disclosure rules)
    key_column: str
    key_type: str
    needed: list[str]
    row_filter: list[Filter]
    how: Plan


def _prepare_lookup(
    runtime: GatewayRuntime, grant: CallGrant, version: Version, fields: str | None
) -> _Lookup:
    key_column = grant.key_column or ""
    types = version.column_types()
    needed: list[str] = []
    row_filter: list[Filter] = []
    how: Plan = ()
    before: ShuzhiError | None = None
    after: ShuzhiError | None = None
    try:
        available = _available(grant, version)
        if grant.key_column is None or key_column not in types:
            raise NotFound("该授权不支持按键查询。", "This grant does not offer lookups by key.")
        chosen = parse_fields(fields, list(available))
        row_filter = _row_filter(grant, version)
        needed = list(dict.fromkeys([*chosen, *(f.column for f in row_filter)]))
        how = _plan(runtime, grant, chosen)
    except ShuzhiError as err:
        before = err
    if before is None:
        try:
            disclosure(grant).check_lookup(key_column)
        except ShuzhiError as err:
            after = err
    return _Lookup(
        grant,
        version,
        before,
        after,
        key_column,
        types.get(key_column, ""),
        needed,
        row_filter,
        how,
    )


def _lookup_plan(
    runtime: GatewayRuntime, grant: CallGrant, version: Version, fields: str | None
) -> _Lookup:
    """The prepared lookup, cached per (grant, version, fields) as long as the runtime's
    caches hand out the same grant and version objects (a refresh makes new ones)."""
    cache_key = ("lookup", grant.grant_id, version.version_id, fields)
    found = runtime.plans.get(cache_key)
    if found is not None and found.grant is grant and found.version is version:
        return found  # type: ignore[no-any-return]
    made = _prepare_lookup(runtime, grant, version, fields)
    if len(runtime.plans) > 10_000:
        runtime.plans.clear()
    runtime.plans[cache_key] = made
    return made


def _again(err: ShuzhiError) -> ShuzhiError:
    """A cached refusal raised anew (a fresh instance, so no traceback accumulates)."""
    clone = type(err).__new__(type(err))
    clone.__dict__.update(err.__dict__)
    clone.args = err.args
    return clone


async def lookup_record(call: Call, key: str, fields: str | None) -> bytes:
    """The granted, masked record whose key column equals ``key``; 404 when there is none."""
    with _Metered(call):
        runtime = call.runtime
        grant, version = await _admit(call, DeliveryMode.API)
        how = _lookup_plan(runtime, grant, version, fields)
        if how.before_key is not None:
            raise _again(how.before_key)
        try:
            value = coerce_key(key, how.key_type)
        except ValueError:
            raise _no_record() from None
        call.filters = (Filter(how.key_column, Op.EQ, value),)
        if how.after_key is not None:
            raise _again(how.after_key)
        index = None
        if runtime.options.key_index:
            wait = runtime.options.key_index_wait_seconds
            index = await runtime.keys.ready(version, how.key_column, wait)
        if index is not None:
            rows = index.get(value, how.needed, LOOKUP_LIMIT)
        else:
            rows = await runtime.engine_lookup(
                version, how.key_column, value, how.needed, LOOKUP_LIMIT
            )
        row_filter = how.row_filter
        found = next((r for r in rows if matches(r, row_filter)), None)
        if found is None:
            raise _no_record()
        call.rows = 1
        return _dumps(shape(found, how.how))


# ---------------------------------------------------------------- bulk export


class _Sink(io.RawIOBase):
    """A write-only file whose bytes are handed out as they are written (streamed export)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else str(value)


def _export_chunks(
    call: Call,
    version: Version,
    fmt: str,
    chosen: list[str],
    filters: list[Filter],
    how: Plan,
) -> Iterator[bytes]:
    runtime = call.runtime
    status = 200
    try:
        sink = _Sink()
        if fmt == "csv":
            text = io.StringIO()
            writer = csv_writer(text)
            writer.writerow(chosen)
            for batch in runtime.engine.scan(version, chosen, filters):
                for row in batch.to_pylist():
                    shaped = shape(row, how)
                    writer.writerow([shaped[c] for c in chosen])
                    call.rows += 1
                yield text.getvalue().encode("utf-8")
                text.seek(0)
                text.truncate()
            yield text.getvalue().encode("utf-8")
            return
        schema = pa.schema([(c, pa.string()) for c in chosen])
        with pq.ParquetWriter(sink, schema, compression="zstd") as parquet:
            for batch in runtime.engine.scan(version, chosen, filters):
                out = [shape(r, how) for r in batch.to_pylist()]
                columns = [pa.array([_text(r[c]) for r in out], pa.string()) for c in chosen]
                parquet.write_table(pa.Table.from_arrays(columns, schema=schema))
                call.rows += len(out)
                yield sink.take()
        yield sink.take()
    except GeneratorExit:
        status = 499  # the client went away; what was sent is still metered
        raise
    except Exception:
        status = 500
        raise
    finally:
        call.finish(status)


async def export_records(
    call: Call, fmt: str, conditions: Sequence[str], fields: str | None
) -> tuple[str, Iterator[bytes]]:
    """A streamed file (CSV or Parquet) of every granted row matching the conditions."""
    with _Metered(call):
        runtime = call.runtime
        if fmt not in EXPORT_MEDIA:
            raise Invalid.field("format", "格式应为 csv 或 parquet。", "format is csv or parquet.")
        grant, version = await _admit(call, DeliveryMode.BULK)
        available = _available(grant, version)
        filters = parse_filters(conditions, available)
        call.filters = tuple(filters)
        disclosure(grant).check_filter(filters)
        chosen = parse_fields(fields, list(available))
        all_filters = _row_filter(grant, version) + filters
        how = _plan(runtime, grant, chosen)
        # Check the conditions before the first byte is sent (errors after it cannot be 4xx).
        await run_in_threadpool(_scan, runtime, version, chosen[:1], all_filters, [], 0)
        call.deferred = True
        return EXPORT_MEDIA[fmt], _export_chunks(call, version, fmt, chosen, all_filters, how)
