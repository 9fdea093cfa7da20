"""Grants follow the catalogue: a withdrawn entry is shared with nobody, and a revision that
stops sharing an item ends the grants that include it."""

from __future__ import annotations

import pytest

from shuzhi.audit import service as audit
from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.sharing import access, service
from shuzhi.sharing.grants import NoActiveGrant
from tests.catalog.helpers import update
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.sharing.helpers import (
    PEOPLE_ITEMS,
    application,
    approve,
    key,
    request,
    shared_entry,
)


def _granted(database: Database, seeded: Org, entry: str, columns: list[str]) -> tuple[int, str]:
    """A grant of department A's application for ``columns``; returns (grant id, key)."""
    app = application(database)
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, app, columns=columns)
    decided = approve(database, seeded, out.id)
    assert decided.grant_id is not None
    return decided.grant_id, key(database, app)


def _grant_status(database: Database, grant_id: int) -> tuple[str, str | None]:
    with acting(database, SYSTEM) as ctx:
        grant = service.get_grant(ctx, grant_id)
    return grant.status, grant.revoke_reason


def _call(database: Database, token: str, entry: str) -> None:
    with acting(database, SYSTEM) as ctx:
        principal = access.authenticate_application(ctx.db, token, utcnow())
        access.grant_for_call(ctx.db, principal, entry, utcnow())


def _revise(database: Database, seeded: Org, entry: str, items: list[dict[str, object]]) -> None:
    cdo = seeded.other_unit_actor(Role.UNIT_CDO)
    liaison = seeded.other_unit_actor(Role.DATA_LIAISON)
    with acting(database, cdo) as ctx:
        current = catalog.get_entry(ctx, entry)
    with acting(database, liaison) as ctx:
        catalog.revise_entry(ctx, entry)
        catalog.update_entry(
            ctx,
            entry,
            update(
                name=current.name,
                unit_code="B",
                share_type="conditional",
                share_conditions="仅限依法履职需要",
                not_shared_basis="《政务数据共享条例》",
                items=items,
            ),
        )
        catalog.submit_entry(ctx, entry)
    with acting(database, cdo) as ctx:
        catalog.approve_entry(ctx, entry)


def test_withdrawing_an_entry_revokes_its_grants(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    grant_id, token = _granted(database, seeded, entry, ["姓名", "公民身份号码"])
    _call(database, token, entry)  # served before the withdrawal

    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        catalog.withdraw_entry(ctx, entry, "数据已迁移至新目录")

    status, reason = _grant_status(database, grant_id)
    assert status == "revoked"
    assert reason is not None and "数据已迁移至新目录" in reason
    with pytest.raises(NoActiveGrant):
        _call(database, token, entry)
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        assert "grant_revoked" in [n.kind for n in service.list_notifications(ctx)]
    with acting(database, SYSTEM) as ctx:
        actions = [e.action for e in audit.view_audit(ctx, limit=50).items]
    assert actions.index("sharing.grant_revoked") < actions.index("catalog.entry_withdrawn")


def test_revision_that_stops_sharing_a_granted_item_ends_the_grant(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    touched, touched_key = _granted(database, seeded, entry, ["姓名", "联系电话"])
    kept, kept_key = _granted(database, seeded, entry, ["姓名", "公民身份号码"])

    items = [dict(i) for i in PEOPLE_ITEMS]
    for i in items:
        if i["name"] == "联系电话":
            i["share_type"] = "not_shared"
    _revise(database, seeded, entry, items)

    status, reason = _grant_status(database, touched)
    assert status == "revoked" and reason is not None and "联系电话" in reason
    with pytest.raises(NoActiveGrant):
        _call(database, touched_key, entry)
    assert _grant_status(database, kept) == ("active", None)
    _call(database, kept_key, entry)


def test_revision_that_removes_a_granted_item_ends_the_grant(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    grant_id, _token = _granted(database, seeded, entry, ["姓名", "出生日期"])
    _revise(database, seeded, entry, [i for i in PEOPLE_ITEMS if i["name"] != "出生日期"])
    status, reason = _grant_status(database, grant_id)
    assert status == "revoked" and reason is not None and "出生日期" in reason


def test_revision_keeping_every_granted_item_leaves_grants_alone(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "conditional")
    grant_id, token = _granted(database, seeded, entry, ["姓名", "公民身份号码"])
    _revise(database, seeded, entry, [*PEOPLE_ITEMS, {**PEOPLE_ITEMS[0], "name": "曾用名"}])
    assert _grant_status(database, grant_id) == ("active", None)
    _call(database, token, entry)
