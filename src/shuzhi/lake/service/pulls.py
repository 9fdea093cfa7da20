"""Lake: scheduled pulls from registered sources."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Actor, Ctx, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid, ShuzhiError
from shuzhi.lake import credentials
from shuzhi.lake.events import (
    IngestFailed,
    SourceDefined,
)
from shuzhi.lake.models import Dataset, SourceDefinition
from shuzhi.lake.readers import DatabaseSource
from shuzhi.lake.schedule import parse_schedule
from shuzhi.lake.schemas import (
    SourceIn,
    SourceOut,
    SourceRun,
)
from shuzhi.lake.service.common import safe_url
from shuzhi.lake.service.ingest import _ensure_dataset, _on_failure, entry_facts, ingest
from shuzhi.lake.service.reading import _dataset


def _source_out(ctx: Ctx, dataset: Dataset, s: SourceDefinition) -> SourceOut:
    schedule = parse_schedule(s.schedule)
    base = s.last_run_at or s.created_at
    return SourceOut(
        id=s.id,
        resource_code=dataset.resource_code,
        name=s.name,
        url=s.url,
        table=s.table_name,
        query=s.query,
        schedule=s.schedule,
        active=s.active,
        last_run_at=s.last_run_at,
        last_outcome=s.last_outcome,
        next_run_at=schedule.next_after(base),
    )


def define_source(ctx: Ctx, resource_code: str, data: SourceIn) -> SourceOut:
    """Store a database table or query to be pulled into the dataset on a schedule."""
    unit_id, name, cycle, _items = entry_facts(ctx, resource_code)
    require(ctx, "define_source", unit_id, resource_code)
    if (data.table is None) == (data.query is None):
        raise Invalid.field("table", "请指定表名或查询语句（二选一）。", "Give a table or a query.")
    parse_schedule(data.schedule)
    url = data.url.strip()
    sealed = credentials.seal(url, ctx.settings.credentials_key)
    dataset = _ensure_dataset(ctx, resource_code, unit_id, name, cycle)
    row = SourceDefinition(
        dataset_id=dataset.id,
        name=data.name.strip(),
        url=safe_url(url),
        url_sealed=sealed,
        table_name=data.table,
        query=data.query,
        schedule=data.schedule.strip(),
        created_by=ctx.actor.label,
    )
    ctx.db.add(row)
    ctx.db.flush()
    out = _source_out(ctx, dataset, row)
    record(ctx, SourceDefined(resource_code, unit_id, row.id, out.url, row.schedule))
    return out


def list_sources(ctx: Ctx, resource_code: str) -> list[SourceOut]:
    dataset = _dataset(ctx, resource_code)
    require(ctx, "view_datasets", dataset.unit_id, resource_code)
    rows = ctx.db.scalars(
        select(SourceDefinition)
        .where(SourceDefinition.dataset_id == dataset.id)
        .order_by(SourceDefinition.id)
    )
    return [_source_out(ctx, dataset, s) for s in rows]


def _due(ctx: Ctx, now: datetime) -> list[tuple[int, str]]:
    due = []
    rows = ctx.db.execute(
        select(SourceDefinition, Dataset.resource_code)
        .join(Dataset, Dataset.id == SourceDefinition.dataset_id)
        .where(SourceDefinition.active.is_(True))
        .order_by(SourceDefinition.id)
    ).all()
    for s, code in rows:
        when = parse_schedule(s.schedule).next_after(s.last_run_at or s.created_at)
        if when is not None and when <= now:
            due.append((s.id, str(code)))
    return due


def _stored_source(ctx: Ctx, s: SourceDefinition, code: str) -> DatabaseSource:
    """The source a definition pulls from, its URL unsealed (a failure is audited)."""
    try:
        url = credentials.unseal(s.url_sealed, ctx.settings.credentials_key, f"#{s.id}")
    except ShuzhiError as err:
        dataset = ctx.db.get(Dataset, s.dataset_id)
        what = f"database:{s.url} " + (f"table {s.table_name}" if s.table_name else "query")
        event = IngestFailed(code, dataset.unit_id if dataset else 0, what, err.message.en)
        _on_failure(err, event)
        raise
    return DatabaseSource(url, table=s.table_name, query=s.query)


def _explain(err: ShuzhiError) -> tuple[str, str]:
    """(zh, en) text of an error with its field errors, for a run's outcome."""
    zh, en = err.message.zh, err.message.en
    if isinstance(err, Invalid) and err.errors:
        zh += " " + "；".join(e.message.zh for e in err.errors)
        en += " " + "; ".join(e.message.en for e in err.errors)
    return zh, en


def run_due_sources(
    database: Database, actor: Actor, now: datetime | None = None
) -> list[SourceRun]:
    """Pull every source whose schedule is due, each in its own unit of work."""
    now = now or datetime.now(UTC)
    with unit_of_work(database, actor) as ctx:
        require(ctx, "run_due_sources")
        due = _due(ctx, now)
    runs: list[SourceRun] = []
    for source_id, code in due:
        try:
            with unit_of_work(database, actor) as ctx:
                s = ctx.db.get(SourceDefinition, source_id)
                assert s is not None
                result = ingest(ctx, code, _stored_source(ctx, s, code))
                message = message_zh = f"version {result.version.number}"
                outcome: str = result.outcome
                stored = f"{outcome}: {message}"
        except ShuzhiError as err:
            outcome = "failed"
            message_zh, message = _explain(err)
            stored = f"{outcome}: {message_zh} / {message}"
        with unit_of_work(database, actor) as ctx:
            s = ctx.db.get(SourceDefinition, source_id)
            if s is not None:
                s.last_run_at = now
                s.last_outcome = stored[:1000]
        runs.append(
            SourceRun(
                source_id=source_id,
                resource_code=code,
                outcome=outcome,
                message=message,
                message_zh=message_zh,
            )
        )
    return runs
