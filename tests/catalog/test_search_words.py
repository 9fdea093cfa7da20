"""The search boxes' placeholders suggest words that find something (demo district)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shuzhi.app import create_app
from shuzhi.catalog import service
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo.district import build_demo
from shuzhi.portal import service as portal
from tests.conftest import acting
from tests.web.helpers import login

_EXAMPLES = re.compile(r'placeholder="[^"]*?(?:如：|e\.g\. )([^"]+)"')


def _suggested(html: str) -> list[str]:
    found = _EXAMPLES.findall(html)
    assert found, "the search box suggests example words"
    return [w for words in found for w in re.split(r"[、,，]\s*", words) if w]


@pytest.fixture
def demo_client(demo_database: Database) -> Iterator[TestClient]:
    app = create_app(demo_database.settings, database=demo_database, migrate=False)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def test_placeholder_words_find_something(demo_client: TestClient, demo_database: Database) -> None:
    portal_words = set()
    for path in ("/open", "/open/search", "/open/units"):
        portal_words |= set(_suggested(demo_client.get(path).text))
    executive = next(a for a in build_demo(demo_database) if a.username == "executive")
    login(demo_client, executive.username, executive.password)
    catalog_words = set(_suggested(demo_client.get("/catalog").text))
    assert len(portal_words) >= 2 and len(catalog_words) >= 2
    with acting(demo_database) as ctx:
        for word in portal_words:
            assert portal.search_open(ctx, word).total > 0, word
    with acting(demo_database, SYSTEM) as ctx:
        for word in catalog_words:
            assert service.list_entries(ctx, word).total > 0, word
