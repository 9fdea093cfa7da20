"""Rate trends read as percentages on an axis that keeps small changes small."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.app import create_app
from shuzhi.cockpit.charts import MIN_PERCENT_SPAN, percent_axis
from shuzhi.db.engine import Database
from shuzhi.demo.district import build_demo
from tests.web.helpers import login


def test_a_tenth_of_a_point_is_not_a_cliff() -> None:
    assert percent_axis([0.9252, 0.9254, None, 0.9258]) == (0.9, 1.0)
    assert percent_axis([None, None]) == (0.0, 1.0)
    assert percent_axis([0.0, 0.03]) == (0.0, 0.1)
    assert percent_axis([1.0]) == (0.9, 1.0)


@given(st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1)), max_size=40))
def test_axis_holds_every_value_and_spans_ten_points(values: list[float | None]) -> None:
    low, high = percent_axis(values)
    present = [v for v in values if v is not None]
    assert 0 <= low < high <= 1
    assert high - low >= MIN_PERCENT_SPAN - 1e-9
    assert all(low <= v <= high for v in present)


@pytest.fixture
def demo_client(demo_database: Database) -> Iterator[TestClient]:
    app = create_app(demo_database.settings, database=demo_database, migrate=False)
    with TestClient(app, base_url="http://testserver") as client:
        executive = next(a for a in build_demo(demo_database) if a.username == "executive")
        login(client, executive.username, executive.password)
        yield client


def test_cockpit_prints_the_compile_rate_as_percent(demo_client: TestClient) -> None:
    html = demo_client.get("/cockpit").text
    chart = re.search(r'<div class="echart small" data-metric="compile_rate"[^>]*>', html)
    assert chart and 'data-format="percent"' in chart.group()
    data = json.loads(html.split('id="cockpit-data">')[1].split("</script>")[0])
    trend = next(t for t in data["trends"] if t["metric"] == "compile_rate")
    values = [p["value"] for p in trend["points"] if p["value"] is not None]
    assert values and trend["format"] == "percent"
    assert trend["axis_max"] - trend["axis_min"] >= MIN_PERCENT_SPAN - 1e-9
    assert trend["axis_min"] <= min(values) <= max(values) <= trend["axis_max"]
    # the table behind the chart: percentages, never raw ratios like 0.9252
    table = html.split('id="trend-table"')[1].split("</table>")[0]
    header = re.findall(r"<th scope=\"col\">([^<]+)</th>", table)
    column = header.index("编目完成率") if "编目完成率" in header else 1
    rows = re.findall(r"<tr><th scope=\"row\">[^<]+</th>(.*?)</tr>", table)
    cells = [re.findall(r"<td>([^<]*)</td>", r)[column - 1] for r in rows]
    assert cells and all(re.fullmatch(r"\d{1,3}\.\d\d%|—", c) for c in cells), cells[:3]
    assert any(c.endswith("%") for c in cells)


def test_the_cockpit_lists_the_assessed_levels_with_a_table(demo_client: TestClient) -> None:
    html = demo_client.get("/cockpit").text
    table = html.split('id="assessed-table"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><th scope=\"row\">", table)
    assert len(rows) > 40
    assert "提升" in table and "下降" in table and "/assess/rounds/" in table
    printed = demo_client.get("/cockpit/print").text
    assert 'id="assessed-table"' in printed
