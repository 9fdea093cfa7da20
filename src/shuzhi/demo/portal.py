"""Demo open data: about 150 open entries of the demo catalogue with data, some conditional,
an applicant with applications, and a month of usage figures.

Entries are the demo catalogue's published entries whose open type allows opening, taken
in resource-code order; each gets a generated dataset (values by data item type and name)
loaded through the lake and opened through the portal's guard (personal columns confirmed
de-identified, as a provider would). Idempotent: nothing is done once anything is open.
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shuzhi.catalog import service as catalog
from shuzhi.context import Actor, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.demo.datasets import _value
from shuzhi.errors import ShuzhiError
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.portal import service as portal
from shuzhi.portal.models import UsageKind
from shuzhi.portal.schemas import ApplicantIn, ApplicationIn

SEED = 20261123
TARGET = 150
ROWS = (100, 2000)  # rows per dataset: small, like most district statistics tables
POOL = 300  # distinct generated values per text column, drawn from at random
APPLICANT = ("demo.researcher@example.cn", "陈研究", "区数字经济研究院")
APPLICANT_PASSWORD = "Bamboo-river-survey-2026"


def _cell(name: str, data_type: str, rng: random.Random, i: int) -> str:
    if data_type == "N":
        return str(rng.randint(0, 5000))
    if data_type in ("D", "T"):
        return f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return _value(name, rng, i)


def _candidates(database: Database, actor: Actor) -> list[str]:
    codes: list[str] = []
    with unit_of_work(database, actor) as ctx:
        for offset in range(0, 2000, 200):
            page = catalog.list_entries(
                ctx,
                filters={"status": ["published"], "open_type": ["unconditional", "conditional"]},
                limit=200,
                offset=offset,
            )
            codes += [e.resource_code for e in page.items if e.items >= 2]
            if offset + 200 >= page.total:
                break
    return codes[:TARGET]


def build_portal(database: Database, actor: Actor) -> int:
    """Open the demo's open entries with data (once); returns how many were opened."""
    with unit_of_work(database, actor) as ctx:
        if portal.list_open_codes(ctx):
            return 0
    rng = random.Random(SEED)
    opened: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="shuzhi-portal-demo-") as tmp:
        for n, code in enumerate(_candidates(database, actor)):
            with unit_of_work(database, actor) as ctx:
                entry = catalog.get_entry(ctx, code)
            header = [i.name for i in entry.items]
            rows = rng.randint(*ROWS)
            pools = [
                [_cell(i.name, i.data_type, rng, r) for r in range(min(rows, POOL))]
                for i in entry.items
            ]
            path = Path(tmp) / f"open{n}.csv"
            with open(path, "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(header)
                writer.writerows([rng.choice(pool) for pool in pools] for _ in range(rows))
            try:
                with unit_of_work(database, actor) as ctx:
                    if lake.current_version(ctx, code) is None:
                        lake.ingest(ctx, code, FileSource(path))
                with unit_of_work(database, actor) as ctx:
                    portal.open_dataset(ctx, code, confirm_deidentified=True)
                opened.append((code, entry.open_type.value == "conditional"))
            except ShuzhiError:
                continue  # e.g. a version waiting for review: leave the entry unopened
    lake.close_engine(database)
    _applications(database, actor, [c for c, conditional in opened if conditional])
    _usage(database, actor, [c for c, _ in opened], rng)
    return len(opened)


def _applications(database: Database, actor: Actor, conditional: list[str]) -> None:
    """One applicant: an approved application and a pending one."""
    if not conditional:
        return
    email, name, organisation = APPLICANT
    with unit_of_work(database, actor) as ctx:
        who = portal.register_applicant(
            ctx,
            ApplicantIn(
                email=email,
                name=name,
                organisation=organisation,
                kind="research",
                password=APPLICANT_PASSWORD,
            ),
        )
        if who is None:
            raise RuntimeError("the demo applicant exists already")
        purpose = "用于区域公共服务设施布局研究，成果仅用于学术发表，不对外提供原始数据。"
        for i, code in enumerate(conditional[:2]):
            applied = portal.submit_open_application(
                ctx, who, ApplicationIn(resource_code=code, purpose=purpose, accept_agreement=True)
            )
            if i == 0:
                portal.decide_open_application(ctx, applied.id, True, "同意，限定用途使用。")


def _usage(database: Database, actor: Actor, codes: list[str], rng: random.Random) -> None:
    """Thirty days of views, downloads and API calls, so the figures are not empty."""
    today = datetime.now(UTC).date()
    counts: dict[tuple[str, UsageKind, date], int] = {}
    for back in range(30):
        day = today - timedelta(days=back)
        for code in rng.sample(codes, min(len(codes), 12)):
            for kind, top in ((UsageKind.VIEW, 80), (UsageKind.DOWNLOAD, 12), (UsageKind.API, 30)):
                key = (code, kind, day)
                counts[key] = counts.get(key, 0) + rng.randint(1, top)
    with unit_of_work(database, actor) as ctx:
        portal.seed_usage(ctx, counts)
