"""Build the demo district through the normal services, so it is audited and valid.

Deterministic: the same seed yields the same units, people and filing states. Idempotent:
running it on a data directory that already holds the district changes nothing.
"""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from shuzhi.auth import service as auth
from shuzhi.auth.models import User
from shuzhi.auth.passwords import check_strength, verify_password
from shuzhi.auth.schemas import PasswordReset, UserCreate
from shuzhi.catalog.projects.demo import build_demo_projects
from shuzhi.context import Actor, Role, unit_of_work
from shuzhi.db.engine import Database
from shuzhi.demo import names
from shuzhi.demo.assess import build_assessment
from shuzhi.demo.catalog import build_catalog
from shuzhi.demo.cockpit import build_cockpit
from shuzhi.demo.datasets import build_datasets
from shuzhi.demo.market import build_market
from shuzhi.demo.masterdata import build_masterdata
from shuzhi.demo.portal import build_portal
from shuzhi.demo.sandbox import build_sandbox
from shuzhi.demo.secops import build_secops
from shuzhi.demo.sharing import build_sharing
from shuzhi.errors import ErrorCollector
from shuzhi.gateway.demo import seed_demo_calls
from shuzhi.org import service as org
from shuzhi.org.models import Position, UnitKind
from shuzhi.org.schemas import AppointmentCreate, PersonCreate, UnitCreate
from shuzhi.standards.identifiers import uscc_from_parts
from shuzhi.wiring import register_all

CREDENTIALS_FILE = "demo-credentials.json"
DEMO_ACTOR = Actor(kind="system", name="demo")
REGION_DIVISION = "330182"
SEED = 20260101

# Units whose staff get demo log-ins (unit code → username stem).
STAFFED_UNITS = {"RSJ": "rsj", "WJW": "wjw", "SCJ": "scj", "SJGL": "sjgl", "JD-CX": "chengxi"}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    unit: str | None


def _person_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(names.SURNAMES) + rng.choice(names.GIVEN)
        if name not in used:
            used.add(name)
            return name


def _uscc(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(8))
    return uscc_from_parts("1", "1", REGION_DIVISION, body)


def _enterprise_uscc(rng: random.Random) -> str:
    body = "MA" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(6))
    return uscc_from_parts("9", "1", REGION_DIVISION, body)


def _accounts(password: str) -> list[DemoAccount]:
    region = names.REGION[0]
    accounts = [
        DemoAccount("cdo", password, Role.CDO, region),
        DemoAccount("executive", password, Role.CDO_EXECUTIVE, region),
        DemoAccount("auditor", password, Role.AUDITOR, region),
    ]
    for code, stem in STAFFED_UNITS.items():
        accounts.append(DemoAccount(f"{stem}.cdo", password, Role.UNIT_CDO, code))
        accounts.append(DemoAccount(f"{stem}.liaison", password, Role.DATA_LIAISON, code))
    return accounts


def _read_credentials(path: Path) -> list[DemoAccount] | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        DemoAccount(**{k: a[k] for k in ("username", "password", "role", "unit")})
        for a in data.get("accounts", [])
    ]


def write_credentials(data_dir: Path, accounts: list[DemoAccount], **extra: object) -> Path:
    """demo-credentials.json: the accounts, plus whatever later capabilities add (API keys…)."""
    path = data_dir / CREDENTIALS_FILE
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current["accounts"] = [asdict(a) for a in accounts]
    current.update(extra)
    path.write_text(json.dumps(current, ensure_ascii=False, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def _build_org(database: Database, rng: random.Random) -> None:
    used: set[str] = set()
    region_code, region_name, region_en = names.REGION
    with unit_of_work(database, DEMO_ACTOR) as ctx:
        org.create_unit(
            ctx,
            UnitCreate(
                code=region_code,
                name=region_name,
                name_en=region_en,
                kind=UnitKind.REGION,
                uscc=_uscc(rng),
            ),
        )
        units: list[tuple[str, str]] = []
        for i, (code, name, name_en) in enumerate(names.DEPARTMENTS):
            org.create_unit(
                ctx,
                UnitCreate(
                    code=code,
                    name=name,
                    name_en=name_en,
                    kind=UnitKind.DEPARTMENT,
                    parent_code=region_code,
                    uscc=_uscc(rng),
                    sort_order=i,
                ),
            )
            units.append((code, UnitKind.DEPARTMENT))
        for i, (code, name) in enumerate(names.STREETS):
            org.create_unit(
                ctx,
                UnitCreate(
                    code=code,
                    name=name,
                    kind=UnitKind.STREET,
                    parent_code=region_code,
                    uscc=_uscc(rng),
                    sort_order=100 + i,
                ),
            )
            units.append((code, UnitKind.STREET))
        for i, (code, name) in enumerate(names.ENTERPRISES):
            org.create_unit(
                ctx,
                UnitCreate(
                    code=code,
                    name=name,
                    kind=UnitKind.ENTERPRISE,
                    parent_code=region_code,
                    uscc=_enterprise_uscc(rng),
                    sort_order=200 + i,
                ),
            )
            units.append((code, UnitKind.ENTERPRISE))

        start = date(2025, 3, 1)

        def appoint(unit: str, position: Position, title: str, state: str) -> None:
            person = org.create_person(
                ctx,
                PersonCreate(
                    unit_code=unit,
                    name=_person_name(rng, used),
                    title=title,
                    phone="139" + "".join(rng.choice("0123456789") for _ in range(8)),
                ),
            )
            appt = org.create_appointment(
                ctx,
                AppointmentCreate(
                    person_id=person.id,
                    position=position,
                    appointed_on=start + timedelta(days=rng.randrange(0, 400)),
                    document_no=f"青{unit}任〔2025〕{rng.randrange(1, 60)}号",
                ),
            )
            if state == "draft":
                return
            org.submit_filing(ctx, appt.id)
            if state == "filed":
                org.approve_filing(ctx, appt.id, "材料齐全，同意备案。")
            elif state == "returned":
                org.return_filing(ctx, appt.id, "任命文件扫描件缺失，请补充后重新提交。")

        appoint(region_code, Position.CDO, "区委常委、副区长", "filed")
        appoint(region_code, Position.CDO_EXECUTIVE, "区政务服务和数据管理局局长", "filed")
        appoint(region_code, Position.DATA_LIAISON, "数据资源科科长", "filed")
        for code, kind in units:
            roll = rng.random()
            state = (
                "filed"
                if roll < 0.72
                else "submitted"
                if roll < 0.84
                else "returned"
                if roll < 0.91
                else "draft"
                if roll < 0.96
                else "none"
            )
            if code in STAFFED_UNITS:
                state = "filed"
            titles = names.STREET_LEADER_TITLES if kind == UnitKind.STREET else names.LEADER_TITLES
            if state != "none":
                appoint(code, Position.UNIT_CDO, rng.choice(titles), state)
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                liaison_state = "filed" if state in ("filed", "none") else state
                appoint(code, Position.DATA_LIAISON, rng.choice(names.STAFF_TITLES), liaison_state)


def _build_users(database: Database, accounts: list[DemoAccount]) -> None:
    with unit_of_work(database, DEMO_ACTOR) as ctx:
        for account in accounts:
            stored = ctx.db.scalar(
                select(User.password_hash).where(User.username == account.username)
            )
            if stored is not None:
                # Keep the accounts usable with the password the credentials file shows.
                if not verify_password(ctx.settings, stored, account.password):
                    auth.reset_password(
                        ctx,
                        account.username,
                        PasswordReset(new_password=account.password, require_change=False),
                    )
                continue
            auth.create_user(
                ctx,
                UserCreate(
                    username=account.username,
                    display_name=account.username,
                    password=account.password,
                    role=Role(account.role),
                    unit_code=account.unit,
                ),
            )


def _demo_password() -> str:
    """One random password every demo account accepts (none may contain its username)."""
    while True:
        candidate = "Demo-" + secrets.token_urlsafe(9)
        errors = ErrorCollector()
        for account in _accounts(candidate):
            check_strength(candidate, errors, username=account.username, display_name="")
        if not errors.errors:
            return candidate


def build_demo(database: Database) -> list[DemoAccount]:
    """Create the demo district if missing; return its accounts (passwords included)."""
    register_all()
    data_dir = database.settings.data_dir
    accounts = _read_credentials(data_dir / CREDENTIALS_FILE)
    if accounts is None:
        accounts = _accounts(_demo_password())
    with unit_of_work(database, DEMO_ACTOR) as ctx:
        exists = org.unit_id_for_code(ctx, names.REGION[0]) is not None
    if not exists:
        _build_org(database, random.Random(SEED))
    _build_users(database, accounts)
    with unit_of_work(database, DEMO_ACTOR) as ctx:
        build_catalog(ctx, SEED)
    build_demo_projects(database, DEMO_ACTOR)
    build_datasets(database, DEMO_ACTOR)
    sharing = build_sharing(database, DEMO_ACTOR, data_dir / CREDENTIALS_FILE)
    build_portal(database, DEMO_ACTOR)
    seed_demo_calls(database)
    build_cockpit(database, DEMO_ACTOR)
    build_assessment(database, DEMO_ACTOR)
    sandbox = build_sandbox(database, DEMO_ACTOR, data_dir / CREDENTIALS_FILE)
    build_secops(database, DEMO_ACTOR)
    market = build_market(database, DEMO_ACTOR, data_dir / CREDENTIALS_FILE, accounts[0].password)
    libraries = build_masterdata(database, DEMO_ACTOR)
    extra = {"sharing": sharing, "sandbox": sandbox, "market": market, "masterdata": libraries}
    write_credentials(data_dir, accounts, **{k: v for k, v in extra.items() if v})
    return accounts
