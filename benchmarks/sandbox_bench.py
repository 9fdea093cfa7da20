"""The sandbox's cost: one GROUP BY as plain DuckDB SQL, through the sandbox with its
minimum group size, and with differential privacy.

    python -m benchmarks.sandbox_bench [--rows 10000000] [--repeat 20] [--workdir DIR]

Two datasets of ``--rows`` rows are generated and loaded through the lake: a register with
one row per person, and visits with five rows per person (so people must be counted as
distinct). Per dataset, the same question — elderly residents with a chronic condition per
community (300 communities), their count and mean cost — is asked ``--repeat`` times, after
one unmeasured first run, in three ways:

(a) plain SQL on the version's Parquet file with DuckDB (what an unrestricted user runs);
(b) through ``sandbox.service.run_query`` under a grant with k = 10: parsing, checking,
    grant lookup, the statement with its people count per group, suppression, audit;
(c) the same under a grant that requires differential privacy (ε 0.1 per query).

Prints p50 and p95 per way and dataset, and (b)/(a). Targets: (b) p95 ≤ 1 s and ≤ 1.5×
(a); (c) p95 ≤ 3 s. The machine's load (``uptime``) is printed before and after.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from benchmarks.population import another_entry, population_entry

SECRET = "sandbox-bench-secret-" + "x" * 40
COLUMNS = ["身份证号", "社区", "年龄", "慢病", "医疗费用"]
QUESTION = (
    'SELECT 社区, COUNT(*) AS n, AVG(医疗费用) AS fee FROM "{table}"'
    " WHERE 年龄 >= 60 AND 慢病 = '是' GROUP BY 社区"
)
TERMS: dict[str, Any] = {
    "columns": {
        "身份证号": "join_key",
        "社区": "dimension",
        "年龄": "dimension",
        "慢病": "dimension",
        "医疗费用": "aggregate",
    },
    "entity_column": "身份证号",
    "k": 10,
}
DP_TERMS = TERMS | {"dp_required": True, "epsilon": 10.0, "bounds": {"医疗费用": [0, 5000]}}


def _generate(path: Path, rows: int, rows_per_person: int) -> None:
    people = rows // rows_per_person
    reader = (
        duckdb.connect()
        .sql(
            f"""SELECT printf('P%010d', i % {people}) AS 身份证号,
                   printf('社区%03d', hash(i % {people}) % 300) AS 社区,
                   CAST(hash(i % {people}, 7) % 100 AS INTEGER) AS 年龄,
                   CASE WHEN hash(i, 3) % 3 = 0 THEN '是' ELSE '否' END AS 慢病,
                   CAST(hash(i, 11) % 500000 AS DOUBLE) / 100 AS 医疗费用
            FROM range({rows}) t(i)"""
        )
        .to_arrow_reader(1_000_000)
    )
    with pq.ParquetWriter(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)


def _prepare(workdir: Path, rows: int) -> dict[str, Any]:
    from shuzhi.context import SYSTEM, unit_of_work
    from shuzhi.db.engine import Database
    from shuzhi.db.migrate import upgrade
    from shuzhi.lake import service as lake
    from shuzhi.lake.readers import FileSource
    from shuzhi.settings import Settings
    from shuzhi.sharing import apps_service as apps
    from shuzhi.sharing.schemas import AppKeyIn, ApplicationIn

    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    settings = Settings(workdir, f"sqlite:///{workdir / 'shuzhi.db'}", SECRET)
    database = Database(settings)
    upgrade(database)
    datasets: dict[str, str] = {}
    with unit_of_work(database, SYSTEM) as ctx:
        datasets["register"] = population_entry(ctx, COLUMNS, departments=("GAJ", "MZJ"))
        datasets["visits"] = another_entry(ctx, COLUMNS, "就诊记录（基准）")
    loads: dict[str, float] = {}
    for name, per_person in (("register", 1), ("visits", 5)):
        source = workdir / f"{name}.parquet"
        _generate(source, rows, per_person)
        began = time.perf_counter()
        with unit_of_work(database, SYSTEM) as ctx:
            lake.ingest(ctx, datasets[name], FileSource(source))
        loads[name] = time.perf_counter() - began
    tokens: dict[str, str] = {}
    with unit_of_work(database, SYSTEM) as ctx:
        for app, terms in (("SANDBOX-K", TERMS), ("SANDBOX-DP", DP_TERMS)):
            apps.register_application(
                ctx, ApplicationIn(code=app, name=f"沙箱分析{app[-1]}", unit_code="MZJ")
            )
            tokens[app] = apps.create_app_key(
                ctx, app, AppKeyIn(label="基准", expires_in_days=30)
            ).token
            for code in datasets.values():
                _grant(ctx, code, app, terms)
    return {"database": database, "datasets": datasets, "tokens": tokens, "loads": loads}


def _grant(ctx: Any, code: str, app: str, terms: dict[str, Any]) -> None:
    from shuzhi.sandbox import service
    from shuzhi.sandbox.schemas import SandboxDecisionIn, SandboxRequestIn

    request = service.request_sandbox(
        ctx,
        SandboxRequestIn.model_validate(
            {
                "resource_code": code,
                "application_code": app,
                "purpose": "统计独居慢病老人分布",
                "legal_basis": "《政务数据共享条例》",
                "unit_code": "MZJ",
                "terms": terms,
            }
        ),
    )
    if request.grant_id is None:
        service.decide_sandbox(ctx, request.id, SandboxDecisionIn(outcome="approve"))


def _through_sandbox(database: Any, token: str, sql: str, epsilon: float | None) -> int:
    from shuzhi.context import Actor, Role, unit_of_work
    from shuzhi.db.base import utcnow
    from shuzhi.sandbox import service
    from shuzhi.sandbox.schemas import QueryIn
    from shuzhi.sharing.access import authenticate_application

    with unit_of_work(database, Actor(kind="anonymous")) as ctx:
        principal = authenticate_application(ctx.db, token, utcnow())
        ctx.actor = Actor(
            kind="api_key",
            id=principal.key_id,
            name=f"app:{principal.application_code}",
            role=Role.CONSUMER,
            unit_id=principal.unit_id,
        )
        out = service.run_query(ctx, QueryIn(sql=sql, epsilon=epsilon), application=principal)
    return len(out.rows)


def _timed(call: Callable[[], int], repeat: int) -> dict[str, float]:
    rows = call()  # the first run: caches, the one-row-per-person check
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"p50": statistics.median(times), "p95": p95, "rows": rows}


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shuzhi-sandbox-bench"))
    args = parser.parse_args(argv)
    from shuzhi.context import SYSTEM, unit_of_work
    from shuzhi.lake import service as lake

    print(f"load before: {_uptime()}")
    prepared = _prepare(args.workdir, args.rows)
    database = prepared["database"]
    results: list[tuple[str, str, dict[str, float]]] = []
    for name, code in prepared["datasets"].items():
        with unit_of_work(database, SYSTEM) as ctx:
            found = lake.current_version(ctx, code)
        assert found is not None
        path = str(found[1].data_path)
        con = duckdb.connect()
        plain = QUESTION.format(table="t").replace('"t"', f"read_parquet('{path}')")

        def run_plain(sql: str = plain, con: Any = con) -> int:
            return len(con.execute(sql).fetchall())

        sql = QUESTION.format(table=code)
        results.append((name, "(a) plain DuckDB SQL", _timed(run_plain, args.repeat)))
        for way, app, epsilon in (
            ("(b) sandbox, k = 10", "SANDBOX-K", None),
            ("(c) sandbox, DP ε 0.1", "SANDBOX-DP", 0.1),
        ):
            token = prepared["tokens"][app]

            def asked(token: str = token, sql: str = sql, epsilon: float | None = epsilon) -> int:
                return _through_sandbox(database, token, sql, epsilon)

            results.append((name, way, _timed(asked, args.repeat)))
    database.dispose()
    print(f"load after: {_uptime()}")
    print(
        f"rows per dataset: {args.rows:,}; repeats: {args.repeat}; loading took "
        + ", ".join(f"{n} {s:.0f} s" for n, s in prepared["loads"].items())
    )
    header = ("dataset", "way", "p50 ms", "p95 ms", "groups", "p95 / (a)")
    table = []
    for name, way, r in results:
        base = next(x for n, w, x in results if n == name and w.startswith("(a)"))
        table.append(
            (
                name,
                way,
                f"{r['p50'] * 1000:,.0f}",
                f"{r['p95'] * 1000:,.0f}",
                f"{r['rows']:.0f}",
                f"{r['p95'] / base['p95']:.2f}×",
            )
        )
    widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    print("targets: (b) p95 ≤ 1,000 ms and ≤ 1.5× (a); (c) p95 ≤ 3,000 ms")


if __name__ == "__main__":
    main()
