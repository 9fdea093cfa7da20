"""Quality rules on loads: every kind, scores, masked samples, issue workflow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.context import Role
from shuzhi.db.engine import Database
from shuzhi.errors import Conflict, Forbidden, Invalid
from shuzhi.lake import service as lake
from shuzhi.lake.readers import FileSource
from shuzhi.quality import service as quality
from shuzhi.quality.checks import resident_id_invalid
from shuzhi.quality.models import IssueStatus, RuleKind
from shuzhi.quality.schemas import RuleIn
from shuzhi.standards.resident_id import is_valid_resident_id
from tests.catalog.helpers import item
from tests.conftest import acting
from tests.factories import seed_org
from tests.lake.helpers import people_rows, published_entry, resident_id, write_csv


def test_rules_scores_and_issue_workflow(database: Database, tmp_path: Path) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    ref = published_entry(database, items=[item("年龄", data_type="N", length=3)])
    liaison, cdo = seeded.actor(Role.DATA_LIAISON), seeded.actor(Role.UNIT_CDO)
    rows = people_rows(100)
    rows[0][1] = rows[0][1][:-1] + ("0" if rows[0][1][-1] != "0" else "1")  # bad checksum
    rows[1][4] = ""  # null age
    rows[2][4] = "200"  # out of range
    rows[3][2] = rows[4][2]  # duplicate phone
    with acting(database, liaison) as ctx:
        lake.ingest(
            ctx, ref, FileSource(write_csv(tmp_path / "ref.csv", [["20"], ["21"]], ["年龄"]))
        )
        for rule in (
            RuleIn(kind=RuleKind.RESIDENT_ID, column="公民身份号码"),
            RuleIn(kind=RuleKind.NOT_NULL, column="年龄"),
            RuleIn(kind=RuleKind.RANGE, column="年龄", params={"min": 0, "max": 120}),
            RuleIn(kind=RuleKind.UNIQUE, column="联系电话"),
            RuleIn(kind=RuleKind.PATTERN, column="联系电话", params={"pattern": r"1\d{10}"}),
            RuleIn(kind=RuleKind.ALLOWED_VALUES, column="姓名", params={"values": ["王小"]}),
            RuleIn(
                kind=RuleKind.REFERENCE,
                column="年龄",
                params={"resource_code": ref, "column": "年龄"},
            ),
            RuleIn(kind=RuleKind.FRESHNESS, column="出生日期", params={"max_age_days": 30}),
        ):
            quality.define_quality_rule(ctx, code, rule)
        out = lake.ingest(ctx, code, FileSource(write_csv(tmp_path / "p.csv", rows)))
        results = {r.kind: r for r in quality.version_results(ctx, code, out.version.number)}
    assert results[RuleKind.RESIDENT_ID].failing == 1
    assert "*" in results[RuleKind.RESIDENT_ID].sample[0]  # masked sample
    assert results[RuleKind.NOT_NULL].failing == 1
    assert results[RuleKind.RANGE].failing == 1
    assert results[RuleKind.UNIQUE].failing == 1
    assert results[RuleKind.PATTERN].failing == 0
    assert results[RuleKind.ALLOWED_VALUES].failing == 95
    assert results[RuleKind.REFERENCE].failing == 96
    assert results[RuleKind.FRESHNESS].failing == 1
    # The newest birth date is one person's: the message quotes it masked, as the sample.
    newest = max(r[3] for r in rows if r[3])
    freshness = results[RuleKind.FRESHNESS]
    assert newest[:4] in freshness.message and newest not in freshness.message
    assert newest not in " ".join(freshness.sample)
    assert out.version.quality_score is not None and 0 < out.version.quality_score < 100
    with acting(database, liaison) as ctx:
        issues = quality.list_quality_issues(ctx, resource_code=code)
        board = quality.quality_scores(ctx)
    assert len(issues) == 7 and all(i.status is IssueStatus.OPEN for i in issues)
    assert not any(newest in i.summary for i in issues)
    assert {e.resource_code for e in board.entries} == {code, ref}
    issue = issues[0].id
    with pytest.raises(Forbidden), acting(database, liaison) as ctx:
        quality.verify_issue(ctx, issue)
    with acting(database, liaison) as ctx:
        assert quality.mark_issue_fixed(ctx, issue, "已更正").status is IssueStatus.FIXED
    with pytest.raises(Conflict), acting(database, liaison) as ctx:
        quality.mark_issue_fixed(ctx, issue)
    with acting(database, cdo) as ctx:
        assert quality.verify_issue(ctx, issue).status is IssueStatus.VERIFIED


@pytest.mark.parametrize(
    "rule",
    [
        RuleIn(kind=RuleKind.PATTERN, column="姓名", params={"pattern": "(a+)+\\1"}),
        RuleIn(kind=RuleKind.PATTERN, column="姓名", params={"pattern": "x" * 201}),
        RuleIn(kind=RuleKind.PATTERN, column="姓名", params={"pattern": "(?<=a)b"}),
        RuleIn(kind=RuleKind.RANGE, column="年龄", params={"min": 5, "max": 1}),
        RuleIn(kind=RuleKind.ALLOWED_VALUES, column="姓名", params={"values": []}),
        RuleIn(kind=RuleKind.NOT_NULL, column=None),
    ],
)
def test_bad_rules_are_refused(database: Database, rule: RuleIn) -> None:
    seeded = seed_org(database)
    code = published_entry(database)
    with pytest.raises(Invalid), acting(database, seeded.actor(Role.DATA_LIAISON)) as ctx:
        quality.define_quality_rule(ctx, code, rule)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.integers(0, 10**6).map(lambda n: resident_id(n, f"19{n % 90 + 10:02d}0{n % 9 + 1}15")),
        st.text(alphabet="0123456789X", min_size=14, max_size=19),
        st.integers(10**14, 10**15 - 1).map(str),
    )
)
def test_vectorised_resident_id_check_matches_validator(value: str) -> None:
    flags = resident_id_invalid(pa.array([value, None]))
    assert flags[0].as_py() is (not is_valid_resident_id(value))
    assert flags[1].as_py() is None


_IDS = st.one_of(
    # Real birth dates, leap days included, with a correct check character.
    st.tuples(st.integers(0, 999), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))).map(
        lambda nd: resident_id(nd[0], nd[1].strftime("%Y%m%d").rjust(8, "0"))
    ),
    # The plain shape with anything in the date and check positions.
    st.from_regex(r"[1-9][0-9]{16}[0-9Xx]", fullmatch=True),
    st.from_regex(
        r"[0-9]{6}[0-9]{4}(0[0-9]|1[0-3])(0[0-9]|[1-3][0-9])[0-9]{3}[0-9Xx]", fullmatch=True
    ),
    # Shapes the byte-level check must leave to the validator.
    st.text(alphabet="0123456789Xx ０１２\t", min_size=15, max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_IDS, min_size=1, max_size=12), st.integers(0, 3))
def test_resident_id_batches_match_the_validator(values: list[str], skip: int) -> None:
    # A sliced array has an offset into its buffers, as batches read from Parquet may have.
    padded = ["330106198503120011"] * skip + values + [None]
    flags = resident_id_invalid(pa.array(padded, pa.string()).slice(skip)).to_pylist()
    assert flags == [not is_valid_resident_id(v) for v in values] + [None]
    large = resident_id_invalid(pa.array(values, pa.large_string())).to_pylist()
    assert large == [not is_valid_resident_id(v) for v in values]
