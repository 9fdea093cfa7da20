"""The entity and lookup API: permission-checked, masked per role, audited, no oracle."""

from __future__ import annotations

from sqlalchemy import select

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.masterdata import service
from tests.conftest import acting
from tests.factories import PASSWORD, seed_org
from tests.masterdata.helpers import library, load, person, rid, two_departments
from tests.web.helpers import login


def _built(database: Database) -> str:
    """Library ``population`` owned by R, built; returns person 3's entity ID."""
    seed_org(database)
    a, b = two_departments(database)
    load(database, a, [person(i) for i in range(10)])
    load(database, b, [person(i) for i in range(5)])
    library(database, a, b)
    with acting(database, SYSTEM) as ctx:
        service.run_masterdata_library(ctx, "population")
        return service.lookup_masterdata_entity(ctx, "population", resident_id=rid(3)).entity_id


def _audit_actions(database: Database) -> list[tuple[str, str]]:
    from shuzhi.audit.models import AuditEntry

    with acting(database, SYSTEM) as ctx:
        rows = ctx.db.execute(
            select(AuditEntry.action, AuditEntry.outcome)
            .where(AuditEntry.action.like("masterdata.entity%"))
            .order_by(AuditEntry.seq)
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_executive_reads_in_the_clear_others_masked(client, database: Database) -> None:  # type: ignore[no-untyped-def]
    entity_id = _built(database)
    login(client, "exec", PASSWORD)
    clear = client.get(f"/api/v1/masterdata/population/entities/{entity_id}")
    assert clear.status_code == 200, clear.text
    body = clear.json()
    assert body["golden"]["resident_id"]["value"] == rid(3) and body["masked"] is False
    assert body["golden"]["name"]["value"] == person(3)[0]
    assert body["golden"]["birth_date"]["unit_code"] == "A"
    assert len(body["records"]) == 2
    client.post("/logout")
    client.cookies.clear()
    login(client, "cdo", PASSWORD)
    masked = client.get(f"/api/v1/masterdata/population/lookup?resident_id={rid(3)}")
    assert masked.status_code == 200, masked.text
    golden = masked.json()["golden"]
    assert masked.json()["masked"] is True and masked.json()["entity_id"] == entity_id
    assert golden["resident_id"]["value"] != rid(3) and "*" in golden["resident_id"]["value"]
    assert golden["phone"]["value"] != person(3)[2]
    # The set-up's lookup, then the two reads above.
    assert [a for a, _o in _audit_actions(database)] == ["masterdata.entity_viewed"] * 3


def test_lookup_is_no_oracle(client, database: Database) -> None:  # type: ignore[no-untyped-def]
    _built(database)
    login(client, "cdo", PASSWORD)  # may read the library: an unknown key is a plain 404
    unknown_key = client.get(f"/api/v1/masterdata/population/lookup?resident_id={rid(400)}")
    client.post("/logout")
    client.cookies.clear()
    login(client, "a.liaison", PASSWORD)  # staff of A: may not read R's library
    refused = client.get(f"/api/v1/masterdata/population/lookup?resident_id={rid(3)}")
    unknown_library = client.get(f"/api/v1/masterdata/nosuch/lookup?resident_id={rid(3)}")
    refused_entity = client.get("/api/v1/masterdata/population/entities/P0123456789abcdef")
    assert refused.status_code == unknown_key.status_code == unknown_library.status_code == 404
    assert refused.json() == unknown_key.json() == unknown_library.json()
    assert refused_entity.status_code == 404
    # A malformed key or one failing its check character is refused before any lookup.
    wrong = rid(3)[:-1] + ("0" if rid(3)[-1] != "0" else "1")
    for bad in (wrong, "33010619", "abc"):
        answer = client.get(f"/api/v1/masterdata/population/lookup?resident_id={bad}")
        assert answer.status_code == 422, bad
    both = client.get(f"/api/v1/masterdata/population/lookup?resident_id={rid(3)}&uscc=x")
    assert both.status_code == 422
    # Every miss is audited; whether it was a refusal shows in the log only.
    assert _audit_actions(database)[1:] == [
        ("masterdata.entity_not_found", "ok"),  # cdo, unknown key
        ("masterdata.entity_not_found", "refused"),  # liaison, R's library
        ("masterdata.entity_not_found", "ok"),  # liaison, no such library
        ("masterdata.entity_not_found", "refused"),  # liaison, R's library by entity ID
    ]


def test_definition_and_run_history(client, database: Database) -> None:  # type: ignore[no-untyped-def]
    _built(database)
    login(client, "auditor", PASSWORD)
    definition = client.get("/api/v1/masterdata/population")
    assert definition.status_code == 200, definition.text
    body = definition.json()
    assert body["kind"] == "person" and len(body["members"]) == 2
    assert body["current_run"]["entities_out"] == 10 and body["current_run"]["current"]
    history = client.get("/api/v1/masterdata/population/runs").json()
    assert [(r["status"], r["records_in"], r["conflicts"]) for r in history] == [
        ("succeeded", 15, 0)
    ]
    client.post("/logout")
    client.cookies.clear()
    login(client, "a.liaison", PASSWORD)
    assert client.get("/api/v1/masterdata/population/runs").status_code == 403
