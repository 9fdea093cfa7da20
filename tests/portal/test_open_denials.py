"""A role that may never open data is refused as the portal operation it tried."""

from __future__ import annotations

import pytest

from shuzhi.audit import service as audit
from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden
from shuzhi.portal import service
from tests.conftest import acting
from tests.factories import seed_org
from tests.portal.helpers import open_entry, opened


def test_operator_refusals_name_the_portal_operation(database: Database) -> None:
    seeded = seed_org(database)
    closed, shown = open_entry(database), open_entry(database)
    opened(database, seeded, shown)
    operator = seeded.actor(Role.OPERATOR)
    with pytest.raises(Forbidden), acting(database, operator) as ctx:
        service.open_dataset(ctx, closed)
    with pytest.raises(Forbidden), acting(database, operator) as ctx:
        service.republish_dataset(ctx, shown)
    with acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        page = audit.view_audit(ctx, action="operation.denied")
    refused = sorted((e.details["operation"], e.details["target"]) for e in page.items)
    assert refused == sorted([("open_dataset", closed), ("republish_dataset", shown)])
