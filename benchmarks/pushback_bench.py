"""Push-back deliveries: what one run made current costs its streets' datasets.

    python -m benchmarks.pushback_bench [--entities 100000] [--streets 10] [--groups 2]

Stores a library's current run of ``--entities`` golden records in one county (addresses
spread over ``--streets`` streets and five communities each, birth dates 1925–2020) straight
into a fresh SQLite database, defines one push-back per street (every resident) plus
``--groups`` special groups (over 80 in one community), and times their delivery from the
run (``refresh_masterdata_pushbacks``: the golden records read once, addresses parsed,
selected, each selection loaded through the lake's ingest with its analysis). Prints wall
and CPU seconds (this process and the lake's load workers) for all deliveries, rows
delivered, then the same again (nothing changed: every load is found unchanged).
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    """CPU seconds of this process and of the lake's finished load workers."""
    from shuzhi.lake.worker import children_usage

    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime + children_usage()[0]


STREETS = ["北山", "西溪", "灵隐", "翠苑", "文新", "古荡", "西湖", "留下", "转塘", "蒋村", "三墩"]
COMMUNITIES = ["保俶路社区", "文三社区", "学院路社区", "东岳村", "龙井村"]


def main() -> None:
    from sqlalchemy import insert

    from shuzhi.context import SYSTEM, unit_of_work
    from shuzhi.db.engine import Database
    from shuzhi.db.migrate import upgrade
    from shuzhi.masterdata import pushback, pushback_delivery
    from shuzhi.masterdata.models import (
        LibraryKind,
        MasterdataEntity,
        MasterdataLibrary,
        MasterdataRun,
        RunMode,
        RunStatus,
    )
    from shuzhi.masterdata.pushback_schemas import PushbackIn
    from shuzhi.org import service as org
    from shuzhi.org.models import UnitKind
    from shuzhi.org.schemas import UnitCreate
    from shuzhi.settings import Settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--streets", type=int, default=10)
    parser.add_argument("--groups", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    streets = [f"{s}街道" for s in STREETS[: args.streets]]
    with tempfile.TemporaryDirectory(prefix="shuzhi-pushback-bench-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir, f"sqlite:///{data_dir / 'shuzhi.db'}", "b" * 48)
        database = Database(settings)
        upgrade(database)
        with unit_of_work(database, SYSTEM) as ctx:
            org.create_unit(ctx, UnitCreate(code="R", name="西湖区", kind=UnitKind.REGION))
            org.create_unit(
                ctx,
                UnitCreate(code="SJJ", name="区数据局", kind=UnitKind.DEPARTMENT, parent_code="R"),
            )
            for i, street in enumerate(streets):
                org.create_unit(
                    ctx,
                    UnitCreate(code=f"JD{i}", name=street, kind=UnitKind.STREET, parent_code="R"),
                )
            bureau = org.unit_id_for_code(ctx, "SJJ")
            assert bureau is not None
            library = MasterdataLibrary(
                code="population",
                name="人口基础库",
                kind=LibraryKind.PERSON,
                unit_id=bureau,
                created_by="bench",
            )
            ctx.db.add(library)
            ctx.db.flush()
            run = MasterdataRun(
                library_id=library.id,
                mode=RunMode.FULL,
                status=RunStatus.SUCCEEDED,
                created_by="bench",
            )
            ctx.db.add(run)
            ctx.db.flush()
            rows = []
            for n in range(args.entities):
                address = (
                    f"浙江省杭州市西湖区{rnd.choice(streets)}{rnd.choice(COMMUNITIES)}"
                    f"{rnd.choice(['文三路', '天目山路', '保俶路'])}{rnd.randint(1, 999)}号"
                    f"{rnd.randint(1, 30)}幢{rnd.randint(101, 1808)}室"
                )
                born = (
                    f"{rnd.randint(1925, 2020)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
                )
                value = {"resource_code": "x/1", "unit_id": bureau, "version": 1, "row": n + 1}
                golden = {
                    "name": {**value, "value": "王伟", "rule": "only"},
                    "resident_id": {**value, "value": f"330106{n:012d}", "rule": "only"},
                    "birth_date": {**value, "value": born, "rule": "only"},
                    "phone": {**value, "value": f"139{n:08d}", "rule": "only"},
                    "address": {**value, "value": address, "rule": "only"},
                }
                rows.append(
                    {
                        "run_id": run.id,
                        "entity_id": f"P{n:016x}",
                        "members": 1,
                        "ident": None,
                        "adcode": "330106",
                        "golden": golden,
                    }
                )
            for i in range(0, len(rows), 5_000):
                ctx.db.execute(insert(MasterdataEntity), rows[i : i + 5_000])
            library.current_run_id = run.id
            for i, street in enumerate(streets):
                pushback.define_masterdata_pushback(
                    ctx,
                    "population",
                    PushbackIn(
                        name=f"{street}居民",
                        target_unit_code=f"JD{i}",
                        division_code="330106",
                        street=street,
                        columns=["姓名", "公民身份号码", "出生日期", "联系电话", "住址"],
                    ),
                )
            for g in range(args.groups):
                pushback.define_masterdata_pushback(
                    ctx,
                    "population",
                    PushbackIn.model_validate(
                        {
                            "name": f"高龄老人{g}",
                            "target_unit_code": f"JD{g % len(streets)}",
                            "division_code": "330106",
                            "street": streets[g % len(streets)],
                            "community": COMMUNITIES[g % len(COMMUNITIES)],
                            "columns": ["姓名", "出生日期", "联系电话"],
                            "conditions": [{"kind": "age", "min_age": 80}],
                        }
                    ),
                )
        print(
            f"{args.entities:,} golden records in one county, {len(streets)} streets,"
            f" {len(streets) + args.groups} push-backs"
        )
        print(f"{'delivery':<28}{'wall s':>9}{'CPU s':>9}{'rows':>10}{'versions':>10}")
        for label in ("first (new versions)", "again (nothing changed)"):
            wall, cpu = time.perf_counter(), _cpu()
            with unit_of_work(database, SYSTEM) as ctx:
                done = pushback_delivery.refresh_masterdata_pushbacks(ctx, "population")
            wall, cpu = time.perf_counter() - wall, _cpu() - cpu
            delivered = sum(p.rows or 0 for p in done)
            failed = [p.name for p in done if p.status.value != "ok"]
            versions = ",".join(str(v) for v in sorted({p.version or 0 for p in done}))
            print(f"{label:<28}{wall:>9.1f}{cpu:>9.1f}{delivered:>10,}{versions:>10}")
            if failed:
                print(f"  failed: {', '.join(failed)}")
        database.dispose()


if __name__ == "__main__":
    main()
