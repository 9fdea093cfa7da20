"""The district tests check units and filings: they build a small demo catalogue (the full
one is checked once, in tests/catalog/test_demo.py)."""

from __future__ import annotations

import pytest

from shuzhi.demo import catalog as demo_catalog


@pytest.fixture(autouse=True)
def small_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_catalog, "TASKS", 120)
    monkeypatch.setattr(demo_catalog, "PUBLISHED", 100)
    monkeypatch.setattr(demo_catalog, "SUBMITTED", 5)
    monkeypatch.setattr(demo_catalog, "DRAFTS", 5)
