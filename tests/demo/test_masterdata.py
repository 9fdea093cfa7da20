"""The demo base libraries: a population library from five departments' extracts and a
legal-entity library from three, each run once — golden records with provenance, conflicts
raised as quality issues of the source units, a review queue — with everyone in the
district's streets; built once, recorded in demo-credentials.json."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from shuzhi.catalog import service as catalog
from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.demo.district import CREDENTIALS_FILE, DEMO_ACTOR
from shuzhi.demo.masterdata import (
    LEGAL_ENTITIES,
    POPULATION,
    PUSHBACK_STREET,
    STREETS,
    build_masterdata,
)
from shuzhi.demo.sharing import _actor
from shuzhi.masterdata import service
from shuzhi.masterdata.models import MasterdataEntity, MasterdataRun
from shuzhi.masterdata.normalize.addresses import parse_address
from shuzhi.masterdata.schemas import ELEMENTS
from shuzhi.quality import service as quality
from shuzhi.quality.models import RuleKind
from tests.conftest import acting


def test_demo_libraries_fuse_the_departments_extracts(demo_database: Database) -> None:
    with acting(demo_database, SYSTEM) as ctx:
        summaries = {s.code: s for s in service.list_masterdata_libraries(ctx)}
        people = service.get_masterdata_library(ctx, POPULATION)
        firms = service.get_masterdata_library(ctx, LEGAL_ENTITIES)
        issues = quality.list_quality_issues(ctx)
        entries = {m.resource_code: catalog.get_entry(ctx, m.resource_code) for m in people.members}
    assert set(summaries) == {POPULATION, LEGAL_ENTITIES}
    assert {m.unit_code for m in people.members} == {"GAJ", "RSJ", "MZJ", "WJW", "JYJ"}
    assert {m.unit_code for m in firms.members} == {"SCJ", "SWUJ", "TJJ"}
    assert {s.unit_code for s in summaries.values()} == {"SJGL"}  # the data bureau's
    for library in (people, firms):
        # Each member maps the data elements its extract holds, pinyin headers included.
        for member in library.members:
            assert {"name", "address"} <= set(member.mapping)
            assert set(member.mapping) <= set(ELEMENTS[library.kind])
        run = library.current_run
        assert run is not None and run.status == "succeeded"
        assert run.records_in > run.entities_out > 0 and run.links > 0
        assert run.conflicts > 0 and run.review_pairs > 0
        summary = summaries[library.code]
        assert summary.open_conflicts > 0 and summary.open_review_pairs > 0
    civil = next(m for m in people.members if m.unit_code == "MZJ")
    assert civil.mapping["resident_id"] == "shenfenzhenghao"
    # The catalogue entries name the standard data elements of their items.
    for entry in entries.values():
        elements = {i.element_code for i in entry.items if i.element_code}
        assert {"DE0001", "DE0003", "DE0004", "DE0005"} <= elements
    # Conflicts reach the source units as quality issues of their datasets.
    cross = {i.unit_code for i in issues if i.kind == RuleKind.CROSS_SOURCE}
    assert {"GAJ", "SCJ"} <= cross and len(cross) >= 5


def test_golden_records_live_in_the_districts_streets(demo_database: Database) -> None:
    streets = {name for name, _ in STREETS}
    with acting(demo_database, SYSTEM) as ctx:
        people = service.get_masterdata_library(ctx, POPULATION)
        assert people.current_run is not None
        rows = ctx.db.scalars(
            select(MasterdataEntity).where(MasterdataEntity.run_id == people.current_run.id)
        ).all()
        first = service.view_masterdata_entity(ctx, POPULATION, rows[0].entity_id)
    addresses = [r.golden["address"]["value"] for r in rows if r.golden["address"]["value"]]
    assert len(addresses) > 0.9 * len(rows)
    found = [parse_address(a).street for a in addresses]
    assert set(found) == streets
    assert found.count("城西街道") >= 50  # a street with residents to push records back to
    # A golden value names its member dataset, unit, version, row and rule.
    name = first.golden["name"]
    assert name.resource_code and name.unit_code and name.version == 1 and name.row and name.rule


def test_demo_libraries_are_built_once(demo_database: Database) -> None:
    credentials = demo_database.settings.data_dir / CREDENTIALS_FILE
    stored = json.loads(credentials.read_text(encoding="utf-8"))["masterdata"]
    assert set(stored[POPULATION]["datasets"]) == {"GAJ", "RSJ", "MZJ", "WJW", "JYJ"}
    assert set(stored[LEGAL_ENTITIES]["datasets"]) == {"SCJ", "SWUJ", "TJJ"}
    with acting(demo_database, SYSTEM) as ctx:
        runs = ctx.db.scalar(select(func.count(MasterdataRun.id)))
    assert build_masterdata(demo_database, DEMO_ACTOR) == stored
    with acting(demo_database, SYSTEM) as ctx:
        assert ctx.db.scalar(select(func.count(MasterdataRun.id))) == runs == 2


def test_the_street_office_reads_its_residents_masked(demo_database: Database) -> None:
    """城西街道 gets exactly its residents' golden records, masked per its grant."""
    with acting(demo_database, SYSTEM) as ctx:
        people = service.get_masterdata_library(ctx, POPULATION)
        assert people.current_run is not None
        rows = ctx.db.scalars(
            select(MasterdataEntity).where(MasterdataEntity.run_id == people.current_run.id)
        ).all()
        street = _actor(ctx, PUSHBACK_STREET[0], "cdo", SYSTEM)
    addresses = {r.entity_id: parse_address(r.golden["address"]["value"] or "") for r in rows}
    in_street = {e for e, a in addresses.items() if a.street == PUSHBACK_STREET[1]}
    # Only addresses that name the county are delivered (公安's); the platform does not
    # place an address that leaves the county out.
    residents = {e for e in in_street if addresses[e].adcode == "330182"}
    assert 0 < len(residents) < len(in_street)
    with acting(demo_database, street) as ctx:
        (delivered,) = service.delivered_pushbacks(ctx)
        page = service.read_masterdata_pushback(ctx, POPULATION, delivered.id, limit=1000)
    assert delivered.status == "ok" and delivered.rows == page.total == len(residents) >= 50
    assert {r["实体标识"] for r in page.rows} == residents
    assert all(PUSHBACK_STREET[1] in (r["住址"] or PUSHBACK_STREET[1]) for r in page.rows)
    # The street office sees names and phones masked, never a resident ID.
    assert "公民身份号码" not in page.columns
    assert page.masked.get("联系电话") and page.masked.get("姓名")
    assert all("*" in (r["联系电话"] or "*") for r in page.rows)
