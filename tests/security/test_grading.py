"""GB/T 43697 levels, the impact matrix, dataset grading and local schemes."""

from __future__ import annotations

import pytest

from shuzhi.errors import Invalid
from shuzhi.security.categories import Category
from shuzhi.security.grading import (
    HANGZHOU,
    NATIONAL,
    SCHEMES,
    ZHEJIANG,
    AffectedObject,
    GradingPolicy,
    HarmDegree,
    NationalLevel,
    grade_dataset,
    level_for_impacts,
    register_scheme,
    scheme_from_dict,
)

A, H, N, C = AffectedObject, HarmDegree, NationalLevel, Category


def test_national_levels_are_ordered() -> None:
    names = [lv.name_zh for lv in NATIONAL.ordered()]
    assert names == [
        "核心数据",
        "重要数据",
        "一般数据4级",
        "一般数据3级",
        "一般数据2级",
        "一般数据1级",
    ]


@pytest.mark.parametrize(
    ("obj", "harm", "level"),
    [
        (A.NATIONAL_SECURITY, H.GENERAL, N.IMPORTANT),
        (A.NATIONAL_SECURITY, H.SERIOUS, N.CORE),
        (A.ECONOMIC_OPERATION, H.ESPECIALLY_SERIOUS, N.CORE),
        (A.SOCIAL_ORDER, H.SERIOUS, N.IMPORTANT),
        (A.PUBLIC_INTEREST, H.GENERAL, N.GENERAL_2),
        (A.PERSONAL_RIGHTS, H.ESPECIALLY_SERIOUS, N.GENERAL_4),
        (A.ORGANISATION_RIGHTS, H.SERIOUS, N.GENERAL_3),
        (A.PERSONAL_RIGHTS, H.NONE, N.GENERAL_1),
    ],
)
def test_impact_matrix(obj: AffectedObject, harm: HarmDegree, level: NationalLevel) -> None:
    assert level_for_impacts([(obj, harm)]) is level


def test_highest_impact_wins() -> None:
    impacts = [(A.PERSONAL_RIGHTS, H.ESPECIALLY_SERIOUS), (A.SOCIAL_ORDER, H.SERIOUS)]
    assert level_for_impacts(impacts) is N.IMPORTANT
    assert level_for_impacts([]) is N.GENERAL_1


@pytest.mark.parametrize(
    ("categories", "level", "personal", "sensitive"),
    [
        ([C.USCC, C.NONE], N.GENERAL_1, False, False),
        ([C.GENDER, C.BIRTH_DATE], N.GENERAL_2, True, False),
        ([C.PERSON_NAME, C.MOBILE_PHONE], N.GENERAL_3, True, False),
        ([C.PERSON_NAME, C.RESIDENT_ID], N.GENERAL_4, True, True),
        ([C.HEALTH], N.GENERAL_4, True, True),
    ],
)
def test_dataset_grade(
    categories: list[Category], level: NationalLevel, personal: bool, sensitive: bool
) -> None:
    grade = grade_dataset(categories, 1000)
    assert (grade.level, grade.personal, grade.sensitive_personal) == (level, personal, sensitive)
    assert not grade.important_candidate


def test_minors_make_personal_data_sensitive() -> None:
    assert grade_dataset([C.GENDER], 10, minors=True).level is N.GENERAL_4


def test_large_scale_sensitive_data_is_flagged_not_raised() -> None:
    grade = grade_dataset([C.RESIDENT_ID], 150_000)
    assert grade.important_candidate and grade.level is N.GENERAL_4
    assert any("重要数据" in r for r in grade.reasons)
    assert not grade_dataset([C.MOBILE_PHONE], 150_000).important_candidate
    assert grade_dataset([C.MOBILE_PHONE], 2_000_000).important_candidate
    strict = GradingPolicy(sensitive_rows=10)
    assert grade_dataset([C.HEALTH], 11, policy=strict).important_candidate


def test_assessed_impacts_raise_the_grade() -> None:
    grade = grade_dataset([C.NONE], 10, assessed=[(A.SOCIAL_ORDER, H.SERIOUS)])
    assert grade.level is N.IMPORTANT


@pytest.mark.parametrize(
    ("national", "zhejiang", "hangzhou"),
    [
        (N.GENERAL_1, "L1", "public"),
        (N.GENERAL_2, "L2", "low"),
        (N.GENERAL_3, "L3", "high"),
        (N.GENERAL_4, "L4", "extreme"),
        (N.IMPORTANT, "L4", "extreme"),
        (N.CORE, "L4", "extreme"),
    ],
)
def test_local_presets(national: NationalLevel, zhejiang: str, hangzhou: str) -> None:
    assert ZHEJIANG.for_national(national).code == zhejiang
    assert HANGZHOU.for_national(national).code == hangzhou


def test_each_local_level_maps_to_a_national_level() -> None:
    assert ZHEJIANG.level("L4").name_zh == "敏感"
    assert {lv.national for lv in HANGZHOU.levels} == {
        N.GENERAL_1,
        N.GENERAL_2,
        N.GENERAL_3,
        N.GENERAL_4,
    }
    grade = grade_dataset([C.RESIDENT_ID], 10)
    assert grade.local(ZHEJIANG).code == "L4"


def test_schemes_from_configuration() -> None:
    scheme = scheme_from_dict(
        {
            "code": "changchun",
            "name_zh": "长春",
            "name_en": "Changchun",
            "levels": [
                {
                    "code": "g",
                    "rank": 1,
                    "name_zh": "一般数据",
                    "name_en": "G",
                    "national": "general_1",
                },
                {
                    "code": "s",
                    "rank": 2,
                    "name_zh": "一般敏感数据",
                    "name_en": "S",
                    "national": "general_3",
                },
                {
                    "code": "h",
                    "rank": 3,
                    "name_zh": "高度敏感数据",
                    "name_en": "H",
                    "national": "general_4",
                },
            ],
        }
    )
    assert scheme.for_national(N.GENERAL_2).code == "g"
    register_scheme(scheme)
    assert SCHEMES["changchun"] is scheme
    del SCHEMES["changchun"]


def test_bad_scheme_reports_every_problem() -> None:
    with pytest.raises(Invalid) as caught:
        scheme_from_dict(
            {
                "code": "",
                "levels": [
                    {
                        "code": "a",
                        "rank": 1,
                        "name_zh": "甲",
                        "name_en": "A",
                        "national": "general_4",
                    },
                    {
                        "code": "b",
                        "rank": 2,
                        "name_zh": "乙",
                        "name_en": "B",
                        "national": "general_1",
                    },
                    {"code": "c", "rank": 3},
                ],
            }
        )
    fields = [e.field for e in caught.value.errors]
    assert "levels[2]" in fields and "levels" in fields and "code" in fields
    assert all(e.message.zh and e.message.en for e in caught.value.errors)
