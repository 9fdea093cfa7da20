"""Column classification from values and names, including hard negatives."""

from __future__ import annotations

import random

import pytest

from shuzhi.security.categories import Category
from shuzhi.security.classifier import (
    ClassifierConfig,
    ValueRule,
    classify_column,
    classify_table,
)
from tests.security import synthetic

C = Category


def _values(make: object, n: int = 200, seed: int = 1) -> list[str | None]:
    rng = random.Random(seed)
    return [make(rng) for _ in range(n)]  # type: ignore[operator]


def test_ids_are_resident_ids_whatever_the_column_is_called() -> None:
    values = _values(synthetic.resident_id)
    for name in ("SFZHM", "备注", "order_no", "col7"):
        result = classify_column(name, values)
        assert result.category is C.RESIDENT_ID, name
        assert result.confidence >= 0.9
        assert result.evidence[0] == "100% of 200 values pass the GB 11643 check digit"


def test_header_evidence_is_reported() -> None:
    result = classify_column("身份证号", _values(synthetic.resident_id))
    assert "header '身份证号' matches resident_id (身份证号)" in result.evidence


def test_eleven_digit_numbers_named_lxdh_are_mobile_phones() -> None:
    result = classify_column("LXDH", _values(synthetic.mobile))
    assert result.category is C.MOBILE_PHONE
    assert any("mobile numbers in allocated segments" in e for e in result.evidence)


def test_phone_like_order_numbers_are_not_phones() -> None:
    assert classify_column("订单号", _values(synthetic._phone_like_order)).category is C.NONE
    # Every value a valid mobile number: a phone column, whatever it is called.
    assert classify_column("订单号", _values(synthetic.mobile)).category is C.MOBILE_PHONE
    running = [str(13800000000 + i) for i in range(200)]
    result = classify_column("ext1", running)
    assert result.category is C.NONE
    assert "values are a running sequence of numbers" in result.evidence


def test_ids_with_bad_check_digits_are_not_ids() -> None:
    assert classify_column("DABH", _values(synthetic.bad_check_id)).category is C.NONE
    assert classify_column("x", _values(synthetic.bad_check_id)).category is C.NONE


def test_header_alone_cannot_make_unrelated_values_personal() -> None:
    projects = ["数字乡村建设项目", "老旧小区改造", "智慧城管平台"] * 20
    result = classify_column("XM", projects)
    assert result.category is C.NONE
    assert any("values do not confirm the header" in e for e in result.evidence)


def test_masked_values_still_match_their_header() -> None:
    assert classify_column("手机号", ["138****5678", "139****0000"] * 10).category is (
        C.MOBILE_PHONE
    )
    assert classify_column("姓名", ["张**", "欧阳**", "李*"] * 10).category is C.PERSON_NAME


def test_birth_dates_need_generations_or_a_header() -> None:
    born = _values(lambda r: synthetic.fmt_date(r, synthetic._birth(r), "mixed"))
    assert classify_column("列7", born).category is C.BIRTH_DATE
    recent = [f"2023-0{i % 9 + 1}-1{i % 10}" for i in range(100)]
    assert classify_column("列12", recent).category is C.NONE
    assert classify_column("CSRQ", recent).category is C.BIRTH_DATE


def test_mixed_contact_column_takes_the_majority_kind() -> None:
    rng = random.Random(3)
    values = [
        synthetic.with_landline_format(rng, *synthetic.landline(rng))
        if i % 5
        else synthetic.mobile(rng)
        for i in range(100)
    ]
    assert classify_column("联系电话", values).category is C.LANDLINE_PHONE
    assert classify_column("c", values).category is C.LANDLINE_PHONE


@pytest.mark.parametrize(
    ("name", "make", "category"),
    [
        ("email", synthetic.email, C.EMAIL),
        ("x1", synthetic.email, C.EMAIL),
        ("x2", synthetic.ip_address, C.IP_ADDRESS),
        ("x3", synthetic.plate, C.LICENSE_PLATE),
        ("x4", synthetic.passport, C.PASSPORT),
        ("x5", synthetic.travel_permit, C.TRAVEL_PERMIT),
        ("x6", synthetic.bank_card, C.BANK_CARD),
        ("x7", synthetic.person_name, C.PERSON_NAME),
        ("x8", synthetic.address, C.ADDRESS),
        ("x9", synthetic.uscc, C.USCC),
        ("x10", synthetic.org_code, C.ORG_CODE),
        ("YZBM", synthetic._postal, C.POSTAL_CODE),
        ("x11", synthetic._postal, C.NONE),  # six digits alone are too common
        ("ZDMC", lambda r: r.choice(synthetic.DIAGNOSES), C.HEALTH),
        ("x12", synthetic._coordinates, C.PRECISE_LOCATION),
        ("指纹特征", lambda r: synthetic._b64(r, 128), C.BIOMETRIC),
        ("x13", lambda r: synthetic._b64(r, 128), C.NONE),
        ("x14", synthetic._amount, C.NONE),
        ("x15", synthetic._product_code, C.NONE),
        ("x16", synthetic._serial_19, C.NONE),
        ("x17", synthetic._vin, C.NONE),
    ],
)
def test_categories(name: str, make: object, category: Category) -> None:
    result = classify_column(name, _values(make))
    assert result.category is category, result.evidence
    assert 0.0 <= result.confidence <= 1.0
    assert result.evidence or category is C.NONE


def test_messy_values_are_normalised() -> None:
    values = [
        "１１０１０５１９４９１２３１００２Ｘ",
        " 11010519491231002x ",
        "'360426199101010071",
    ] * 10
    assert classify_column("c", [*values, "", None, "NULL", "无"]).category is C.RESIDENT_ID


def test_empty_columns() -> None:
    assert classify_column("姓名", []).category is C.PERSON_NAME
    assert classify_column("姓名", []).confidence < 0.5
    assert classify_column("c", [None, "", " "]).category is C.NONE


def test_thresholds_are_configurable() -> None:
    values = [*_values(synthetic.email, 70), *["n/a-text"] * 30]
    assert classify_column("c", values).category is C.NONE  # 70% < 80%
    loose = ClassifierConfig(value_rules={C.EMAIL: ValueRule(0.6)})
    assert classify_column("c", values, loose).category is C.EMAIL


def test_classify_table_keeps_column_order() -> None:
    results = classify_table({"姓名": ["张三", "李四"] * 5, "金额": ["12.5", "30"] * 5})
    assert [(r.name, r.category) for r in results] == [("姓名", C.PERSON_NAME), ("金额", C.NONE)]
