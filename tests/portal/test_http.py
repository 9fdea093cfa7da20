"""The public site and downloads over HTTP: pages, formats, and clear 4xx for bad input."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shuzhi.app import create_app
from shuzhi.db.engine import Database
from shuzhi.settings import Settings
from tests.factories import seed_org
from tests.portal.helpers import STATS_HEADER, open_entry, opened, stats_rows


def _slug(code: str) -> str:
    return code.replace("/", "-")


def test_home_search_and_dataset_page(database: Database, client: TestClient) -> None:
    seeded = seed_org(database)
    code = open_entry(database, name="公交站点统计", rows=9)
    opened(database, seeded, code)
    home = client.get("/open")
    assert home.status_code == 200 and "公共数据开放平台" in home.text
    assert 'id="count-records">9<' in home.text
    found = client.get("/open/search", params={"q": "公交"})
    assert f"/open/datasets/{_slug(code)}" in found.text
    assert client.get("/open/search", params={"q": "医院"}).text.count("/open/datasets/") == 0
    page = client.get(f"/open/datasets/{_slug(code)}")
    assert page.status_code == 200
    assert '"@type": "Dataset"' in page.text and "公交站点数" in page.text
    assert 'id="preview"' in page.text and "城南街道" in page.text
    english = client.get(f"/open/datasets/{_slug(code)}", params={"lang": "en"})
    assert "Public Data Portal" in english.text


def test_downloads_in_every_format_hold_exactly_the_published_rows(
    database: Database, client: TestClient
) -> None:
    seeded = seed_org(database)
    code = open_entry(database, rows=25)
    opened(database, seeded, code)
    expected = [STATS_HEADER, *stats_rows(25)]
    base = f"/open/datasets/{_slug(code)}/download"

    got = client.get(f"{base}.csv")
    assert got.status_code == 200 and got.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert [[c.strip('"') for c in r] for r in rows] == expected

    data = client.get(f"{base}.json").json()
    assert len(data) == 25 and data[0]["街道名称"] == "城南街道"

    table = pq.read_table(io.BytesIO(client.get(f"{base}.parquet").content))
    assert table.num_rows == 25 and table.column_names == STATS_HEADER

    book = load_workbook(io.BytesIO(client.get(f"{base}.xlsx").content), read_only=True)
    sheet_rows = list(book.active.iter_rows(values_only=True))
    assert len(sheet_rows) == 26 and list(sheet_rows[0]) == STATS_HEADER


def test_bad_input_gets_clear_4xx_and_leaks_nothing(database: Database, client: TestClient) -> None:
    seeded = seed_org(database)
    code = open_entry(database)
    closed = open_entry(database, name="未开放的统计")
    conditional = open_entry(database, "conditional")
    opened(database, seeded, code)
    opened(database, seeded, conditional)
    slug = _slug(code)
    assert client.get("/open/datasets/999999-000001").status_code == 404
    assert client.get(f"/open/datasets/{_slug(closed)}").status_code == 404
    assert client.get(f"/open/datasets/{_slug(closed)}/download.csv").status_code == 404
    assert client.get(f"/open/datasets/{slug}/download.exe").status_code == 404
    for trick in ("..%2F..%2Fetc%2Fpasswd", "..", "%00", "a" * 300):
        assert client.get(f"/open/datasets/{trick}/download.csv").status_code == 404
    assert client.get("/open/search", params={"q": "x" * 500}).status_code == 200
    assert client.get("/open/search", params={"page": "-5"}).status_code == 200
    denied = client.get(f"/open/datasets/{_slug(conditional)}/download.csv")
    assert denied.status_code == 401 and "城南街道" not in denied.text
    bad_key = client.get(
        f"/open/datasets/{_slug(conditional)}/download.csv",
        headers={"Authorization": "Bearer szo_abc_def"},
    )
    assert bad_key.status_code == 401


def test_dcat_turtle_and_sitemap(database: Database, client: TestClient) -> None:
    seeded = seed_org(database)
    code = open_entry(database, name="公交站点统计")
    opened(database, seeded, code)
    doc = client.get("/open/catalog.jsonld")
    assert doc.headers["content-type"].startswith("application/ld+json")
    catalog = json.loads(doc.text)
    assert catalog["@type"] == "dcat:Catalog"
    (ds,) = catalog["dcat:dataset"]
    assert ds["dct:identifier"] == code
    urls = [d["dcat:downloadURL"]["@id"] for d in ds["dcat:distribution"]]
    assert any(u.endswith(f"/open/datasets/{_slug(code)}/download.csv") for u in urls)
    turtle = client.get("/open/catalog.ttl").text
    assert "a dcat:Catalog" in turtle and "a dcat:Dataset" in turtle and "公交站点统计" in turtle
    sitemap = client.get("/open/sitemap.xml").text
    assert f"/open/datasets/{_slug(code)}</loc>" in sitemap


def test_anonymous_bursts_are_rate_limited(settings: Settings, database: Database) -> None:
    seed_org(database)
    overrides = settings.with_overrides(portal_rate_limit=5)
    limited_app = create_app(overrides, database=database, migrate=False)
    with TestClient(limited_app, base_url="http://testserver") as client:
        codes = [client.get("/open/search").status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and codes[-1] == 429
        limited = client.get("/open/sitemap.xml")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_hostile_ckan_requests_get_ckan_shaped_4xx(database: Database, client: TestClient) -> None:
    seed_org(database)
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("post", "/api/3/action/package_search", {"json": [1, 2]}, 409),
        ("post", "/api/3/action/package_search", {"json": {"q": {"a": 1}}}, 409),
        ("post", "/api/3/action/package_search", {"json": {"q": "x" * 300}}, 409),
        ("post", "/api/3/action/package_search", {"json": {"facet.field": '{"a": 1}'}}, 409),
        (
            "post",
            "/api/3/action/package_search",
            {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
            409,
        ),
        ("get", "/api/3/action/package_show?id=%00", {}, 409),
        ("get", "/api/3/action/package_show", {}, 404),
        ("get", "/api/3/action/package_list?limit=-1", {}, 409),
        ("get", "/api/3/action/nope", {}, 400),
        ("get", "/api/3/action/package_search?fq=open_type:%22", {}, 409),
    ]
    for method, url, extra, status in cases:
        response = getattr(client, method)(url, **extra)
        assert response.status_code == status, (url, response.text)
        body = response.json()
        assert body["success"] is False and body["error"]["__type"], url
