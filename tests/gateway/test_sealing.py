"""Call rows sealed by the audit log: any change to them after the write is found by
``audit verify``, on every backend the tests run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Executable, Table, delete, func, insert, select, update

from shuzhi.audit import service as audit
from shuzhi.audit.service import Pending, record_batch
from shuzhi.context import SYSTEM, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.gateway import sealing
from shuzhi.gateway.events import CallsSealed
from shuzhi.gateway.meter import CallRecord, write_calls
from shuzhi.gateway.models import ApiCall, Endpoint, Outcome
from tests.conftest import acting

_CALLS: Table = ApiCall.__table__  # type: ignore[assignment]


def _record(n: int) -> CallRecord:
    return CallRecord(
        call_id=f"s{n:08d}",
        at=datetime(2026, 11, 2, 9, n % 60, n % 60, 1000 + n, tzinfo=UTC),
        endpoint=Endpoint.LOOKUP if n % 2 else Endpoint.RECORDS,
        resource_code="330182-1-01-0001",
        consumer_unit_id=1,
        provider_unit_id=2,
        application_id=3,
        application_code="应用A",
        key_id=4,
        grant_id=5,
        filters=(("身份证号", "eq", f"33018219900101{n:04d}"),),
        digest_key=b"k" * 32,
        rows=n % 2,
        latency_us=900 + n,
        status=200 if n % 2 else 404,
        outcome=Outcome.OK if n % 2 else Outcome.NOT_FOUND,
        client=None if n % 5 == 0 else "10.0.0.7",
    )


def _written(database: Database, calls: int = 30) -> list[int]:
    """Three batches of ``calls``; the seals' sequence numbers."""
    for batch in range(3):
        write_calls(database, [_record(batch * calls + i) for i in range(calls)])
    with acting(database, SYSTEM) as ctx:
        return [e.seq for e in audit.view_audit(ctx, action="gateway.calls_sealed").items][::-1]


def _verify(database: Database) -> tuple[bool, int | None, str]:
    with acting(database, SYSTEM) as ctx:
        report = audit.check_chain(ctx)
    return report.ok, report.first_bad_seq, report.reason or ""


def _change(database: Database, statement: Executable) -> None:
    with unit_of_work(database, SYSTEM) as ctx:
        ctx.db.execute(statement)


def test_untouched_rows_verify_and_every_row_names_its_seal(database: Database) -> None:
    seals = _written(database)
    with acting(database, SYSTEM) as ctx:
        report = audit.check_chain(ctx)
        counts = dict(
            ctx.db.execute(select(ApiCall.seal, func.count()).group_by(ApiCall.seal)).all()
        )
        entries = audit.view_audit(ctx, action="gateway.calls_sealed").items
    assert report.ok and (report.seals, report.sealed_records) == (3, 90)
    assert counts == {seq: 30 for seq in seals}
    assert {e.details["count"] for e in entries} == {30}
    assert sum(e.details["served"] for e in entries) == 45


def test_rows_read_back_as_the_calls_were_recorded(database: Database) -> None:
    """The meter hands rows to the driver itself: through the models they read back as the
    records they came from, on every backend (the time in UTC to the microsecond)."""
    beijing = timezone(timedelta(hours=8))
    records = [_record(n) for n in range(4)]
    records[1] = records[1]._replace(at=records[1].at.astimezone(beijing), client=None)
    write_calls(database, records)
    with acting(database, SYSTEM) as ctx:
        stored = {c.call_id: c for c in ctx.db.scalars(select(ApiCall))}
    for record in records:
        row = stored[record.call_id]
        assert row.at == record.at and row.at.utcoffset() == timedelta(0)
        assert row.day == record.at.astimezone(UTC).date()
        assert (row.endpoint, row.outcome) == (Endpoint(record.endpoint), Outcome(record.outcome))
        assert row.filter == record.filter_text() and "33018219900101" not in row.filter
        assert (row.rows, row.latency_us, row.status, row.client) == (
            record.rows,
            record.latency_us,
            record.status,
            record.client,
        )
        assert row.seal is not None


def test_a_record_of_an_unknown_kind_is_refused(database: Database) -> None:
    """Nothing is written when one record names an endpoint or outcome outside the
    vocabulary (the batch stays whole for the meter to keep)."""
    records = [_record(1), _record(2)._replace(outcome="maybe")]
    with pytest.raises(ValueError, match="unknown endpoint or outcome"):
        write_calls(database, records)
    with acting(database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(func.count()).select_from(ApiCall)) == 0
        assert audit.check_chain(ctx).ok


def test_an_altered_row_breaks_its_seal(database: Database) -> None:
    seals = _written(database)
    # Rows served hidden as "not found": the digest over the middle batch no longer matches.
    _change(database, update(ApiCall).where(ApiCall.call_id == "s00000041").values(rows=0))
    assert _verify(database) == (
        False,
        seals[1],
        f"the 30 call records sealed by entry {seals[1]} differ from their seal (altered)",
    )


def test_a_changed_time_or_filter_breaks_its_seal(database: Database) -> None:
    seals = _written(database)
    later = datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
    _change(database, update(ApiCall).where(ApiCall.call_id == "s00000070").values(at=later))
    ok, seq, reason = _verify(database)
    assert (ok, seq) == (False, seals[2]) and "altered" in reason


def test_a_removed_row_breaks_its_seal(database: Database) -> None:
    seals = _written(database)
    _change(database, delete(ApiCall).where(ApiCall.call_id == "s00000003"))
    assert _verify(database) == (
        False,
        seals[0],
        f"entry {seals[0]} seals 30 call records but 29 name it (call records removed or added)",
    )


def test_a_row_added_under_a_seal_or_without_one_is_found(database: Database) -> None:
    seals = _written(database)
    row = _row(_record(500), "[]")
    _change(database, insert(_CALLS).values(**row, seal=seals[1]))
    ok, seq, reason = _verify(database)
    assert (ok, seq) == (False, seals[1]) and "31 name it" in reason

    _change(database, delete(ApiCall).where(ApiCall.call_id == "s00000500"))
    assert _verify(database)[0]
    _change(database, insert(_CALLS).values(**row))  # no seal at all
    ok, seq, reason = _verify(database)
    assert not ok and "no seal names it (added)" in reason


def test_rows_moved_between_seals_are_found(database: Database) -> None:
    seals = _written(database)
    _change(database, update(ApiCall).where(ApiCall.call_id == "s00000000").values(seal=seals[2]))
    ok, seq, _ = _verify(database)
    assert (ok, seq) == (False, seals[0])


def test_rows_written_before_sealing_keep_verifying(database: Database) -> None:
    """Rows from before the seal column (none) come first and stay unchecked by seals."""
    _change(database, insert(_CALLS).values(**_row(_record(900), "[]")))
    seals = _written(database)
    with acting(database, SYSTEM) as ctx:
        report = audit.check_chain(ctx)
    assert report.ok and report.sealed_records == 90 and len(seals) == 3


def test_a_seal_of_records_nothing_keeps_is_reported(database: Database) -> None:
    event = CallsSealed(
        records="unknown_records",
        count=1,
        digest="0" * 64,
        served=1,
        refused=0,
        first_at="2026-11-02T00:00:00+00:00",
        last_at="2026-11-02T00:00:00+00:00",
    )
    with unit_of_work(database, SYSTEM) as ctx:
        seq = record_batch(ctx, [Pending(SYSTEM, event, datetime.now(UTC))])
    ok, bad, reason = _verify(database)
    assert (ok, bad) == (False, seq) and "'unknown_records', which nothing checks" in reason


def _row(record: CallRecord, filter_text: str) -> dict[str, Any]:
    return {**dict(zip(sealing.FIELDS, record.values(), strict=True)), "filter": filter_text}


def _digest(rows: list[dict[str, Any]]) -> tuple[int, str]:
    return sealing.digest_values([tuple(r[name] for name in sealing.FIELDS) for r in rows])


def test_the_digest_is_over_the_values_not_their_order() -> None:
    rows: list[dict[str, Any]] = [_row(_record(n), f"[{n}]") for n in range(5)]
    count, digest = _digest(rows)
    assert (count, digest) == _digest(list(reversed(rows)))
    assert count == 5 and len(digest) == 64
    changed = [dict(r) for r in rows]
    changed[2]["latency_us"] += 1
    assert _digest(changed)[1] != digest
    # The same instant in another zone (as a driver may give it back) digests the same.
    beijing = timezone(timedelta(hours=8))
    assert _digest(rows) == _digest([{**r, "at": r["at"].astimezone(beijing)} for r in rows])


def test_every_column_of_a_call_is_sealed() -> None:
    """Each stored column but the row's id and its seal is under the digest."""
    assert set(sealing.FIELDS) == {c.name for c in _CALLS.columns} - {"id", "seal"}
    row = _row(_record(7), "[]")
    _, base = _digest([row])
    other = _row(_record(8), '["x"]')
    other["at"] = row["at"] + timedelta(days=1)
    other["day"] = other["at"].date()
    other["endpoint"], other["outcome"] = Endpoint.EXPORT.value, Outcome.ERROR.value
    other["resource_code"], other["application_code"], other["client"] = "R/2", "B", "10.9.9.9"
    for name in ("consumer_unit_id", "provider_unit_id", "application_id", "key_id", "grant_id"):
        other[name] = row[name] + 10
    for name in sealing.FIELDS:
        assert other[name] != row[name], name
        assert _digest([{**row, name: other[name]}])[1] != base, name
