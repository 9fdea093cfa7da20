"""Cockpit services on a small region, on every backend: scopes, bad input, scenarios,
indicators through the query interface, alerts with a note and a real webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from shuzhi.audit.models import AuditEntry
from shuzhi.cockpit import indicators, service
from shuzhi.cockpit.indicators import evaluation as indicator_evaluation
from shuzhi.cockpit.models import Alert
from shuzhi.cockpit.schemas import (
    AlertAck,
    IndicatorCreate,
    MilestoneDone,
    ScenarioCancel,
    ScenarioCreate,
)
from shuzhi.context import SYSTEM, Role
from shuzhi.db.base import utcnow
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.validation import parse
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.lake.helpers import people_rows, write_csv
from tests.scratch import scratch_dir
from tests.sharing.helpers import shared_entry

TODAY = utcnow().date()


@pytest.fixture
def seeded(database: Database) -> Org:
    return seed_org(database)


def _indicator(code: str, resource: str, **over: Any) -> IndicatorCreate:
    data: dict[str, Any] = {
        "code": code,
        "name": "年龄均值",
        "resource_code": resource,
        "func": "avg",
        "column": "年龄",
        "direction": "above",
        "warn_at": 10,
        "alarm_at": 20,
    }
    data.update(over)
    return IndicatorCreate.model_validate(data)


def _actions(database: Database, action: str) -> list[dict[str, Any]]:
    with acting(database, SYSTEM) as ctx:
        rows = ctx.db.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [json.loads(r.details) if isinstance(r.details, str) else r.details for r in rows]


def test_units_without_tasks_have_no_rates_and_no_crash(database: Database, seeded: Org) -> None:
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        summary = service.cockpit_summary(ctx)
    assert summary.scope == "region"
    assert summary.figures.compile_tasks == 0 and summary.figures.compile_rate is None
    assert summary.figures.classification_coverage is None
    assert {r.unit_code for r in summary.ranking} == {"A", "B", "S"}
    assert all(r.compile_rate is None for r in summary.ranking)
    assert [a.key for a in summary.answers] == ["aggregation", "comparison", "scenarios"]
    assert summary.figures.scenario_target == 3 * 3
    assert (summary.figures.open_entries, summary.figures.downloads) == (0, 0)
    assert [len(t.points) for t in summary.trends] == [30] * len(summary.trends)


def test_unit_cdo_sees_only_its_own_unit(database: Database, seeded: Org) -> None:
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        own = service.cockpit_summary(ctx)
    assert own.scope == "A" and own.ranking == []
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.cockpit_summary(ctx, "B")
    assert any(d["operation"] == "view_cockpit" for d in _actions(database, "operation.denied"))
    with pytest.raises(Invalid) as err, acting(database, seeded.actor(Role.CDO)) as ctx:
        service.cockpit_summary(ctx, days=12)
    assert err.value.errors[0].field == "days"


def _scenario(**over: Any) -> ScenarioCreate:
    data: dict[str, Any] = {
        "year": TODAY.year,
        "name": "出生一件事",
        "goal": "一次办",
        "owner": "王芳",
        "milestones": f"需求确认 {TODAY - timedelta(days=1)}\n上线 {TODAY + timedelta(days=200)}",
    }
    data.update(over)
    return ScenarioCreate.model_validate(data)


def test_scenario_progress_flags_and_target(database: Database, seeded: Org) -> None:
    liaison = seeded.actor(Role.DATA_LIAISON)
    with acting(database, liaison) as ctx:
        made = service.register_scenario(ctx, _scenario())
    assert made.unit_code == "A" and made.status == "planned" and made.overdue
    with acting(database, liaison) as ctx:
        first = service.reach_milestone(ctx, made.id, made.milestones[0].id, MilestoneDone())
    assert first.status == "in_progress" and not first.overdue and first.progress == 0.5
    with acting(database, liaison) as ctx:
        done = service.reach_milestone(ctx, made.id, made.milestones[1].id, MilestoneDone())
    assert done.status == "delivered" and done.progress == 1.0
    with pytest.raises(Conflict), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.cancel_scenario(ctx, made.id, ScenarioCancel(reason="x"))
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        figures = service.cockpit_summary(ctx).ranking
    a = next(f for f in figures if f.unit_code == "A")
    assert (a.scenarios, a.scenarios_delivered, a.scenario_target) == (1, 1, 3)
    # Another unit's staff cannot report progress on it.
    with (
        pytest.raises(Forbidden),
        acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx,
    ):
        service.register_scenario(ctx, _scenario(unit_code="A"))


def test_scenario_bad_input_reports_every_field(database: Database, seeded: Org) -> None:
    bad = _scenario(
        resource_codes="999999/000001",
        grant_ids="77",
        milestones=f"上线 {TODAY + timedelta(days=9)}\n确认 {TODAY}",
    )
    with pytest.raises(Invalid) as err, acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        service.register_scenario(ctx, bad)
    assert {e.field for e in err.value.errors} == {"resource_codes", "grant_ids", "milestones"}
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        assert service.list_scenarios(ctx) == []


def test_contradicting_thresholds_and_unknown_columns(database: Database, seeded: Org) -> None:
    code = shared_entry(database, unit="A", loaded=True)
    cdo = seeded.actor(Role.UNIT_CDO)
    with pytest.raises(Invalid) as err, acting(database, cdo) as ctx:
        service.define_indicator(ctx, _indicator("X1", code, warn_at=30, alarm_at=20))
    assert [e.field for e in err.value.errors] == ["alarm_at"]
    below = {"direction": "below", "warn_at": 5, "alarm_at": 9}
    with pytest.raises(Invalid), acting(database, cdo) as ctx:
        service.define_indicator(ctx, _indicator("X2", code, **below))
    with pytest.raises(Invalid) as err, acting(database, cdo) as ctx:
        service.define_indicator(
            ctx, _indicator("X3", code, column="身高", warn_at=None, alarm_at=None)
        )
    assert {e.field for e in err.value.errors} == {"column", "alarm_at"}
    with pytest.raises(Invalid) as err, acting(database, cdo) as ctx:
        service.define_indicator(ctx, _indicator("X4", code, filters="姓名 between 1"))
    assert err.value.errors[0].field == "filters"
    with pytest.raises(Invalid) as err, acting(database, cdo) as ctx:
        service.define_indicator(ctx, _indicator("X6", code, func="max", column="姓名"))
    assert err.value.errors[0].field == "column" and "文本" in err.value.errors[0].message.zh
    # A unit CDO cannot define indicators over another unit's data.
    other = shared_entry(database, unit="B", loaded=True)
    with pytest.raises(Forbidden), acting(database, cdo) as ctx:
        service.define_indicator(ctx, _indicator("X5", other))


def test_indicator_alarm_history_and_schema_change(database: Database, seeded: Org) -> None:
    code = shared_entry(database, unit="A", loaded=True, rows=30)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        ind = service.define_indicator(ctx, _indicator("AGE", code, filters="年龄 ge 30"))
        result = service.evaluate_indicators(ctx)
    assert ind.unit_code == "A"
    ((reading_code, reading),) = result.readings
    assert reading_code == "AGE" and reading.level == "alarm" and reading.group_key is None
    assert len(result.alerts) == 1 and result.alerts[0].level == "alarm"
    # Evaluating again at the same level raises no second alert, but keeps history.
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        assert service.evaluate_indicators(ctx).alerts == []
        assert len(service.get_indicator(ctx, "AGE").history) == 2
    # The source drops the column: the next evaluation says so instead of failing.
    path = write_csv(
        scratch_dir() / "v2.csv",
        [r[:4] for r in people_rows(20)],
        header=["姓名", "公民身份号码", "联系电话", "出生日期"],
    )
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(path))
        lake.accept_drift(ctx, code, 2)
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        after = service.evaluate_indicators(ctx)
    ((_, broken),) = after.readings
    assert broken.level == "error" and "年龄" in broken.message
    assert after.alerts[0].level == "error"
    # The unit CDO edits the definition to the new schema; the history is kept.
    fixed = _indicator("AGE", code, func="count", column=None, warn_at=100, alarm_at=200)
    with pytest.raises(Forbidden), acting(database, seeded.other_unit_actor(Role.UNIT_CDO)) as ctx:
        service.update_indicator(ctx, "AGE", fixed)
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        assert service.update_indicator(ctx, "AGE", fixed).func == "count"
        ((_, healed),) = service.evaluate_indicators(ctx).readings
        history = service.get_indicator(ctx, "AGE").history
    assert (healed.level, healed.value) == ("ok", 20.0)
    assert [r.level for r in history] == ["alarm", "alarm", "error", "ok"]
    assert _actions(database, "cockpit.indicator_updated")[0]["func"] == "count"


def test_alert_acknowledged_with_a_note_is_audited(database: Database, seeded: Org) -> None:
    code = shared_entry(database, unit="A", loaded=True)
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.define_indicator(ctx, _indicator("AGE", code))
        alert = service.evaluate_indicators(ctx).alerts[0]
    with pytest.raises(Invalid), acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        service.acknowledge_alert(ctx, alert.id, parse(AlertAck, {"note": " "}))
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.AUDITOR)) as ctx:
        service.acknowledge_alert(ctx, alert.id, AlertAck(note="看到了"))
    with acting(database, seeded.actor(Role.UNIT_CDO)) as ctx:
        done = service.acknowledge_alert(ctx, alert.id, AlertAck(note="已通知业务科室核查"))
    assert done.status == "acknowledged" and done.note == "已通知业务科室核查"
    with pytest.raises(Conflict), acting(database, seeded.actor(Role.CDO)) as ctx:
        service.acknowledge_alert(ctx, alert.id, AlertAck(note="again"))
    assert _actions(database, "cockpit.alert_acknowledged")[0]["note"] == "已通知业务科室核查"
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        assert service.list_alerts(ctx) == []


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    refuse: ClassVar[int] = 0  # answer this many posts with 503 before accepting

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).refuse > 0:
            type(self).refuse -= 1
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Receiver.received = []
    _Receiver.refuse = 0
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Receiver.received
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Hooked:
    database: Database  # the test's database, with the webhook configured
    code: str  # a loaded dataset whose "年龄" average is above 20
    received: list[dict[str, Any]]


@pytest.fixture
def hooked(
    settings: Any, database: Database, seeded: Org, receiver: tuple[str, list[dict[str, Any]]]
) -> Iterator[Hooked]:
    url, received = receiver
    code = shared_entry(database, unit="A", loaded=True)
    with_webhook = Database(settings.with_overrides(cockpit_webhook_url=url))
    yield Hooked(with_webhook, code, received)
    with_webhook.dispose()


def _webhook_states(database: Database) -> dict[int, tuple[str, int]]:
    with acting(database, SYSTEM) as ctx:
        return {
            a.id: (a.webhook_state, a.webhook_attempts)
            for a in ctx.db.scalars(select(Alert).order_by(Alert.id))
        }


def test_alerts_are_posted_to_the_webhook_after_commit(hooked: Hooked, seeded: Org) -> None:
    database, code, received = hooked.database, hooked.code, hooked.received
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.define_indicator(ctx, _indicator("AGE", code))
        service.evaluate_indicators(ctx)
        assert received == []  # nothing leaves before the commit
    assert len(received) == 1
    assert received[0]["indicator_code"] == "AGE" and received[0]["level"] == "alarm"
    # A rolled-back evaluation sends nothing.
    with pytest.raises(RuntimeError), acting(database, seeded.actor(Role.CDO)) as ctx:
        service.define_indicator(ctx, _indicator("AGE2", code, warn_at=1, alarm_at=2))
        service.evaluate_indicators(ctx, ["AGE2"])
        raise RuntimeError("boom")
    assert len(received) == 1
    assert _webhook_states(database) == {received[0]["alert_id"]: ("sent", 1)}


def test_alerts_the_receiver_refused_are_retried_by_later_evaluations(
    hooked: Hooked, seeded: Org
) -> None:
    database, received = hooked.database, hooked.received
    _Receiver.refuse = 2
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.define_indicator(ctx, _indicator("AGE", hooked.code))
        alert = service.evaluate_indicators(ctx).alerts[0]
    assert received == [] and _webhook_states(database) == {alert.id: ("pending", 1)}
    for attempts in (2, 3):  # same level again: no new alert, the old one is retried
        with acting(database, seeded.actor(Role.CDO)) as ctx:
            assert service.evaluate_indicators(ctx).alerts == []
        assert _webhook_states(database)[alert.id][1] == attempts
    assert [r["alert_id"] for r in received] == [alert.id]
    assert received[0]["level"] == "alarm"
    assert _webhook_states(database) == {alert.id: ("sent", 3)}
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.evaluate_indicators(ctx)
    assert len(received) == 1  # a delivered alert is not sent again


def test_undeliverable_alerts_are_abandoned_not_retried_forever(
    database: Database, hooked: Hooked, seeded: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indicator_evaluation, "WEBHOOK_ATTEMPTS", 2)
    code, received, url = hooked.code, hooked.received, hooked.database.settings.cockpit_webhook_url
    with acting(database, seeded.actor(Role.CDO)) as ctx:  # no webhook configured: never sent
        service.define_indicator(ctx, _indicator("OLD", code))
        unsent = service.evaluate_indicators(ctx).alerts[0].id
    database = hooked.database
    _Receiver.refuse = 100
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        service.define_indicator(ctx, _indicator("AGE", code))
        failing = service.evaluate_indicators(ctx, ["AGE"]).alerts[0].id
        service.define_indicator(ctx, _indicator("AGE2", code, warn_at=1, alarm_at=2))
        late = service.evaluate_indicators(ctx, ["AGE2"]).alerts[0].id
    states = _webhook_states(database)
    assert states[unsent] == ("none", 0)
    assert states[failing] == ("pending", 1) and states[late] == ("pending", 1)
    assert indicators.deliver_webhooks(database, url) == (0, 2)
    assert _webhook_states(database)[failing] == ("abandoned", 2)
    # Too old to be worth sending: abandoned without another try.
    _Receiver.refuse = 0
    with acting(database, SYSTEM) as ctx:
        ctx.db.get(Alert, late).webhook_state = "pending"  # type: ignore[union-attr]
    later = utcnow() + indicators.WEBHOOK_RETRY_WINDOW + timedelta(hours=1)
    assert indicators.deliver_webhooks(database, url, now=later) == (0, 0)
    assert _webhook_states(database)[late][0] == "abandoned" and received == []


def test_snapshots_make_trends_and_exports_open(database: Database, seeded: Org) -> None:
    today = utcnow().date()  # not the module's TODAY: the suite may have crossed midnight
    yesterday = today - timedelta(days=1)
    with acting(database, SYSTEM) as ctx:
        assert service.take_snapshot(ctx, yesterday) > 0
    with acting(database, seeded.actor(Role.CDO)) as ctx:
        summary = service.cockpit_summary(ctx, days=7, today=today)
        book = service.export_cockpit(ctx)
        csv_text = service.chart_csv(ctx, "ranking")
    datasets = next(t for t in summary.trends if t.metric == "datasets").points
    assert [p.day for p in datasets][-2:] == [yesterday, today]
    assert datasets[-2].value == 0.0 and datasets[0].value is None
    assert book[:2] == b"PK"
    assert csv_text.splitlines()[0].startswith("rank,unit_code")
    with pytest.raises(Forbidden), acting(database, seeded.actor(Role.CDO)) as ctx:
        service.take_snapshot(ctx, date(2020, 1, 1))
