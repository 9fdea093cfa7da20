"""Reading entities: a golden record with provenance, its source records and history, by
entity ID or by a valid resident ID / USCC. Checked, masked per reader, audited, found or
not; a lookup answers "not found" alike for every reason, after the same work."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.audit.service import record
from shuzhi.auth.permissions import allowed, require
from shuzhi.context import Ctx
from shuzhi.errors import Invalid, NotFound
from shuzhi.masterdata import runner
from shuzhi.masterdata.events import EntityNotFound, EntityViewed
from shuzhi.masterdata.models import (
    EventKind,
    LibraryKind,
    MasterdataEntity,
    MasterdataEvent,
    MasterdataLibrary,
    MasterdataMembership,
)
from shuzhi.masterdata.normalize.evidence import Check
from shuzhi.masterdata.normalize.legal_ids import read_uscc
from shuzhi.masterdata.normalize.resident_ids import read_resident_id
from shuzhi.masterdata.schemas import EntityOut, EventOut, GoldenValueOut, SourceRecordRef
from shuzhi.masterdata.service.common import NOT_FOUND, in_clear, mask_value, unit_code_of


def _entity_out(
    ctx: Ctx, library: MasterdataLibrary, row: MasterdataEntity, clear: bool
) -> EntityOut:
    kind = library.kind.value if isinstance(library.kind, LibraryKind) else str(library.kind)
    golden: dict[str, GoldenValueOut] = {}
    for attribute, v in row.golden.items():
        value = v.get("value")
        if value is not None and not clear:
            value = mask_value(str(value), runner.category(kind, attribute))
        unit_id = v.get("unit_id")
        golden[attribute] = GoldenValueOut(
            value=value,
            resource_code=v.get("resource_code"),
            unit_code=unit_code_of(ctx, int(unit_id)) if unit_id else None,
            version=v.get("version"),
            loaded_at=v.get("loaded_at"),
            row=v.get("row"),
            rule=str(v.get("rule", "")),
        )
    records = ctx.db.execute(
        select(
            MasterdataMembership.resource_code,
            MasterdataMembership.version,
            MasterdataMembership.row,
        )
        .where(
            MasterdataMembership.run_id == row.run_id,
            MasterdataMembership.entity_id == row.entity_id,
        )
        .order_by(MasterdataMembership.resource_code, MasterdataMembership.row)
    ).all()
    events = ctx.db.scalars(
        select(MasterdataEvent)
        .where(
            MasterdataEvent.library_id == library.id,
            MasterdataEvent.entity_id == row.entity_id,
        )
        .order_by(MasterdataEvent.id)
    )
    return EntityOut(
        library=library.code,
        entity_id=row.entity_id,
        kind=LibraryKind(library.kind),
        run_id=row.run_id,
        members=row.members,
        golden=golden,
        records=[SourceRecordRef(resource_code=r[0], version=r[1], row=r[2]) for r in records],
        events=[
            EventOut(
                run_id=e.run_id,
                kind=EventKind(e.kind),
                others=list(e.others),
                reason=e.reason,
                created_at=e.created_at,
            )
            for e in events
        ],
        masked=not clear,
    )


def _readable(ctx: Ctx, operation: str, code: str) -> tuple[MasterdataLibrary | None, bool]:
    """The library if it exists and the reader may read it, else None (alike for the
    reader); and whether it was a refusal (the library exists), for the audit log only."""
    if not ctx.actor.is_authenticated:
        require(ctx, operation)  # raises Unauthenticated
    library = ctx.db.scalar(select(MasterdataLibrary).where(MasterdataLibrary.code == code))
    if library is None:
        return None, False
    if not allowed(ctx, operation, library.unit_id):
        return None, True
    return library, False


def _not_found(library: str, key: str, via: str, refused: bool) -> NotFound:
    err = NotFound(*NOT_FOUND)
    err.after_rollback = lambda c: record(
        c, EntityNotFound(library, key, via, refused), "refused" if refused else "ok"
    )
    return err


def _current_entity(
    ctx: Ctx, library: MasterdataLibrary | None, column: str, value: str
) -> MasterdataEntity | None:
    run_id = library.current_run_id if library is not None else -1
    field = MasterdataEntity.entity_id if column == "entity_id" else MasterdataEntity.ident
    return ctx.db.scalar(
        select(MasterdataEntity)
        .where(MasterdataEntity.run_id == (run_id or -1), field == value)
        .order_by(MasterdataEntity.entity_id)
        .limit(1)
    )


def view_masterdata_entity(ctx: Ctx, code: str, entity_id: str) -> EntityOut:
    """An entity's golden record with provenance, its source records and its history."""
    library, refused = _readable(ctx, "view_masterdata_entity", code)
    row = _current_entity(ctx, library, "entity_id", entity_id.strip()[:40])
    if library is None or row is None:
        raise _not_found(code[:64], entity_id[:40], "entity", refused)
    clear = in_clear(ctx, library)
    out = _entity_out(ctx, library, row, clear)
    record(ctx, EntityViewed(library.code, row.entity_id, library.unit_id, "entity", not clear))
    return out


def lookup_masterdata_entity(
    ctx: Ctx, code: str, *, resident_id: str | None = None, uscc: str | None = None
) -> EntityOut:
    """The entity whose golden resident ID (person libraries) or USCC (legal entities) is the
    key given. The key must be a valid one (check character and all): a lookup is never a
    way to test guesses digit by digit."""
    if (resident_id is None) == (uscc is None):
        raise Invalid(
            "请给出 resident_id 或 uscc 之一。", "Give exactly one of resident_id and uscc."
        )
    if resident_id is not None:
        evidence = read_resident_id(resident_id[:40])
        if not evidence.valid or evidence.number is None:
            raise Invalid("公民身份号码格式或校验位不正确。", "Not a valid resident ID.")
        key, kind, masked_key = evidence.number, LibraryKind.PERSON, "resident_id"
    else:
        read = read_uscc((uscc or "")[:40])
        if read.check is not Check.VALID or read.value is None:
            raise Invalid("统一社会信用代码格式或校验位不正确。", "Not a valid USCC.")
        key, kind, masked_key = read.value, LibraryKind.LEGAL_ENTITY, "uscc"
    library, refused = _readable(ctx, "lookup_masterdata_entity", code)
    # The same query runs whether or not the library may be read (no timing difference).
    row = _current_entity(ctx, library, "ident", key)
    shown = f"{masked_key}:{mask_value(key, masked_key)}"
    if library is None or row is None or LibraryKind(library.kind) is not kind:
        raise _not_found(code[:64], shown, "lookup", refused)
    clear = in_clear(ctx, library)
    out = _entity_out(ctx, library, row, clear)
    record(ctx, EntityViewed(library.code, row.entity_id, library.unit_id, "lookup", not clear))
    return out
