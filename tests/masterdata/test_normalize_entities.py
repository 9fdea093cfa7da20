"""Enterprise names, USCC ↔ organisation code ↔ registration number, and whole records."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.masterdata.normalize import normalize_entity, normalize_person
from shuzhi.masterdata.normalize.addresses import AddressStatus
from shuzhi.masterdata.normalize.enterprise import normalize_enterprise_name
from shuzhi.masterdata.normalize.evidence import Check
from shuzhi.masterdata.normalize.legal_ids import (
    is_valid_regno,
    read_org_code,
    read_regno,
    read_uscc,
    regno_check_digit,
    relate,
    same_area,
)
from shuzhi.standards.identifiers import USCC_ALPHABET, org_code_check_char, uscc_from_parts

USCC = uscc_from_parts("9", "1", "110108", "MA01ABCD")


@pytest.mark.parametrize(
    ("raw", "value", "core", "form", "branch"),
    [
        ("北京某某科技有限责任公司", "北京某某科技有限公司", "某某科技", "有限公司", None),
        (
            "北京某某科技有限公司上海分公司",
            "北京某某科技有限公司上海分公司",
            "某某科技",
            "有限公司",
            "上海分公司",
        ),
        (
            "某某（北京）科技股份有限公司",
            "某某(北京)科技股份有限公司",
            "某某科技",
            "股份有限公司",
            None,
        ),
        ("肯德基【人民路店】", "肯德基(人民路店)", "肯德基", None, "人民路店"),
        (
            "中國銀行股份有限公司北京市分行",
            "中国银行股份有限公司北京市分行",
            "中国银行",
            "股份有限公司",
            "北京市分行",
        ),
        (
            "阿里巴巴（中国）网络技术有限公司",
            "阿里巴巴(中国)网络技术有限公司",
            "阿里巴巴(中国)网络技术",
            "有限公司",
            None,
        ),
        ("某某股份公司", "某某股份有限公司", "某某", "股份有限公司", None),
    ],
)
def test_real_shaped_enterprise_names(
    raw: str, value: str, core: str, form: str | None, branch: str | None
) -> None:
    result = normalize_enterprise_name(raw)
    assert (result.value, result.core, result.legal_form, result.branch) == (
        value,
        core,
        form,
        branch,
    )


def test_placeholders_are_blank_once_cleaned() -> None:
    for blank in (None, "", "無", "\x02/", " - "):
        result = normalize_enterprise_name(blank)
        assert result.value is None and result.field.check is Check.UNKNOWN


def test_limited_liability_variants_share_a_core_and_form() -> None:
    a = normalize_enterprise_name("杭州某某贸易有限责任公司")
    b = normalize_enterprise_name("杭州某某贸易有限公司")
    assert (a.core, a.legal_form) == (b.core, b.legal_form)
    assert "legal_form_unified" in a.field.flags
    assert a.regions == ("杭州",)


_PIECES = (
    *("有限责任公司", "有限公司", "股份有限公司", "股份公司", "公司", "(有限合伙)", "合伙企业"),
    *("分公司", "分店", "店", "营业部", "分行", "支行", "办事处", "经营部"),
    *("北京", "北京市", "杭州", "阿里", "(上海)", "（中国）", "【", "】", "[", "]", " ", "　"),
    *("科技", "貿易", "集團", "某某", "第一", "ABC", "ltd"),
)
enterprise_like = st.one_of(
    st.text(max_size=30), st.lists(st.sampled_from(_PIECES), max_size=7).map("".join)
)


@given(enterprise_like)
def test_enterprise_names_never_raise_and_are_idempotent(raw: str) -> None:
    first = normalize_enterprise_name(raw)
    if first.value is None:
        return
    again = normalize_enterprise_name(first.value)
    assert (again.value, again.core, again.legal_form, again.branch) == (
        first.value,
        first.core,
        first.legal_form,
        first.branch,
    )


def test_uscc_relations() -> None:
    uscc = read_uscc(USCC.lower())
    assert uscc.check is Check.VALID and uscc.value == USCC and "upper_cased" in uscc.flags
    org = read_org_code("MA01ABCD-" + org_code_check_char("MA01ABCD"))
    regno = read_regno("110108000000016")
    relation = relate(uscc, regno, org)
    assert relation.derived_org_code == USCC[8:17]
    assert relation.org_code is Check.VALID and relation.region is Check.VALID
    other_org = read_org_code("12345678" + org_code_check_char("12345678"))
    moved = read_regno("310115" + "00000001" + regno_check_digit("31011500000001"))
    relation = relate(uscc, moved, other_org)
    assert relation.org_code is Check.INVALID and relation.region is Check.UNVERIFIED
    assert relate(read_uscc("91110108MA01ABCD5X")).derived_org_code is None


codes = st.text("0123456789", min_size=6, max_size=6)


@given(codes, codes)
def test_same_area_is_symmetric_and_reflexive(a: str, b: str) -> None:
    assert same_area(a, a)
    assert same_area(a, b) == same_area(b, a)
    assert same_area("330000", "330106") and same_area("330100", "330106")
    assert not same_area("330102", "330106")


def test_registration_numbers() -> None:
    assert is_valid_regno("110108000000016")
    assert read_regno("110108000000017").check is Check.INVALID
    old = read_regno("1101082012345")
    assert old.check is Check.UNVERIFIED and "not_15_digits" in old.flags


@given(st.text("0123456789", min_size=14, max_size=14), st.integers(0, 13), st.integers(1, 9))
def test_regno_check_digit_round_trips_and_catches_a_typo(
    first14: str, at: int, delta: int
) -> None:
    number = first14 + regno_check_digit(first14)
    assert is_valid_regno(number)
    typo = number[:at] + str((int(number[at]) + delta) % 10) + number[at + 1 :]
    assert not is_valid_regno(typo)


@given(st.text(USCC_ALPHABET, min_size=8, max_size=8).filter(lambda s: "I" not in s))
def test_a_valid_uscc_carries_its_organisation_code(body: str) -> None:
    uscc = uscc_from_parts("9", "1", "330106", body)
    relation = relate(read_uscc(uscc), org_code=read_org_code(uscc[8:17]))
    assert relation.org_code is Check.VALID


def test_person_record_keeps_raw_values_and_flags_conflicts() -> None:
    record = {
        "姓名": "單田芳",
        "公民身份号码": "11010519491231002x",
        "性别": "男",
        "出生日期": "1949年12月31日",
        "联系电话": "138 0013 8000",
        "住址": "朝阳区建国路88号",
    }
    person = normalize_person(record, within="11", today=date(2026, 12, 1))
    assert person.name.value == "单田芳" and person.name.field.raw == "單田芳"
    assert person.name.pinyin == "shan tian fang"
    assert person.resident_id.valid and person.resident_id.sex == "female"
    assert person.sex.value == "male" and "conflicts_with_id" in person.sex.flags
    assert person.birth_date.value == "1949-12-31"
    assert person.birth_date.flags == {"agrees_with_id"}
    assert person.phone.value == "13800138000"
    assert person.address.adcode == "110105"
    assert normalize_person(record).address.status is AddressStatus.AMBIGUOUS
    keys = person.match_keys()
    assert keys["resident_id"] == "11010519491231002X" and keys["birth_year"] == "1949"
    assert keys["name_pinyin"] == "shan tian fang" and keys["adcode"] == "110105"


def test_a_mistyped_id_still_gives_blocking_keys() -> None:
    person = normalize_person({"姓名": "张三", "身份证号": "110105194912310021"})
    keys = person.match_keys()
    assert keys["resident_id"] == "110105194912310021"
    assert keys["birth_date"] == "1949-12-31" and keys["sex"] == "female"
    assert not person.resident_id.valid


def test_declared_values_against_an_unverified_id() -> None:
    today = date(2026, 12, 1)
    # The check character fails: the ID's birth date and sex are only unverified.
    record = {"公民身份号码": "110105194912310021", "出生日期": "1950-01-01", "性别": "女性"}
    person = normalize_person(record, today=today)
    assert person.birth_date.flags == {"differs_from_unverified_id"}
    assert person.sex.value == "female" and person.sex.flags == {"agrees_with_id"}
    month = normalize_person({"公民身份号码": "11010519491231002X", "出生日期": "1949年12月"})
    assert month.birth_date.value == "1949-12"
    assert month.birth_date.flags == {"month_only", "agrees_with_id"}
    assert normalize_person({"出生日期": "2999-01-01"}).birth_date.check is Check.INVALID


def test_entity_record() -> None:
    entity = normalize_entity(
        {
            "企业名称": "北京某某科技有限責任公司",
            "统一社会信用代码": USCC,
            "法定代表人": "張三",
            "注册地址": "北京市海淀区中关村大街1号",
        }
    )
    assert entity.address.adcode == "110108" and entity.relation.address is Check.VALID
    moved = normalize_entity({"统一社会信用代码": USCC, "注册地址": "上海市浦东新区张江镇"})
    assert moved.relation.address is Check.UNVERIFIED
    assert entity.name.value == "北京某某科技有限公司"
    assert entity.uscc.check is Check.VALID
    assert entity.relation.derived_org_code == USCC[8:17]
    assert entity.registration_number.check is Check.UNKNOWN
    assert entity.legal_representative.value == "张三"
    keys = entity.match_keys()
    assert keys["name_core"] == "某某科技" and keys["uscc"] == USCC
    assert keys["org_code"] == USCC[8:17] and keys["legal_representative_pinyin"] == "zhang san"


records = st.dictionaries(
    st.sampled_from(["姓名", "公民身份号码", "性别", "出生日期", "联系电话", "住址", "name"]),
    st.one_of(st.none(), st.text(max_size=20), st.integers()),
)


@given(records)
def test_record_entry_points_never_raise(record: dict[str, object]) -> None:
    assert set(normalize_person(record).match_keys()) >= {"name", "resident_id", "adcode"}
    assert set(normalize_entity(record).match_keys()) >= {"name", "uscc", "adcode"}
