"""Audit events of the market's books: disclosures and the balance-sheet records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shuzhi.audit.events import AuditEvent


@dataclass(frozen=True)
class DisclosurePublished(AuditEvent):
    action: ClassVar[str] = "market.disclosure_published"
    target_type: ClassVar[str] = "market_disclosure"
    target_fields: ClassVar[tuple[str, ...]] = ("year",)
    year: int
    sha256: str
    operators: int
    agreements: int


@dataclass(frozen=True)
class DisclosureExported(AuditEvent):
    action: ClassVar[str] = "market.disclosure_exported"
    target_type: ClassVar[str] = "market_disclosure"
    target_fields: ClassVar[tuple[str, ...]] = ("year",)
    year: int
    file_format: str
    published: bool


@dataclass(frozen=True)
class DataAssetDeclared(AuditEvent):
    """A data resource declared (or its use, life or ready date changed) for the books."""

    action: ClassVar[str] = "market.data_asset_declared"
    target_type: ClassVar[str] = "market_data_asset"
    target_fields: ClassVar[tuple[str, ...]] = ("asset_id",)
    unit_field: ClassVar[str | None] = "unit"
    asset_id: int
    unit: int
    resource_code: str
    use: str
    changed: bool = False


@dataclass(frozen=True)
class CostItemRecorded(AuditEvent):
    action: ClassVar[str] = "market.cost_item_recorded"
    target_type: ClassVar[str] = "market_data_asset"
    target_fields: ClassVar[tuple[str, ...]] = ("asset_id",)
    unit_field: ClassVar[str | None] = "unit"
    asset_id: int
    unit: int
    cost_item_id: int
    category: str
    amount_fen: int
    incurred_on: str


@dataclass(frozen=True)
class AssetReductionRecorded(AuditEvent):
    """An impairment, a reversal, a sale or a derecognition of a data asset (or of a share of
    it: ``share``, None for the whole) was booked."""

    action: ClassVar[str] = "market.asset_reduction_recorded"
    target_type: ClassVar[str] = "market_data_asset"
    target_fields: ClassVar[tuple[str, ...]] = ("asset_id",)
    unit_field: ClassVar[str | None] = "unit"
    asset_id: int
    unit: int
    reduction_id: int
    kind: str
    amount_fen: int
    booked_on: str
    share: str | None = None
    cost_fen: int = 0


@dataclass(frozen=True)
class BalanceSheetRead(AuditEvent):
    """The balance-sheet tables of an organisation were viewed or exported."""

    action: ClassVar[str] = "market.balance_sheet_read"
    target_type: ClassVar[str] = "market_data_asset"
    target_fields: ClassVar[tuple[str, ...]] = ("uscc",)
    unit_field: ClassVar[str | None] = "unit"
    uscc: str
    unit: int
    year: int
    file_format: str = "page"
