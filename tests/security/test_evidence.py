"""Classification evidence and grading reasons read in Chinese, with names instead of codes."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from shuzhi.security.categories import CATEGORY_INFO, Category
from shuzhi.security.classifier import classify_column
from shuzhi.security.evidence import describe
from shuzhi.security.grading import grade_dataset
from shuzhi.security.minors import MinorsFinding
from tests.security import synthetic as syn

CODES = re.compile(r"(?<![\w.])(" + "|".join(c.value for c in Category) + r")(?!\w)")
# Three or more English words in a row (GB, ICD-10, Luhn, IP stay: they are names).
ENGLISH = re.compile(r"[A-Za-z][a-z]+(?:[ ,]+[A-Za-z][a-z]+){2,}")


def _chinese(text: str, column: str = "") -> bool:
    shown = describe(text, "zh-CN").replace(column, "")
    return not CODES.search(shown) and not ENGLISH.search(shown)


MAKERS: list[Callable[[random.Random], str]] = [
    syn.resident_id,
    syn.bad_check_id,
    syn.mobile,
    syn.bank_card,
    syn.uscc,
    syn.org_code,
    syn.passport,
    syn.travel_permit,
    syn.plate,
    syn.person_name,
    syn.address,
    syn.email,
    syn.ip_address,
    lambda rng: syn.fmt_date(rng, syn._birth(rng)),
    lambda rng: rng.choice(["男", "女"]),
    lambda rng: str(rng.randint(0, 10**6)),
]
HEADERS = ("字段", "身份证号", "联系电话", "姓名", "出生日期", "地址", "编号", "性别", "备注")


def test_every_sentence_of_the_classifier_reads_in_chinese() -> None:
    rng = random.Random(7)
    sentences: set[str] = set()
    for make in MAKERS:
        values = [make(rng) for _ in range(300)]
        mixed = values[:150] + [syn.person_name(rng) for _ in range(150)]
        for header in HEADERS:
            for sample in (values, values[:3], mixed, [], [str(i) for i in range(300)]):
                sentences.update(classify_column(header, sample).evidence)
    assert len(sentences) > 40
    untranslated = sorted(s for s in sentences if not _chinese(s))
    assert untranslated == []


def test_every_grading_reason_reads_in_chinese() -> None:
    minors = MinorsFinding(column="出生日期", minors=30, dated=200, today=date(2026, 12, 5))
    reasons: set[str] = set()
    for categories in ([], [Category.GENDER], [Category.RESIDENT_ID], [Category.HEALTH]):
        for rows in (10, 2_000_000):
            for found in (False, minors):
                for by in (None, "身份证号"):
                    grade = grade_dataset(categories, rows, counted_by=by, minors=found)
                    reasons.update(grade.reasons)
    untranslated = [r for r in reasons if not _chinese(r, "出生日期")]
    assert untranslated == []


@given(
    pct=st.integers(0, 100),
    n=st.integers(1, 10_000),
    category=st.sampled_from([c for c in Category if c is not Category.NONE]),
    who=st.text(alphabet="abcdefghij:", min_size=1, max_size=12),
)
def test_templated_sentences_name_the_category(
    pct: int, n: int, category: Category, who: str
) -> None:
    label = CATEGORY_INFO[category].label_zh
    shape = describe(f"{pct}% more have the {category.value} shape only", "zh-CN")
    assert label in shape and category.value not in shape
    closest = describe(f"closest: about {pct}% of values fit {category.value}", "zh-CN")
    assert label in closest and f"{pct}%" in closest
    assert describe(f"confirmed or overridden by {who}", "zh-CN") == f"由 {who} 确认或修改"
    english = describe(f"{pct}% more are {category.value} numbers", "en")
    assert CATEGORY_INFO[category].label_en in english and category.value not in english
    # Unknown sentences are kept, codes replaced by names.
    assert describe(f"something new about {category.value}", "zh-CN").endswith(label)
