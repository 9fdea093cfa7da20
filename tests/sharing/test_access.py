"""The gateway's two questions: who is calling (application keys) and what may it read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shuzhi.auth import service as auth
from shuzhi.auth.schemas import ApiKeyCreate
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import NotFound
from shuzhi.lake.query import Op
from shuzhi.security.masking import MaskLevel
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service
from shuzhi.sharing.access import authenticate_application, grant_for_call, grants_revision
from shuzhi.sharing.grants import ApplicationKeyRejected, DeliveryMode, NoActiveGrant
from shuzhi.sharing.schemas import RotateIn
from tests.conftest import acting
from tests.factories import seed_org
from tests.sharing.helpers import application, key, request, shared_entry


def _reason(database: Database, token: str, when: object = None) -> str:
    with acting(database, SYSTEM) as ctx, pytest.raises(ApplicationKeyRejected) as err:
        authenticate_application(ctx.db, token, when or utcnow())  # type: ignore[arg-type]
    assert err.value.status == 401
    return err.value.reason


def test_application_key_authenticates(database: Database) -> None:
    seeded = seed_org(database)
    app = application(database)
    token = key(database, app, seeded.actor(Role.DATA_LIAISON))
    assert token.startswith("sza_")
    with acting(database, SYSTEM) as ctx:
        principal = authenticate_application(ctx.db, token, utcnow())
    assert principal.application_code == app
    assert principal.unit_id == seeded.unit_ids["A"]


def test_bad_keys_are_refused_with_a_reason(database: Database) -> None:
    seeded = seed_org(database)
    app = application(database)
    token = key(database, app, days=10)
    prefix = token.split("_")[1]
    assert _reason(database, "not-a-key") == "malformed"
    assert _reason(database, "sza__secret") == "malformed"
    assert _reason(database, token[:-2] + "xx") == "unknown"
    assert _reason(database, "sza_000000000000_" + "a" * 43) == "unknown"
    with acting(database, SYSTEM) as ctx:
        platform = auth.create_api_key(
            ctx, ApiKeyCreate(name="x", role=Role.CONSUMER, unit_code="A")
        )
    assert _reason(database, platform.token) == "malformed"  # a platform key is not an app key
    assert _reason(database, token, utcnow() + timedelta(days=11)) == "expired"
    with acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        apps.revoke_app_key(ctx, app, prefix)
    assert _reason(database, token) == "revoked"
    other = application(database)
    fresh = key(database, other)
    with acting(database, SYSTEM) as ctx:
        apps.retire_application(ctx, other, "系统下线")
    assert _reason(database, fresh) == "retired"


def test_rotation_keeps_the_old_key_for_the_overlap(database: Database) -> None:
    seeded = seed_org(database)
    liaison = seeded.actor(Role.DATA_LIAISON)
    app = application(database)
    old = key(database, app, liaison)
    with acting(database, liaison) as ctx:
        new = apps.rotate_app_key(ctx, app, old.split("_")[1], RotateIn(overlap_hours=2)).token
    with acting(database, SYSTEM) as ctx:
        assert authenticate_application(ctx.db, old, utcnow()).application_code == app
        assert authenticate_application(ctx.db, new, utcnow() + timedelta(days=3))
    assert _reason(database, old, utcnow() + timedelta(hours=3)) == "expired"


def test_grant_for_call_gives_the_granted_view(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "unconditional", loaded=True)
    app = application(database)
    token = key(database, app)
    out = request(
        database,
        seeded.actor(Role.DATA_LIAISON),
        entry,
        app,
        ["姓名", "公民身份号码", "年龄"],
        row_filter=[{"column": "年龄", "op": "ge", "value": "30"}],
    )
    assert out.status == "approved" and out.grant_id is not None
    with acting(database, SYSTEM) as ctx:
        principal = authenticate_application(ctx.db, token, utcnow())
        grant = grant_for_call(ctx.db, principal, entry, utcnow())
    assert grant.grant_id == out.grant_id
    assert grant.columns == ("姓名", "公民身份号码", "年龄")
    assert grant.allows("年龄") and not grant.allows("联系电话")
    assert grant.masking["公民身份号码"].category == "resident_id"
    assert grant.masking["公民身份号码"].level == MaskLevel.PARTIAL
    assert grant.masking["年龄"].level == MaskLevel.NONE
    assert grant.key_column == "公民身份号码"
    assert [(f.column, f.op, f.value) for f in grant.row_filter] == [("年龄", Op.GE, "30")]
    assert grant.delivery == frozenset({DeliveryMode.API})
    assert grant.rate_limit_per_minute == 600
    assert grant.resource_code == entry and grant.provider_unit_id == seeded.unit_ids["B"]


def test_no_grant_unknown_entry_expiry_and_revocation(database: Database) -> None:
    seeded = seed_org(database)
    entry = shared_entry(database, "unconditional")
    other_entry = shared_entry(database, "unconditional")
    app, stranger = application(database), application(database)
    out = request(database, seeded.actor(Role.DATA_LIAISON), entry, app)
    token, strange_token = key(database, app), key(database, stranger)
    with acting(database, SYSTEM) as ctx:
        principal = authenticate_application(ctx.db, token, utcnow())
        strange = authenticate_application(ctx.db, strange_token, utcnow())
        with pytest.raises(NotFound):
            grant_for_call(ctx.db, principal, "9999/999999", utcnow())
        with pytest.raises(NoActiveGrant) as none:
            grant_for_call(ctx.db, strange, entry, utcnow())
        assert none.value.reason == "none" and none.value.status == 403
        with pytest.raises(NoActiveGrant):
            grant_for_call(ctx.db, principal, other_entry, utcnow())
        with pytest.raises(NoActiveGrant) as late:
            grant_for_call(ctx.db, principal, entry, utcnow() + timedelta(days=400))
        assert late.value.reason == "expired"
        before = grants_revision(ctx.db)
    assert out.grant_id is not None
    with acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        service.revoke_grant(ctx, out.grant_id, "停止使用：业务系统已下线")
    with acting(database, SYSTEM) as ctx:
        assert grants_revision(ctx.db) > before
        with pytest.raises(NoActiveGrant):
            grant_for_call(ctx.db, principal, entry, utcnow())
