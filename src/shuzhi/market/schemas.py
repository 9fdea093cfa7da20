"""Input and output shapes of the data market."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from shuzhi.market.models import (
    AgreementStatus,
    BrokerGrade,
    DeliveryMode,
    MerchantClass,
    PartyKind,
    PartyStatus,
    ProductKind,
    ProductStatus,
    RegistrationEventKind,
    RegistrationStatus,
    Right,
    SubjectKind,
)
from shuzhi.validation import clean_text

Text = Annotated[str, BeforeValidator(clean_text)]
Name = Annotated[Text, Field(min_length=2, max_length=200)]
LongText = Annotated[Text, Field(min_length=2, max_length=4000)]
Code = Annotated[Text, Field(min_length=1, max_length=64)]

# The four items of the compliance review (合规审查).
COMPLIANCE_ITEMS: tuple[str, ...] = (
    "source_legality",  # 数据来源合法性
    "authorisation_chain",  # 授权链条
    "personal_information",  # 个人信息处理
    "security_assessment",  # 安全评估
)


# ---------------------------------------------------------------- parties


class PartyIn(BaseModel):
    kind: PartyKind
    name: Name
    uscc: Annotated[Text, Field(min_length=1, max_length=40)]
    contact: Annotated[Text, Field(max_length=200)] = ""
    # The organisation's unit when it already has one (else one is made on approval).
    unit_code: Annotated[Text, Field(max_length=32)] | None = None
    merchant_classes: list[MerchantClass] = []
    licence_grade: BrokerGrade | None = None
    licence_sector: Annotated[Text, Field(max_length=100)] | None = None
    licence_valid_from: date | None = None
    licence_valid_until: date | None = None


class PartyOut(BaseModel):
    id: int
    kind: PartyKind
    name: str
    uscc: str
    unit_code: str | None
    contact: str
    merchant_classes: list[str]
    licence_grade: str | None
    licence_sector: str | None
    licence_valid_from: date | None
    licence_valid_until: date | None
    status: PartyStatus
    reason: str | None
    applied_by: str
    decided_by: str | None
    decided_at: datetime | None


class Decision(BaseModel):
    approve: bool
    reason: Annotated[Text, Field(max_length=2000)] = ""


class Reason(BaseModel):
    reason: Annotated[Text, Field(max_length=2000)]


# ---------------------------------------------------------------- agreements


class AgreementIn(BaseModel):
    title: Name
    operator_id: int
    resources: Annotated[list[Code], Field(min_length=1, max_length=200)]
    rights: Annotated[list[Right], Field(min_length=1, max_length=3)]
    scenarios: Annotated[list[Name], Field(min_length=1, max_length=50)]
    fee_cap_cents: int = Field(ge=0, le=10**13)
    revenue_share_percent: int = Field(default=0, ge=0, le=100)
    security_obligations: LongText
    exit_terms: LongText
    breach_terms: LongText
    starts_on: date
    ends_on: date


class AgreementOut(BaseModel):
    id: int
    title: str
    operator_id: int
    operator_name: str
    operator_unit_code: str
    resources: list[str]
    rights: list[str]
    scenarios: list[str]
    fee_cap_cents: int
    revenue_share_percent: int = 0
    security_obligations: str
    exit_terms: str
    breach_terms: str
    starts_on: date
    ends_on: date
    status: AgreementStatus
    status_reason: str | None
    created_by: str
    approved_by: str | None
    grant_ids: list[int]


class GrantLink(BaseModel):
    grant_id: int


# ---------------------------------------------------------------- products


class ProductIn(BaseModel):
    name: Name
    kind: ProductKind = ProductKind.PRODUCT
    agreement_id: int
    inputs: Annotated[list[Code], Field(min_length=1, max_length=50)]
    processing: LongText
    scenario: Name
    update_frequency: Annotated[Text, Field(min_length=1, max_length=40)]
    delivery_mode: DeliveryMode
    price_cents: int = Field(ge=0, le=10**13)
    fee_standard: LongText
    # Masked sample rows: column → value (at most 20 rows)
    sample: Annotated[list[dict[str, str | int | float | None]], Field(max_length=20)] = []
    # Built from an approved sandbox release (target "data_product") the operator's unit
    # asked for: its figures are the sample when none is given.
    sandbox_release_id: int | None = None


class CheckItem(BaseModel):
    passed: bool
    note: Annotated[Text, Field(max_length=2000)] = ""


class ComplianceReview(BaseModel):
    source_legality: CheckItem
    authorisation_chain: CheckItem
    personal_information: CheckItem
    security_assessment: CheckItem


class ProductOut(BaseModel):
    id: int
    name: str
    kind: ProductKind
    agreement_id: int
    operator_unit_code: str
    inputs: list[str]
    processing: str
    scenario: str
    update_frequency: str
    delivery_mode: DeliveryMode
    price_cents: int
    fee_standard: str
    sample: list[dict[str, Any]]
    sample_hash: str
    status: ProductStatus
    compliance: dict[str, Any]
    reviewed_by: str | None
    reviewed_at: datetime | None
    created_by: str
    sandbox_release_id: int | None = None
    # The product's own output (a lake dataset of the operator's unit); None until produced
    output_resource_code: str | None = None


# ---------------------------------------------------------------- registration ledger


class BasicSection(BaseModel):
    """数据基本信息 (with the certificate's 基础信息 fields)."""

    introduction: LongText
    data_type: Annotated[Text, Field(min_length=1, max_length=100)]
    industry: Annotated[Text, Field(min_length=1, max_length=100)]
    region: Annotated[Text, Field(min_length=1, max_length=100)]
    source: LongText
    coverage: Annotated[Text, Field(max_length=200)] = ""
    scale: Annotated[Text, Field(max_length=200)] = ""
    involves_personal_information: bool = False
    period_from: date | None = None
    period_to: date | None = None


class AgentSection(BaseModel):
    """委托代理信息: empty when the holder registers itself; a broker party otherwise."""

    broker_id: int | None = None
    mandate: Annotated[Text, Field(max_length=2000)] = ""


class StorageSection(BaseModel):
    """数据存储信息."""

    location: Annotated[Text, Field(min_length=2, max_length=200)]
    method: Annotated[Text, Field(min_length=2, max_length=200)]


class DocumentsSection(BaseModel):
    """说明文档 and 登记承诺书 (the holder's commitment, which must be given)."""

    description: LongText
    commitment: bool
    commitment_signatory: Annotated[Text, Field(min_length=2, max_length=100)]


class RegistrationIn(BaseModel):
    basic: BasicSection
    agent: AgentSection = AgentSection()
    storage: StorageSection
    documents: DocumentsSection
    # A number given by an upstream ledger being carried over; otherwise one is issued.
    number: Annotated[Text, Field(max_length=32)] | None = None


class ResourceRegistrationIn(RegistrationIn):
    resource_code: Code
    name: Name


class RegistrationEventIn(BaseModel):
    kind: RegistrationEventKind
    note: Annotated[Text, Field(min_length=2, max_length=2000)]
    # 许可: licensee; 转移: new holder (a party id); 变更: what changed
    details: dict[str, str] = {}


class ObjectionIn(BaseModel):
    name: Annotated[Text, Field(min_length=2, max_length=100)]
    contact: Annotated[Text, Field(min_length=5, max_length=200)]
    reason: Annotated[Text, Field(min_length=10, max_length=4000)]


class ObjectionOut(BaseModel):
    id: int
    name: str
    reason: str
    status: str
    resolution: str | None
    filed_at: datetime


class RegistrationEventOut(BaseModel):
    kind: RegistrationEventKind
    note: str
    details: dict[str, Any]
    actor: str
    at: datetime


class RegistrationOut(BaseModel):
    id: int
    number: str
    subject_kind: SubjectKind
    product_id: int | None
    resource_code: str | None
    holder_name: str
    holder_uscc: str
    name: str
    sections: dict[str, Any]
    rights: list[str]
    certificate: dict[str, Any]
    sample_hash: str
    status: RegistrationStatus
    notice_ends_at: datetime
    verification_code: str
    upstream_code: str | None
    registered_at: datetime | None
    valid_until: date | None
    events: list[RegistrationEventOut]
    objections: list[ObjectionOut]


class UpstreamCode(BaseModel):
    code: Annotated[Text, Field(min_length=1, max_length=100)]


class PublicCertificate(BaseModel):
    """What anyone may see of a registration certificate."""

    registration_number: str
    name: str
    subject_kind: SubjectKind
    holder: str
    holder_uscc: str
    rights: list[str]
    scenario: str | None
    status: RegistrationStatus
    registered_at: datetime | None
    valid_until: date | None
    sample_hash: str
    code_matches: bool | None = None


class NoticeOut(BaseModel):
    registration_number: str
    name: str
    holder: str
    notice_ends_at: datetime
