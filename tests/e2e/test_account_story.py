"""End to end in a real browser: the executive resets a forgotten password, its holder must
choose a new one at login; the CDO turns on the second factor and logs in with a code."""

from __future__ import annotations

import base64
import time

import pytest
from playwright.sync_api import Page, expect

from shuzhi.auth import totp
from tests.e2e.conftest import LiveServer, login, logout
from tests.factories import PASSWORD, seed_org

pytestmark = pytest.mark.browser

NEW = "Spare-lantern-orchid-42"


def _code(secret: str, steps_ahead: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return totp.totp(key, time.time() + 30 * steps_ahead)


def test_reset_forced_change_and_second_factor(live_server: LiveServer, page: Page) -> None:
    seed_org(live_server.database)
    base = live_server.url

    login(page, base, "exec", PASSWORD)
    page.goto(f"{base}/auth/users")
    form = "form[action='/auth/users/reset']"
    page.select_option(f"{form} select[name=username]", "a.cdo")
    page.click(f"{form} button[type=submit]")
    temporary = page.locator("#temporary-password").inner_text()
    assert len(temporary) >= 20
    logout(page)

    page.goto(f"{base}/login")
    page.fill("input[name=username]", "a.cdo")
    page.fill("input[name=password]", temporary)
    page.click("button[type=submit]")
    expect(page.locator("text=管理员重置了您的密码")).to_be_visible()
    page.fill("input[name=new_password]", "password12")
    page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("密码至少 12 个字符")
    page.fill("input[name=new_password]", NEW)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    logout(page)

    login(page, base, "cdo", PASSWORD)
    page.click("header .who a")
    page.wait_for_url(f"{base}/account")
    page.fill("form[action='/account/totp/start'] input[name=password]", PASSWORD)
    page.click("form[action='/account/totp/start'] button[type=submit]")
    secret = page.locator("#totp-secret").inner_text()
    expect(page.locator("#totp-uri")).to_contain_text("otpauth://totp/")
    page.fill("form[action='/account/totp/confirm'] input[name=code]", _code(secret))
    page.click("form[action='/account/totp/confirm'] button[type=submit]")
    expect(page.locator("[role=status]")).to_contain_text("双因素认证已启用")
    logout(page)

    page.goto(f"{base}/login")
    page.fill("input[name=username]", "cdo")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.fill("input[name=code]", _code(secret, 1))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    expect(page.locator("header .who")).to_contain_text("cdo")
