"""The audit log at a year's volume: appending, quick and full verification, bytes per entry.

    python -m benchmarks.audit_bench [--entries 100000] [--batch 500] [--workdir DIR]
                                     [--database-url URL | --postgres] [--archive]

Appends ``--entries`` data-use entries (``sandbox.query_run``, about 220 characters of
details, with ``record_batch`` in batches of ``--batch`` as buffered writers do, anchored and
checkpointed every 1000 entries),
then times the default verification (from the newest signed checkpoint) and the full one,
and measures the storage per entry (SQLite: the database file's growth; PostgreSQL:
``pg_total_relation_size`` of the entry table, indexes included; ``--postgres`` starts a
throw-away server like the tests do). Figures for 10 M and
48 M entries (a year at the measured call volume) are extrapolated linearly from the run
and marked as such. Targets: quick verification under 10 s at 10 M entries. ``--archive``
then moves the log to an archive file (``shuzhi audit archive``) and times the archiving, the
file's bytes per entry and the full verification reading it back.
"""

from __future__ import annotations

import argparse
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

SECRET = "audit-bench-secret-key-0123456789abcdef"
YEAR = 48_000_000
TEN_M = 10_000_000


def _settings(data_dir: Path, url: str | None) -> Any:
    from shuzhi.settings import Settings

    db_url = url or f"sqlite:///{data_dir / 'shuzhi.db'}"
    return Settings(data_dir, db_url, SECRET).with_overrides(
        audit_anchor_every=1000, audit_anchor_seconds=0
    )


def _size(database: Any) -> int:
    """SQLite: the database's size in pages (the file once the WAL is folded in);
    PostgreSQL: the entry table with its indexes and TOAST."""
    with database.engine.connect() as conn:
        if database.settings.database_url.startswith("sqlite"):
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            return int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
        return int(conn.execute(text("SELECT pg_total_relation_size('audit_entry')")).scalar_one())


def run(args: argparse.Namespace) -> dict[str, float]:
    from shuzhi.audit.service import Pending, check_chain, record_batch
    from shuzhi.context import SYSTEM, Actor, unit_of_work
    from shuzhi.db.engine import Database
    from shuzhi.db.migrate import upgrade
    from shuzhi.sandbox.events import QueryRun

    workdir: Path = args.workdir
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    database = Database(_settings(workdir, args.database_url))
    if args.database_url:
        with database.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(database)
    if args.without_time_index:  # the schema before audit_0002's index
        with database.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_audit_entry_at"))
    size_before = _size(database)
    apps = [Actor(kind="api_key", id=i, name=f"app-{i:04d}") for i in range(40)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    n, batch = args.entries, args.batch
    began = time.perf_counter()
    written = 0
    while written < n:
        size = min(batch, n - written)
        items = []
        for i in range(written, written + size):
            event = QueryRun(
                query_id=i + 1,
                unit=i % 25 + 1,
                application=f"app-{i % 40:04d}",
                sql=f"SELECT 街道, count(*) FROM RSJ_{i % 300:04d} WHERE 年度 = 2025 GROUP BY 街道",
                plan={"run": uuid.uuid4().hex, "rows": 100},
                rows_released=100,
                suppressed=0,
            )
            items.append(Pending(apps[i % 40], event, start + timedelta(seconds=i)))
        with unit_of_work(database, SYSTEM) as ctx:
            record_batch(ctx, items)
        written += size
    append_s = time.perf_counter() - began
    size_after = _size(database)
    with database.engine.connect() as conn:
        details = float(
            conn.execute(text("SELECT avg(length(details)) FROM audit_entry")).scalar() or 0
        )
        checkpoints = int(conn.execute(text("SELECT count(*) FROM audit_checkpoint")).scalar_one())
    with unit_of_work(database, SYSTEM) as ctx:
        began = time.perf_counter()
        quick = check_chain(ctx, full=False)
        quick_s = time.perf_counter() - began
        began = time.perf_counter()
        full = check_chain(ctx, full=True)
        full_s = time.perf_counter() - began
    assert quick.ok and full.ok, (quick, full)
    archived = _archive(database, start + timedelta(seconds=n)) if args.archive else {}
    database.dispose()
    return archived | {
        "entries": n,
        "append_s": append_s,
        "bytes_per_entry": (size_after - size_before) / n,
        "details_chars": details,
        "checkpoints": checkpoints,
        "quick_s": quick_s,
        "quick_checked": quick.checked,
        "full_s": full_s,
    }


def _archive(database: Any, before: datetime) -> dict[str, float]:
    """Move every entry up to the newest checkpoint to an archive file, then check it all."""
    from shuzhi.audit import archive
    from shuzhi.audit.service import archive_audit, check_chain
    from shuzhi.context import SYSTEM, unit_of_work

    began = time.perf_counter()
    with unit_of_work(database, SYSTEM) as ctx:
        report = archive_audit(ctx, before)
    with unit_of_work(database, SYSTEM) as ctx:
        archive.finish_removal(ctx)
    archive_s = time.perf_counter() - began
    with unit_of_work(database, SYSTEM) as ctx:
        began = time.perf_counter()
        full = check_chain(ctx, full=True)
        full_s = time.perf_counter() - began
        quick = check_chain(ctx, full=False)
    assert full.ok and quick.ok, (full, quick)
    return {
        "archived": report.removed,
        "archive_s": archive_s,
        "archive_bytes_per_entry": report.bytes / report.removed,
        "full_archived_s": full_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-audit-bench"))
    parser.add_argument("--database-url", default=None, help="PostgreSQL (its schema is reset)")
    parser.add_argument(
        "--without-time-index", action="store_true", help="drop the index on the time first"
    )
    parser.add_argument("--postgres", action="store_true", help="on a throw-away server")
    parser.add_argument(
        "--archive", action="store_true", help="then archive the log to a file and re-verify"
    )
    args = parser.parse_args()
    server = None
    if args.postgres:
        from tests import pg

        server = pg.start()
        args.database_url = server.admin_url
    try:
        r = run(args)
    finally:
        if server is not None and callable(server.stop):
            server.stop()
    n = r["entries"]
    scale_10m, scale_year = TEN_M / n, YEAR / n
    backend = "postgresql" if args.database_url else "sqlite"
    rows = [
        (
            "backend",
            backend + (" (no time index)" if args.without_time_index else ""),
            "",
            "",
        ),
        ("entries appended", f"{n:,}", "", ""),
        ("append rate (entries/s)", f"{n / r['append_s']:,.0f}", "", ""),
        ("bytes per entry (table + indexes)", f"{r['bytes_per_entry']:,.0f}", "", ""),
        ("  of which details JSON (chars)", f"{r['details_chars']:,.0f}", "", ""),
        (
            "storage",
            f"{r['bytes_per_entry'] * n / 1e6:,.1f} MB",
            f"{r['bytes_per_entry'] * TEN_M / 1e9:,.1f} GB*",
            f"{r['bytes_per_entry'] * YEAR / 1e9:,.1f} GB*",
        ),
        ("checkpoints", f"{r['checkpoints']:,}", f"{TEN_M // 1000:,}*", f"{YEAR // 1000:,}*"),
        (
            "quick verify (s)",
            f"{r['quick_s']:.3f} ({r['quick_checked']} entries read)",
            # What grows with the log is the checkpoints and anchor lines it checks.
            f"{r['quick_s'] * scale_10m:.1f}* (upper bound)",
            f"{r['quick_s'] * scale_year:.1f}* (upper bound)",
        ),
        (
            "full verify (s)",
            f"{r['full_s']:.1f}",
            f"{r['full_s'] * scale_10m:,.0f}*",
            f"{r['full_s'] * scale_year:,.0f}*",
        ),
        ("full verify rate (entries/s)", f"{n / r['full_s']:,.0f}", "", ""),
    ]
    if "archived" in r:
        per = r["archive_bytes_per_entry"]
        rows += [
            ("entries archived", f"{r['archived']:,.0f}", "", ""),
            ("archiving (s)", f"{r['archive_s']:.1f}", f"{r['archive_s'] * scale_10m:,.0f}*", ""),
            (
                "archive file bytes per entry",
                f"{per:,.0f}",
                f"{per * TEN_M / 1e9:,.1f} GB*",
                f"{per * YEAR / 1e9:,.1f} GB*",
            ),
            (
                "full verify from the archive (s)",
                f"{r['full_archived_s']:.1f}",
                f"{r['full_archived_s'] * scale_10m:,.0f}*",
                f"{r['full_archived_s'] * scale_year:,.0f}*",
            ),
        ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    header = ("", "measured", "10 M", "48 M (a year)")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    print("* extrapolated linearly from the measured run")


if __name__ == "__main__":
    main()
