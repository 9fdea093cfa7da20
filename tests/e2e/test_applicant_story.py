"""End to end in a real browser: an applicant logs in to the portal, changes the password on
the account page (a weak one is refused), and the new password is the one that works."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.portal.helpers import applicant

pytestmark = pytest.mark.browser

NEW = "Harbour-lantern-fog-91"


def _log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/open/account/login")
    page.fill("#login-form input[name=email]", email)
    page.fill("#login-form input[name=password]", password)
    page.click("#login-form button[type=submit]")


def test_applicant_changes_the_password(live_server: LiveServer, page: Page) -> None:
    base = live_server.url
    who = applicant(live_server.database, "story@example.cn")
    _log_in(page, base, who.email, "Open-data-2026")
    page.click("#change-password")
    page.fill("#password-form input[name=current_password]", "Open-data-2026")
    page.fill("#password-form input[name=new_password]", "password1234")
    page.click("#password-form button[type=submit]")
    expect(page.locator("[data-field=new_password]")).to_contain_text("常见密码")
    page.fill("#password-form input[name=current_password]", "Open-data-2026")
    page.fill("#password-form input[name=new_password]", NEW)
    page.click("#password-form button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("密码已修改")
    page.context.clear_cookies()
    _log_in(page, base, who.email, "Open-data-2026")
    expect(page.locator("[role=alert]")).to_contain_text("邮箱或密码不正确")
    _log_in(page, base, who.email, NEW)
    expect(page.locator("#my-applications")).to_be_visible()
