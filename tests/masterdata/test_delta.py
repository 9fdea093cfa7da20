"""A daily delta against an existing linkage: new records join their entities, unchanged
entities keep their IDs, a record proving two entities one merges them (listed, with the pair
that did it; the larger entity keeps its ID), changed records replace their old version, two
verified IDs never join, reviewers' decisions join and keep apart."""

from __future__ import annotations

from datetime import date

import pytest

from shuzhi.errors import Invalid
from shuzhi.masterdata.delta import MergeCause, ReviewDecisions, link_delta
from shuzhi.masterdata.features import build_features
from shuzhi.masterdata.linkage import Linkage, link
from shuzhi.masterdata.sources import SourceRecord
from shuzhi.standards.identifiers import ric_check_char


def rid(region: str, born: date, seq: str) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + ric_check_char(first17)


ZHANG = rid("330106", date(1985, 3, 2), "123")
LI = rid("110105", date(1990, 7, 1), "011")
LI_OTHER = rid("110105", date(1990, 7, 1), "031")
WANG = rid("320102", date(1972, 11, 20), "045")


def person(source: str, row: int, **fields: str) -> SourceRecord:
    return SourceRecord(source, row, dict(fields))


BASE = [
    person(
        "公安",
        1,
        name="张三丰",
        resident_id=ZHANG,
        birth_date="1985-03-02",
        phone="13800001111",
        address="浙江省杭州市西湖区文三路1号",
    ),
    person(
        "民政",
        1,
        name="张三丰",
        birth_date="1985-03-02",
        phone="13800001111",
        address="杭州市西湖区文三路1号",
    ),
    person(
        "公安",
        2,
        name="李娜",
        resident_id=LI,
        birth_date="1990-07-01",
        address="北京市朝阳区建国路8号",
    ),
    person(
        "公安",
        3,
        name="李娜",
        resident_id=LI_OTHER,
        birth_date="1990-07-01",
        address="北京市朝阳区建国路8号",
    ),
    person(
        "人社",
        1,
        name="王建国",
        resident_id=WANG,
        birth_date="1972-11-20",
        phone="13911112222",
        address="江苏省南京市玄武区中山路5号",
    ),
    # The same 王建国 without an ID or birth date and with another phone: apart so far.
    person("卫健", 1, name="王建国", phone="13700003333", address="广东省深圳市南山区科技路9号"),
]


@pytest.fixture
def base() -> Linkage:
    return link(build_features(BASE), {"公安": 0, "人社": 1, "民政": 2, "卫健": 3})


def ids_of(linkage: Linkage) -> dict[tuple[str, int], str]:
    f = linkage.features
    keys = zip(f.column("source").to_pylist(), f.column("row").to_pylist(), strict=True)
    return dict(zip(keys, linkage.entity, strict=True))


def test_new_records_join_their_entities_and_unchanged_entities_keep_ids(base: Linkage) -> None:
    before = ids_of(base)
    assert before[("公安", 1)] == before[("民政", 1)]
    assert before[("人社", 1)] != before[("卫健", 1)]
    new = build_features(
        [
            # 张三丰 again, with the ID written in the old 15-digit form and no phone
            person(
                "教育",
                1,
                name="张三丰",
                resident_id=ZHANG[:6] + ZHANG[8:17],
                birth_date="19850302",
                address="浙江省杭州市西湖区文三路1号",
            ),
            # someone no one has seen
            person("教育", 2, name="欧阳明", birth_date="2001-01-09", phone="13512345678"),
        ]
    )
    delta = link_delta(base.features, base.entity, new, base.stats["model"])
    assert delta.entity[0] == before[("公安", 1)]
    assert delta.entity[1] not in before.values() and delta.entity[1].startswith("P")
    assert delta.merges == {} and delta.moved == [] and delta.refused == 0
    assert delta.apply(base.entity) == base.entity  # every existing ID kept
    assert delta.stats["new_entities"] == 1 and delta.stats["entities_joined"] == 1


def test_a_record_proving_two_entities_one_merges_them_and_says_so(base: Linkage) -> None:
    before = ids_of(base)
    # The ID of 王建国 with the phone and address of the record that had no ID.
    new = build_features(
        [
            person(
                "教育",
                1,
                name="王建国",
                resident_id=WANG,
                birth_date="1972-11-20",
                phone="13700003333",
                address="广东省深圳市南山区科技路9号",
            ),
        ]
    )
    delta = link_delta(base.features, base.entity, new, base.stats["model"], {"公安": 0, "人社": 1})
    survivor, absorbed = before[("人社", 1)], before[("卫健", 1)]
    assert delta.merges == {absorbed: survivor}  # the better-ranked anchor's ID survives
    assert delta.entity == [survivor]
    after = delta.apply(base.entity)
    untouched = {k for k, e in before.items() if e not in (survivor, absorbed)}
    assert all(after[i] == base.entity[i] for i, k in enumerate(before) if k in untouched)


def test_two_verified_ids_never_join_through_a_delta(base: Linkage) -> None:
    before = ids_of(base)
    assert before[("公安", 2)] != before[("公安", 3)]
    new = build_features(
        [
            person(
                "教育", 1, name="李娜", birth_date="1990-07-01", address="北京市朝阳区建国路8号"
            ),
            person("教育", 2, name="李娜", resident_id=LI.lower(), birth_date="1990-07-01"),
        ]
    )
    delta = link_delta(base.features, base.entity, new, base.stats["model"])
    assert before[("公安", 3)] not in delta.merges and before[("公安", 2)] not in delta.merges
    assert delta.entity[1] == before[("公安", 2)]
    assert delta.entity[0] in (before[("公安", 2)], before[("公安", 3)])


def test_a_changed_record_replaces_its_old_version(base: Linkage) -> None:
    before = ids_of(base)
    # 民政 row 1 now describes someone else: it leaves 张三丰, who keeps the ID.
    new = build_features(
        [person("民政", 1, name="赵敏", birth_date="1999-09-09", address="上海市徐汇区衡山路2号")]
    )
    delta = link_delta(base.features, base.entity, new, base.stats["model"])
    assert delta.stats["replaced"] == 1
    assert delta.entity[0] != before[("公安", 1)]
    assert delta.moved == [("民政", 1, before[("民政", 1)], delta.entity[0])]
    assert delta.emptied == []
    # A record that was all of its entity, changed: still alone, it keeps the entity's ID.
    lone = link(build_features(BASE[4:]))
    again = build_features([person("卫健", 1, name="孙俪", birth_date="1982-09-26")])
    result = link_delta(lone.features, lone.entity, again, lone.stats["model"])
    assert result.entity == lone.entity[1:] and result.moved == [] and result.emptied == []


def test_entity_ids_must_match_the_records_and_an_empty_delta_changes_nothing(
    base: Linkage,
) -> None:
    with pytest.raises(Invalid):
        link_delta(base.features, base.entity[:-1], base.features, base.stats["model"])
    nothing = link_delta(base.features, base.entity, base.features.slice(0, 0), {})
    assert nothing.entity == [] and nothing.merges == {} and nothing.pairs.num_rows == 0
    assert nothing.apply(base.entity) == base.entity


WANG_NO_ID = {"name": "王建国", "phone": "13700003333", "address": "广东省深圳市南山区科技路9号"}
WANG_FULL = person(
    "教育",
    1,
    name="王建国",
    resident_id=WANG,
    birth_date="1972-11-20",
    phone="13700003333",
    address="广东省深圳市南山区科技路9号",
)


def test_a_merge_names_its_pair_and_the_larger_entity_keeps_its_id() -> None:
    rank = {"人社": 1, "卫健": 3}
    # 卫健 holds 王建国 twice (no ID), 人社 once with the ID: two entities, 卫健's the larger.
    records = [BASE[4], person("卫健", 1, **WANG_NO_ID), person("卫健", 2, **WANG_NO_ID)]
    base = link(build_features(records), rank)
    before = ids_of(base)
    assert before[("卫健", 1)] == before[("卫健", 2)] != before[("人社", 1)]
    delta = link_delta(
        base.features, base.entity, build_features([WANG_FULL]), base.stats["model"], rank
    )
    larger, smaller = before[("卫健", 1)], before[("人社", 1)]
    # The better-ranked anchor (人社) does not win over the entity with more records.
    assert delta.merges == {smaller: larger} and delta.entity == [larger]
    cause = delta.causes[smaller]
    assert ("教育", 1) in (cause.left, cause.right) and cause.probability is not None
    assert cause.probability >= 0.99
    pairs = delta.pairs.to_pylist()
    assert {(p["source_l"], p["row_l"], p["source_r"], p["row_r"]) for p in pairs} >= {
        ("人社", 1, "教育", 1)
    }
    assert all(p["decision"] in ("merged", "same_cluster") for p in pairs)
    assert any("resident_id=exact" in p["explanation"] for p in pairs)


def test_reviewers_decisions_join_entities_and_keep_records_apart(base: Linkage) -> None:
    before = ids_of(base)
    rank = {"公安": 0, "人社": 1}
    survivor, other = before[("人社", 1)], before[("卫健", 1)]
    # A match joins two entities without any new record; the decision is the cause.
    match = ReviewDecisions(match=[(("人社", 1), ("卫健", 1))])
    nothing_new = base.features.slice(0, 0)
    joined = link_delta(
        base.features, base.entity, nothing_new, base.stats["model"], rank, decisions=match
    )
    assert joined.merges == {other: survivor}
    assert joined.causes[other] == MergeCause(("人社", 1), ("卫健", 1), None)
    assert joined.stats["matches_by_review"] == 1
    # A match never joins two different verified IDs.
    two_ids = ReviewDecisions(match=[(("公安", 2), ("公安", 3))])
    refused = link_delta(
        base.features, base.entity, nothing_new, base.stats["model"], rank, decisions=two_ids
    )
    assert refused.merges == {} and refused.stats["matches_by_review"] == 0
    # A non-match: the record that would bridge the two joins one of them only.
    apart = ReviewDecisions(not_match=[(("人社", 1), ("卫健", 1))])
    new = build_features([WANG_FULL])
    kept = link_delta(base.features, base.entity, new, base.stats["model"], rank, decisions=apart)
    assert kept.merges == {} and kept.entity[0] in (survivor, other)
    assert kept.stats["kept_apart_by_review"] == 1
    assert "kept_apart_by_review" in kept.pairs.column("decision").to_pylist()


def test_a_changed_record_left_out_by_the_caller_is_recorded_as_moved(base: Linkage) -> None:
    before = ids_of(base)
    keep = [i for i, k in enumerate(before) if k != ("卫健", 1)]
    existing = base.features.take(keep)
    entity = [base.entity[i] for i in keep]
    # 卫健 row 1 now holds 李娜 (ID and all): it joins her entity and leaves its own empty.
    changed = build_features(
        [person("卫健", 1, name="李娜", resident_id=LI, birth_date="1990-07-01")]
    )
    was, li = before[("卫健", 1)], before[("公安", 2)]
    delta = link_delta(existing, entity, changed, base.stats["model"], changed_from=[was])
    assert delta.entity == [li] and delta.created == {}
    assert delta.moved == [("卫健", 1, was, li)] and delta.emptied == [was]
    # Not told what the record was, the engine sees a new record, nothing moved.
    unknown = link_delta(existing, entity, changed, base.stats["model"])
    assert unknown.entity == [li] and unknown.moved == [] and unknown.emptied == []
    # A new record that joins nothing starts an entity named after its anchor.
    alone = build_features([person("教育", 7, name="欧阳明", birth_date="2001-01-09")])
    started = link_delta(existing, entity, alone, base.stats["model"])
    assert started.created == {started.entity[0]: ("教育", 7)}
