"""In a real browser, the console works under its Content Security Policy.

Every browser test fails on a CSP violation (the ``page`` fixture listens to the console);
this one walks the pages that used to carry inline code and proves the listener sees one.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, is_csp_violation, login
from tests.factories import PASSWORD, seed_org

pytestmark = pytest.mark.browser


def test_console_pages_run_under_the_policy(live_server: LiveServer, page: Page) -> None:
    seed_org(live_server.database)
    base = live_server.url
    response = page.goto(f"{base}/login")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    login(page, base, "exec", PASSWORD)
    page.goto(f"{base}/org/units")
    # the unit tree is indented by classes, not inline styles
    street = page.locator("td.depth-1").first
    expect(street).to_be_visible()
    indent = street.evaluate("el => parseFloat(getComputedStyle(el).paddingLeft)")
    root = page.locator("td.depth-0").first.evaluate(
        "el => parseFloat(getComputedStyle(el).paddingLeft)"
    )
    assert indent > root
    # htmx loaded (the badge request ran) without its inline style sheet
    expect(page.locator("head style")).to_have_count(0)
    page.goto(f"{base}/cockpit/print")
    button = page.locator("[data-print]")
    expect(button).to_be_visible()
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    button.click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")


def test_the_listener_sees_a_violation(live_server: LiveServer, browser: object) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context()
    page = context.new_page()
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if is_csp_violation(m.text) else None)
    page.goto(f"{live_server.url}/login")
    # As an injected <script> would: an inline script element added to the page.
    page.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "document.body.dataset.inline = 'ran';";
            document.head.appendChild(s);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.locator("body").get_attribute("data-inline") is None
    context.close()
    assert seen, "an inline script ran or went unreported"
