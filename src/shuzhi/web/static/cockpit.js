// Draws the cockpit's charts with ECharts from the summary embedded in the page.
// Without JavaScript (or without ECharts) the tables below each chart stay as they are.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () {
    if (!window.echarts) return;
    var data = JSON.parse(document.getElementById("cockpit-data").textContent);
    var labels = JSON.parse(document.getElementById("cockpit-labels").textContent);
    var charts = [];
    function show(el) {
      el.hidden = false;
      var box = el.closest(".chart-box");
      var table = box && box.querySelector("details.chart-table");
      if (table) table.open = false;
    }
    function draw(el, option) {
      show(el.closest("[data-chart]") || el);
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(Object.assign({ animation: false, aria: { enabled: true } }, option));
      charts.push(chart);
    }
    document.querySelectorAll(".echart[data-metric]").forEach(function (el) {
      var trend = data.trends.find(function (t) { return t.metric === el.dataset.metric; });
      if (!trend) return;
      // Ratios read as percentages on the axis the server chose (at least ten points tall,
      // so a tenth of a point stays a small step); counts start at zero.
      var percent = trend.format === "percent";
      var shown = function (v) {
        if (v === null || v === undefined) return "—";
        return percent ? (v * 100).toFixed(2) + "%" : String(v);
      };
      draw(el, {
        title: { text: el.dataset.title, textStyle: { fontSize: 12 } },
        grid: { left: 48, right: 8, top: 28, bottom: 22 },
        tooltip: { trigger: "axis", valueFormatter: shown },
        xAxis: { type: "category", data: trend.points.map(function (p) { return p.day; }) },
        yAxis: { type: "value",
                 min: trend.axis_min === null ? undefined : trend.axis_min,
                 max: trend.axis_max === null ? undefined : trend.axis_max,
                 axisLabel: percent ? { formatter: function (v) { return Math.round(v * 1000) / 10 + "%"; } } : {} },
        series: [{ type: "line", showSymbol: false, connectNulls: true,
                   data: trend.points.map(function (p) { return p.value; }) }]
      });
    });
    var ranking = document.querySelector('[data-chart="ranking"]');
    if (ranking && data.ranking.length) {
      var rows = data.ranking.slice().reverse();
      draw(ranking, {
        grid: { left: 150, right: 24, top: 10, bottom: 24 },
        tooltip: {},
        xAxis: { type: "value", max: 100 },
        yAxis: { type: "category", data: rows.map(function (r) { return r.unit_name; }) },
        series: [{ type: "bar", name: ranking.dataset.title, data: rows.map(function (r) { return r.score; }) }]
      });
    }
    var requests = document.querySelector('[data-chart="requests"]');
    var states = Object.keys(data.figures.requests_by_state);
    if (requests && states.length) {
      draw(requests, {
        tooltip: {},
        series: [{ type: "pie", radius: ["35%", "70%"],
                   data: states.map(function (k) { return { name: labels[k] || k, value: data.figures.requests_by_state[k] }; }) }]
      });
    }
    var scenarios = document.querySelector('[data-chart="scenarios"]');
    if (scenarios && data.scenarios.length) {
      var counts = {};
      data.scenarios.forEach(function (s) { counts[s.status] = (counts[s.status] || 0) + 1; });
      var keys = ["planned", "in_progress", "delivered", "cancelled"];
      draw(scenarios, {
        grid: { left: 40, right: 8, top: 10, bottom: 24 },
        tooltip: {},
        xAxis: { type: "category", data: keys.map(function (k) { return labels[k]; }) },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "bar", name: labels.count, data: keys.map(function (k) { return counts[k] || 0; }) }]
      });
    }
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    document.documentElement.dataset.chartsReady = String(charts.length);
  });
})();
