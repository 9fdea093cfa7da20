"""Whole records: ``normalize_person`` and ``normalize_entity``, the entry points of matching.

A record is a mapping from column to text, its columns named by the standard data element
(公民身份号码, 姓名…) or an English key (resident_id, name…). Every field keeps its raw
value beside the normalised one and its evidence; fields that speak about each other are
cross-checked: a declared sex or birth date that contradicts the resident ID's is flagged
``conflicts_with_id`` on the declared field, and neither value is overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from shuzhi.masterdata.normalize.addresses import Address, parse_address
from shuzhi.masterdata.normalize.enterprise import EnterpriseName, normalize_enterprise_name
from shuzhi.masterdata.normalize.evidence import Check, Field
from shuzhi.masterdata.normalize.legal_ids import (
    IdRelation,
    read_org_code,
    read_regno,
    read_uscc,
    relate,
)
from shuzhi.masterdata.normalize.names import PersonName, normalize_name
from shuzhi.masterdata.normalize.resident_ids import ResidentIdEvidence, read_resident_id
from shuzhi.standards.dates import parse_date, parse_year_month
from shuzhi.standards.phones import parse_landline, parse_mobile
from shuzhi.standards.text import is_blank

PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),
    "resident_id": ("公民身份号码", "身份证号码", "身份证号", "resident_id"),
    "sex": ("性别", "sex"),
    "birth_date": ("出生日期", "birth_date"),
    "phone": ("联系电话", "手机号码", "phone"),
    "address": ("住址", "户籍地址", "居住地址", "address"),
}
ENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "企业名称", "单位名称", "name"),
    "uscc": ("统一社会信用代码", "uscc"),
    "registration_number": ("注册号", "工商注册号", "registration_number"),
    "org_code": ("组织机构代码", "org_code"),
    "legal_representative": ("法定代表人", "legal_representative"),
    "address": ("注册地址", "住所", "地址", "address"),
}
# Sex as written in exports, including the GB/T 2261.1 codes 1 and 2.
_SEXES = dict.fromkeys(("男", "male", "m", "1"), "male") | dict.fromkeys(
    ("女", "female", "f", "2"), "female"
)


@dataclass(frozen=True)
class PersonRecord:
    name: PersonName
    resident_id: ResidentIdEvidence
    sex: Field
    birth_date: Field  # value in ISO form
    phone: Field
    address: Address

    def match_keys(self) -> dict[str, str | None]:
        """Blocking and comparison keys. The resident ID's number and birth date are used
        whenever readable, verified or not (a typo'd ID still blocks); which value *wins* in
        a golden record is decided from the evidence, not from these keys."""
        rid = self.resident_id
        born = self.birth_date.value or (rid.birth_date.isoformat() if rid.birth_date else None)
        return {
            "name": self.name.value,
            "name_pinyin": self.name.pinyin,
            "surname_pinyin": self.name.surname_pinyin,
            "resident_id": rid.number,
            "birth_date": born,
            "birth_year": born[:4] if born else None,
            "sex": self.sex.value or rid.sex,
            "phone": self.phone.value,
            "adcode": self.address.adcode,
        }


@dataclass(frozen=True)
class EntityRecord:
    name: EnterpriseName
    uscc: Field
    registration_number: Field
    org_code: Field
    relation: IdRelation
    legal_representative: PersonName
    address: Address

    def match_keys(self) -> dict[str, str | None]:
        """Blocking and comparison keys; the USCC only when its check character holds."""
        return {
            "name": self.name.value,
            "name_core": self.name.core,
            "branch": self.name.branch,
            "uscc": self.uscc.value if self.uscc.check is Check.VALID else None,
            "org_code": self.relation.derived_org_code or self.org_code.value,
            "registration_number": self.registration_number.value,
            "legal_representative_pinyin": self.legal_representative.pinyin,
            "adcode": self.address.adcode,
        }


def pick(record: Mapping[str, object], names: tuple[str, ...]) -> str | None:
    """The first present column of ``names``, as text (numbers from spreadsheets included)."""
    for column in names:
        value = record.get(column)
        if value is not None:
            return value if isinstance(value, str) else str(value)
    return None


def _against_id(value: object, id_value: object, id_check: Check) -> frozenset[str]:
    """How a declared value compares with the one read from the resident ID."""
    if id_value is None or id_check not in (Check.VALID, Check.UNVERIFIED):
        return frozenset()
    if value == id_value:
        return frozenset({"agrees_with_id"})
    verified = id_check is Check.VALID
    return frozenset({"conflicts_with_id" if verified else "differs_from_unverified_id"})


def _sex(raw: str | None, rid: ResidentIdEvidence) -> Field:
    if raw is None or is_blank(raw):
        return Field(raw, None, Check.UNKNOWN)
    value = _SEXES.get(raw.strip().lower().removesuffix("性"))
    if value is None:
        return Field(raw, None, Check.INVALID)
    return Field(raw, value, Check.VALID, _against_id(value, rid.sex, rid.sex_check))


def _birth(raw: str | None, rid: ResidentIdEvidence, today: date | None) -> Field:
    """A full date (ISO) or, for 出生年月, a year and month ("1949-12", flagged month_only)."""
    if raw is None or is_blank(raw):
        return Field(raw, None, Check.UNKNOWN)
    month_only = parse_year_month(raw)
    born = parse_date(raw) if month_only is None else date(*month_only, 1)
    if born is None or born > (today or date.today()) or born.year < 1890:
        return Field(raw, None, Check.INVALID)
    id_born = rid.birth_date
    if month_only is not None:
        id_month = f"{id_born:%Y-%m}" if id_born else None
        flags = _against_id(f"{born:%Y-%m}", id_month, rid.birth_check)
        return Field(raw, f"{born:%Y-%m}", Check.VALID, flags | {"month_only"})
    return Field(raw, born.isoformat(), Check.VALID, _against_id(born, id_born, rid.birth_check))


def _phone(raw: str | None) -> Field:
    if raw is None or is_blank(raw):
        return Field(raw, None, Check.UNKNOWN)
    mobile = parse_mobile(raw)
    if mobile is not None:
        return Field(raw, mobile, Check.VALID, frozenset({"mobile"}))
    landline = parse_landline(raw)
    if landline is not None:
        return Field(raw, landline.canonical(), Check.VALID, frozenset({"landline"}))
    return Field(raw, None, Check.INVALID)


def normalize_person(
    record: Mapping[str, object], within: str = "", today: date | None = None
) -> PersonRecord:
    """Every field of a person record normalised with its evidence; never raises.
    ``within`` is the jurisdiction's division-code prefix for ambiguous addresses."""
    rid = read_resident_id(pick(record, PERSON_COLUMNS["resident_id"]), today)
    return PersonRecord(
        name=normalize_name(pick(record, PERSON_COLUMNS["name"])),
        resident_id=rid,
        sex=_sex(pick(record, PERSON_COLUMNS["sex"]), rid),
        birth_date=_birth(pick(record, PERSON_COLUMNS["birth_date"]), rid, today),
        phone=_phone(pick(record, PERSON_COLUMNS["phone"])),
        address=parse_address(pick(record, PERSON_COLUMNS["address"]), within),
    )


def normalize_entity(record: Mapping[str, object], within: str = "") -> EntityRecord:
    """Every field of a legal-entity record normalised with its evidence; never raises."""
    uscc = read_uscc(pick(record, ENTITY_COLUMNS["uscc"]))
    regno = read_regno(pick(record, ENTITY_COLUMNS["registration_number"]))
    org_code = read_org_code(pick(record, ENTITY_COLUMNS["org_code"]))
    address = parse_address(pick(record, ENTITY_COLUMNS["address"]), within)
    return EntityRecord(
        name=normalize_enterprise_name(pick(record, ENTITY_COLUMNS["name"])),
        uscc=uscc,
        registration_number=regno,
        org_code=org_code,
        relation=relate(uscc, regno, org_code, address.adcode),
        legal_representative=normalize_name(pick(record, ENTITY_COLUMNS["legal_representative"])),
        address=address,
    )
