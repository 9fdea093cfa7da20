"""Cockpit page load, measured in the browser on the demo district.

    python -m benchmarks.cockpit_bench [--workdir DIR] [--runs 10]

Builds the demo district once in ``--workdir`` (reused afterwards), serves it, logs in as
the region CDO in Chromium and loads ``/cockpit`` (30-day trends), ``/cockpit?days=365`` and
one unit's view. For each load the table gives the browser's own timings: the server's
answer (responseEnd), DOMContentLoaded, the load event, and the moment ECharts finished
drawing every chart (``data-charts-ready`` set by the page's script). Target: the page
loaded, charts drawn, in under 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright
from tests.e2e.conftest import CHROMIUM_ARGS, _free_port, chromium_path

from shuzhi.app import create_app
from shuzhi.db.engine import Database
from shuzhi.db.migrate import upgrade
from shuzhi.demo.district import CREDENTIALS_FILE, build_demo
from shuzhi.settings import load_settings

PAGES = ["/cockpit", "/cockpit?days=365", "/cockpit?unit=RSJ"]
TIMING = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return {response: n.responseEnd, dom: n.domContentLoadedEventEnd, load: n.loadEventEnd};
}"""


@contextmanager
def served_demo(workdir: Path) -> Iterator[tuple[str, str]]:
    """The demo district served on a free port: (base URL, the CDO's password)."""
    settings = load_settings(env={}, data_dir=workdir)
    database = Database(settings)
    upgrade(database)  # a fresh work directory has no tables yet (reused ones are up to date)
    started = time.perf_counter()
    build_demo(database)
    print(f"demo ready in {time.perf_counter() - started:.1f} s ({workdir})", flush=True)
    credentials = json.loads((workdir / CREDENTIALS_FILE).read_text(encoding="utf-8"))
    password = next(a["password"] for a in credentials["accounts"] if a["username"] == "cdo")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, database=database), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", password
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        database.dispose()


@contextmanager
def cdo_page(base: str, password: str) -> Iterator[Page]:
    """Chromium logged in as the region CDO."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "cdo")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        try:
            yield page
        finally:
            browser.close()


def measure(page: Page, url: str) -> dict[str, float]:
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_selector("html[data-charts-ready]", state="attached")
    charts = (time.perf_counter() - started) * 1000
    timing: dict[str, float] = page.evaluate(TIMING)
    return {**timing, "charts": charts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.gettempdir()) / "shuzhi-cockpit-bench"
    with served_demo(workdir.resolve()) as (base, password), cdo_page(base, password) as page:
        rows = []
        for path in PAGES:
            first = measure(page, base + path)
            runs = [measure(page, base + path) for _ in range(args.runs)]
            rows.append((path, first, runs))
    print()
    print("| page | first load ms (server / DOM / load / charts) | median of runs ms | worst ms |")
    print("|---|---|---:|---:|")
    for path, first, runs in rows:
        charts = [r["charts"] for r in runs]
        print(
            f"| `{path}` | {first['response']:.0f} / {first['dom']:.0f} / {first['load']:.0f}"
            f" / {first['charts']:.0f} | {statistics.median(charts):.0f} | {max(charts):.0f} |"
        )


if __name__ == "__main__":
    main()
