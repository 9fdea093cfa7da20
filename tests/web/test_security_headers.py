"""Security headers on every kind of response, and pages that need nothing inline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import Response
from fastapi.testclient import TestClient

from shuzhi.app import create_app
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from shuzhi.web.headers import CONSOLE_POLICY, DOCS_POLICY
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import login

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "shuzhi" / "web" / "templates"


def assert_hardened(response: Any, *, policy: str = CONSOLE_POLICY, hsts: bool = False) -> None:
    headers = response.headers
    where = f"{response.request.method} {response.request.url} → {response.status_code}"
    assert headers.get("content-security-policy") == policy, where
    assert "frame-ancestors 'none'" in policy
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "strict-origin-when-cross-origin", where
    assert ("strict-transport-security" in headers) is hsts, where
    # Everything but static files may carry personal or unit data: kept by no cache.
    static = response.request.url.path.startswith("/static/")
    assert headers.get("cache-control") == (None if static else "no-store"), where


def test_every_kind_of_response_carries_the_headers(client: TestClient, database: Database) -> None:
    seed_org(database)
    anonymous = [
        client.get("/login"),  # console page
        client.get("/org/units", follow_redirects=False),  # redirect to the login
        client.get("/healthz"),  # JSON
        client.get("/api/v1/org/units"),  # API error (problem+json, 401)
        client.get("/open"),  # public portal
        client.get("/api/3/action/package_list"),  # CKAN API
        client.get("/static/shuzhi.css"),  # static file
        client.get("/no/such/page"),  # 404 page
        client.get("/api/v1/share/X-1/records/110101199003074514"),  # gateway fast path, 401
        client.post("/login", data={"username": "x"}),  # CSRF refusal, 403
        client.get("/openapi.json"),
    ]
    statuses = {r.status_code for r in anonymous}
    assert {200, 303, 401, 403, 404} <= statuses
    for response in anonymous:
        assert_hardened(response)
    login(client, "exec", PASSWORD)
    for response in (client.get("/"), client.get("/org/units"), client.get("/cockpit")):
        assert response.status_code == 200
        assert_hardened(response)


def test_an_unexpected_failure_carries_the_headers(settings: Settings, database: Database) -> None:
    app = create_app(settings, database=database, migrate=False)

    def fail() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test-failure", fail)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-failure")
    assert response.status_code == 500
    assert_hardened(response)


def test_a_route_keeps_its_own_caching(settings: Settings, database: Database) -> None:
    app = create_app(settings, database=database, migrate=False)

    def public() -> Response:
        return Response(
            "{}", media_type="application/json", headers={"Cache-Control": "max-age=60"}
        )

    app.add_api_route("/test-cached", public)
    with TestClient(app) as client:
        cached = client.get("/test-cached")
        static = client.get("/static/shuzhi.css")
    assert cached.headers["cache-control"] == "max-age=60"
    assert cached.headers["x-frame-options"] == "DENY"
    assert static.status_code == 200 and "cache-control" not in static.headers
    assert static.headers.get("etag") or static.headers.get("last-modified")


def test_api_documentation_gets_its_own_policy(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert_hardened(response, policy=DOCS_POLICY)


def test_hsts_only_when_served_over_https(settings: Settings, database: Database) -> None:
    secure = settings.with_overrides(cookie_secure=True)
    app = create_app(secure, database=database, migrate=False)
    with TestClient(app, base_url="https://testserver") as client:
        response = client.get("/login")
        assert_hardened(response, hsts=True)
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert_hardened(client.get("/static/shuzhi.css"), hsts=True)


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_have_nothing_the_policy_would_block(template: Path) -> None:
    """No inline script, style attribute, <style> element, event handler or javascript: URL."""
    text = template.read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>", text)
    for attributes in scripts:
        assert "src=" in attributes or re.search(r'type="application/(ld\+)?json"', attributes), (
            f"inline script in {template.name}"
        )
    assert not re.search(r"\sstyle=", text), f"style attribute in {template.name}"
    assert "<style" not in text, f"<style> in {template.name}"
    assert not re.search(r"\son[a-z]+=", text), f"event handler attribute in {template.name}"
    assert "javascript:" not in text, f"javascript: URL in {template.name}"
