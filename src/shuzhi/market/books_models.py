"""Tables of the market's books: the annual disclosures (信息披露) the bureau published, and
the data assets an operator or state-owned enterprise records for its balance sheet (数据资产入表)
with their cost items. Only ``shuzhi.market`` reads or writes them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, utcnow


class AssetUse(StrEnum):
    """The declared use that decides the class (财会〔2023〕11号)."""

    OWN_USE = "own_use"  # held for own use or to provide services → 无形资产
    FOR_SALE = "for_sale"  # held for sale in ordinary activities → 存货


class AssetOrigin(StrEnum):
    """How the resource was obtained: the disclosure tables' columns."""

    PURCHASED = "purchased"  # 外购
    DEVELOPED = "developed"  # 自行开发 / 自行加工
    OTHER = "other"  # 其他方式取得


class CostCategory(StrEnum):
    COLLECTION = "collection"  # 数据采集
    CLEANING = "cleaning"  # 数据清洗
    DESENSITISATION = "desensitisation"  # 数据脱敏
    QUALITY = "quality"  # 质量评估
    REGISTRATION = "registration"  # 登记
    COMPLIANCE = "compliance"  # 合规审查
    LABOUR = "labour"  # 人工


class ReductionKind(StrEnum):
    """What takes a data asset's carrying amount down, besides amortisation (财会〔2023〕11号)."""

    IMPAIRMENT = "impairment"  # 减值准备 (intangible) / 存货跌价准备 (inventory): 计提
    REVERSAL = "reversal"  # 跌价准备转回: inventory only (an intangible's impairment stays)
    SALE = "sale"  # 出售 / 处置, whole or a share (inventory: the carrying amount is cost of sales)
    DERECOGNITION = "derecognition"  # 失效且终止确认 (whole or a share): no more benefit expected


class Disclosure(Base):
    """An annual disclosure as published: the content is kept as it was, with its digest."""

    __tablename__ = "market_disclosure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    content: Mapped[dict[str, Any]] = mapped_column(json_dict(sort_keys=True))
    sha256: Mapped[str] = mapped_column(String(64))
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataAsset(Base):
    """A data resource an organisation carries (or means to carry) on its balance sheet."""

    __tablename__ = "market_data_asset"
    __table_args__ = (UniqueConstraint("unit_id", "resource_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    use: Mapped[AssetUse] = mapped_column(StrEnumType(AssetUse, 20))
    origin: Mapped[AssetOrigin] = mapped_column(StrEnumType(AssetOrigin, 20))
    # For own use: the useful life in months and the day it became ready for its intended use
    # (amortisation starts the month after); None while it is still being developed.
    useful_life_months: Mapped[int | None] = mapped_column(Integer)
    ready_on: Mapped[date | None] = mapped_column(Date)
    declared_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CostItem(Base):
    """One cost of a data asset: what, when, how much (fen), on which allocation basis."""

    __tablename__ = "market_cost_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("market_data_asset.id"), index=True)
    category: Mapped[CostCategory] = mapped_column(StrEnumType(CostCategory, 20))
    incurred_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssetReduction(Base):
    """One booking that reduces a data asset: an impairment or write-down (with its
    reversal, inventory only), or a sale or derecognition of the asset or of a share of it.
    For the latter, as computed when booked: ``cost_fen`` the original cost removed,
    ``amortisation_fen`` and ``allowance_fen`` the accumulated amortisation and the
    impairment (write-down) allowance removed with it, ``amount_fen`` the carrying amount
    derecognised (cost less both), and ``share`` the part of what stood that day as an exact
    fraction (``"1/4"``), None when the whole asset left the books. Disposals booked before
    shares existed are whole and have no stored amortisation or allowance removed."""

    __tablename__ = "market_asset_reduction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("market_data_asset.id"), index=True)
    kind: Mapped[ReductionKind] = mapped_column(StrEnumType(ReductionKind, 20))
    booked_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    cost_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    amortisation_fen: Mapped[int | None] = mapped_column(BigInteger)
    allowance_fen: Mapped[int | None] = mapped_column(BigInteger)
    share: Mapped[str | None] = mapped_column(String(40))
    proceeds_fen: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
