"""Catalogue tables: entries and their data items, published versions, code tables,
data elements (一数一源), functional data lists and compile tasks.

Classification segments and the sequence code are separate columns; ``resource_code`` is
their rendering (``分类码/顺序码``), stored for lookups and kept unique.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shuzhi.db.base import Base, StrEnumType, json_dict, json_list, utcnow


class ShareType(StrEnum):
    """共享类型 (national codes 1/2/3 live in the ``share_type`` code table)."""

    UNCONDITIONAL = "unconditional"
    CONDITIONAL = "conditional"
    NOT_SHARED = "not_shared"


class OpenType(StrEnum):
    """开放类型: separate from the share type (shared inside government ≠ open to the public)."""

    UNCONDITIONAL = "unconditional"
    CONDITIONAL = "conditional"
    NOT_OPEN = "not_open"


class EntryStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class ConflictStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class CodeTable(StrEnum):
    """The code tables; every value an entry uses must be an active row of one of them."""

    RESOURCE_CLASS = "resource_class"  # 类
    RESOURCE_SUBCLASS = "resource_subclass"  # 项 (code = 类 + 项, parent = 类)
    FORMAT = "format"  # 信息资源格式 1–7
    FORMAT_SUBTYPE = "format_subtype"  # 格式类型 (parent = format)
    DATA_TYPE = "data_type"  # 信息项数据类型 C/N/Y/D/T/L/M/G/B/I/F
    SHARE_TYPE = "share_type"
    SHARE_METHOD = "share_method"  # 共享方式分类
    SHARE_METHOD_TYPE = "share_method_type"  # 共享方式类型 (parent = share_method)
    OPEN_TYPE = "open_type"
    NOT_OPEN_REASON = "not_open_reason"
    UPDATE_CYCLE = "update_cycle"


class Code(Base):
    """One value of a code table. ``locked`` rows carry rules and cannot be deactivated."""

    __tablename__ = "catalog_code"
    __table_args__ = (UniqueConstraint("table_name", "code", name="uq_catalog_code_table_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str] = mapped_column(String(40))
    label_zh: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(200), default="")
    parent_code: Mapped[str | None] = mapped_column(String(40))
    national_code: Mapped[str] = mapped_column(String(10), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class Setting(Base):
    """Catalogue settings stored as JSON text (e.g. resource-code segment lengths)."""

    __tablename__ = "catalog_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DataElement(Base):
    """A standard data element (数据元); at most one unit is its authoritative source."""

    __tablename__ = "catalog_element"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    synonyms: Mapped[list[str]] = mapped_column(json_list(), default=list)
    data_type: Mapped[str] = mapped_column(String(1))
    length: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    source_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogEntry(Base):
    """The working copy of a catalogue entry; published versions are snapshots beside it."""

    __tablename__ = "catalog_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    class_code: Mapped[str] = mapped_column(String(4))
    subclass_code: Mapped[str] = mapped_column(String(4))
    group_code: Mapped[str] = mapped_column(String(8))
    detail_code: Mapped[str] = mapped_column(String(16), default="")
    sequence_code: Mapped[str] = mapped_column(String(16))
    resource_code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    # The name's comparison form (validation.text_key): duplicate names are found by it.
    name_key: Mapped[str] = mapped_column(String(128), index=True, default="")
    abstract: Mapped[str] = mapped_column(Text)
    format_code: Mapped[str] = mapped_column(String(4))
    format_subtype: Mapped[str] = mapped_column(String(40), default="")
    share_type: Mapped[ShareType] = mapped_column(StrEnumType(ShareType, 20), index=True)
    share_conditions: Mapped[str] = mapped_column(Text, default="")
    not_shared_basis: Mapped[str] = mapped_column(Text, default="")
    share_method: Mapped[str] = mapped_column(String(10), default="")
    share_method_type: Mapped[str] = mapped_column(String(20), default="")
    open_type: Mapped[OpenType] = mapped_column(StrEnumType(OpenType, 20), index=True)
    open_conditions: Mapped[str] = mapped_column(Text, default="")
    not_open_reason: Mapped[str] = mapped_column(String(20), default="")
    not_open_note: Mapped[str] = mapped_column(Text, default="")
    update_cycle: Mapped[str] = mapped_column(String(10))
    publish_date: Mapped[date | None] = mapped_column(Date)
    first_published_on: Mapped[date | None] = mapped_column(Date, index=True)
    related_codes: Mapped[list[str]] = mapped_column(json_list(), default=list)
    is_classified: Mapped[bool] = mapped_column(Boolean, default=False)
    extension: Mapped[dict[str, Any]] = mapped_column(json_dict(sort_keys=True), default=dict)
    status: Mapped[EntryStatus] = mapped_column(
        StrEnumType(EntryStatus, 20), default=EntryStatus.DRAFT, index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    return_reason: Mapped[str | None] = mapped_column(Text)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DataItem(Base):
    """信息项: one field of the working copy of an entry."""

    __tablename__ = "catalog_item"
    __table_args__ = (UniqueConstraint("entry_id", "name", name="uq_catalog_item_entry_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_entry.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    data_type: Mapped[str] = mapped_column(String(1))
    length: Mapped[int | None] = mapped_column(Integer)
    share_type: Mapped[ShareType] = mapped_column(StrEnumType(ShareType, 20))
    element_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_element.id"), index=True)
    # The unit claims to be the authoritative source of the element (一数一源).
    is_source: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(200), default="")


class EntryVersion(Base):
    """An immutable snapshot (the entry as published) taken at each publication."""

    __tablename__ = "catalog_version"
    __table_args__ = (
        UniqueConstraint("entry_id", "number", name="uq_catalog_version_entry_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_entry.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str] = mapped_column(String(200))
    # EntryOut at publication, as JSON.
    content: Mapped[dict[str, Any]] = mapped_column(json_dict(compact=True))


class EntryEvent(Base):
    """One lifecycle step of an entry (kept forever, newest last)."""

    __tablename__ = "catalog_entry_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_entry.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SourceConflict(Base):
    """A second unit claims to be the source of an element that already has one."""

    __tablename__ = "catalog_conflict"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("catalog_element.id"), index=True)
    claimant_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    source_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("catalog_entry.id", ondelete="CASCADE"))
    status: Mapped[ConflictStatus] = mapped_column(
        StrEnumType(ConflictStatus, 20), default=ConflictStatus.OPEN, index=True
    )
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    assigned_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class Duty(Base):
    """职能: one duty of a unit in its functional data list."""

    __tablename__ = "catalog_duty"
    __table_args__ = (UniqueConstraint("unit_id", "code", name="uq_catalog_duty_unit_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Matter(Base):
    """事项: an administrative matter performed under a duty."""

    __tablename__ = "catalog_matter"
    __table_args__ = (UniqueConstraint("unit_id", "code", name="uq_catalog_matter_unit_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    duty_id: Mapped[int] = mapped_column(ForeignKey("catalog_duty.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))


class CompileTask(Base):
    """编目任务: a data resource a matter produces, which must get a published entry."""

    __tablename__ = "catalog_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("catalog_matter.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    high_value: Mapped[bool] = mapped_column(Boolean, default=False)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_entry.id"), index=True)
    created_on: Mapped[date] = mapped_column(Date)
