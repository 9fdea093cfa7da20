"""The gateway statistics' daily charts have axes: dates along the bottom, values up the side."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.app import create_app
from shuzhi.db.engine import Database
from shuzhi.demo.district import build_demo
from shuzhi.gateway.charts import daily_chart, nice_ticks
from shuzhi.gateway.schemas import CallStats, DayStats
from tests.web.helpers import login


def _stats(values: list[int], until: date = date(2026, 11, 20)) -> CallStats:
    since = until - timedelta(days=len(values) - 1)
    days = [
        DayStats(
            day=since + timedelta(days=i),
            calls=v,
            rows=v * 10,
            errors=0,
            p50_ms=None,
            p99_ms=float(v) / 3 if v else None,
        )
        for i, v in enumerate(values)
    ]
    return CallStats(
        since=since,
        until=until,
        calls=sum(values),
        rows=0,
        errors=0,
        p50_ms=None,
        p99_ms=None,
        days=days,
        outcomes={},
        top_consumers=[],
        top_entries=[],
        top_applications=[],
        recent=[],
    )


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False), st.booleans())
def test_ticks_cover_the_values_in_round_steps(top: float, whole: bool) -> None:
    ticks = nice_ticks(top, whole=whole)
    assert ticks[0] == 0 and ticks[-1] >= top and 2 <= len(ticks) <= 7
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** int(f"{step:e}".split("e")[1])
    assert round(mantissa, 6) in (1, 2, 2.5, 5)
    if whole:
        assert step >= 1 and step == int(step)


def test_chart_has_date_and_value_labels() -> None:
    chart = daily_chart(_stats([3, 0, 7, 12, 5, 0, 9, 40, 2, 1, 0, 6, 8, 3]), "calls")
    assert [t["label"] for t in chart["y_ticks"]] == ["0", "10", "20", "30", "40"]
    labels = [t["label"] for t in chart["x_ticks"]]
    assert labels[0] == "11-07" and labels[-1] == "11-20"
    assert 3 <= len(labels) <= 9
    assert len(chart["bars"]) == 14 and max(b["height"] for b in chart["bars"]) > 0
    # the tallest bar reaches the top tick: bars and axis share one scale
    tallest = max(chart["bars"], key=lambda b: b["height"])
    assert tallest["y"] == pytest.approx(chart["top"])
    latency = daily_chart(_stats([0, 3, 9]), "p99_ms", " ms")
    assert latency["y_ticks"][-1]["label"].endswith(" ms")
    assert [t["label"] for t in daily_chart(_stats([0, 0]), "calls")["y_ticks"]] == ["0", "1"]


@pytest.fixture
def demo_client(demo_database: Database) -> Iterator[TestClient]:
    app = create_app(demo_database.settings, database=demo_database, migrate=False)
    with TestClient(app, base_url="http://testserver") as client:
        executive = next(a for a in build_demo(demo_database) if a.username == "executive")
        login(client, executive.username, executive.password)
        yield client


def test_statistics_page_draws_axes(demo_client: TestClient) -> None:
    html = demo_client.get("/gateway/stats", params={"days": 30}).text
    for chart_id in ("gw-chart-calls", "gw-chart-errors", "gw-chart-p99"):
        svg = html.split(f'id="{chart_id}"')[1].split("</figure>")[0]
        x_labels = re.findall(r'<text[^>]*class="x-tick"[^>]*>([^<]+)</text>', svg)
        y_labels = re.findall(r'<text[^>]*class="y-tick"[^>]*>([^<]+)</text>', svg)
        assert len(x_labels) >= 3 and all(re.fullmatch(r"\d\d-\d\d", x) for x in x_labels)
        assert y_labels[0].startswith("0") and len(y_labels) >= 2
        assert svg.count("<rect") == 30 and "<line" in svg
    p99 = html.split('id="gw-chart-p99"')[1].split("</figure>")[0]
    assert re.search(r'class="y-tick"[^>]*>[\d.]+ ms<', p99)
