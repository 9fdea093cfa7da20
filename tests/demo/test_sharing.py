"""The demo district shares data: requests in every state and a working consumer key."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from shuzhi.context import SYSTEM
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.demo.district import CREDENTIALS_FILE, build_demo
from shuzhi.sharing import apps_service as apps
from shuzhi.sharing import service
from shuzhi.sharing.access import authenticate_application, grant_for_call
from shuzhi.standards.resident_id import parse_resident_id
from tests.conftest import acting

Counts = tuple[tuple[Any, int], ...]


def _state(database: Database) -> tuple[Counts, Counts, int]:
    with acting(database, SYSTEM) as ctx:
        requests = Counter((r.status, r.kind) for r in service.list_share_requests(ctx))
        grants = Counter(g.status for g in service.list_grants(ctx, include_ended=True))
        keys = sum(len(apps.get_application(ctx, a.code).keys) for a in apps.list_applications(ctx))
    return tuple(sorted(requests.items())), tuple(sorted(grants.items())), keys


def test_demo_sharing(demo_database: Database) -> None:
    requests, grants, keys = _state(demo_database)
    statuses = {status for (status, _kind), _n in requests}
    assert {
        "pending",
        "escalated",
        "approved",
        "partly_approved",
        "refused",
        "appealed",
        "withdrawn",
    } <= statuses
    assert ("pending", "renewal") in dict(requests)
    assert {"active", "revoked", "superseded"} <= dict(grants).keys()
    credentials = demo_database.settings.data_dir / CREDENTIALS_FILE
    sharing = json.loads(credentials.read_text(encoding="utf-8"))["sharing"]
    assert parse_resident_id(sharing["sample_key"]) is not None
    with acting(demo_database, SYSTEM) as ctx:
        principal = authenticate_application(ctx.db, sharing["api_key"], utcnow())
        grant = grant_for_call(ctx.db, principal, sharing["resource_code"], utcnow())
    assert principal.application_code == sharing["application"] == "CX-JCZL"
    assert grant.key_column is not None and grant.key_column == sharing["key_column"]
    assert grant.allows(grant.key_column)
    before = credentials.read_text(encoding="utf-8")
    build_demo(demo_database)
    assert _state(demo_database) == (requests, grants, keys)
    assert credentials.read_text(encoding="utf-8") == before
