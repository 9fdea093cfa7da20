"""Pages and the CKAN API show names where people expect names (demo district); codes stay
as secondary text or a separate field."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shuzhi.app import create_app
from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo.district import build_demo
from shuzhi.demo.names import DEPARTMENTS, REGION, STREETS
from shuzhi.org import service as org
from tests.conftest import acting
from tests.web.helpers import login

UNIT_NAMES = {code: name for code, name, *_ in [*DEPARTMENTS, *STREETS]}


@pytest.fixture
def demo_client(demo_database: Database) -> Iterator[TestClient]:
    app = create_app(demo_database.settings, database=demo_database, migrate=False)
    with TestClient(app, base_url="http://testserver") as client:
        executive = next(a for a in build_demo(demo_database) if a.username == "executive")
        login(client, executive.username, executive.password)
        yield client


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_console_pages_name_units_entries_and_regions(
    demo_client: TestClient, demo_database: Database
) -> None:
    with acting(demo_database, SYSTEM) as ctx:
        without_cdo = org.org_overview(ctx).units_without_cdo
        # the district's units by their listed names; others (the market demo's parties'
        # enterprise units) by the name they were given
        names = {}
        for code in without_cdo:
            unit = org.unit_brief(ctx, org.unit_id_for_code(ctx, code) or 0)
            names[code] = UNIT_NAMES.get(code) or (unit.name if unit else code)
        page = catalog.list_entries(ctx, "身份证", filters={"status": ["published"]}, limit=50)
        referencing = None
        for brief in page.items:
            entry = catalog.get_entry(ctx, brief.resource_code)
            for item in entry.items:
                if item.source_unit_code == "GAJ" and not item.is_source:
                    referencing = entry.resource_code
    assert without_cdo and referencing
    # units without a CDO: names, the code as secondary text
    home = demo_client.get("/").text
    for code, name in names.items():
        assert name in home, code
    assert not re.search(r">\s*[A-Z][A-Z-]+\s*</a>\s*·", home), "codes listed as names"
    # a data item referencing another unit's element names that unit
    entry_page = _text(demo_client.get(f"/catalog/entries/{referencing}").text)
    assert "引用 区公安分局" in entry_page and "引用 GAJ" not in entry_page
    # the working-day calendar names the region
    calendar = demo_client.get("/sharing/calendar", params={"jurisdiction": REGION[0]}).text
    assert f"· {REGION[1]} ·" in calendar
    assert f">{REGION[1]}" in calendar  # the jurisdiction picker
    assert f"· {REGION[0]} ·" not in calendar


def test_gateway_statistics_name_the_entries(
    demo_client: TestClient, demo_database: Database
) -> None:
    stats = demo_client.get("/gateway/stats", params={"days": 60}).text
    top = stats.split('id="gw-top-entries"')[1].split("</table>")[0]
    recent = stats.split('id="gw-recent"')[1].split("</table>")[0]
    # Each table names the entries it lists (the recent calls need not include every top
    # entry: the security demo's traffic on some of them ended days ago).
    for table in (top, recent):
        codes = re.findall(r"<code>(\d{6}/\d{6})</code>", table)
        assert codes, "the resource code stays as secondary text"
        with acting(demo_database, SYSTEM) as ctx:
            names = {c: catalog.get_entry(ctx, c).name for c in codes}
        for code, name in names.items():
            assert name in table, code


def test_ckan_names_organisations_and_update_cycles(demo_client: TestClient) -> None:
    found = demo_client.get("/api/3/action/package_search", params={"rows": 50}).json()
    packages = found["result"]["results"]
    assert packages
    for package in packages:
        org_code = package["owner_org"]
        organization = package["organization"]
        assert organization["display_name"] == organization["title"]
        assert organization["display_name"] == UNIT_NAMES.get(org_code, organization["title"])
        assert re.search(r"[\u4e00-\u9fff]", organization["display_name"]), organization
        extras = {e["key"]: e["value"] for e in package["extras"]}
        assert extras["update_cycle"] in {
            "实时",
            "每日",
            "每周",
            "每月",
            "每季度",
            "每半年",
            "每年",
            "不定期",
        }, extras["update_cycle"]
        assert extras["update_cycle_code"].isdigit()
    english = demo_client.get(
        "/api/3/action/package_show", params={"id": packages[0]["name"], "lang": "en"}
    ).json()["result"]
    assert not re.search(
        r"^\d+$", {e["key"]: e["value"] for e in english["extras"]}["update_cycle"]
    )
    faceted = demo_client.get(
        "/api/3/action/package_search",
        params={"facet.field": '["organization", "update_cycle"]', "rows": 0},
    ).json()["result"]["search_facets"]
    for item in faceted["organization"]["items"]:
        assert item["display_name"] == UNIT_NAMES.get(item["name"].upper(), item["display_name"])
        assert re.search(r"[\u4e00-\u9fff]", item["display_name"]), item
    assert all(not i["display_name"].isdigit() for i in faceted["update_cycle"]["items"])
    orgs = demo_client.get("/api/3/action/organization_list", params={"all_fields": "true"}).json()[
        "result"
    ]
    assert all(re.search(r"[\u4e00-\u9fff]", o["display_name"]) for o in orgs)
