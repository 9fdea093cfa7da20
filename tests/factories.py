"""Small, explicit test data: a region with two departments and a street, and one account
per role. Everything is created through the services, like the real thing."""

from __future__ import annotations

from dataclasses import dataclass, field

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import UserCreate
from shuzhi.context import SYSTEM, Actor, Role
from shuzhi.db.engine import Database
from shuzhi.org import service as org
from shuzhi.org.models import UnitKind
from shuzhi.org.schemas import UnitCreate
from shuzhi.standards.identifiers import uscc_from_parts
from tests.conftest import acting

PASSWORD = "Correct-Horse-7"
# role → (username, unit code); unit roles belong to department A.
ACCOUNTS: dict[Role, tuple[str, str | None]] = {
    Role.CDO: ("cdo", "R"),
    Role.CDO_EXECUTIVE: ("exec", "R"),
    Role.AUDITOR: ("auditor", "R"),
    Role.UNIT_CDO: ("a.cdo", "A"),
    Role.DATA_LIAISON: ("a.liaison", "A"),
    Role.CONSUMER: ("a.consumer", "A"),
    Role.OPERATOR: ("operator", "A"),
}


@dataclass
class Org:
    unit_ids: dict[str, int] = field(default_factory=dict)
    actors: dict[Role, Actor] = field(default_factory=dict)

    def actor(self, role: Role) -> Actor:
        return self.actors[role]

    def other_unit_actor(self, role: Role) -> Actor:
        """The same role, but belonging to department B."""
        base = self.actors[role]
        return Actor(
            kind=base.kind, id=base.id, name=f"b.{role}", role=role, unit_id=self.unit_ids["B"]
        )


def uscc(n: int) -> str:
    return uscc_from_parts("1", "1", "330182", f"{n:08d}")


def seed_org(database: Database) -> Org:
    out = Org()
    with acting(database, SYSTEM) as ctx:
        org.create_unit(ctx, UnitCreate(code="R", name="测试区", kind=UnitKind.REGION))
        for i, (code, name, kind) in enumerate(
            [
                ("A", "区甲局", UnitKind.DEPARTMENT),
                ("B", "区乙局", UnitKind.DEPARTMENT),
                ("S", "城南街道", UnitKind.STREET),
            ]
        ):
            org.create_unit(
                ctx, UnitCreate(code=code, name=name, kind=kind, parent_code="R", uscc=uscc(i + 1))
            )
        for code in ("R", "A", "B", "S"):
            unit_id = org.unit_id_for_code(ctx, code)
            assert unit_id is not None
            out.unit_ids[code] = unit_id
        for role, (username, unit) in ACCOUNTS.items():
            auth.create_user(
                ctx,
                UserCreate(
                    username=username,
                    display_name=username,
                    password=PASSWORD,
                    role=role,
                    unit_code=unit,
                ),
            )
    with acting(database, SYSTEM) as ctx:
        for role, (username, _unit) in ACCOUNTS.items():
            out.actors[role] = auth.login(ctx, username, PASSWORD)
    return out
