"""Base libraries in the database: definition, full and incremental runs, stable IDs,
conflicts as quality issues, failed runs that leave the previous run current."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shuzhi.context import SYSTEM
from shuzhi.db.engine import Database
from shuzhi.errors import Invalid, NotFound
from shuzhi.masterdata import service
from shuzhi.masterdata.models import (
    MasterdataConflict,
    MasterdataEntity,
    MasterdataLibrary,
    MasterdataMembership,
    MasterdataRun,
    RunStatus,
)
from shuzhi.masterdata.schemas import MemberIn
from shuzhi.masterdata.service import runs as run_module
from shuzhi.quality import service as quality
from shuzhi.quality.models import IssueStatus, RuleKind
from shuzhi.settings import Settings
from tests.conftest import acting
from tests.factories import seed_org
from tests.masterdata.helpers import HEADER, library, load, person, rid, two_departments


def _partition(database: Database, run_id: int) -> dict[tuple[str, int], str]:
    """(member, row) → entity of one run."""
    with acting(database, SYSTEM) as ctx:
        rows = ctx.db.execute(
            select(
                MasterdataMembership.resource_code,
                MasterdataMembership.row,
                MasterdataMembership.entity_id,
            ).where(MasterdataMembership.run_id == run_id)
        ).all()
    return {(r[0], r[1]): r[2] for r in rows}


def _by_record(database: Database, run_id: int) -> dict[str, str]:
    """Golden resident ID → entity: the same person across runs."""
    with acting(database, SYSTEM) as ctx:
        rows = ctx.db.execute(
            select(MasterdataEntity.entity_id, MasterdataEntity.ident).where(
                MasterdataEntity.run_id == run_id
            )
        ).all()
    return {str(r[1]): r[0] for r in rows}


def _groups(partition: dict[tuple[str, int], str]) -> set[frozenset[tuple[str, int]]]:
    out: dict[str, set[tuple[str, int]]] = {}
    for record, entity in partition.items():
        out.setdefault(entity, set()).add(record)
    return {frozenset(g) for g in out.values()}


@pytest.fixture
def members(database: Database) -> tuple[str, str]:
    seed_org(database)
    a, b = two_departments(database)
    rows_a = [person(i) for i in range(30)]
    rows_b = [person(i) for i in range(20)]
    rows_b[3][3] = "1990-01-01"  # B disagrees with A on person 3's birth date
    rows_b[5][1] = rows_b[5][1][:-1] + ("0" if rows_b[5][1][-1] != "0" else "1")  # check fails
    load(database, a, rows_a)
    load(database, b, rows_b)
    library(database, a, b)
    return a, b


def test_build_links_two_departments_and_records_provenance(
    database: Database, members: tuple[str, str]
) -> None:
    a, b = members
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population")
    assert (run.status, run.current, run.records_in, run.entities_out) == (
        RunStatus.SUCCEEDED,
        True,
        50,
        30,
    )
    assert run.versions[a]["number"] == 1 and run.versions[b]["number"] == 1
    with acting(database, SYSTEM) as ctx:
        found = service.lookup_masterdata_entity(ctx, "population", resident_id=rid(3))
    assert found.members == 2
    birth = found.golden["birth_date"]
    # A is more authoritative: its value wins, with A's dataset, version and load date.
    assert (birth.value, birth.resource_code, birth.version, birth.rule) == (
        person(3)[3],
        a,
        1,
        "authority",
    )
    assert birth.unit_code == "A" and birth.loaded_at
    assert {r.resource_code for r in found.records} == {a, b}


def test_conflicts_become_quality_issues_of_the_losing_unit_once(
    database: Database, members: tuple[str, str]
) -> None:
    _a, b = members
    for _ in range(2):  # the second run finds the same conflicts: nothing new is raised
        with acting(database, SYSTEM) as ctx:
            service.run_masterdata_library(ctx, "population")
    with acting(database, SYSTEM) as ctx:
        issues = [i for i in quality.list_quality_issues(ctx) if i.kind is RuleKind.CROSS_SOURCE]
        conflicts = ctx.db.scalars(select(MasterdataConflict)).all()
    assert {(i.resource_code, i.unit_code, i.status) for i in issues} == {
        (b, "B", IssueStatus.OPEN)
    }
    assert sorted(i.column or "" for i in issues) == ["公民身份号码", "出生日期"]
    assert all(i.failing == 1 for i in issues)
    assert sorted((c.attribute, c.kind, c.row) for c in conflicts) == [
        ("birth_date", "values_differ", 4),
        ("resident_id", "id_check_failed", 6),
    ]
    # Stored masked; the issue is linked.
    birth = next(c for c in conflicts if c.attribute == "birth_date")
    assert "1990-01-01" not in birth.value_masked and birth.quality_issue_id in {
        i.id for i in issues
    }
    # A's dataset lost nothing: no issue there; its rule list does not show the cross-check.
    with acting(database, SYSTEM) as ctx:
        assert quality.list_quality_rules(ctx, b) == []


def test_a_second_full_run_keeps_every_entity_id(
    database: Database, members: tuple[str, str]
) -> None:
    with acting(database, SYSTEM) as ctx:
        first = service.run_masterdata_library(ctx, "population")
        second = service.run_masterdata_library(ctx, "population")
    assert _partition(database, first.id) == _partition(database, second.id)


def _delta(database: Database, b: str) -> None:
    """B's new version: person 0 removed, person 1's phone changed, person 25 (only in A so
    far) and five new people 100–104 added; person 3's conflicting row kept."""
    rows = [person(i) for i in range(1, 20)]
    rows[2][3] = "1990-01-01"  # person 3 as before
    rows[4][1] = rows[4][1][:-1] + ("0" if rows[4][1][-1] != "0" else "1")  # person 5 as before
    rows[0][2] = "13700000001"  # person 1 changed phone
    rows += [person(25)] + [person(i) for i in range(100, 105)]
    load(database, b, rows)


def test_incremental_run_keeps_ids_and_equals_a_full_run(
    database: Database, members: tuple[str, str]
) -> None:
    _a, b = members
    with acting(database, SYSTEM) as ctx:
        base = service.run_masterdata_library(ctx, "population")
    before = _by_record(database, base.id)
    _delta(database, b)
    with acting(database, SYSTEM) as ctx:
        inc = service.run_masterdata_library(ctx, "population", incremental=True)
    assert inc.mode.value == "incremental" and inc.current
    assert inc.report["new_records"] == 7  # person 1 changed, person 25, five new people
    assert inc.report["removed_records"] == 2  # person 0, person 1's old row
    # Linked by the delta engine: the new records only, scored with the base run's model.
    assert inc.records_linked == 7 < inc.records_in
    assert inc.report["model_from_run"] == base.id
    with acting(database, SYSTEM) as ctx:
        runs = {r.id: r for r in ctx.db.scalars(select(MasterdataRun))}
    assert runs[inc.id].model["splink"] == runs[base.id].model["splink"]
    # Only the new records were normalised: the others' features came from the base run.
    assert inc.report["records_normalised"] == 7
    after = _by_record(database, inc.id)
    # Every entity that existed keeps its ID (person 0 stays: A still holds it).
    assert all(after[k] == v for k, v in before.items())
    assert inc.entities_out == 35
    with acting(database, SYSTEM) as ctx:
        person25 = service.lookup_masterdata_entity(ctx, "population", resident_id=rid(25))
    assert person25.members == 2 and person25.entity_id == before[rid(25)]
    # The same partition as a full run over the same versions (tolerance: none on this data).
    with acting(database, SYSTEM) as ctx:
        full = service.run_masterdata_library(ctx, "population")
    assert _groups(_partition(database, inc.id)) == _groups(_partition(database, full.id))
    assert _partition(database, inc.id) == _partition(database, full.id)


def test_incremental_without_a_previous_run_runs_in_full(
    database: Database, members: tuple[str, str]
) -> None:
    with acting(database, SYSTEM) as ctx:
        run = service.run_masterdata_library(ctx, "population", incremental=True)
    assert run.mode.value == "full" and run.entities_out == 30


def test_a_run_failing_late_leaves_the_previous_run_current(
    database: Database, members: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with acting(database, SYSTEM) as ctx:
        first = service.run_masterdata_library(ctx, "population")

    def crash(*args: object) -> None:
        raise Invalid("模拟失败。", "Simulated failure.")

    # Everything is written; the flip itself fails.
    monkeypatch.setattr(run_module, "_make_current", crash)
    with pytest.raises(Invalid), acting(database, SYSTEM) as ctx:
        service.run_masterdata_library(ctx, "population")
    with acting(database, SYSTEM) as ctx:
        lib = ctx.db.scalar(select(MasterdataLibrary))
        assert lib is not None and lib.current_run_id == first.id
        runs = ctx.db.scalars(select(MasterdataRun).order_by(MasterdataRun.id)).all()
        assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.FAILED]
        assert runs[1].error_en == "Simulated failure."
        # Nothing of the failed run was left behind.
        assert ctx.db.scalar(select(func.count()).select_from(MasterdataEntity)) == 30
        assert ctx.db.scalar(select(func.count()).select_from(MasterdataMembership)) == 50
        found = service.lookup_masterdata_entity(ctx, "population", resident_id=rid(3))
        assert found.run_id == first.id

    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "_make_current", killed)
    with pytest.raises(KeyboardInterrupt), acting(database, SYSTEM) as ctx:
        service.run_masterdata_library(ctx, "population")
    with acting(database, SYSTEM) as ctx:
        lib = ctx.db.scalar(select(MasterdataLibrary))
        assert lib is not None and lib.current_run_id == first.id
        assert ctx.db.scalar(select(func.count()).select_from(MasterdataRun)) == 2


def test_a_mapped_column_gone_in_a_new_version_fails_the_run_by_name(
    database: Database, members: tuple[str, str]
) -> None:
    from shuzhi.lake import service as lake

    _a, b = members
    with acting(database, SYSTEM) as ctx:
        first = service.run_masterdata_library(ctx, "population")
    header = [h for h in HEADER if h != "出生日期"]
    number = load(database, b, [[*p[:3], p[4]] for p in (person(i) for i in range(5))], header)
    with acting(database, SYSTEM) as ctx:
        version = lake.get_dataset_version(ctx, b, number)
        if version.status.value != "current":
            lake.accept_drift(ctx, b, number)
    with pytest.raises(Invalid) as caught, acting(database, SYSTEM) as ctx:
        service.run_masterdata_library(ctx, "population")
    message = caught.value.message
    assert b in message.en and "出生日期" in message.en and f"version {number}" in message.en
    assert b in message.zh and "出生日期" in message.zh
    with acting(database, SYSTEM) as ctx:
        lib = ctx.db.scalar(select(MasterdataLibrary))
        assert lib is not None and lib.current_run_id == first.id
        history = service.list_masterdata_runs(ctx, "population")
    assert [(r.status, r.current) for r in history] == [
        (RunStatus.FAILED, False),
        (RunStatus.SUCCEEDED, True),
    ]
    assert "出生日期" in history[0].error_zh and b in history[0].error_en


def test_member_mapping_is_checked_against_the_current_version(
    database: Database, members: tuple[str, str]
) -> None:
    a, _b = members
    with pytest.raises(Invalid) as caught, acting(database, SYSTEM) as ctx:
        service.add_masterdata_member(
            ctx, "population", MemberIn(resource_code=a, mapping={"公民身份号码": "证件号"})
        )
    assert "证件号" in caught.value.message.en
    with pytest.raises(Invalid), acting(database, SYSTEM) as ctx:
        service.add_masterdata_member(
            ctx, "population", MemberIn(resource_code=a, mapping={"血型": "姓名"})
        )
    with pytest.raises(Invalid), acting(database, SYSTEM) as ctx:
        service.add_masterdata_member(
            ctx, "population", MemberIn(resource_code=a, mapping={"联系电话": "联系电话"})
        )
    with acting(database, SYSTEM) as ctx:
        out = service.add_masterdata_member(
            ctx,
            "population",
            MemberIn(
                resource_code=a, rank=0, mapping={"公民身份号码": "公民身份号码", "name": "姓名"}
            ),
        )
    mapped = next(m for m in out.members if m.resource_code == a)
    assert mapped.mapping == {"resident_id": "公民身份号码", "name": "姓名"} and mapped.rank == 0
    with acting(database, SYSTEM) as ctx:
        out = service.remove_masterdata_member(ctx, "population", a)
    assert a not in {m.resource_code for m in out.members}
    with pytest.raises(NotFound), acting(database, SYSTEM) as ctx:
        service.remove_masterdata_member(ctx, "population", a)


def test_cross_source_rules_cannot_be_defined_by_hand(
    database: Database, members: tuple[str, str]
) -> None:
    from shuzhi.quality.schemas import RuleIn

    a, _b = members
    with pytest.raises(Invalid), acting(database, SYSTEM) as ctx:
        quality.define_quality_rule(ctx, a, RuleIn(kind=RuleKind.CROSS_SOURCE, column="姓名"))


def test_incremental_run_records_merges_and_moves_with_their_reason(database: Database) -> None:
    from shuzhi.masterdata.models import EventKind, MasterdataEvent

    seed_org(database)
    a, b = two_departments(database)
    p40 = person(40)
    # A knows person 40 by name and ID, B by name and phone only: two entities at first.
    rows_a = [person(i) for i in range(12)] + [[p40[0], p40[1], "", "", p40[4]]]
    rows_b = [person(i) for i in range(8)] + [[p40[0], "", p40[2], "", p40[4]]]
    load(database, a, rows_a)
    load(database, b, rows_b)
    library(database, a, b)
    with acting(database, SYSTEM) as ctx:
        base = service.run_masterdata_library(ctx, "population")
    ids = _by_record(database, base.id)
    assert base.entities_out == 14  # 12 people in A, person 40 twice
    # B's new version: its record of person 7 turns out to be person 9's (ID and all), and a
    # full record of person 40 joins the two halves.
    rows_b2 = [*rows_b[:7], person(9), rows_b[8], p40]
    load(database, b, rows_b2)
    with acting(database, SYSTEM) as ctx:
        inc = service.run_masterdata_library(ctx, "population", incremental=True)
        events = ctx.db.scalars(
            select(MasterdataEvent).where(MasterdataEvent.run_id == inc.id)
        ).all()
        entity40 = service.lookup_masterdata_entity(ctx, "population", resident_id=rid(40))
    assert inc.entities_out == 13
    kinds = {(e.kind, e.entity_id) for e in events}
    assert (EventKind.SPLIT, ids[rid(7)]) in kinds
    split = next(e for e in events if e.kind is EventKind.SPLIT)
    assert split.others == [ids[rid(9)]] and f"{b}:8" in split.reason
    merged = next(e for e in events if e.kind is EventKind.MERGED)
    assert merged.entity_id == entity40.entity_id and f"{b}:10" in merged.reason
    retired = next(e for e in events if e.kind is EventKind.RETIRED)
    assert retired.entity_id == merged.others[0] and retired.others == [merged.entity_id]
    assert entity40.members == 3
    assert [e.kind for e in entity40.events] == [EventKind.CREATED, EventKind.MERGED]
    # The same partition as a full run.
    with acting(database, SYSTEM) as ctx:
        full = service.run_masterdata_library(ctx, "population")
    assert _partition(database, inc.id) == _partition(database, full.id)


def test_incremental_run_without_the_stored_features_normalises_everything(
    database: Database, members: tuple[str, str], settings: Settings
) -> None:
    _a, b = members
    with acting(database, SYSTEM) as ctx:
        base = service.run_masterdata_library(ctx, "population")
    stored = settings.data_dir / "masterdata" / "population" / base.report["features_file"]
    assert stored.is_file()
    stored.unlink()
    _delta(database, b)
    with acting(database, SYSTEM) as ctx:
        inc = service.run_masterdata_library(ctx, "population", incremental=True)
        full = service.run_masterdata_library(ctx, "population")
    assert inc.report["records_normalised"] == inc.records_in == 55
    assert _partition(database, inc.id) == _partition(database, full.id)
    # Only the current run's features (and the one before, until the next run) are kept.
    files = sorted(p.name for p in stored.parent.glob("*.features.parquet"))
    assert files == sorted({inc.report["features_file"], full.report["features_file"]})


def test_a_member_withdrawn_from_the_catalogue_fails_the_run_by_name(
    database: Database, members: tuple[str, str]
) -> None:
    from shuzhi.catalog import service as catalog

    _a, b = members
    with acting(database, SYSTEM) as ctx:
        first = service.run_masterdata_library(ctx, "population")
        catalog.withdraw_entry(ctx, b, "数据来源系统已停用，目录撤回。")
    with pytest.raises(Invalid) as caught, acting(database, SYSTEM) as ctx:
        service.run_masterdata_library(ctx, "population", incremental=True)
    assert b in caught.value.message.zh and "撤回" in caught.value.message.zh
    assert b in caught.value.message.en and "withdrawn" in caught.value.message.en
    with acting(database, SYSTEM) as ctx:
        lib = ctx.db.scalar(select(MasterdataLibrary))
        assert lib is not None and lib.current_run_id == first.id
        history = service.list_masterdata_runs(ctx, "population")
    assert [(r.status, r.current) for r in history] == [
        (RunStatus.FAILED, False),
        (RunStatus.SUCCEEDED, True),
    ]
