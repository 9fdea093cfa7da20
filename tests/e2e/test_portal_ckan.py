"""The real ``ckanapi`` client from PyPI against a live portal, unchanged."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import ckanapi
import pytest
import requests

from shuzhi.db.engine import Database
from tests.e2e.conftest import LiveServer
from tests.factories import seed_org
from tests.portal.helpers import STATS_HEADER, open_entry, opened, stats_rows


@pytest.fixture
def portal(live_server: LiveServer) -> Iterator[tuple[ckanapi.RemoteCKAN, dict[str, str]]]:
    database: Database = live_server.database
    seeded = seed_org(database)
    codes = {
        "bus": open_entry(database, name="公交站点统计", rows=15),
        "parks": open_entry(database, name="公园绿地统计", rows=4),
        "conditional": open_entry(database, "conditional", name="公交客流明细"),
    }
    for code in codes.values():
        opened(database, seeded, code)
    with ckanapi.RemoteCKAN(live_server.url) as remote:
        yield remote, {k: v.replace("/", "-") for k, v in codes.items()}


def test_package_list_show_and_resource_download(portal) -> None:  # type: ignore[no-untyped-def]
    remote, names = portal
    assert sorted(remote.action.package_list()) == sorted(names.values())
    package = remote.action.package_show(id=names["bus"])
    assert package["title"] == "公交站点统计"
    assert package["organization"]["name"] == "b"
    assert {r["format"] for r in package["resources"]} == {"CSV", "XLSX", "JSON", "PARQUET"}
    csv_resource = next(r for r in package["resources"] if r["format"] == "CSV")
    assert remote.action.resource_show(id=csv_resource["id"])["url"] == csv_resource["url"]
    body = requests.get(csv_resource["url"], timeout=30).content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body))) == [STATS_HEADER, *stats_rows(15)]


def test_package_search_with_q_fq_rows_start_sort_and_facets(portal) -> None:  # type: ignore[no-untyped-def]
    remote, names = portal
    found = remote.action.package_search(q="公园", rows=10)
    assert found["count"] == 1 and found["results"][0]["name"] == names["parks"]
    assert remote.action.package_search(q="*:*")["count"] == 3
    only_open = remote.action.package_search(
        q="公交", fq="+open_type:unconditional", **{"facet.field": ["organization", "open_type"]}
    )
    assert {p["name"] for p in only_open["results"]} == {names["bus"], names["parks"]}
    assert only_open["facets"]["organization"] == {"b": 2}
    assert only_open["search_facets"]["open_type"]["items"][0]["name"] == "unconditional"
    conditional = remote.action.package_search(fq="open_type:conditional")
    assert [p["name"] for p in conditional["results"]] == [names["conditional"]]
    page = remote.action.package_search(rows=1, start=1, sort="name asc")
    assert page["count"] == 3 and len(page["results"]) == 1
    assert remote.action.package_search(fq="organization:b")["count"] == 3
    assert remote.action.package_search(fq='organization:"z"')["count"] == 0


def test_organizations(portal) -> None:  # type: ignore[no-untyped-def]
    remote, _names = portal
    assert remote.action.organization_list() == ["b"]
    (full,) = remote.action.organization_list(all_fields=True)
    assert full["title"] == "区乙局" and full["package_count"] == 3
    shown = remote.action.organization_show(id="b")
    assert len(shown["packages"]) == 3


def test_bad_requests_raise_ckanapis_own_errors(portal) -> None:  # type: ignore[no-untyped-def]
    remote, names = portal
    with pytest.raises(ckanapi.NotFound):
        remote.action.package_show(id="999999-000001")
    with pytest.raises(ckanapi.NotFound):
        remote.action.package_show(id="../../etc/passwd")
    with pytest.raises(ckanapi.NotFound):
        remote.action.resource_show(id=f"{names['bus']}-exe")
    with pytest.raises(ckanapi.NotFound):
        remote.action.organization_show(id="nobody")
    with pytest.raises(ckanapi.ValidationError):
        remote.action.package_search(rows=10**9)
    with pytest.raises(ckanapi.ValidationError):
        remote.action.package_search(start=10**9)
    with pytest.raises(ckanapi.ValidationError):
        remote.action.package_search(rows="many")
    with pytest.raises(ckanapi.SearchQueryError):
        remote.action.package_search(fq="organization:(a OR")
    with pytest.raises(ckanapi.SearchQueryError):
        remote.action.package_search(fq="secret_field:x")
    with pytest.raises(ckanapi.ValidationError):
        remote.action.package_search(sort="drop table")
    conditional = remote.action.package_show(id=names["conditional"])
    url = conditional["resources"][0]["url"]
    assert requests.get(url, timeout=30).status_code == 401


def test_get_only_clients_work_too(live_server: LiveServer, portal) -> None:  # type: ignore[no-untyped-def]
    _remote, names = portal
    with ckanapi.RemoteCKAN(live_server.url, get_only=True) as remote:
        assert remote.action.package_show(id=names["parks"])["title"] == "公园绿地统计"
