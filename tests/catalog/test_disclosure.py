"""What another unit learns of a unit's unpublished work: nothing.

Unit A publishes an entry, revises it and submits the revision, and keeps a draft that was
never published. Unit B's staff see only what A published, and every answer about A's
unpublished draft equals the answer about a code nobody holds (apart from the code echoed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.catalog import service
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from tests.catalog.helpers import create, entry_data, update
from tests.catalog.test_lifecycle import publish
from tests.conftest import acting
from tests.factories import seed_org

API = "/api/v1/catalog"
MISSING = "101001/000099"
REVISED = {"share_type": "conditional", "update_cycle": "7"}


class Response(Protocol):
    """What the tests read of a TestClient answer (whichever httpx the client runs on)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


@dataclass
class World:
    client: TestClient
    published: str  # A's entry: version 1 published, version 2 submitted
    hidden: str  # A's draft, never published
    a: dict[str, str]  # headers of A's liaison
    b: dict[str, str]  # headers of B's liaison

    def same_as_missing(self, method: str, path: str, **kw: Any) -> tuple[Response, Response]:
        """B's answers for A's hidden draft and for a code nobody holds."""
        hidden = self.client.request(method, path.format(code=self.hidden), headers=self.b, **kw)
        missing = self.client.request(method, path.format(code=MISSING), headers=self.b, **kw)
        return hidden, missing


def _key(database: Database, role: Role, unit: str) -> dict[str, str]:
    with acting(database, SYSTEM) as ctx:
        token = auth.create_api_key(
            ctx, ApiKeyCreate(name=f"{unit}{role}", role=role, unit_code=unit)
        )
    return {"Authorization": f"Bearer {token.token}"}


@pytest.fixture
def world(client: TestClient, database: Database) -> World:
    org = seed_org(database)
    code = publish(database, org).resource_code
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.revise_entry(ctx, code)
        revision = update(
            **REVISED,
            share_conditions="仅限政务用途",
            not_shared_basis="《政务数据共享条例》",
        )
        service.update_entry(ctx, code, revision)
        service.submit_entry(ctx, code)
        hidden = service.create_entry(ctx, create(name="企业登记信息")).resource_code
    return World(
        client,
        code,
        hidden,
        _key(database, Role.DATA_LIAISON, "A"),
        _key(database, Role.DATA_LIAISON, "B"),
    )


def _alike(world: World, hidden: Response, missing: Response) -> None:
    assert hidden.status_code == missing.status_code
    assert hidden.text.replace(world.hidden, MISSING) == missing.text


def test_list_shows_another_units_entry_as_published(world: World) -> None:
    listed = world.client.get(f"{API}/entries", headers=world.b).json()["items"]
    assert [e["resource_code"] for e in listed] == [world.published]
    brief = listed[0]
    seen = world.client.get(f"{API}/entries/{world.published}", headers=world.b).json()
    assert seen["showing_version"] == 1
    # Every field of the brief is the published version's, none the revision's.
    assert {k: v for k, v in brief.items() if k != "items"} == {
        k: seen[k] for k in brief if k != "items"
    }
    assert brief["items"] == len(seen["items"])
    assert brief["share_type"] == "unconditional" and brief["update_cycle"] == "2"
    assert brief["status"] == "published" and brief["version"] == 1
    # A's own staff still list the revision as it is.
    own = world.client.get(f"{API}/entries", headers=world.a).json()["items"]
    mine = next(e for e in own if e["resource_code"] == world.published)
    assert (mine["status"], mine["version"], mine["share_type"]) == ("submitted", 2, "conditional")


def test_overview_counts_another_units_entries_as_published(world: World) -> None:
    counts = world.client.get(f"{API}/overview", headers=world.b).json()
    assert {k: counts[k] for k in ("entries", "published", "submitted", "drafts")} == {
        "entries": 1,
        "published": 1,
        "submitted": 0,
        "drafts": 0,
    }
    own = world.client.get(f"{API}/overview", headers=world.a).json()
    assert (own["entries"], own["published"], own["submitted"], own["drafts"]) == (2, 0, 1, 1)


@pytest.mark.parametrize(
    "path",
    [
        "/entries/{code}",
        "/entries/{code}/versions",
        "/entries/{code}/versions/1",
        "/entries/{code}/diff?from_version=1",
        "/entries/{code}/diff?from_version=1&to_version=2",
    ],
)
def test_reading_a_hidden_draft_answers_like_a_missing_code(world: World, path: str) -> None:
    hidden, missing = world.same_as_missing("GET", API + path)
    assert missing.status_code == 404
    _alike(world, hidden, missing)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/entries/{code}", entry_data(name="改名")),
        ("POST", "/entries/{code}/submit", None),
        ("POST", "/entries/{code}/approve", {"note": "同意"}),
        ("POST", "/entries/{code}/return", {"reason": "请补充信息项"}),
        ("POST", "/entries/{code}/revise", None),
        ("POST", "/entries/{code}/withdraw", {"reason": "停止采集数据"}),
    ],
)
def test_writing_a_hidden_draft_answers_like_a_missing_code(
    world: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    hidden, missing = world.same_as_missing(method, API + path, json=body)
    assert missing.status_code == 404
    _alike(world, hidden, missing)


def test_related_code_of_a_hidden_draft_is_refused_like_a_missing_code(world: World) -> None:
    def related(code: str, headers: dict[str, str], name: str = "乙局目录") -> Response:
        data = entry_data(name=name, group_code="002", related_codes=[code])
        return world.client.post(f"{API}/entries", json=data, headers=headers)

    hidden, missing = related(world.hidden, world.b), related(MISSING, world.b)
    assert missing.status_code == 422
    _alike(world, hidden, missing)
    # What B may read, B may relate to; A relates to its own draft.
    assert related(world.published, world.b).status_code == 201
    assert related(world.hidden, world.a, "甲局另一目录").status_code == 201


def test_taken_code_of_a_hidden_draft_is_not_said_to_exist(world: World) -> None:
    def take(code: str) -> Response:
        sequence = code.split("/")[1]
        data = entry_data(name="乙局目录", sequence_code=sequence)
        return world.client.post(f"{API}/entries", json=data, headers=world.b)

    hidden, visible = take(world.hidden), take(world.published)
    assert hidden.status_code == 422
    # The same answer as for a code B can see taken, and neither says the entry exists.
    assert hidden.text.replace(world.hidden, world.published) == visible.text
    assert "exist" not in hidden.text and "已存在" not in hidden.json()["errors"][0]["message_zh"]
    assert [e["field"] for e in hidden.json()["errors"]] == ["sequence_code"]
