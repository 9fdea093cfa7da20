"""Hard cases of the corpus: the shipped corpus keeps them, and the classifier handles the
ones that needed work (year-month birth dates, place names, names in Latin script)."""

from __future__ import annotations

import csv
import random
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.security.categories import Category
from shuzhi.security.classifier import classify_column
from shuzhi.security.evaluation import CORPUS_DIR, read_labels
from shuzhi.standards.dates import parse_year_month
from shuzhi.standards.identifiers import USCC_AUTHORITIES
from shuzhi.standards.names import is_person_name
from shuzhi.standards.text import normalize
from tests.security import synthetic

C = Category


def _column(file: str, column: str) -> list[str]:
    with (CORPUS_DIR / file).open(encoding="utf-8", newline="") as fh:
        return [row[column] for row in csv.DictReader(fh)]


def _header(file: str) -> list[str]:
    with (CORPUS_DIR / file).open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def test_the_shipped_corpus_holds_the_hard_cases() -> None:
    labels = read_labels(CORPUS_DIR)
    pinyin = {
        h.upper().removeprefix("T_").removeprefix("F_").removesuffix("_CODE")
        for h in _header("pinyin_register.csv")
    }
    assert {"SFZHM", "XM", "LXDH", "TYSHXYDM", "JZDZ", "CSRQ", "YHKH", "CPHM"} <= pinyin
    misleading = {
        c: labels[("misleading_headers.csv", c)] for c in _header("misleading_headers.csv")
    }
    assert misleading["电话"] is C.NONE and misleading["备注"] is C.NONE
    assert misleading["受理编号"] is C.NONE and misleading["所在村社区"] is C.NONE
    assert misleading["老身份证号"] is C.RESIDENT_ID and misleading["出生年月"] is C.BIRTH_DATE
    old_ids = [normalize(v) for v in _column("misleading_headers.csv", "老身份证号")]
    assert {len(v) for v in old_ids if v.isdigit()} == {15}
    remarks = _column("misleading_headers.csv", "备注")
    assert 0 < sum(any(ch.isdigit() for ch in v) for v in remarks) < len(remarks) / 4
    credit = [normalize(v) for v in _column("field_export.csv", "字段6")]
    assert {v[0] for v in credit if len(v) == 18} == set(USCC_AUTHORITIES)
    nulls = set(_column("misleading_headers.csv", "联系手机"))
    assert {"空", "NULL", "-", "/", "无", "暂无"} <= nulls
    phones = _column("field_export.csv", "字段3")
    assert sum(any("０" <= ch <= "９" for ch in v) for v in phones) > 0.8 * len(phones)
    births = _column("pinyin_register.csv", _header("pinyin_register.csv")[5])
    assert any("年" in v for v in births) and any("/" in v for v in births)
    assert any("." in v for v in births) and any(v.isdigit() and len(v) == 8 for v in births)


@given(year=st.integers(1890, date.today().year), month=st.integers(1, 12))
def test_year_months_parse_in_every_spelling(year: int, month: int) -> None:
    for text in (
        f"{year}-{month:02d}",
        f"{year}{month:02d}",
        f"{year}年{month}月",
        f"{year}.{month}",
        f"{year}/{month}",
    ):
        assert parse_year_month(text) == (year, month), text
    assert parse_year_month(f"{year}-{month:02d}-01") is None
    assert parse_year_month(f"{year}13") is None


def test_year_month_birth_dates_need_a_header() -> None:
    rng = random.Random(3)
    values = [synthetic._birth_month(rng, i) for i in range(150)]
    assert classify_column("出生年月", values).category is C.BIRTH_DATE
    assert classify_column("CSNY", values).category is C.BIRTH_DATE
    # The same shapes without a header are reporting periods as often as births.
    assert classify_column("字段3", values).category is C.NONE
    periods = [f"2024{m:02d}" for m in range(1, 13)] * 10
    assert classify_column("账期", periods).category is C.NONE


def test_place_names_are_not_person_names() -> None:
    for place in ("周庄", "何家湾", "陈家坝", "孙家堡", "冯家屯", "刘集", "杜家铺", "王家村"):
        assert not is_person_name(place), place
    for name in ("王家明", "李家豪", "张庄严"[:2] + "伟", "周桂英", "何雨桐"):
        assert is_person_name(name), name
    rng = random.Random(5)
    villages = [rng.choice(synthetic.PLACE_NAMES) for _ in range(150)]
    assert classify_column("字段4", villages).category is C.NONE


def test_latin_script_names_count_under_a_name_header_only() -> None:
    rng = random.Random(9)
    names = [synthetic._latin_name(rng, i) for i in range(150)]
    assert classify_column("英文姓名", names).category is C.PERSON_NAME
    assert classify_column("full_name", names).category is C.PERSON_NAME
    assert classify_column("字段2", names).category is C.NONE
    statuses = ["IN PROGRESS", "Done", "Closed Won", "NEW"] * 30
    assert classify_column("字段2", statuses).category is C.NONE
