"""Tables of the data market: parties, authorisation agreements, data products and the
registration ledger (登记). Only ``shuzhi.market`` reads or writes them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class PartyKind(StrEnum):
    OPERATOR = "operator"  # 运营机构
    DEVELOPER = "developer"  # 协作单位
    MERCHANT = "merchant"  # 数商
    BROKER = "broker"  # 数据经纪人


class MerchantClass(StrEnum):
    """The Shanghai Data Exchange's 数商 classes."""

    SUPPLY_DEMAND = "supply_demand"  # 供需方
    DELIVERY = "delivery"  # 交付服务商
    ASSESSMENT = "assessment"  # 评估服务商
    INTERMEDIARY = "intermediary"  # 中介
    CONSULTING = "consulting"  # 咨询
    OTHER = "other"  # 其他


class BrokerGrade(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class PartyStatus(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REFUSED = "refused"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Right(StrEnum):
    """三权分置: the three rights an agreement may grant."""

    HOLDING = "holding"  # 数据资源持有权
    PROCESSING = "processing"  # 数据加工使用权
    OPERATING = "operating"  # 数据产品经营权


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class ProductKind(StrEnum):
    PRODUCT = "product"  # 数据产品
    SERVICE = "service"  # 数据服务
    TOOL = "tool"  # 数据工具


class DeliveryMode(StrEnum):
    API = "api"
    FILE = "file"
    SANDBOX = "sandbox"


class ProductStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"  # compliance review by the bureau
    COMPLIANT = "compliant"
    FAILED = "failed"  # the compliance review found a problem
    WITHDRAWN = "withdrawn"


class SubjectKind(StrEnum):
    PRODUCT = "product"
    RESOURCE = "resource"


class RegistrationStatus(StrEnum):
    NOTICE = "notice"  # 公示中
    REGISTERED = "registered"
    CANCELLED = "cancelled"  # 注销


class RegistrationEventKind(StrEnum):
    FIRST = "first"  # 首次登记
    LICENCE = "licence"  # 许可登记
    TRANSFER = "transfer"  # 转移登记
    CHANGE = "change"  # 变更登记
    CANCEL = "cancel"  # 注销登记
    OBJECTION = "objection"  # 异议登记


class ContractStatus(StrEnum):
    APPLIED = "applied"  # the buyer asked; the operator has not signed
    ACTIVE = "active"  # signed, within its term: delivered
    DECLINED = "declined"  # the operator declined the application
    ENDED = "ended"  # the term ran out or the contract was ended early


class ObjectionStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class Party(Base):
    """A market participant: an operator, collaborating developer, data merchant or broker."""

    __tablename__ = "market_party"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[PartyKind] = mapped_column(StrEnumType(PartyKind, 20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    # The organisation its accounts belong to: set when approved (an enterprise unit).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    unit_code: Mapped[str | None] = mapped_column(String(32))
    contact: Mapped[str] = mapped_column(String(200), default="")
    merchant_classes: Mapped[list[str]] = mapped_column(json_list(), default=list)
    licence_grade: Mapped[str | None] = mapped_column(String(10))
    licence_sector: Mapped[str | None] = mapped_column(String(100))
    licence_valid_from: Mapped[date | None] = mapped_column(Date)
    licence_valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[PartyStatus] = mapped_column(StrEnumType(PartyStatus, 20), index=True)
    # "<kind>:<uscc>" unless refused or revoked: one live standing per entity and kind.
    live_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    applied_by: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Agreement(Base):
    """授权运营协议: which resources, which rights, for how long, for which scenarios."""

    __tablename__ = "market_agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    operator_id: Mapped[int] = mapped_column(ForeignKey("market_party.id"), index=True)
    operator_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    rights: Mapped[list[str]] = mapped_column(json_list())
    scenarios: Mapped[list[str]] = mapped_column(json_list())
    fee_cap_cents: Mapped[int] = mapped_column(Integer)
    # The share of the operator's revenue owed back to the bureau, in percent.
    revenue_share_percent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    security_obligations: Mapped[str] = mapped_column(Text)
    exit_terms: Mapped[str] = mapped_column(Text)
    breach_terms: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[AgreementStatus] = mapped_column(StrEnumType(AgreementStatus, 20), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgreementResource(Base):
    __tablename__ = "market_agreement_resource"
    __table_args__ = (UniqueConstraint("agreement_id", "resource_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("market_agreement.id"))
    resource_code: Mapped[str] = mapped_column(String(64), index=True)


class AgreementGrant(Base):
    """A sharing grant issued under an agreement: revoked when the agreement ends."""

    __tablename__ = "market_agreement_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("market_agreement.id"), index=True)
    grant_id: Mapped[int] = mapped_column(Integer, unique=True)
    resource_code: Mapped[str] = mapped_column(String(64))


class Product(Base):
    """A data product, service or tool built under an agreement."""

    __tablename__ = "market_product"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProductKind] = mapped_column(StrEnumType(ProductKind, 20))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("market_agreement.id"), index=True)
    operator_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    inputs: Mapped[list[str]] = mapped_column(json_list())
    processing: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(String(200))
    update_frequency: Mapped[str] = mapped_column(String(40))
    delivery_mode: Mapped[DeliveryMode] = mapped_column(StrEnumType(DeliveryMode, 20))
    price_cents: Mapped[int] = mapped_column(Integer)
    fee_standard: Mapped[str] = mapped_column(Text)
    sample: Mapped[list[dict[str, Any]]] = mapped_column(json_list(), default=list)
    sample_hash: Mapped[str] = mapped_column(String(64))
    # The approved sandbox release (to a data product) the product was built from, if any.
    sandbox_release_id: Mapped[int | None] = mapped_column(Integer)
    # The product's own output: a lake dataset of the operator's unit (None until produced)
    output_resource_code: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ProductStatus] = mapped_column(StrEnumType(ProductStatus, 20), index=True)
    # item → {"passed": bool, "note": str}, filled by the bureau's compliance review
    compliance: Mapped[dict[str, Any]] = mapped_column(json_dict(), default=dict)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Registration(Base):
    """One ledger record per product or public data resource (登记)."""

    __tablename__ = "market_registration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    subject_kind: Mapped[SubjectKind] = mapped_column(StrEnumType(SubjectKind, 20))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("market_product.id"), unique=True)
    resource_code: Mapped[str | None] = mapped_column(String(64), index=True)
    holder_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_uscc: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    # The national first-registration form: basic, agent, storage, documents (+ commitment).
    sections: Mapped[dict[str, Any]] = mapped_column(json_dict(sort_keys=True))
    # 持有权/加工使用权/经营权 certificate fields
    rights: Mapped[list[str]] = mapped_column(json_list())
    certificate: Mapped[dict[str, Any]] = mapped_column(json_dict(sort_keys=True))
    sample_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[RegistrationStatus] = mapped_column(
        StrEnumType(RegistrationStatus, 20), index=True
    )
    notice_ends_at: Mapped[datetime]
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    upstream_code: Mapped[str | None] = mapped_column(String(100))
    registered_at: Mapped[datetime | None]
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RegistrationEvent(Base):
    """首次/许可/转移/变更/注销/异议: what happened to a record, in order."""

    __tablename__ = "market_registration_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("market_registration.id"), index=True)
    kind: Mapped[RegistrationEventKind] = mapped_column(StrEnumType(RegistrationEventKind, 20))
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(json_dict(sort_keys=True), default=dict)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Objection(Base):
    """An objection filed by anyone during the public notice (公示) period."""

    __tablename__ = "market_objection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("market_registration.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ObjectionStatus] = mapped_column(StrEnumType(ObjectionStatus, 20), index=True)
    client: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class Contract(Base):
    """A purchase of a listed product: applied by a buyer, signed with price and term by the
    operator, delivered through the gateway (an application key bound to it) or as a file,
    filed with the bureau (交易备案) and evaluated by the buyer."""

    __tablename__ = "market_contract"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("market_product.id"), index=True)
    registration_number: Mapped[str] = mapped_column(String(32), index=True)
    operator_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    buyer_party_id: Mapped[int] = mapped_column(ForeignKey("market_party.id"), index=True)
    buyer_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    status: Mapped[ContractStatus] = mapped_column(StrEnumType(ContractStatus, 20), index=True)
    price_cents: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    delivery_mode: Mapped[DeliveryMode] = mapped_column(StrEnumType(DeliveryMode, 20))
    # API delivery: the resource the gateway serves, the buyer's application and its grant
    resource_code: Mapped[str | None] = mapped_column(String(64))
    application_code: Mapped[str | None] = mapped_column(String(40))
    grant_id: Mapped[int | None] = mapped_column(Integer)
    # File delivery: what was handed over
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None]
    downloads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 交易备案
    filing_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    filed_at: Mapped[datetime | None]
    filed_by: Mapped[str | None] = mapped_column(String(200))
    # The buyer's evaluation
    rating: Mapped[int | None] = mapped_column(Integer)
    evaluation: Mapped[str | None] = mapped_column(Text)
    evaluated_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    applied_by: Mapped[str] = mapped_column(String(200))
    signed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
