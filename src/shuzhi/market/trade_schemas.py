"""Input and output shapes of listing and trading: the public listing, purchase contracts,
their delivery, filing and evaluation, and the revenue figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from shuzhi.market.models import ContractStatus, DeliveryMode
from shuzhi.market.schemas import LongText, Name, Text

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ListedProduct(BaseModel):
    """A product on the public listing: registered (public notice passed, no open objection)
    and compliant; the price in fen and in yuan."""

    registration_number: str
    name: str
    kind: str
    operator: str
    scenario: str
    delivery_mode: str
    update_frequency: str
    price_cents: int
    price: str
    fee_standard: str
    sample_hash: str
    registered_at: datetime | None
    valid_until: date | None


class Listing(BaseModel):
    total: int
    items: list[ListedProduct]


class PurchaseIn(BaseModel):
    """A buyer (an approved market party) applies for a listed product."""

    registration_number: Annotated[Text, Field(min_length=5, max_length=32)]
    buyer_party_id: int
    purpose: LongText
    delivery_mode: DeliveryMode | None = Field(
        default=None, description="api or file; default: the product's delivery mode"
    )


class SignIn(BaseModel):
    """The operator signs: the price agreed and the last day of the term (it starts today)."""

    price_cents: int = Field(ge=0, le=10**13)
    ends_on: date


class Reason(BaseModel):
    reason: Annotated[Text, Field(min_length=2, max_length=2000)]


class FileDeliveryIn(BaseModel):
    file_name: Name
    sha256: Sha256


class EvaluationIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: Annotated[Text, Field(max_length=2000)] = ""


class ContractOut(BaseModel):
    id: int
    product_id: int
    product_name: str
    registration_number: str
    operator_unit_code: str
    buyer_party_id: int
    buyer_name: str
    buyer_unit_code: str
    purpose: str
    status: ContractStatus
    price_cents: int | None
    starts_on: date | None
    ends_on: date | None
    delivery_mode: DeliveryMode
    resource_code: str | None
    application_code: str | None
    grant_id: int | None
    file_name: str | None
    file_sha256: str | None
    delivered_at: datetime | None
    downloads: int = 0
    filing_number: str | None
    filed_at: datetime | None
    rating: int | None
    evaluation: str | None
    end_reason: str | None
    applied_by: str
    signed_by: str | None


class ProductReleaseIn(BaseModel):
    """A new approved sandbox release (to a data product) of a product built from releases."""

    sandbox_release_id: int = Field(ge=1)


class DeliveryKey(BaseModel):
    """The buyer's application key for the contract: shown once, never stored."""

    contract_id: int
    application_code: str
    resource_code: str
    prefix: str
    token: str
    expires_at: datetime
    endpoint: str


class RevenueLine(BaseModel):
    key: str
    name: str
    contracts: int
    revenue_cents: int
    share_owed_cents: int


class Revenue(BaseModel):
    """Signed contracts' prices per product, operator and resource, and the share owed back
    to the bureau under each agreement (``revenue_share_percent``)."""

    total_cents: int
    share_owed_cents: int
    products: list[RevenueLine]
    operators: list[RevenueLine]
    resources: list[RevenueLine]
