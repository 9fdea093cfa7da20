"""Conformance: every metadata validation rule (standards §7.1) and every code table.

Each rule id has a case that breaks it (and only reports that rule's fields); a test
fails if a rule is registered without a case here.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuzhi.catalog.models import CodeTable
from shuzhi.catalog.rules import RULES, CodeBook, check_entry
from shuzhi.catalog.schemas import SegmentLengths
from shuzhi.catalog.seeds import DEFAULT_SEGMENT_LENGTHS, SEED_CODES
from shuzhi.errors import ErrorCollector
from tests.catalog.helpers import fields, item

BOOK = CodeBook(
    {
        table: {c.code: c.parent for c in SEED_CODES if c.table == table}
        for table in {c.table for c in SEED_CODES}
    }
)
SEGMENTS = SegmentLengths.model_validate(DEFAULT_SEGMENT_LENGTHS)


def problems(**over: Any) -> dict[str, str]:
    errors = ErrorCollector()
    check_entry(fields(**over), BOOK, SEGMENTS, errors)
    return {e.field: e.message.zh + " | " + e.message.en for e in errors.errors}


# rule id → (a breaking change, the fields it must report, an accepted variant)
CASES: dict[str, tuple[dict[str, Any], set[str], dict[str, Any]]] = {
    "classification_codes": (
        {"subclass_code": "13"},
        {"subclass_code"},
        {"class_code": "2", "subclass_code": "12"},
    ),
    "segment_lengths": (
        {"group_code": "01", "detail_code": "1234567", "sequence_code": "1234567"},
        {"group_code", "detail_code", "sequence_code"},
        {"detail_code": "123456", "sequence_code": "000123"},
    ),
    "format_code": (
        {"format_code": "3", "format_subtype": "xlsx"},
        {"format_subtype"},
        {"format_code": "2", "format_subtype": "xlsx"},
    ),
    "update_cycle": ({"update_cycle": "9"}, {"update_cycle"}, {"update_cycle": "8"}),
    "share_conditions_required": (
        {
            "share_type": "conditional",
            "not_shared_basis": "《社会保险法》",
            "items": [item("姓名", share_type="conditional")],
        },
        {"share_conditions"},
        {
            "share_type": "conditional",
            "share_conditions": "仅用于社保核定",
            "not_shared_basis": "《社会保险法》",
            "items": [item("姓名", share_type="conditional")],
        },
    ),
    "conditional_basis_required": (
        {
            "share_type": "conditional",
            "share_conditions": "仅用于社保核定",
            "not_shared_basis": " 依据 ",
            "items": [item("姓名", share_type="conditional")],
        },
        {"not_shared_basis"},
        {
            "share_type": "conditional",
            "share_conditions": "仅用于社保核定",
            "not_shared_basis": "国发〔2016〕51号",
            "items": [item("姓名", share_type="conditional")],
        },
    ),
    "not_shared_basis_required": (
        {
            "share_type": "not_shared",
            "share_method": "",
            "share_method_type": "",
            "items": [item("姓名", share_type="not_shared")],
        },
        {"not_shared_basis"},
        {
            "share_type": "not_shared",
            "not_shared_basis": "《保守国家秘密法》",
            "share_method": "",
            "share_method_type": "",
            "items": [item("姓名", share_type="not_shared")],
        },
    ),
    "share_method": (
        {"share_method": "platform", "share_method_type": ""},
        {"share_method_type"},
        {"share_method": "email", "share_method_type": ""},
    ),
    "open_conditions_required": (
        {"open_type": "conditional", "not_open_reason": ""},
        {"open_conditions"},
        {"open_type": "conditional", "open_conditions": "签订数据利用协议"},
    ),
    "not_open_reason_required": (
        {"open_type": "not_open", "not_open_reason": ""},
        {"not_open_reason"},
        {"open_type": "not_open", "not_open_reason": "other", "not_open_note": "尚在治理"},
    ),
    "not_shared_not_open": (
        {
            "share_type": "not_shared",
            "not_shared_basis": "《保守国家秘密法》",
            "open_type": "unconditional",
            "items": [item("姓名", share_type="not_shared")],
        },
        {"open_type"},
        {
            "share_type": "conditional",
            "share_conditions": "条件",
            "not_shared_basis": "《政务数据共享条例》",
            "open_type": "unconditional",
            "items": [item("姓名", share_type="conditional")],
        },
    ),
    "classified_not_open": (
        {"is_classified": True, "open_type": "unconditional"},
        {"open_type"},
        {"is_classified": True, "open_type": "not_open"},
    ),
    "structured_items": (
        {"format_code": "2", "format_subtype": "xlsx", "items": []},
        {"items"},
        {"format_code": "1", "format_subtype": "pdf", "items": []},
    ),
    "item_length_required": (
        {"items": [item("姓名", length=None), item("出生日期", data_type="D", length=None)]},
        {"items.0.length"},
        {"items": [item("姓名"), item("出生日期", data_type="D", length=None)]},
    ),
    "item_data_type": (
        {"items": [item("姓名", data_type="X")]},
        {"items.0.data_type"},
        {"items": [item("金额", data_type="y")]},
    ),
    "item_names_unique": (
        {"items": [item("姓名"), item("姓名")]},
        {"items.1.name"},
        {"items": [item("姓名"), item("曾用名")]},
    ),
    "item_share_type": (
        {"items": [item("姓名", share_type="conditional")]},
        {"items.0.share_type"},
        {
            "share_type": "conditional",
            "share_conditions": "条件",
            "not_shared_basis": "《政务数据共享条例》",
            "items": [item("姓名"), item("住址", share_type="not_shared")],
        },
    ),
    "item_source_needs_element": (
        {"items": [item("自编项", is_source=True)]},
        {"items.0.element_code"},
        {"items": [item("身份证号", element_code="DE0001", is_source=True)]},
    ),
    "related_codes_unique": (
        {"related_codes": ["101001/000001", "101001/000001"]},
        {"related_codes"},
        {"related_codes": ["101001/000001", "101001/000002"]},
    ),
}


def test_valid_entry_passes() -> None:
    assert problems() == {}


def test_every_rule_has_a_case() -> None:
    assert {r.id for r in RULES} == set(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule(rule_id: str) -> None:
    broken, reported, accepted = CASES[rule_id]
    found = problems(**broken)
    assert set(found) == reported, found
    for message in found.values():
        zh, en = message.split(" | ")
        assert zh and en and zh != en  # bilingual
    assert problems(**accepted) == {}


# ---------------------------------------------------------------- code tables

EXPECTED_TABLES = {
    CodeTable.RESOURCE_CLASS: {"1": "基础信息资源类", "2": "主题信息资源类", "3": "部门信息资源类"},
    CodeTable.FORMAT: {
        "1": "电子文件",
        "2": "电子表格",
        "3": "数据库",
        "4": "图形图像",
        "5": "流媒体",
        "6": "自描述格式",
        "7": "服务接口",
    },
    CodeTable.DATA_TYPE: {
        "C": "字符型",
        "N": "数值型",
        "Y": "货币型",
        "D": "日期型",
        "T": "日期时间型",
        "L": "逻辑型",
        "M": "备注型",
        "G": "通用型",
        "B": "双精度型",
        "I": "整型",
        "F": "浮点型",
    },
    CodeTable.SHARE_TYPE: {
        "unconditional": "无条件共享",
        "conditional": "有条件共享",
        "not_shared": "不予共享",
    },
    CodeTable.SHARE_METHOD: {"platform": "共享平台方式", "email": "邮件方式", "medium": "介质方式"},
    CodeTable.SHARE_METHOD_TYPE: {"interface": "接口", "file": "文件", "table": "库表"},
    CodeTable.OPEN_TYPE: {
        "unconditional": "无条件开放",
        "conditional": "有条件开放",
        "not_open": "不予开放",
    },
    CodeTable.NOT_OPEN_REASON: {
        "law": "法律法规",
        "policy": "政策文件",
        "sensitive": "涉及敏感信息",
        "other": "其他",
    },
    CodeTable.UPDATE_CYCLE: {
        "1": "实时",
        "2": "每日",
        "3": "每周",
        "4": "每月",
        "5": "每季度",
        "6": "每年",
        "7": "每半年",
        "8": "不定期",
    },
}


def _seeded(table: CodeTable) -> dict[str, str]:
    return {c.code: c.zh for c in SEED_CODES if c.table == table}


@pytest.mark.parametrize("table", sorted(EXPECTED_TABLES))
def test_code_table_seed(table: CodeTable) -> None:
    assert _seeded(table) == EXPECTED_TABLES[table]


def test_national_codes_of_share_type_are_1_2_3() -> None:
    national = {c.code: c.national for c in SEED_CODES if c.table == CodeTable.SHARE_TYPE}
    assert national == {"unconditional": "1", "conditional": "2", "not_shared": "3"}


def test_subclasses_follow_the_guide() -> None:
    subs = {c.code: (c.zh, c.parent) for c in SEED_CODES if c.table == CodeTable.RESOURCE_SUBCLASS}
    assert subs["101"] == ("国家人口基础信息资源", "1")
    assert subs["105"] == ("电子证照基础信息资源", "1")
    assert subs["212"] == ("应急维稳", "2")
    assert len([k for k in subs if k.startswith("2")]) == 12
    assert len([k for k in subs if k.startswith("3")]) == 8


def test_format_subtypes_hang_under_formats() -> None:
    for c in SEED_CODES:
        if c.table == CodeTable.FORMAT_SUBTYPE:
            assert c.parent in EXPECTED_TABLES[CodeTable.FORMAT]


def test_every_code_table_is_seeded() -> None:
    assert {c.table for c in SEED_CODES} == set(CodeTable)


@given(
    st.fixed_dictionaries(
        {
            "share_type": st.sampled_from(["unconditional", "conditional", "not_shared"]),
            "open_type": st.sampled_from(["unconditional", "conditional", "not_open"]),
            "share_conditions": st.sampled_from(["", "条件"]),
            "not_shared_basis": st.sampled_from(["", "依据", "《政务数据共享条例》"]),
            "open_conditions": st.sampled_from(["", "条件"]),
            "not_open_reason": st.sampled_from(["", "law", "bogus"]),
            "is_classified": st.booleans(),
            "format_code": st.sampled_from(["1", "2", "3", "7", "9"]),
            "update_cycle": st.sampled_from(["1", "6", "8", "0"]),
            "item_share": st.sampled_from(["unconditional", "conditional", "not_shared"]),
        }
    )
)
def test_rules_are_consistent(combo: dict[str, Any]) -> None:
    """Any combination is either accepted or rejected with reasons; never an exception."""
    share = combo.pop("item_share")
    data = {**combo, "format_subtype": "", "items": [item("姓名", share_type=share)]}
    found = problems(**data)
    conditional_share_ok = combo["share_type"] != "conditional" or combo["share_conditions"]
    if not conditional_share_ok:
        assert "share_conditions" in found
    basis_needed = combo["share_type"] != "unconditional"
    assert ("not_shared_basis" in found) == (basis_needed and len(combo["not_shared_basis"]) < 4)
    if combo["open_type"] == "conditional" and not combo["open_conditions"]:
        assert "open_conditions" in found
    if combo["is_classified"] and combo["open_type"] != "not_open":
        assert "open_type" in found
