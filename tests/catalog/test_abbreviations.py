"""Common government abbreviations (社保 ↔ 社会保险): shipped defaults the bureau can edit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from shuzhi.audit.models import AuditEntry
from shuzhi.catalog import abbreviations, service
from shuzhi.catalog.schemas import AbbreviationsIn
from shuzhi.cli import app as cli
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.errors import Forbidden, Invalid
from shuzhi.portal import service as portal
from shuzhi.search.segmenter import words
from tests.catalog.test_excel_interfaces import env as env
from tests.catalog.test_lifecycle import publish
from tests.conftest import acting
from tests.factories import PASSWORD, Org, seed_org
from tests.web.helpers import csrf, login

# (abbreviation, the full term the demo district's catalogue uses)
DEMO_PAIRS = [
    ("社保", "社会保险"),
    ("低保", "最低生活保障"),
    ("医院", "医疗机构"),
    ("人社", "人力资源和社会保障"),
]
# The same on the demo portal (it has only a few open datasets).
PORTAL_PAIRS = [("房产证", "不动产权证书")]
# Official terms of several words (none of them a synonym term itself): with synonyms they
# still find what their words find.
WORDY_TERMS = ["企业登记", "房屋租赁", "社会保险", "最低生活保障"]


def test_shipped_list_is_large_and_consistent() -> None:
    groups = abbreviations.SHIPPED
    assert len(groups) >= 50
    terms = [t for g in groups for t in g]
    assert len(terms) == len(set(terms)), "a term belongs to one group only"
    flat = {t for g in groups for t in g}
    for pair in [
        ("社保", "社会保险"),
        ("医保", "医疗保障"),
        ("公积金", "住房公积金"),
        ("公交", "公共交通"),
        ("低保", "最低生活保障"),
        ("市监", "市场监管"),
    ]:
        assert set(pair) <= flat
        assert any(set(pair) <= set(g) for g in groups)
    assert abbreviations.check_groups([list(g) for g in groups]) == []


def test_demo_abbreviations_find_the_full_terms(demo_database: Database) -> None:
    with acting(demo_database, SYSTEM) as ctx:
        for short, full in DEMO_PAIRS:
            full_hits = service.list_entries(ctx, full, limit=200)
            short_hits = service.list_entries(ctx, short, limit=200)
            assert full_hits.total > 0, full
            assert short_hits.total >= full_hits.total, (short, full)
            assert {e.resource_code for e in full_hits.items} <= {
                e.resource_code for e in short_hits.items
            }
        for term in WORDY_TERMS:
            spaced = " ".join(words(term))
            assert service.list_entries(ctx, term).total >= service.list_entries(ctx, spaced).total
    with acting(demo_database) as ctx:  # the public, anonymous
        for short, full in PORTAL_PAIRS:
            full_open = portal.search_open(ctx, full, limit=200)
            short_open = portal.search_open(ctx, short, limit=200)
            assert full_open.total > 0, full
            assert [d.resource_code for d in short_open.items] == [
                d.resource_code for d in full_open.items
            ]


@pytest.fixture
def org(database: Database) -> Org:
    return seed_org(database)


def test_bureau_edits_the_list(database: Database, org: Org) -> None:
    publish(database, org, name="数据管理局考核信息", abstract="数据管理局的年度考核。")
    executive = org.actor(Role.CDO_EXECUTIVE)
    with acting(database, executive) as ctx:
        shipped = service.list_abbreviations(ctx)
        assert not shipped.customised and len(shipped.groups) >= 50
        assert service.list_entries(ctx, "NDKH").total == 0
        groups = [*shipped.groups, ["NDKH", "年度考核"]]
        saved = service.save_abbreviations(ctx, AbbreviationsIn(groups=groups))
        assert saved.customised and ["NDKH", "年度考核"] in saved.groups
    with acting(database, org.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        assert [e.name for e in service.list_entries(ctx, "NDKH").items] == ["数据管理局考核信息"]
        assert service.list_abbreviations(ctx).customised
        with pytest.raises(Forbidden):
            service.save_abbreviations(ctx, AbbreviationsIn(groups=[["甲", "乙乙"]]))
    with acting(database, executive) as ctx:
        # a removed group stops working; the rest keeps working
        kept = [g for g in groups if "社保" not in g]
        service.save_abbreviations(ctx, AbbreviationsIn(groups=kept))
        assert not any("社保" in g for g in service.list_abbreviations(ctx).groups)
        reset = service.reset_abbreviations(ctx)
        assert not reset.customised and ["NDKH", "年度考核"] not in reset.groups
        assert service.list_entries(ctx, "NDKH").total == 0
        actions = [
            (e.action, e.target_id)
            for e in ctx.db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            if e.target_type == "catalog_setting"
        ]
    assert actions == [("catalog.setting_changed", "search_abbreviations")] * 3


def test_bad_lists_are_refused_and_nothing_changes(database: Database, org: Org) -> None:
    with acting(database, org.actor(Role.CDO_EXECUTIVE)) as ctx:
        before = service.list_abbreviations(ctx)
        for bad in (
            [["社保"]],  # one term
            [["社保", "社会保险"], ["社保", "社保局"]],  # a term in two groups
            [["社保", "！！"]],  # nothing searchable
            [["社保", "社" * 17]],  # too long to be looked up in a query
        ):
            with pytest.raises(Invalid):
                service.save_abbreviations(ctx, AbbreviationsIn(groups=bad))
        assert service.list_abbreviations(ctx) == before


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(max_size=20), max_size=5), max_size=6))
def test_check_groups_never_crashes(groups: list[list[str]]) -> None:
    problems = abbreviations.check_groups(groups)
    if not problems:
        cleaned = abbreviations.clean(groups)
        assert all(len(g) >= 2 for g in cleaned)


def test_api_console_and_cli(
    client: TestClient, database: Database, env: dict[str, str], tmp_path: Path
) -> None:
    seeded = seed_org(database)
    publish(database, seeded, name="数据管理局考核信息", abstract="数据管理局的年度考核。")
    login(client, "a.liaison", PASSWORD)
    listed = client.get("/api/v1/catalog/abbreviations").json()
    assert listed["customised"] is False and ["社保", "社会保险"] in listed["groups"]
    token = csrf(client, "/catalog/abbreviations")
    page = client.get("/catalog/abbreviations").text
    assert "社保、社会保险" in page and 'id="abbreviations-form"' not in page
    refused = client.put(
        "/api/v1/catalog/abbreviations",
        json={"groups": [["NDKH", "年度考核"]]},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": token})

    login(client, "exec", PASSWORD)
    token = csrf(client, "/catalog/abbreviations")
    headers = {"X-CSRF-Token": token}
    bad = client.put("/api/v1/catalog/abbreviations", json={"groups": [["社保"]]}, headers=headers)
    assert bad.status_code == 422
    saved = client.put(
        "/api/v1/catalog/abbreviations",
        json={"groups": [["NDKH", "年度考核"], ["社保", "社会保险"]]},
        headers=headers,
    )
    assert saved.status_code == 200 and saved.json()["customised"] is True
    assert "数据管理局考核信息" in client.get("/catalog?q=NDKH").text
    # the console form: one group per line
    form = {"csrf_token": token, "groups": "KHXX，考核\n社保 社会保险"}
    saved_form = client.post("/catalog/abbreviations", data=form, follow_redirects=False)
    assert saved_form.status_code == 303
    page = client.get("/catalog/abbreviations").text
    assert "KHXX 考核" in page and "NDKH" not in page
    broken = client.post("/catalog/abbreviations", data={**form, "groups": "社保"})
    assert broken.status_code == 422 and "社保" in broken.text
    reset = client.post("/catalog/abbreviations", data={"csrf_token": token, "reset": "1"})
    assert reset.status_code == 200 and "社保、社会保险" not in reset.text  # the form shows lines
    assert "社保 社会保险" in reset.text
    assert (
        client.delete("/api/v1/catalog/abbreviations", headers=headers).json()["customised"]
        is False
    )

    runner = CliRunner()
    listing = runner.invoke(cli, ["catalog", "abbreviations"], env=env)
    assert listing.exit_code == 0 and "社保 社会保险" in listing.stdout
    mine = tmp_path / "mine.txt"
    mine.write_text("NDKH、年度考核\n", encoding="utf-8")
    result = runner.invoke(cli, ["catalog", "abbreviations", "--set", str(mine)], env=env)
    assert result.exit_code == 0 and result.stdout.strip() == "NDKH 年度考核"
    mine.write_text("NDKH\n", encoding="utf-8")
    result = runner.invoke(cli, ["catalog", "abbreviations", "--set", str(mine)], env=env)
    assert result.exit_code == 1
    with acting(database, SYSTEM) as ctx:
        assert service.list_abbreviations(ctx).groups == [["NDKH", "年度考核"]]
        assert service.list_entries(ctx, "NDKH").total == 1
    result = runner.invoke(cli, ["catalog", "abbreviations", "--reset"], env=env)
    assert result.exit_code == 0 and "社保 社会保险" in result.stdout


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="社保会险 ,，、\t", max_size=6), max_size=4), max_size=4))
def test_lines_round_trip(groups: list[list[str]]) -> None:
    parsed = abbreviations.parse_lines(abbreviations.as_lines(groups))
    assert parsed == abbreviations.clean(
        [[p for t in g for p in re.split(r"[\s,，、]+", t)] for g in groups]
    )
