"""The stable category codes of column classification and what each one means.

Codes are shared by the API, the console and stored classifications: add new ones, never
rename. "Sensitive" follows PIPL Art. 28 (biometrics, religion, specific identity, medical
health, financial accounts, whereabouts, minors) read with GB/T 35273 Annex B, which lists
identity documents among sensitive personal information.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from shuzhi.security.masking import MASKERS, MaskLevel


class Category(StrEnum):
    RESIDENT_ID = "resident_id"
    USCC = "uscc"
    MOBILE_PHONE = "mobile_phone"
    LANDLINE_PHONE = "landline_phone"
    BANK_CARD = "bank_card"
    PASSPORT = "passport"
    TRAVEL_PERMIT = "travel_permit"
    LICENSE_PLATE = "license_plate"
    EMAIL = "email"
    IP_ADDRESS = "ip_address"
    ADDRESS = "address"
    PERSON_NAME = "person_name"
    BIRTH_DATE = "birth_date"
    HEALTH = "health"
    NONE = "none"
    # Added beyond the first set (same stability promise).
    ORG_CODE = "org_code"
    POSTAL_CODE = "postal_code"
    GENDER = "gender"
    ETHNICITY = "ethnicity"
    RELIGION = "religion"
    BIOMETRIC = "biometric"
    PRECISE_LOCATION = "precise_location"
    TAIWAN_PERMIT = "taiwan_permit"
    SAR_PASSPORT = "sar_passport"
    DIPLOMATIC_PLATE = "diplomatic_plate"


@dataclass(frozen=True)
class CategoryInfo:
    code: Category
    label_zh: str
    label_en: str
    personal: bool  # 个人信息 (PIPL Art. 4)
    sensitive: bool  # 敏感个人信息 (PIPL Art. 28)
    identifying: bool  # a direct identifier of a person (GB/T 37964 直接标识符)
    default_level: MaskLevel  # masking applied when nobody chose otherwise
    note: str

    @property
    def mask(self) -> Callable[[str], str]:
        """The category's partial-masking function."""
        return MASKERS[self.code.value]


def _info(
    code: Category,
    zh: str,
    en: str,
    *,
    personal: bool,
    sensitive: bool = False,
    identifying: bool = False,
    level: MaskLevel = MaskLevel.PARTIAL,
    note: str = "",
) -> CategoryInfo:
    return CategoryInfo(code, zh, en, personal, sensitive, identifying, level, note)


C = Category
L = MaskLevel
CATEGORY_INFO: dict[Category, CategoryInfo] = {
    i.code: i
    for i in (
        _info(
            C.RESIDENT_ID,
            "居民身份证号码",
            "Resident ID number",
            personal=True,
            sensitive=True,
            identifying=True,
            note="GB 11643; 18 or legacy 15 digits",
        ),
        _info(
            C.USCC,
            "统一社会信用代码",
            "Unified social credit code",
            personal=False,
            level=L.NONE,
            note="GB 32100; public register identifier of organisations",
        ),
        _info(
            C.ORG_CODE,
            "组织机构代码",
            "Organisation code",
            personal=False,
            level=L.NONE,
            note="GB 11714; embedded in the USCC",
        ),
        _info(C.MOBILE_PHONE, "手机号码", "Mobile phone number", personal=True, identifying=True),
        _info(C.LANDLINE_PHONE, "固定电话", "Landline phone number", personal=True),
        _info(
            C.BANK_CARD,
            "银行卡号",
            "Bank card number",
            personal=True,
            sensitive=True,
            identifying=True,
            note="financial account (PIPL Art. 28)",
        ),
        _info(
            C.PASSPORT,
            "护照号码",
            "Passport number",
            personal=True,
            sensitive=True,
            identifying=True,
            note="identity document",
        ),
        _info(
            C.TRAVEL_PERMIT,
            "港澳通行证号码",
            "Hong Kong/Macau travel permit number",
            personal=True,
            sensitive=True,
            identifying=True,
            note="identity document",
        ),
        _info(
            C.TAIWAN_PERMIT,
            "往来台湾通行证号码",
            "Taiwan travel permit number",
            personal=True,
            sensitive=True,
            identifying=True,
            note="identity document: 台胞证 (8 digits) and 往来台湾通行证 (L/T + 8 digits)",
        ),
        _info(
            C.SAR_PASSPORT,
            "港澳特区护照号码",
            "Hong Kong/Macao SAR passport number",
            personal=True,
            sensitive=True,
            identifying=True,
            note="identity document: HKSAR K…, Macao SAR MA…",
        ),
        _info(
            C.DIPLOMATIC_PLATE,
            "使领馆车辆号牌",
            "Embassy or consulate vehicle plate",
            personal=True,
            identifying=True,
            note="identifies a mission's vehicle and its diplomatic or consular staff",
        ),
        _info(
            C.LICENSE_PLATE,
            "机动车号牌",
            "Vehicle licence plate",
            personal=True,
            identifying=True,
            note="identifies the registered keeper",
        ),
        _info(C.EMAIL, "电子邮箱", "E-mail address", personal=True, identifying=True),
        _info(C.IP_ADDRESS, "IP地址", "IP address", personal=True, note="online identifier"),
        _info(
            C.ADDRESS,
            "地址",
            "Address",
            personal=True,
            identifying=True,
            note="house-level addresses identify a household",
        ),
        _info(C.PERSON_NAME, "姓名", "Person name", personal=True, identifying=True),
        _info(
            C.BIRTH_DATE,
            "出生日期",
            "Birth date",
            personal=True,
            note="quasi-identifier; reveals minors",
        ),
        _info(
            C.HEALTH,
            "健康医疗信息",
            "Health information",
            personal=True,
            sensitive=True,
            level=L.REDACT,
            note="diagnoses, medical history, ICD-10 codes",
        ),
        _info(
            C.POSTAL_CODE,
            "邮政编码",
            "Postal code",
            personal=False,
            level=L.NONE,
            note="an area, not a person; quasi-identifier only with other columns",
        ),
        _info(
            C.GENDER,
            "性别",
            "Gender",
            personal=True,
            level=L.NONE,
            note="needed for statistics; identifying only with other columns",
        ),
        _info(
            C.ETHNICITY,
            "民族",
            "Ethnic group",
            personal=True,
            sensitive=True,
            level=L.REDACT,
            note="treated as specific identity (conservative default)",
        ),
        _info(
            C.RELIGION,
            "宗教信仰",
            "Religion",
            personal=True,
            sensitive=True,
            level=L.REDACT,
            note="PIPL Art. 28",
        ),
        _info(
            C.BIOMETRIC,
            "生物识别信息",
            "Biometric data",
            personal=True,
            sensitive=True,
            level=L.REDACT,
            note="fingerprint, face, iris, voiceprint, genes",
        ),
        _info(
            C.PRECISE_LOCATION,
            "精准定位",
            "Precise location",
            personal=True,
            sensitive=True,
            note="whereabouts (PIPL Art. 28); masked to about 1 km",
        ),
        _info(C.NONE, "非个人信息/未识别", "Not classified", personal=False, level=L.NONE),
    )
}


def info(category: Category) -> CategoryInfo:
    return CATEGORY_INFO[category]
