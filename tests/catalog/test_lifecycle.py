"""Lifecycle: submit, approve (never one's own), return, revise with versions, withdraw."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shuzhi.audit.models import AuditEntry
from shuzhi.catalog import service
from shuzhi.catalog.schemas import EntryOut
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid, NotFound
from tests.catalog.helpers import create, item, update
from tests.conftest import acting
from tests.factories import Org, seed_org


@pytest.fixture
def org(database: Database) -> Org:
    return seed_org(database)


def publish(database: Database, org: Org, **over: object) -> EntryOut:
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        out = service.create_entry(ctx, create(**over))
        service.submit_entry(ctx, out.resource_code)
    with acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        return service.approve_entry(ctx, out.resource_code, "同意发布")


def test_submit_approve_publishes_version_one(database: Database, org: Org) -> None:
    out = publish(database, org)
    assert out.status == "published" and out.published_version == 1
    assert out.publish_date is not None
    assert [h.action for h in out.history] == ["created", "submitted", "approved"]
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        actions = [e.action for e in ctx.db.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert (
        actions[-3:]
        == ["catalog.entry_submitted", "catalog.source_claimed", "catalog.entry_approved"]
        or "catalog.entry_approved" in actions
    )


def test_nobody_approves_their_own_submission(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        out = service.create_entry(ctx, create())
        service.submit_entry(ctx, out.resource_code)
    with pytest.raises(Forbidden), acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        service.approve_entry(ctx, out.resource_code)
    # a liaison cannot approve at all; another unit's CDO does not even know of the entry
    with pytest.raises(Forbidden), acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.approve_entry(ctx, out.resource_code)
    with pytest.raises(NotFound), acting(database, org.other_unit_actor(Role.UNIT_CDO)) as ctx:
        service.approve_entry(ctx, out.resource_code)


def test_racing_decisions_conflict(database: Database, org: Org) -> None:
    out = publish(database, org)
    with pytest.raises(Conflict), acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        service.approve_entry(ctx, out.resource_code)
    with pytest.raises(Conflict), acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.update_entry(ctx, out.resource_code, update())


def test_return_needs_reason_and_reopens_draft(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        out = service.create_entry(ctx, create())
        service.submit_entry(ctx, out.resource_code)
    with pytest.raises(Invalid), acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        service.return_entry(ctx, out.resource_code, " ")
    with acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        back = service.return_entry(ctx, out.resource_code, "摘要过于简单")
    assert back.status == "draft" and back.return_reason == "摘要过于简单"


def test_revision_keeps_old_version_readable_with_diff(database: Database, org: Org) -> None:
    out = publish(database, org)
    code = out.resource_code
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        draft = service.revise_entry(ctx, code)
        assert draft.status == "draft" and draft.version == 2
        service.update_entry(
            ctx,
            code,
            update(
                abstract="修订后的摘要",
                update_cycle="4",
                items=[item("姓名", length=60), item("联系电话", length=20)],
            ),
        )
    # another unit still reads version 1 while the revision is a draft
    with acting(database, org.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        seen = service.get_entry(ctx, code)
    assert seen.showing_version == 1 and seen.abstract == out.abstract
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.submit_entry(ctx, code)
    with acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        v2 = service.approve_entry(ctx, code)
        versions = service.list_versions(ctx, code)
        old = service.get_entry(ctx, code, 1)
        diff = service.diff_versions(ctx, code, 1, 2)
    assert v2.published_version == 2 and [v.number for v in versions] == [1, 2]
    assert old.abstract == out.abstract and old.showing_version == 1
    changed = {c.field for c in diff.fields}
    assert {"abstract", "update_cycle"} <= changed
    assert diff.items_added == ["联系电话"]
    assert set(diff.items_removed) == {"公民身份号码", "户籍地址"}
    assert [c.field for c in diff.items_changed] == ["姓名.length"]


def test_withdraw_with_reason_then_hidden_from_tasks(database: Database, org: Org) -> None:
    out = publish(database, org)
    with pytest.raises(Forbidden), acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        service.withdraw_entry(ctx, out.resource_code, "数据已停止采集")
    with acting(database, org.actor(Role.UNIT_CDO)) as ctx:
        gone = service.withdraw_entry(ctx, out.resource_code, "数据已停止采集")
    assert gone.status == "withdrawn" and gone.withdraw_reason == "数据已停止采集"


def test_drafts_invisible_to_other_units(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.DATA_LIAISON)) as ctx:
        out = service.create_entry(ctx, create())
    with pytest.raises(NotFound), acting(database, org.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        service.get_entry(ctx, out.resource_code)
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        assert service.get_entry(ctx, out.resource_code).status == "draft"
