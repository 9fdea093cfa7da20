"""Shapes of the market's books: the annual disclosure, data assets, cost items and the
balance-sheet tables computed from them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from shuzhi.market.books_models import AssetOrigin, AssetUse, CostCategory, ReductionKind
from shuzhi.validation import clean_text

Text = Annotated[str, BeforeValidator(clean_text)]


def _as_text(value: Any) -> Any:
    """An amount arrives as text or a number; it is parsed (exactly) by the service."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return clean_text(value)


# ---------------------------------------------------------------- annual disclosure


class DisclosedResource(BaseModel):
    code: str
    name: str


class DisclosedAgreement(BaseModel):
    id: int
    title: str
    operator_name: str
    operator_uscc: str
    rights: list[str]
    resources: list[DisclosedResource]
    scenarios: list[str]
    starts_on: date
    ends_on: date
    status: str
    fee_cap_cents: int


class DisclosedProduct(BaseModel):
    name: str
    kind: str
    scenario: str
    delivery_mode: str
    registration_number: str | None
    price_cents: int
    fee_standard: str
    listed: bool = False
    contracts: int = 0
    revenue_fen: int = 0


class AgencySection(BaseModel):
    """实施机构: its information, each authorisation agreement and its fee cap."""

    name: str
    uscc: str
    agreements: list[DisclosedAgreement]


class OperatorSection(BaseModel):
    """运营机构: its information, authorised resources, products and their specific fees."""

    name: str
    uscc: str
    contact: str
    agreement_ids: list[int]
    resources: list[DisclosedResource]
    products: list[DisclosedProduct]


class DisclosureOut(BaseModel):
    year: int
    due_on: date = Field(description="31 March of the next year")
    published: bool
    published_at: datetime | None = None
    published_by: str | None = None
    sha256: str | None = Field(default=None, description="digest of the published content")
    agency: AgencySection
    operators: list[OperatorSection]


class DisclosureStatusOut(BaseModel):
    """Where the disclosure of ``year`` stands on ``today`` (the cockpit's reminder).

    ``not_due`` before 1 March, ``due`` from 1 to 31 March, ``overdue`` after, ``published``
    once published; ``nothing`` when the year had no agreement to disclose."""

    year: int
    due_on: date
    status: str
    published_at: datetime | None = None


# ---------------------------------------------------------------- balance sheet (入表)


class AssetIn(BaseModel):
    resource_code: Annotated[Text, Field(min_length=1, max_length=64)]
    name: Annotated[Text, Field(min_length=2, max_length=200)]
    use: AssetUse
    origin: AssetOrigin = AssetOrigin.DEVELOPED
    useful_life_months: int | None = Field(default=None, ge=1, le=600)
    ready_on: date | None = None


class AssetOut(BaseModel):
    id: int
    unit_code: str
    resource_code: str
    name: str
    use: AssetUse
    asset_class: str = Field(description="'intangible' (无形资产) or 'inventory' (存货)")
    origin: AssetOrigin
    useful_life_months: int | None
    ready_on: date | None
    cost: Decimal = Field(description="capitalised cost in yuan (the platform's computation)")
    cost_on_books: Decimal = Field(
        default=Decimal("0.00"),
        description="the capitalised cost not yet sold or derecognised (whole or in shares)",
    )
    declared_by: str
    left_books_on: date | None = Field(
        default=None, description="the day it was sold or derecognised, if it was"
    )


class CostItemIn(BaseModel):
    category: CostCategory
    incurred_on: date
    amount: Annotated[str, BeforeValidator(_as_text), Field(min_length=1, max_length=40)]
    basis: Annotated[Text, Field(min_length=2, max_length=2000)]
    note: Annotated[Text, Field(max_length=2000)] = ""


class CostItemOut(BaseModel):
    id: int
    asset_id: int
    resource_code: str
    category: CostCategory
    incurred_on: date
    amount: Decimal
    capitalised: bool = Field(
        description="False for a cost after the asset was ready for use (expensed)"
    )
    basis: str
    note: str
    recorded_by: str
    recorded_at: datetime


class ReductionIn(BaseModel):
    """An impairment or write-down (``amount``), its reversal (inventory only, ``amount``),
    or a ``sale`` (``proceeds`` optional) or ``derecognition`` of the whole asset or, with
    ``share`` or ``share_cost``, of a share of what stands that day."""

    kind: ReductionKind
    booked_on: date
    amount: Annotated[str, BeforeValidator(_as_text), Field(max_length=40)] = ""
    share: Annotated[
        str,
        BeforeValidator(_as_text),
        Field(max_length=40, description="the part of what stands: 0.25, 25% or 1/4"),
    ] = ""
    share_cost: Annotated[
        str,
        BeforeValidator(_as_text),
        Field(max_length=40, description="or the part's original cost in yuan"),
    ] = ""
    proceeds: Annotated[str, BeforeValidator(_as_text), Field(max_length=40)] = ""
    reason: Annotated[Text, Field(max_length=2000)] = ""


class ReductionOut(BaseModel):
    """A booked reduction; for a sale or derecognition ``amount`` is the carrying amount
    derecognised (of the whole asset, or of the ``share`` of what stood), ``cost_of_sales``
    that amount for inventory sold, ``gain_or_loss`` the proceeds less the carrying amount
    for an intangible asset (a derecognition: its loss)."""

    id: int
    asset_id: int
    resource_code: str
    name: str
    asset_class: str
    kind: ReductionKind
    booked_on: date
    share: str | None = Field(
        default=None, description="a disposal's share of what stood, e.g. '1/4'; None: whole"
    )
    share_percent: Decimal | None = None
    whole: bool = Field(default=False, description="the whole asset left the books")
    amount: Decimal
    cost_removed: Decimal
    amortisation_removed: Decimal | None = None
    allowance_removed: Decimal | None = None
    proceeds: Decimal | None
    cost_of_sales: Decimal | None
    gain_or_loss: Decimal | None
    reason: str
    recorded_by: str
    recorded_at: datetime


class ReductionRecordIn(ReductionIn):
    """A reduction with the resource it belongs to (the API's body)."""

    resource_code: Annotated[Text, Field(min_length=1, max_length=64)]


class AmortisationLine(BaseModel):
    month: str = Field(description="YYYY-MM")
    amount: Decimal
    accumulated: Decimal
    carrying: Decimal


class AssetSchedule(BaseModel):
    asset_id: int
    resource_code: str
    name: str
    cost: Decimal
    lines: list[AmortisationLine]


class MovementRow(BaseModel):
    """One row of a disclosure table: the figure per origin column and their total."""

    key: str
    zh: str
    en: str
    purchased: Decimal = Decimal("0.00")
    developed: Decimal = Decimal("0.00")
    other: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")


class BalanceSheetOut(BaseModel):
    """The platform's computation for one organisation and year, never an audited statement."""

    unit_code: str
    unit_name: str
    uscc: str
    year: int
    notice_zh: str
    notice_en: str
    assets: list[AssetOut]
    costs: list[CostItemOut]
    schedules: list[AssetSchedule]
    intangible: list[MovementRow]
    inventory: list[MovementRow]
    reductions: list[ReductionOut] = Field(
        default_factory=list, description="the year's impairments, reversals, sales, derecognitions"
    )


# ---------------------------------------------------------------- cockpit


class ExpiringAgreement(BaseModel):
    id: int
    title: str
    operator_name: str
    ends_on: date
    days_left: int


class MarketFiguresOut(BaseModel):
    """The market's figures on the cockpit (region view)."""

    products_registered: int
    products_listed: int
    products_traded: int
    revenue: Decimal = Field(description="revenue of the year in yuan")
    agreements_expiring: list[ExpiringAgreement] = Field(
        description="agreements in force whose term ends within the next 90 days"
    )
    disclosures: list[DisclosureStatusOut] = Field(
        description="last year's disclosure (due by 31 March) and this year's"
    )


class CostRecordIn(CostItemIn):
    """A cost item with the resource it belongs to (the API's body)."""

    resource_code: Annotated[Text, Field(min_length=1, max_length=64)]
