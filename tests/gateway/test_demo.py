"""The demo's historical calls: deterministic, idempotent, audited, visible in statistics."""

from __future__ import annotations

from datetime import UTC, datetime

from shuzhi.audit import service as audit
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.gateway import stats as gateway_stats
from shuzhi.gateway.demo import plan_calls, seed_demo_calls
from shuzhi.sharing import service as sharing
from tests.conftest import acting
from tests.gateway.helpers import call_count, calls, sealed, share

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_demo_calls_fill_a_month_once(database: Database) -> None:
    shared = share(database, request_over={"delivery": ["api", "bulk"]})
    written = seed_demo_calls(database, NOW)
    assert written > 300 and call_count(database) == written
    assert seed_demo_calls(database, NOW) == 0  # idempotent
    logged = calls(database)
    assert min(c.at for c in logged) >= datetime(2026, 10, 22, tzinfo=UTC)
    assert max(c.at for c in logged) < NOW
    assert {c.endpoint for c in logged} == {"lookup", "records", "export"}
    assert {c.resource_code for c in logged} == {shared.code}
    with acting(database, shared.seeded.actor(Role.CDO)) as ctx:
        stats = gateway_stats.call_stats(ctx, 30, NOW.date())
        assert stats.calls == written and stats.errors > 0
        assert stats.top_applications[0].label == shared.app
        assert sum(1 for d in stats.days if d.calls) >= 20
    with acting(database, SYSTEM) as ctx:
        assert audit.check_chain(ctx).ok
    served = sum(1 for c in logged if c.outcome == "ok")
    assert sealed(database) == (served, len(logged) - served)


def test_demo_calls_are_deterministic(database: Database) -> None:
    shared = share(database)
    with acting(database, SYSTEM) as ctx:
        grants = sharing.list_grants(ctx)
    units = {"A": shared.seeded.unit_ids["A"], "B": shared.seeded.unit_ids["B"]}
    first, second = plan_calls(grants, units, NOW), plan_calls(grants, units, NOW)
    assert first and first == second
    assert [r.at for r in first] == sorted(r.at for r in first)
