"""What column names say: Chinese headers, pinyin initials, English."""

from __future__ import annotations

import pytest

from shuzhi.security.categories import Category
from shuzhi.security.headers import header_cue, tokens

C = Category


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("身份证号", C.RESIDENT_ID),
        ("公民身份号码", C.RESIDENT_ID),
        ("法定代表人身份证号", C.RESIDENT_ID),
        ("SFZHM", C.RESIDENT_ID),
        ("t_sfzh", C.RESIDENT_ID),
        ("FRSFZHM", C.RESIDENT_ID),
        ("SFZHM_CODE", C.RESIDENT_ID),
        ("id_card_no", C.RESIDENT_ID),
        ("idCardNo", C.RESIDENT_ID),
        ("姓名", C.PERSON_NAME),
        ("XM", C.PERSON_NAME),
        ("HZXM", C.PERSON_NAME),
        ("联系人", C.PERSON_NAME),
        ("手机号", C.MOBILE_PHONE),
        ("SJHM", C.MOBILE_PHONE),
        ("固定电话", C.LANDLINE_PHONE),
        ("统一社会信用代码", C.USCC),
        ("TYSHXYDM", C.USCC),
        ("credit_code", C.USCC),
        ("居住地址", C.ADDRESS),
        ("JZDZ", C.ADDRESS),
        ("HJDZ", C.ADDRESS),
        ("出生地", C.ADDRESS),
        ("CSRQ", C.BIRTH_DATE),
        ("出生日期", C.BIRTH_DATE),
        ("YHKH", C.BANK_CARD),
        ("HZHM", C.PASSPORT),
        ("CPHM", C.LICENSE_PLATE),
        ("HPHM", C.LICENSE_PLATE),
        ("DZYX", C.EMAIL),
        ("ipAddress", C.IP_ADDRESS),
        ("MZDM", C.ETHNICITY),
        ("xb_dm", C.GENDER),
        ("诊断编码", C.HEALTH),
    ],
)
def test_positive_cues(name: str, category: Category) -> None:
    assert category in header_cue(name).categories


@pytest.mark.parametrize("name", ["联系电话", "LXDH", "phone", "联系人电话"])
def test_generic_phone_names_allow_both_kinds(name: str) -> None:
    assert header_cue(name).categories == (C.MOBILE_PHONE, C.LANDLINE_PHONE)


def test_document_number_names_allow_every_document() -> None:
    assert header_cue("证件号码").categories == (
        C.RESIDENT_ID,
        C.PASSPORT,
        C.TRAVEL_PERMIT,
        C.TAIWAN_PERMIT,
        C.SAR_PASSPORT,
    )


@pytest.mark.parametrize(
    "name",
    [
        *("订单号", "身份证有效期", "诊断日期", "企业名称", "DJRQ", "XMMC", "product_code"),
        *("user_id", "order_no", "发票代码", "行政区划代码", "工号", "amount"),
    ],
)
def test_negative_cues(name: str) -> None:
    cue = header_cue(name)
    assert cue.negative and not cue.positive


@pytest.mark.parametrize("name", ["col1", "字段1", "value", "备用", "HPZLX"])
def test_no_cue(name: str) -> None:
    cue = header_cue(name)
    assert not cue.positive


def test_tokens() -> None:
    assert tokens("t_FRSFZHM_code") == ["frsfzhm", "code"]
    assert tokens("idCardNo") == ["id", "card", "no"]
    assert tokens("XM1") == ["xm"]
