"""Audit events of the data market."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class MarketRefused(AuditEvent):
    """A market operation refused by a business rule (bad input, wrong state, not covered)."""

    action: ClassVar[str] = "market.refused"
    target_type: ClassVar[str] = "market_operation"
    target_fields: ClassVar[tuple[str, ...]] = ("operation",)
    operation: str
    target: str
    reason: str


# ---------------------------------------------------------------- parties


@dataclass(frozen=True)
class PartyEvent(AuditEvent):
    target_type: ClassVar[str] = "market_party"
    target_fields: ClassVar[tuple[str, ...]] = ("party_id",)
    unit_field: ClassVar[str | None] = "unit"
    party_id: int
    kind: str
    uscc: str
    unit: int | None


@dataclass(frozen=True)
class PartyApplied(PartyEvent):
    action: ClassVar[str] = "market.party_applied"
    name: str = ""


@dataclass(frozen=True)
class PartyApproved(PartyEvent):
    action: ClassVar[str] = "market.party_approved"


@dataclass(frozen=True)
class PartyRefused(PartyEvent):
    action: ClassVar[str] = "market.party_refused"
    reason: str = ""


@dataclass(frozen=True)
class PartySuspended(PartyEvent):
    action: ClassVar[str] = "market.party_suspended"
    reason: str = ""


@dataclass(frozen=True)
class PartyReinstated(PartyEvent):
    action: ClassVar[str] = "market.party_reinstated"
    reason: str = ""


@dataclass(frozen=True)
class PartyRevoked(PartyEvent):
    action: ClassVar[str] = "market.party_revoked"
    reason: str = ""


# ---------------------------------------------------------------- agreements


@dataclass(frozen=True)
class AgreementChanged(AuditEvent):
    """An agreement was drafted or moved from one state to another."""

    action: ClassVar[str] = "market.agreement_changed"
    target_type: ClassVar[str] = "market_agreement"
    target_fields: ClassVar[tuple[str, ...]] = ("agreement_id",)
    unit_field: ClassVar[str | None] = "unit"
    agreement_id: int
    unit: int
    before: str | None
    after: str
    reason: str = ""


@dataclass(frozen=True)
class AgreementGrantAttached(AuditEvent):
    action: ClassVar[str] = "market.agreement_grant_attached"
    target_type: ClassVar[str] = "market_agreement"
    target_fields: ClassVar[tuple[str, ...]] = ("agreement_id",)
    unit_field: ClassVar[str | None] = "unit"
    agreement_id: int
    unit: int
    grant_id: int
    resource_code: str


# ---------------------------------------------------------------- products


@dataclass(frozen=True)
class _ProductEvent(AuditEvent):
    target_type: ClassVar[str] = "market_product"
    target_fields: ClassVar[tuple[str, ...]] = ("product_id",)
    unit_field: ClassVar[str | None] = "unit"
    product_id: int
    unit: int
    agreement_id: int


@dataclass(frozen=True)
class ProductCreated(_ProductEvent):
    action: ClassVar[str] = "market.product_created"
    inputs: str = ""


@dataclass(frozen=True)
class ProductSubmitted(_ProductEvent):
    action: ClassVar[str] = "market.product_submitted"


@dataclass(frozen=True)
class ProductReviewed(_ProductEvent):
    """The bureau's compliance review: ``passed`` when every checklist item passed."""

    action: ClassVar[str] = "market.product_reviewed"
    passed: bool = False
    failed_items: str = ""


@dataclass(frozen=True)
class ProductOutputLoaded(_ProductEvent):
    """A version of the product's own output was loaded (from a sandbox release, or the
    operator's result); ``outcome`` is the lake's (``created``/``unchanged``/…)."""

    action: ClassVar[str] = "market.product_output_loaded"
    resource_code: str = ""
    version: int = 0
    outcome: str = ""
    release_id: int | None = None


# ---------------------------------------------------------------- trading


@dataclass(frozen=True)
class _ContractEvent(AuditEvent):
    target_type: ClassVar[str] = "market_contract"
    target_fields: ClassVar[tuple[str, ...]] = ("contract_id",)
    unit_field: ClassVar[str | None] = "unit"
    contract_id: int
    unit: int
    number: str


@dataclass(frozen=True)
class ContractApplied(_ContractEvent):
    """A buyer applied for a listed product."""

    action: ClassVar[str] = "market.contract_applied"
    buyer_party_id: int = 0


@dataclass(frozen=True)
class ContractSigned(_ContractEvent):
    action: ClassVar[str] = "market.contract_signed"
    price_cents: int = 0
    ends_on: str = ""
    grant_id: int | None = None


@dataclass(frozen=True)
class ContractDeclined(_ContractEvent):
    action: ClassVar[str] = "market.contract_declined"
    reason: str = ""


@dataclass(frozen=True)
class ContractEnded(_ContractEvent):
    action: ClassVar[str] = "market.contract_ended"
    reason: str = ""


@dataclass(frozen=True)
class DeliveryKeyIssued(_ContractEvent):
    """The buyer's application key bound to the contract (its prefix, never the key)."""

    action: ClassVar[str] = "market.delivery_key_issued"
    prefix: str = ""


@dataclass(frozen=True)
class FileDelivered(_ContractEvent):
    action: ClassVar[str] = "market.file_delivered"
    file_name: str = ""
    sha256: str = ""


@dataclass(frozen=True)
class ProductFileDownloaded(_ContractEvent):
    """The buyer downloaded the product output's current version under a file contract."""

    action: ClassVar[str] = "market.file_downloaded"
    resource_code: str = ""
    version: int = 0
    rows: int = 0
    sha256: str = ""


@dataclass(frozen=True)
class TransactionFiled(_ContractEvent):
    """交易备案: the contract is filed with the bureau."""

    action: ClassVar[str] = "market.transaction_filed"
    filing_number: str = ""


@dataclass(frozen=True)
class ContractEvaluated(_ContractEvent):
    action: ClassVar[str] = "market.contract_evaluated"
    rating: int = 0


@dataclass(frozen=True)
class CertificateIssued(AuditEvent):
    """The registration certificate was generated as a PDF."""

    action: ClassVar[str] = "market.certificate_issued"
    target_type: ClassVar[str] = "market_registration"
    target_fields: ClassVar[tuple[str, ...]] = ("number",)
    unit_field: ClassVar[str | None] = "unit"
    number: str
    unit: int


# ---------------------------------------------------------------- registration ledger


@dataclass(frozen=True)
class _RegistrationEvent(AuditEvent):
    target_type: ClassVar[str] = "market_registration"
    target_fields: ClassVar[tuple[str, ...]] = ("number",)
    unit_field: ClassVar[str | None] = "unit"
    number: str
    unit: int


@dataclass(frozen=True)
class RegistrationFiled(_RegistrationEvent):
    """A first registration was filed; its public notice period starts."""

    action: ClassVar[str] = "market.registration_filed"
    subject_kind: str = ""


@dataclass(frozen=True)
class RegistrationConfirmed(_RegistrationEvent):
    action: ClassVar[str] = "market.registration_confirmed"


@dataclass(frozen=True)
class RegistrationEventRecorded(_RegistrationEvent):
    """许可/转移/变更/注销 recorded on a registered record."""

    action: ClassVar[str] = "market.registration_event_recorded"
    kind: str = ""


@dataclass(frozen=True)
class ObjectionFiled(_RegistrationEvent):
    action: ClassVar[str] = "market.objection_filed"
    objection_id: int = 0


@dataclass(frozen=True)
class ObjectionResolved(_RegistrationEvent):
    action: ClassVar[str] = "market.objection_resolved"
    objection_id: int = 0
    upheld: bool = False


@dataclass(frozen=True)
class RegistrationExported(_RegistrationEvent):
    action: ClassVar[str] = "market.registration_exported"


@dataclass(frozen=True)
class UpstreamCodeRecorded(_RegistrationEvent):
    action: ClassVar[str] = "market.upstream_code_recorded"
    upstream_code: str = ""
