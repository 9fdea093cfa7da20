"""Formats without checksums: dates, names, addresses, health terms, network identifiers."""

from __future__ import annotations

from datetime import date

import pytest

from shuzhi.standards.addresses import address_strength
from shuzhi.standards.attributes import (
    coordinate_strength,
    gender_strength,
    is_ethnic_group,
    is_postal_code,
    religion_strength,
)
from shuzhi.standards.dates import has_time, parse_date
from shuzhi.standards.health import health_strength, is_icd10_code
from shuzhi.standards.names import is_dotted_name, split_name
from shuzhi.standards.network import is_email, parse_ip
from shuzhi.standards.text import is_blank, normalize


@pytest.mark.parametrize(
    "value",
    ["1990-01-02", "1990/1/2", "19900102", "1990年1月2日", "1990.01.02", "1990-01-02 00:00:00"],
)
def test_date_formats(value: str) -> None:
    assert parse_date(value) == date(1990, 1, 2)


def test_year_month_and_bad_dates() -> None:
    assert parse_date("1990年1月") == date(1990, 1, 1)
    assert parse_date("1990-02-30") is None
    assert parse_date("12345678") is None
    assert has_time("2023-05-01 12:30:00") and not has_time("1990-01-02 00:00:00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三", ("张", "三")),
        ("欧阳娜娜", ("欧阳", "娜娜")),
        ("王小明", ("王", "小明")),
        ("民政局", None),  # ends like an organisation
        ("数字乡村", None),  # no known surname
        ("张", None),
        ("张三丰四五", None),
    ],
)
def test_names(value: str, expected: tuple[str, str] | None) -> None:
    assert split_name(value) == expected


def test_dotted_minority_names() -> None:
    assert is_dotted_name("买买提·艾力")
    assert not is_dotted_name("张三")


@pytest.mark.parametrize(
    ("value", "strength"),
    [
        ("浙江省杭州市西湖区文新街道文一西路100号3幢2单元301室", 2),
        ("北京市朝阳区建国路88号", 2),
        ("阳光小区3幢201", 2),
        ("广东省深圳市", 1),
        ("城西街道", 0),
        ("杭州市西湖区民政局", 0),  # an organisation
        ("反映小区门口道路积水，影响出行。", 0),  # a sentence
    ],
)
def test_address_strength(value: str, strength: int) -> None:
    assert address_strength(value) == strength


@pytest.mark.parametrize(
    ("value", "strength"),
    [
        *[("2型糖尿病", 2), ("I10.x00x002", 2), ("E11.900", 2), ("腰椎间盘突出症", 2)],
        *[("带状疱疹后神经痛综合征", 1), ("正常", 0), ("P00123", 0)],
    ],
)
def test_health(value: str, strength: int) -> None:
    assert health_strength(value) == strength


def test_icd10_shapes() -> None:
    assert is_icd10_code("J18.901") and is_icd10_code("I10")
    assert not is_icd10_code("SKU-A12") and not is_icd10_code("1234")


def test_network_identifiers() -> None:
    assert is_email("zhang.san@example.gov.cn")
    assert not is_email("zhang@") and not is_email("@example.com")
    assert parse_ip("192.168.1.10") is not None and parse_ip("2408:8000::1") is not None
    assert parse_ip("1.2.3") is None and parse_ip("256.1.1.1") is None


def test_attributes() -> None:
    assert gender_strength("男") == 2 and gender_strength("1") == 1 and gender_strength("x") == 0
    assert is_ethnic_group("汉族") and not is_ethnic_group("汉") and is_ethnic_group("汉", False)
    assert religion_strength("佛教") == 2 and religion_strength("无宗教信仰") == 1
    assert is_postal_code("310012") and not is_postal_code("990000")
    assert coordinate_strength("30.274085,120.155070") == 2
    assert coordinate_strength("120.155070") == 1
    assert coordinate_strength("30.27") == 0


def test_text_normalisation() -> None:
    assert normalize(" 'ＡＢ１２ ") == "AB12"
    assert is_blank(None) and is_blank(" NULL ") and is_blank("无") and not is_blank("0")
