"""The guard on data leaving the portal: categories, stricter revisions and caching."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM, Role
from shuzhi.db.engine import Database
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.portal import service
from shuzhi.portal.schemas import FORMATS, ApplicationIn
from tests.catalog.helpers import item, update
from tests.conftest import acting
from tests.factories import Org, seed_org
from tests.lake.helpers import write_csv
from tests.portal.helpers import (
    STATS_ITEMS,
    _published,
    applicant,
    open_entry,
    opened,
    provider,
)

ITEMS = [item("地点"), item("数量", data_type="N", length=6)]
HEADER = ["地点", "数量"]


def _coordinates(n: int) -> list[list[str]]:
    return [[f"30.{2700 + i}12,120.{1500 + i}34", str(i)] for i in range(n)]


def _addresses(n: int) -> list[list[str]]:
    street = "浙江省杭州市西湖区文新街道文三路{}号3幢201室"
    return [[street.format(100 + i), str(i)] for i in range(n)]


def _phones(n: int) -> list[list[str]]:
    return [[f"139{52000000 + i * 7919:08d}", str(i)] for i in range(n)]


def _load(database: Database, code: str, path: Path, rows: list[list[str]]) -> None:
    with acting(database, SYSTEM) as ctx:
        lake.ingest(ctx, code, FileSource(write_csv(path, rows, header=HEADER)))


def _category(database: Database, code: str) -> str:
    with acting(database, SYSTEM) as ctx:
        current = lake.current_version(ctx, code)
    assert current is not None
    return {c.name: c.category for c in current[0].classification}["地点"]


def _opened_locations(database: Database, seeded: Org, tmp_path: Path, rows: int) -> str:
    """An unconditional dataset whose 地点 column holds coordinates, opened de-identified."""
    code = _published(database, f"巡查点位{rows}", ITEMS, {"open_type": "unconditional"})
    _load(database, code, tmp_path / "v1.csv", _coordinates(rows))
    assert _category(database, code) == "precise_location"
    opened(database, seeded, code, confirm=True)
    return code


def _slug(code: str) -> str:
    return code.replace("/", "-")


def _withheld(client: TestClient, code: str, clear: str) -> None:
    """Nothing of the current version leaves: 409 for every format, no preview."""
    for fmt in FORMATS:
        reply = client.get(f"/open/datasets/{_slug(code)}/download.{fmt}")
        assert reply.status_code == 409, fmt
        assert clear not in reply.text
    page = client.get(f"/open/datasets/{_slug(code)}")
    assert page.status_code == 200 and 'id="unavailable"' in page.text
    assert 'id="preview"' not in page.text and clear not in page.text


def _csv_column(client: TestClient, code: str) -> list[str]:
    reply = client.get(f"/open/datasets/{_slug(code)}/download.csv")
    assert reply.status_code == 200
    return [row["地点"] for row in csv.DictReader(io.StringIO(reply.text.lstrip("\ufeff")))]


@pytest.mark.parametrize(
    ("rows", "category", "served"),
    [
        (_addresses, "address", "浙江省杭州市西湖区文新街道****"),
        (_phones, "mobile_phone", "139****"),
    ],
)
def test_a_column_now_holding_another_kind_of_personal_data_is_withheld_until_confirmed(
    database: Database,
    client: TestClient,
    tmp_path: Path,
    rows: Callable[[int], list[list[str]]],
    category: str,
    served: str,
) -> None:
    seeded = seed_org(database)
    code = _opened_locations(database, seeded, tmp_path, 40)
    assert _csv_column(client, code)[0] == "30.27****,120.15****"
    new_rows = rows(40)
    _load(database, code, tmp_path / "v2.csv", new_rows)
    assert _category(database, code) == category  # same name, another kind of data
    clear = new_rows[0][0]
    _withheld(client, code, clear)
    resource = client.get(f"/api/3/action/resource_show?id={_slug(code)}-csv").json()
    assert (
        client.get(resource["result"]["url"].removeprefix("http://testserver")).status_code == 409
    )
    with acting(database, provider(seeded)) as ctx:
        service.republish_dataset(ctx, code, confirm_deidentified=True)
    column = _csv_column(client, code)
    assert column[0].startswith(served) and clear not in column


def test_a_stewards_override_after_opening_withholds_the_data_until_confirmed(
    database: Database, client: TestClient, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = _opened_locations(database, seeded, tmp_path, 40)
    with acting(database, SYSTEM) as ctx:
        lake.override_classification(ctx, code, "地点", "health", "含诊断信息")
    _withheld(client, code, "30.27")
    with acting(database, provider(seeded)) as ctx:
        service.republish_dataset(ctx, code, confirm_deidentified=True)
    assert set(_csv_column(client, code)) == {"***"}


def _schema_org(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found is not None
    loaded: dict[str, object] = json.loads(found.group(1).replace("<\\/", "</"))
    return loaded


def test_a_withheld_version_is_described_as_the_checked_one(
    database: Database, client: TestClient, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = _opened_locations(database, seeded, tmp_path, 40)
    header = [*HEADER, "联系电话"]
    v2 = [[*r, p[0]] for r, p in zip(_coordinates(25), _phones(25), strict=True)]
    with acting(database, SYSTEM) as ctx:
        loaded = lake.ingest(
            ctx, code, FileSource(write_csv(tmp_path / "v2.csv", v2, header=header))
        )
        lake.accept_drift(
            ctx, code, loaded.version.number, "新增联系电话"
        )  # the new column is accepted
    page = client.get(f"/open/datasets/{_slug(code)}")
    assert 'id="unavailable"' in page.text
    assert re.search(r'id="record-count">40<', page.text)
    assert "联系电话" not in page.text
    assert _schema_org(page.text)["variableMeasured"] == HEADER


def _revise_open_type(database: Database, seeded: Org, code: str, open_type: str) -> None:
    with acting(database, provider(seeded)) as ctx:
        name = catalog.get_entry(ctx, code).name
    with acting(database, seeded.other_unit_actor(Role.DATA_LIAISON)) as ctx:
        catalog.revise_entry(ctx, code)
        terms = {"open_conditions": "仅限获批科研机构使用"} if open_type == "conditional" else {}
        catalog.update_entry(
            ctx,
            code,
            update(
                name=name,
                unit_code="B",
                items=STATS_ITEMS,
                open_type=open_type,
                not_open_reason="",
                **terms,
            ),
        )
        catalog.submit_entry(ctx, code)
    with acting(database, provider(seeded)) as ctx:
        catalog.approve_entry(ctx, code)


def test_a_revision_to_conditional_closes_until_the_provider_opens_it_on_the_new_terms(
    database: Database, client: TestClient
) -> None:
    seeded = seed_org(database)
    code = open_entry(database, rows=5)
    opened(database, seeded, code)
    download = f"/open/datasets/{_slug(code)}/download.csv"
    show = f"/api/3/action/package_show?id={_slug(code)}"
    assert client.get(download).status_code == 200
    _revise_open_type(database, seeded, code, "conditional")
    assert client.get(download).status_code == 404
    assert client.get(show).status_code == 404
    with acting(database, provider(seeded)) as ctx:
        closed = [p for p in service.list_publications(ctx) if p.resource_code == code]
    assert closed[0].status == "closed" and "有条件开放" in closed[0].close_reason
    opened(database, seeded, code)
    assert client.get(download).status_code == 401
    extras = {e["key"]: e["value"] for e in client.get(show).json()["result"]["extras"]}
    assert extras["open_type"] == "conditional"


def test_a_revision_to_unconditional_keeps_the_stricter_terms_until_republished(
    database: Database, client: TestClient
) -> None:
    seeded = seed_org(database)
    code = open_entry(database, "conditional", rows=5)
    opened(database, seeded, code)
    _revise_open_type(database, seeded, code, "unconditional")
    assert client.get(f"/open/datasets/{_slug(code)}/download.csv").status_code == 401


def _key(database: Database, seeded: Org, code: str) -> str:
    who = applicant(database)
    purpose = "研究本区公共交通站点布局"
    with acting(database) as ctx:
        applied = service.submit_open_application(
            ctx, who, ApplicationIn(resource_code=code, purpose=purpose, accept_agreement=True)
        )
    with acting(database, provider(seeded)) as ctx:
        service.decide_open_application(ctx, applied.id, True, "同意")
    with acting(database) as ctx:
        return service.issue_applicant_key(ctx, who, applied.id).token


def test_downloads_with_a_key_or_of_conditional_data_are_never_cached(
    database: Database, client: TestClient
) -> None:
    seeded = seed_org(database)
    conditional = open_entry(database, "conditional", rows=5)
    unconditional = open_entry(database, rows=5)
    opened(database, seeded, conditional)
    opened(database, seeded, unconditional)
    key = _key(database, seeded, conditional)
    forms = [
        ({"Authorization": f"Bearer {key}"}, ""),
        ({"Authorization": key}, ""),
        ({"X-CKAN-API-Key": key}, ""),
        ({}, f"?key={key}"),
    ]
    for code in (conditional, unconditional):
        for headers, query in forms:
            url = f"/open/datasets/{_slug(code)}/download.csv{query}"
            reply = client.get(url, headers=headers)
            assert reply.status_code == 200, (code, headers)
            assert reply.headers["cache-control"] == "no-store", (code, headers)
    anonymous = client.get(f"/open/datasets/{_slug(unconditional)}/download.csv")
    assert anonymous.status_code == 200
    assert anonymous.headers["cache-control"] == "public, max-age=300"


def test_text_in_a_coordinates_column_is_never_served_in_clear(
    database: Database, client: TestClient, tmp_path: Path
) -> None:
    seeded = seed_org(database)
    code = _published(database, "点位备注", ITEMS, {"open_type": "unconditional"})
    notes = ["高血压二级 张三 住文三路100号", "糖尿病 李四"]
    rows = _coordinates(30) + [[notes[i % 2], str(i)] for i in range(10)]
    _load(database, code, tmp_path / "v1.csv", rows)
    with acting(database, SYSTEM) as ctx:  # the steward: a column of coordinates, with notes
        lake.override_classification(ctx, code, "地点", "precise_location", "定位坐标")
    opened(database, seeded, code, confirm=True)
    served = _csv_column(client, code)
    assert served[0] == "30.27****,120.15****"
    assert not any(word in value for value in served for word in ("张三", "李四", "文三路"))
