"""End to end in a real browser: the region CDO opens the cockpit, reads the three answers
with charts drawn by ECharts, sees the crossed indicator and acknowledges its alert."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from shuzhi.cockpit import service
from shuzhi.cockpit.schemas import IndicatorCreate
from shuzhi.context import SYSTEM
from tests.conftest import acting
from tests.e2e.conftest import LiveServer, login
from tests.factories import PASSWORD, seed_org
from tests.sharing.helpers import shared_entry

pytestmark = pytest.mark.browser


def test_region_cdo_sees_answers_and_acknowledges_alert(
    live_server: LiveServer, page: Page
) -> None:
    seed_org(live_server.database)
    code = shared_entry(live_server.database, unit="A", loaded=True)
    with acting(live_server.database, SYSTEM) as ctx:
        service.define_indicator(
            ctx,
            IndicatorCreate.model_validate(
                {
                    "code": "AGE",
                    "name": "平均年龄",
                    "resource_code": code,
                    "func": "avg",
                    "column": "年龄",
                    "warn_at": 10,
                    "alarm_at": 20,
                }
            ),
        )
        service.evaluate_indicators(ctx)
    base = live_server.url
    login(page, base, "cdo", PASSWORD)
    page.click("nav[aria-label=main] >> text=驾驶舱")
    expect(page.locator("#cockpit-scope")).to_have_text("测试区")
    for key, question in [
        ("aggregation", "归集进展如何"),
        ("comparison", "比较结果如何"),
        ("scenarios", "应用场景进展如何"),
    ]:
        expect(page.locator(f"#answer-{key} h2")).to_have_text(question)
        expect(page.locator(f"#answer-{key} p")).not_to_be_empty()
    expect(page.locator("#answer-scenarios p")).to_contain_text("年度目标 9 个应用场景")
    # ECharts drew the charts; their tables stay available behind them.
    expect(page.locator("html")).to_have_attribute("data-charts-ready", "9")
    expect(page.locator("#chart-ranking canvas")).to_have_count(1)
    # the compile rate reads as percent on an axis at least ten points tall
    low, high, label = page.evaluate(
        """() => {
          const el = document.querySelector('[data-metric="compile_rate"]');
          const axis = echarts.getInstanceByDom(el).getOption().yAxis[0];
          return [axis.min, axis.max, axis.axisLabel.formatter(0.95)];
        }"""
    )
    assert label == "95%" and high - low >= 0.1 - 1e-9
    expect(page.locator("#ranking-table tbody tr")).to_have_count(3)
    expect(page.locator("#indicator-table tr.level-alarm")).to_contain_text("平均年龄")
    alert = page.locator("#alerts li").first
    expect(alert).to_contain_text("报警")
    alert.locator("input[name=note]").fill("已要求区甲局核查数据")
    alert.locator("button[type=submit]").click()
    expect(page.locator("#alerts")).to_have_count(0)
    page.goto(f"{base}/cockpit/indicators")
    expect(page.locator("#alert-history")).to_contain_text("已要求区甲局核查数据")
