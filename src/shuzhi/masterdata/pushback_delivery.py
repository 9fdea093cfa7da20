"""Delivering push-backs: after every run that becomes current, each live push-back of the
library gets a new lake version of its dataset holding exactly the golden records of its
area and special group, loaded through the lake's ordinary ingest (versioned, classified,
quality-checked; an unchanged selection is the same version again).

Transactions: the run is committed first — it is current whatever happens to the
deliveries — and each push-back is then delivered and recorded in a transaction of its own
(``lake.ingest`` commits its load; the status row follows). A delivery that fails (the lake
refuses the load, the selection is empty, anything unexpected) is rolled back alone and
recorded as failed with its reason: the street keeps reading the previous version, and the
other push-backs are delivered as usual. A run that fails or is not made current delivers
nothing: this module is only called once the run is current.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import require
from shuzhi.context import Ctx
from shuzhi.db.base import utcnow
from shuzhi.errors import Invalid, ShuzhiError
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.masterdata import pushback_channel as channel
from shuzhi.masterdata.models import (
    LibraryKind,
    MasterdataEntity,
    MasterdataLibrary,
    MasterdataMembership,
)
from shuzhi.masterdata.pushback import library_row, pushback_out, pushback_row
from shuzhi.masterdata.pushback_events import PushbackDelivered, PushbackDeliveryFailed
from shuzhi.masterdata.pushback_models import (
    DeliveryStatus,
    MasterdataPushback,
    MasterdataPushbackDelivery,
    PushbackStatus,
)
from shuzhi.masterdata.pushback_schemas import PushbackOut
from shuzhi.masterdata.pushback_select import (
    Area,
    Condition,
    Selection,
    column_names,
    golden_value,
    parsed,
    table,
)
from shuzhi.masterdata.schemas import ELEMENTS
from shuzhi.org import service as org
from shuzhi.security.masking import MaskLevel

logger = logging.getLogger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """The day ages are counted on (China Standard Time)."""
    return datetime.now(CHINA).date()


Chosen = list[tuple[str, Mapping[str, Any]]]


def _sources(ctx: Ctx, run_id: int, codes: set[str]) -> dict[str, set[str]]:
    """The entities with a record in each member dataset a condition names."""
    return {
        code: set(
            ctx.db.scalars(
                select(MasterdataMembership.entity_id)
                .where(
                    MasterdataMembership.run_id == run_id,
                    MasterdataMembership.resource_code == code,
                )
                .distinct()
            )
        )
        for code in codes
    }


def _select_all(
    ctx: Ctx, run_id: int, selections: Mapping[int, Selection], day: date
) -> dict[int, Chosen]:
    """Every push-back's records from one pass over the run's golden records of each
    division: streamed, each address parsed once, only the delivered values kept."""
    needed = {c.resource_code for s in selections.values() for c in s.conditions}
    sources = _sources(ctx, run_id, {c for c in needed if c})
    chosen: dict[int, Chosen] = {i: [] for i in selections}
    by_division: dict[str, list[int]] = {}
    for i, s in selections.items():
        by_division.setdefault(s.area.division_code, []).append(i)
    for division, ids in by_division.items():
        stream = ctx.db.execute(
            select(MasterdataEntity.entity_id, MasterdataEntity.golden)
            .where(MasterdataEntity.run_id == run_id, MasterdataEntity.adcode == division)
            .execution_options(yield_per=5_000)
        )
        for entity_id, golden in stream:
            text = golden_value(golden, "address")
            if text is None:
                continue
            address = parsed(text, division)
            for i in ids:
                if selections[i].wants(entity_id, golden, address, day, sources):
                    chosen[i].append((str(entity_id), selections[i].kept(golden)))
    return {i: sorted(rows, key=lambda e: e[0]) for i, rows in chosen.items()}


def _selection(row: MasterdataPushback) -> Selection:
    return Selection(
        Area.of(row.division_code, row.street, row.community),
        tuple(Condition.of(c) for c in row.conditions),
        tuple(row.columns),
    )


def _empty() -> Invalid:
    return Invalid(
        "本次运行中没有符合该反哺范围和条件的记录；湖仓不接收空版本，接收单位仍看到上一版本。"
        "请检查街道、社区和条件，或停止该反哺。",
        "No golden record of this run falls in the push-back's area and group; the lake"
        " takes no empty version, so the street still reads the previous one. Check the"
        " street, community and conditions, or retire the push-back.",
    )


def _ensure_grant(ctx: Ctx, library: MasterdataLibrary, row: MasterdataPushback) -> None:
    """A grant that ran out (three years) is issued again as the definition decided; one
    that was revoked is left revoked: someone decided so."""
    if channel.grant_state(ctx, row.grant_id, utcnow()) != "expired":
        return
    kind = LibraryKind(library.kind)
    target = org.unit_brief(ctx, row.target_unit_id)
    assert target is not None
    row.grant_id = channel.issue_grant(
        ctx,
        resource_code=row.resource_code,
        app_code=row.application_code,
        target_code=target.code,
        library_name=library.name,
        name=row.name,
        columns=column_names(kind, list(row.columns)),
        masking={ELEMENTS[kind][a]: MaskLevel(v) for a, v in row.masking.items()},
    )


def _deliver_one(
    ctx: Ctx, library: MasterdataLibrary, row: MasterdataPushback, chosen: Chosen
) -> tuple[int, int, str]:
    """Load the selection as a new version: (rows, version number, outcome)."""
    if not chosen:
        raise _empty()
    data = table(LibraryKind(library.kind), list(row.columns), chosen)
    _ensure_grant(ctx, library, row)
    code = row.resource_code
    with tempfile.TemporaryDirectory(prefix="shuzhi-pushback-") as tmp:
        path = Path(tmp) / f"pushback-{row.id}.parquet"
        pq.write_table(data, path)
        with channel.as_platform(ctx):
            loaded = lake.ingest(ctx, code, FileSource(path))
    if loaded.version.status != "current":
        raise Invalid(
            f"第 {loaded.version.number} 版与目录不一致，待审核，未成为当前版本。",
            f"Version {loaded.version.number} differs from the catalogue entry and waits for"
            " review; it did not become current.",
        )
    return data.num_rows, loaded.version.number, loaded.outcome


def _succeeded(
    ctx: Ctx,
    library: MasterdataLibrary,
    pushback_id: int,
    run_id: int,
    actor: str,
    done: tuple[int, int, str],
) -> None:
    rows, version, outcome = done
    row = pushback_row(ctx, library, pushback_id)
    row.status, row.last_run_id, row.rows, row.version = PushbackStatus.OK, run_id, rows, version
    row.delivered_at, row.error_zh, row.error_en = utcnow(), "", ""
    ctx.db.add(
        MasterdataPushbackDelivery(
            pushback_id=row.id,
            run_id=run_id,
            status=DeliveryStatus.OK,
            rows=rows,
            version=version,
            outcome=outcome,
            created_by=actor,
        )
    )
    ctx.db.flush()
    record(
        ctx,
        PushbackDelivered(
            library.code,
            row.id,
            library.unit_id,
            row.target_unit_id,
            run_id,
            rows,
            version,
            outcome,
        ),
    )


def _failed(
    ctx: Ctx,
    library: MasterdataLibrary,
    pushback_id: int,
    run_id: int,
    actor: str,
    zh: str,
    en: str,
) -> None:
    row = pushback_row(ctx, library, pushback_id)
    row.status, row.last_run_id = PushbackStatus.FAILED, run_id
    row.error_zh, row.error_en = zh[:2000], en[:2000]
    ctx.db.add(
        MasterdataPushbackDelivery(
            pushback_id=row.id,
            run_id=run_id,
            status=DeliveryStatus.FAILED,
            rows=0,
            error_zh=zh[:2000],
            error_en=en[:2000],
            created_by=actor,
        )
    )
    ctx.db.flush()
    record(
        ctx,
        PushbackDeliveryFailed(
            library.code, row.id, library.unit_id, row.target_unit_id, run_id, en[:500]
        ),
        outcome="failed",
    )


def _explain(err: ShuzhiError) -> tuple[str, str]:
    zh, en = err.message.zh, err.message.en
    if isinstance(err, Invalid) and err.errors:
        zh += " " + "；".join(e.message.zh for e in err.errors)
        en += " " + "; ".join(e.message.en for e in err.errors)
    return zh, en


def _deliver(ctx: Ctx, code: str, only: int | None = None) -> list[int]:
    """Deliver the live push-backs of library ``code`` from its current run, each in a
    transaction of its own; returns their ids."""
    library = library_row(ctx, code)
    run_id = library.current_run_id
    if run_id is None:
        return []
    query = select(MasterdataPushback).where(
        MasterdataPushback.library_id == library.id,
        MasterdataPushback.status != PushbackStatus.RETIRED,
    )
    if only is not None:
        query = query.where(MasterdataPushback.id == only)
    rows = list(ctx.db.scalars(query.order_by(MasterdataPushback.id)))
    ids, actor = [r.id for r in rows], ctx.actor.label
    problem: tuple[str, str] | None = None
    try:
        selected = _select_all(ctx, run_id, {r.id: _selection(r) for r in rows}, today())
    except Exception as exc:  # nothing is delivered, each push-back says why
        logger.exception("push-backs of %s: selection failed", code)
        ctx.db.rollback()
        selected = {}
        problem = (
            f"选取记录时出错：{type(exc).__name__}",
            f"Selection failed: {type(exc).__name__}",
        )
    for pushback_id in ids:
        if problem is not None:
            _failed(ctx, library_row(ctx, code), pushback_id, run_id, actor, *problem)
            ctx.db.commit()
            continue
        try:
            library = library_row(ctx, code)
            row = pushback_row(ctx, library, pushback_id)
            done = _deliver_one(ctx, library, row, selected.pop(pushback_id, []))
        except ShuzhiError as err:
            ctx.db.rollback()
            if err.after_rollback is not None:
                err.after_rollback(ctx)  # the lake's record of the refused load
            library = library_row(ctx, code)
            _failed(ctx, library, pushback_id, run_id, actor, *_explain(err))
        except Exception as exc:  # a delivery never undoes the run or the other deliveries
            logger.exception("push-back %s of %s failed", pushback_id, code)
            ctx.db.rollback()
            library = library_row(ctx, code)
            _failed(
                ctx,
                library,
                pushback_id,
                run_id,
                actor,
                f"交付时出错：{type(exc).__name__}",
                f"The delivery failed: {type(exc).__name__}",
            )
        else:
            library = library_row(ctx, code)
            _succeeded(ctx, library, pushback_id, run_id, actor, done)
        ctx.db.commit()
    return ids


def deliver_after_run(ctx: Ctx, code: str) -> None:
    """Called by a library run once it is current (and only then): commits the run, then
    delivers every live push-back of the library from it."""
    ctx.db.commit()
    _deliver(ctx, code)


def refresh_masterdata_pushbacks(
    ctx: Ctx, code: str, pushback_id: int | None = None
) -> list[PushbackOut]:
    """Deliver a library's push-backs (or one) now, from its current run: after defining one,
    or to retry a failed delivery."""
    library = library_row(ctx, code)
    require(ctx, "refresh_masterdata_pushbacks", library.unit_id, library.code)
    if pushback_id is not None:
        pushback_row(ctx, library, pushback_id)
    if library.current_run_id is None:
        raise Invalid(
            f"基础库 {library.code} 还没有成功的运行，无可反哺的数据。",
            f"Base library {library.code} has no successful run yet: nothing to deliver.",
        )
    ctx.db.commit()
    ids = _deliver(ctx, code, pushback_id)
    library = library_row(ctx, code)
    return [pushback_out(ctx, library, pushback_row(ctx, library, i)) for i in ids]
